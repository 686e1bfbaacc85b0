"""The gateway's outgoing RPCs, each under the client span of opentelemetry-instrumentation-grpc."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from casecraft.telemetry import is_traced_rpc, tracing_enabled


class Rpc:
    """A started RPC: ``call`` is the grpc.aio call (write, done_writing, code, details), and
    ``responses`` its responses, read through the client span when tracing is on."""

    __slots__ = ("call", "responses")

    def __init__(self, call: Any, responses: AsyncIterator[Any]) -> None:
        self.call = call
        self.responses = responses

    async def close(self) -> None:
        """Cancel the call if it still runs, and end its client span now."""
        self.call.cancel()
        if self.responses is not self.call:
            await self.responses.aclose()  # type: ignore[attr-defined]


class ClientRpcs:
    """The client span of each outgoing RPC, made by opentelemetry-instrumentation-grpc's aio
    interceptors, applied where the call starts instead of registered on the channel.

    The span, its attributes, the trace context in the call's metadata and the error it records
    are the instrumentation's own. What this avoids is the channel's interceptor machinery: for
    an intercepted call, grpc.aio starts an extra task and passes every streamed message through
    a queue, which costs more than the span itself (docs/performance.md). Health checks stay
    untraced.
    """

    def __init__(self) -> None:
        self._unary_stream: Any = None
        self._stream_stream: Any = None
        if not tracing_enabled():
            return
        from opentelemetry.instrumentation.grpc import aio_client_interceptors

        for interceptor in aio_client_interceptors(filter_=is_traced_rpc):
            if isinstance(interceptor, grpc.aio.UnaryStreamClientInterceptor):
                self._unary_stream = interceptor
            elif isinstance(interceptor, grpc.aio.StreamStreamClientInterceptor):
                self._stream_stream = interceptor

    async def unary_stream(
        self,
        method: str,
        callable_: grpc.aio.UnaryStreamMultiCallable,
        request: Any,
        *,
        timeout_s: float,
    ) -> Rpc:
        """Start ``callable_(request)`` (the RPC ``method``, "/package.Service/Method")."""
        intercept = self._unary_stream and self._unary_stream.intercept_unary_stream
        return await _start(
            intercept,
            method,
            timeout_s,
            request,
            lambda metadata: callable_(request, timeout=timeout_s, metadata=metadata),
        )

    async def stream_stream(
        self, method: str, callable_: grpc.aio.StreamStreamMultiCallable, *, timeout_s: float
    ) -> Rpc:
        """Start ``callable_()`` with its requests to be written on the call."""
        intercept = self._stream_stream and self._stream_stream.intercept_stream_stream
        return await _start(
            intercept,
            method,
            timeout_s,
            None,
            lambda metadata: callable_(timeout=timeout_s, metadata=metadata),
        )


async def _start(intercept: Any, method: str, timeout_s: float, request: Any, call: Any) -> Rpc:
    """Start the call (``call(metadata)``) through the interceptor's ``intercept``, which opens
    the client span and adds the trace context to the metadata; directly when there is none."""
    if intercept is None:
        started = call(None)
        return Rpc(started, started)
    calls: list[Any] = []

    async def continuation(details: grpc.aio.ClientCallDetails, _: Any) -> Any:
        calls.append(call(details.metadata))
        return calls[0]

    details = grpc.aio.ClientCallDetails(method, timeout_s, None, None, None)
    responses = await intercept(continuation, details, request)
    return Rpc(calls[0], responses)
