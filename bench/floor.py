"""The transport floor: casecraft's hops for one request with nothing behind them.

Three processes, as casecraft runs: an HTTP server (uvicorn on uvloop with httptools, as the
gateway) whose one route calls a gRPC server streaming one answer (the structurer's shape: a
unary request, one event back), and, on a call opened beside it as the gateway does, sends one
message at once (the images a repeated request expects, asked of the cache while the structurer
works) and reads one back holding the three images (results finished together travel
together); once both are in it answers, without waiting for the image call's end, as the
gateway does. The messages have the
sizes of a real answer's parts (``CASECRAFT_FLOOR_BYTES``: the case study, as the structurer's event
and as the image jobs that carry its fields; each image; the HTTP answer), and the channels have
the gateway's options. No job, no cache, no span, no log: what a request served from the caches
costs above this is casecraft's own work.

    CASECRAFT_FLOOR_ROLE=structurer|images|gateway python -m bench.floor

bench/cache.py starts the three and reports its repeat's p50 beside the floor's, measured in the
same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from typing import Any

import grpc
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casecraft import eventloop

STRUCTURE = "/casecraft.v1.Structurer/StructureStream"
GENERATE = "/casecraft.v1.ImageGenerator/Generate"


def sizes() -> list[int]:
    """The case study, the three images, the HTTP answer, in bytes."""
    return [int(size) for size in os.environ["CASECRAFT_FLOOR_BYTES"].split(",")]


def serving(port: int) -> None:
    print(json.dumps({"event": "serving", "port": port}), flush=True)


def same(data: bytes) -> bytes:
    return data


async def grpc_server(role: str) -> None:
    structure, *images, _ = sizes()
    event, results = b"s" * structure, b"i" * sum(images)

    async def answer(request: bytes, context: grpc.aio.ServicerContext) -> Any:
        yield event

    async def generate(requests: Any, context: grpc.aio.ServicerContext) -> Any:
        async for _ in requests:
            yield results

    service, method = (STRUCTURE if role == "structurer" else GENERATE).lstrip("/").split("/")
    handler = (
        grpc.unary_stream_rpc_method_handler(answer, same, same)
        if role == "structurer"
        else grpc.stream_stream_rpc_method_handler(generate, same, same)
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service, {method: handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    serving(port)
    await server.wait_for_termination()


async def http_server() -> None:
    from gateway.backends import channel_options
    from gateway.settings import GatewaySettings

    case_study, *_, answer_size = sizes()
    answer, jobs = b"a" * answer_size, b"j" * case_study
    settings = GatewaySettings()
    options = channel_options(settings)
    structurer = grpc.aio.insecure_channel(settings.structurer_target, options=options)
    images = grpc.aio.insecure_channel(settings.image_target, options=options)
    structure = structurer.unary_stream(STRUCTURE, same, same)
    generate = images.stream_stream(GENERATE, same, same)

    ending: set[asyncio.Task[None]] = set()

    async def create(request: Request) -> Response:
        notes = await request.body()
        image_call = generate()
        await image_call.write(jobs)  # the images a repeat expects, asked beside the structurer
        async for _ in structure(notes):
            pass
        await image_call.done_writing()
        await image_call.read()  # every image is in: the call's end is not waited for
        drained = asyncio.ensure_future(_drain(image_call))
        ending.add(drained)
        drained.add_done_callback(ending.discard)
        return Response(answer, media_type="application/json")

    app = Starlette(routes=[Route("/v1/case-studies", create, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    serving(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    await server.serve(sockets=[sock])


async def _drain(call: Any) -> None:
    async for _ in call:
        pass


def main() -> None:
    role = os.environ["CASECRAFT_FLOOR_ROLE"]
    eventloop.run(http_server() if role == "gateway" else grpc_server(role))


if __name__ == "__main__":
    main()
