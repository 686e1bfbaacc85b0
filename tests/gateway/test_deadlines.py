"""The gateway's deadline reaches the provider call: past it, the LLM request is abandoned."""

from __future__ import annotations

import asyncio

from structurer_service.providers.registry import build_chain, resilient
from structurer_service.settings import StructurerSettings
from tests.conftest import gateway_client, running_images, running_structurer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.faults import hang
from tests.fakes.server import serve

KEY = "sk-ant-test-key-0123456789abcdef"


async def test_past_the_structuring_deadline_the_provider_call_is_dropped_and_504_said() -> None:
    fake = FakeAnthropic()
    fake.script(hang())
    async with serve(fake.app) as base_url:
        settings = StructurerSettings(
            providers="anthropic", anthropic_api_key=KEY, anthropic_base_url=base_url
        )
        chain = resilient(build_chain(settings), settings)  # its own attempts: 180 s each
        try:
            async with (
                running_structurer(chain) as s,
                running_images() as i,
                gateway_client(s.port, i.port, gateway_structure_deadline_s=0.5) as client,
            ):
                response = await client.post("/v1/case-studies", json={"notes": "Acme notes."})
                await asyncio.wait_for(fake.hung_up.wait(), timeout=30)
        finally:
            await chain.aclose()
    assert response.status_code == 504
    assert "did not answer in time" in response.json()["detail"]
    assert len(fake.requests) == 1, "no retry started after the deadline"
