"""The gateway's outgoing RPCs, each under its client span (casecraft/rpc_tracing.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from casecraft.rpc_tracing import ClientSpans, TracedResponses, failed
from casecraft.telemetry import tracing_enabled


class Rpc:
    """A started RPC: ``call`` is the grpc.aio call (write, done_writing, code, details), and
    ``responses`` its responses, read through the client span when tracing is on."""

    __slots__ = ("call", "responses")

    def __init__(self, call: Any, responses: AsyncIterator[Any]) -> None:
        self.call = call
        self.responses = responses

    def settled(self) -> None:
        """End the client span now: every answer the call will give is in, and its end follows
        without anyone waiting for it."""
        if isinstance(self.responses, TracedResponses):
            self.responses.settle()

    async def close(self) -> None:
        """Cancel the call if it still runs, and end its client span now."""
        self.call.cancel()
        if isinstance(self.responses, TracedResponses):
            await self.responses.aclose()


class ClientRpcs:
    """Starts the gateway's streaming calls, each with its client span when tracing is on: the
    span starts with the call, carries the trace to the callee in the call's metadata, and ends
    when the call's responses end (with the call's status)."""

    def __init__(self) -> None:
        self._spans = ClientSpans() if tracing_enabled() else None

    async def unary_stream(
        self,
        method: str,
        callable_: grpc.aio.UnaryStreamMultiCallable,
        request: Any,
        *,
        timeout_s: float,
    ) -> Rpc:
        """Start ``callable_(request)`` (the RPC ``method``, "/package.Service/Method")."""
        return self._start(
            method, lambda metadata: callable_(request, timeout=timeout_s, metadata=metadata)
        )

    async def stream_stream(
        self, method: str, callable_: grpc.aio.StreamStreamMultiCallable, *, timeout_s: float
    ) -> Rpc:
        """Start ``callable_()`` with its requests to be written on the call."""
        return self._start(method, lambda metadata: callable_(timeout=timeout_s, metadata=metadata))

    def _start(self, method: str, call: Any) -> Rpc:
        if self._spans is None:
            started = call(None)
            return Rpc(started, started)
        span, metadata = self._spans.start(method)
        try:
            started = call(metadata)
        except Exception as exc:  # the call could not even start (a closed channel)
            failed(span, exc)
            span.end()
            raise
        return Rpc(started, TracedResponses(span, started.__aiter__()))
