"""Servers for the job tests: a gateway on a real socket (port 0), a structurer that also
answers Refine, and helpers to read a job's server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
from httpx_sse import aconnect_sse

from casecraft.v1 import case_study_pb2, structurer_pb2, structurer_pb2_grpc
from gateway.server import bind, build_server
from gateway.settings import GatewaySettings
from structurer_service.providers import StructurerProvider
from structurer_service.servicer import StructurerServicer
from tests.conftest import running_images, running_structurer
from tests.support.providers import RecordingImages, ScriptedStructurer


@dataclass
class SeenEvent:
    id: int
    type: str
    data: dict[str, Any]


@asynccontextmanager
async def serving_gateway(
    structurer_port: int, image_port: int, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway served by uvicorn on 127.0.0.1 port 0; a client with that base URL."""
    gateway_settings = GatewaySettings(
        gateway_port=0,
        structurer_target=f"127.0.0.1:{structurer_port}",
        image_target=f"127.0.0.1:{image_port}",
        shutdown_grace_s=1,
        **settings,  # type: ignore[arg-type]
    )
    sock = bind(gateway_settings)
    server = build_server(gateway_settings)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await serving


@asynccontextmanager
async def served_stack(
    structurer: ScriptedStructurer, images: RecordingImages, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_structurer(structurer) as s,
        running_images(images) as i,
        serving_gateway(s.port, i.port, **settings) as client,
    ):
        yield client


@asynccontextmanager
async def served_with_structurer(
    structurer_port: int, images: RecordingImages, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    """As ``served_stack``, with a structurer already serving on ``structurer_port``."""
    async with (
        running_images(images) as i,
        serving_gateway(structurer_port, i.port, **settings) as client,
    ):
        yield client


async def read_events(
    client: httpx.AsyncClient,
    url: str,
    *,
    last_event_id: str | None = None,
    stop_after: str | None = None,
) -> list[SeenEvent]:
    """The events of one connection to ``url`` until the server ends the stream, or until the
    first event of type ``stop_after`` (then the client leaves)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    seen: list[SeenEvent] = []
    async with aconnect_sse(client, "GET", url, headers=headers) as source:
        async for sse in source.aiter_sse():
            seen.append(SeenEvent(int(sse.id), sse.event, json.loads(sse.data)))
            if sse.event == stop_after:
                break
    return seen


async def wait_done(client: httpx.AsyncClient, job_id: str) -> list[SeenEvent]:
    """Follow the job's events until it ends; its whole history."""
    return await read_events(client, f"/v1/case-studies/{job_id}/events")


class RefiningStructurer(StructurerServicer):
    """The structurer's servicer with a Refine that rewrites the section to the instruction, or
    refuses as the local provider does (FAILED_PRECONDITION)."""

    def __init__(self, provider: StructurerProvider, *, llm: bool = True) -> None:
        super().__init__(provider)
        self.llm = llm
        self.requests: list[structurer_pb2.RefineRequest] = []

    async def Refine(  # type: ignore[override]
        self, request: structurer_pb2.RefineRequest, context: grpc.aio.ServicerContext
    ) -> structurer_pb2.RefineResponse:
        self.requests.append(request)
        if not self.llm:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "the local provider cannot follow free-text instructions; configure an LLM "
                "provider (CASECRAFT_STRUCTURER_PROVIDERS=anthropic,...) or edit the field with "
                "PATCH",
            )
        fields = [f.name for f in case_study_pb2.CaseStudy.DESCRIPTOR.fields]
        if request.section not in fields:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"section: {request.section!r} is not a field; use one of {', '.join(fields)}",
            )
        refined = case_study_pb2.CaseStudy()
        refined.CopyFrom(request.case_study)
        setattr(refined, request.section, f"{request.instruction}: {request.section}")
        return structurer_pb2.RefineResponse(
            case_study=refined,
            usage=structurer_pb2.Usage(provider="scripted", model="script-1", attempts=1),
            changed=[request.section],
        )


@asynccontextmanager
async def serving_servicer(
    add: Callable[[Any, grpc.aio.Server], None], servicer: object
) -> AsyncIterator[int]:
    """``servicer`` alone on a gRPC server on 127.0.0.1 (``add``: its generated
    ``add_*Servicer_to_server``); yields the port."""
    server = grpc.aio.server()
    add(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(None)


def running_refining_structurer(
    servicer: RefiningStructurer,
) -> AbstractAsyncContextManager[int]:
    return serving_servicer(structurer_pb2_grpc.add_StructurerServicer_to_server, servicer)
