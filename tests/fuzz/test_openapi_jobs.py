"""schemathesis against every job route of the gateway's OpenAPI document.

The gateway and both services run with their local providers on 127.0.0.1
(tests/support/live_gateway.py), once without API keys and once with a keys file (requests with
the key, and without it). A job is made first, and its id and one of its images' sha256 are what
half of the generated requests name (random ones the rest), so PATCH, refine, DELETE, the events
and the images by address are reached past their 404. schemathesis's own command runs the
examples, coverage, fuzzing and stateful phases with its checks: no 5xx, and every answer's status,
content type, headers and body as the document says. The bounded pass here keeps to a few examples
per operation; ``python -m bench.openapi_fuzz`` runs the long one and prints its case count.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from casecraft.api_keys import digest
from tests.support.live_gateway import LiveGateway, schemathesis_run

KEY = "casecraft-fuzz-key"
# Examples per operation in the CI pass (bench/openapi_fuzz.py runs many more).
BOUNDED = 20


@pytest.fixture(scope="module")
def open_gateway() -> Iterator[LiveGateway]:
    with LiveGateway() as gateway:
        gateway.make_job()
        yield gateway


@pytest.fixture(scope="module")
def keyed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    keys = tmp_path_factory.mktemp("keys") / "keys"
    keys.write_text(f"fuzzer {digest(KEY)} rpm=1000000 in_flight=100\n", encoding="utf-8")
    with LiveGateway(api_keys_file=keys) as gateway:
        gateway.make_job({"Authorization": f"Bearer {KEY}"})
        yield gateway


def test_every_route_keeps_the_document_without_keys(
    open_gateway: LiveGateway, tmp_path: Path
) -> None:
    run = schemathesis_run(open_gateway, max_examples=BOUNDED, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_every_route_keeps_the_document_with_and_without_a_key(
    keyed_gateway: LiveGateway, tmp_path: Path
) -> None:
    keyed = schemathesis_run(
        keyed_gateway, f"--header=Authorization: Bearer {KEY}", max_examples=BOUNDED, cwd=tmp_path
    )
    assert keyed.returncode == 0, keyed.stdout[-6000:] + keyed.stderr[-2000:]
    bare = schemathesis_run(keyed_gateway, max_examples=BOUNDED // 2, cwd=tmp_path)
    assert bare.returncode == 0, bare.stdout[-6000:] + bare.stderr[-2000:]


def test_the_document_reaches_every_route(open_gateway: LiveGateway) -> None:
    """Nothing the gateway serves under /v1/ is missing from the fuzzed document."""
    document = httpx.get(f"{open_gateway.url}/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "delete")
    }
    assert {
        ("POST", "/v1/case-studies"),
        ("GET", "/v1/case-studies/{id}"),
        ("PATCH", "/v1/case-studies/{id}"),
        ("DELETE", "/v1/case-studies/{id}"),
        ("GET", "/v1/case-studies/{id}/events"),
        ("POST", "/v1/case-studies/{id}/images/{component}"),
        ("POST", "/v1/case-studies/{id}/refine"),
        ("GET", "/v1/images/{sha256}"),
    } <= operations


def test_a_method_a_job_does_not_take_lists_the_ones_it_does(open_gateway: LiveGateway) -> None:
    response = httpx.put(f"{open_gateway.url}/v1/case-studies/{open_gateway.job_id}")
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert {"GET", "DELETE", "PATCH"} <= allowed, allowed
