"""The gateway's listening socket: accepted connections must send small responses at once."""

from __future__ import annotations

import asyncio
import socket

from gateway.server import bind
from gateway.settings import GatewaySettings


async def test_accepted_connections_have_nagle_off() -> None:
    accepted: asyncio.Queue[socket.socket] = asyncio.Queue()

    class Record(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.put_nowait(transport.get_extra_info("socket"))

    sock = bind(GatewaySettings(gateway_host="127.0.0.1", gateway_port=0))
    server = await asyncio.get_running_loop().create_server(Record, sock=sock)
    try:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            peer = await asyncio.wait_for(accepted.get(), 5)
            nodelay = peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            writer.close()
            await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    assert nodelay != 0
