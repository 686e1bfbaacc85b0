"""The base of casecraft's gRPC server interceptors: each method's handler wrapped once."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

import grpc


class WrapsEachMethod(grpc.aio.ServerInterceptor):
    """Replaces each method's handler with ``wrap(method, handler)``, worked out on the method's
    first call and reused after; again only if the handler given changes (an interceptor that
    runs after this one may hand over a handler of its own)."""

    def __init__(self) -> None:
        # Each method's handler as given, and what it became.
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler[Any, Any], Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        known = self._wrapped.get(method)
        if known is None or known[0] is not handler:
            known = self._wrapped[method] = (handler, self.wrap(method, handler))
        result: grpc.RpcMethodHandler[Any, Any] = known[1]
        return result

    @abstractmethod
    def wrap(
        self, method: str, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        """The handler to answer ``method`` with (``handler`` itself to leave it as it is)."""
