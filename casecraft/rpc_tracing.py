"""The span of each gRPC call between casecraft's services: a server span for each call a service
answers, a client span for each call the gateway makes, the trace carried in the call's metadata.

The spans are those of OpenTelemetry's RPC conventions, as opentelemetry-instrumentation-grpc
makes them: named by the method ("/casecraft.v1.Structurer/StructureStream"), with
``rpc.system``, ``rpc.service``, ``rpc.method`` and ``rpc.grpc.status_code``; a server span is an
error for the codes that mean the server failed (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED,
INTERNAL, UNAVAILABLE, DATA_LOSS), a client span for any code but OK. The instrumentation package
cost two to three times the span itself on each call (a context proxy around every call, an extra
generator around every stream, the peer's address parsed each time), and a request answered from
the caches is little more than these hops: docs/performance.md has the counts.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode

from casecraft.interceptors import WrapsEachMethod
from casecraft.prometheus import RPC_SCOPE
from casecraft.telemetry import tracing_enabled

_STATUS_CODE = "rpc.grpc.status_code"
# The codes for which the server, not its caller, failed (the conventions' list for a server span).
_SERVER_FAILED = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)

# Health checks and reflection: the RPCs that stay out of traces.
_PLUMBING_METHODS = ("/grpc.health.v1.Health", "/grpc.reflection.")


def is_traced_rpc(method: str) -> bool:
    """Whether an RPC is traced (called for every RPC, so one prefix test, nothing rebuilt)."""
    return not method.startswith(_PLUMBING_METHODS)


@cache
def _attributes(method: str) -> Mapping[str, str | int]:
    """A method's span attributes, worked out once per method."""
    service, _, name = method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name, _STATUS_CODE: 0}


class _MetadataGetter(Getter[tuple[Any, ...]]):
    """Reads the trace context from a call's invocation metadata (key/value pairs)."""

    def get(self, carrier: tuple[Any, ...], key: str) -> list[str] | None:
        values = [value for k, value in carrier if k == key]
        return [v.decode() if isinstance(v, bytes) else v for v in values] or None

    def keys(self, carrier: tuple[Any, ...]) -> list[str]:
        return [key for key, _ in carrier]


_metadata = _MetadataGetter()


class ServerSpans(WrapsEachMethod):
    """Answers each traced call under a server span that continues the caller's trace."""

    def __init__(self) -> None:
        super().__init__()
        self._tracer = trace.get_tracer(RPC_SCOPE)

    def wrap(self, method: str, handler: Any) -> Any:
        """``handler`` with each call's behaviour run under the method's server span."""
        if not is_traced_rpc(method):
            return handler
        if handler.unary_unary:
            kind, behavior = "unary_unary", handler.unary_unary
        elif handler.unary_stream:
            kind, behavior = "unary_stream", handler.unary_stream
        elif handler.stream_unary:
            kind, behavior = "stream_unary", handler.stream_unary
        else:
            kind, behavior = "stream_stream", handler.stream_stream
        span = self._span
        if inspect.isasyncgenfunction(behavior):

            async def yields(request: Any, context: grpc.aio.ServicerContext) -> Any:
                with span(method, context):
                    async for response in behavior(request, context):
                        yield response

            traced: Any = yields
        else:

            async def answers(request: Any, context: grpc.aio.ServicerContext) -> Any:
                with span(method, context):
                    return await behavior(request, context)

            traced = answers
        make = getattr(grpc, f"{kind}_rpc_method_handler")
        return make(
            traced,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    @contextmanager
    def _span(self, method: str, context: grpc.aio.ServicerContext) -> Iterator[None]:
        parent = propagate.extract(tuple(context.invocation_metadata() or ()), getter=_metadata)
        span = self._tracer.start_span(
            method, parent, kind=SpanKind.SERVER, attributes=_attributes(method)
        )
        try:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                yield
        except grpc.aio.AbortError:
            raise  # the code it aborted with is read below
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            span.set_attribute(_STATUS_CODE, grpc.StatusCode.UNKNOWN.value[0])
            raise
        finally:
            code = context.code()
            if code is not None and isinstance(code, grpc.StatusCode):
                span.set_attribute(_STATUS_CODE, code.value[0])
                if code in _SERVER_FAILED:
                    span.set_status(Status(StatusCode.ERROR, f"{code}:{context.details()}"))
            span.end()


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """The interceptor that traces the calls a service answers (none when tracing is off)."""
    return [ServerSpans()] if tracing_enabled() else []


class ClientSpans:
    """The client span of each call the gateway makes, and the metadata that carries it on."""

    def __init__(self) -> None:
        self._tracer = trace.get_tracer(RPC_SCOPE)

    def start(self, method: str) -> tuple[trace.Span, tuple[tuple[str, str], ...]]:
        """Start the call's span; answers it and the metadata to send the call with."""
        span = self._tracer.start_span(method, kind=SpanKind.CLIENT, attributes=_attributes(method))
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        return span, tuple(carrier.items())


def failed(span: trace.Span, error: BaseException) -> None:
    """Record on a client span that its call failed with ``error``."""
    if isinstance(error, grpc.RpcError):
        span.set_attribute(_STATUS_CODE, error.code().value[0])
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    span.record_exception(error)


class TracedResponses:
    """A call's stream of responses, ending its client span when the stream ends, fails or is
    closed before its end."""

    __slots__ = ("_responses", "_span")

    def __init__(self, span: trace.Span, responses: AsyncIterator[Any]) -> None:
        self._span: trace.Span | None = span
        self._responses = responses

    def __aiter__(self) -> TracedResponses:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._responses.__anext__()
        except StopAsyncIteration:
            self._end(None)
            raise
        except Exception as exc:
            self._end(exc)
            raise
        except BaseException:  # the reader was cancelled: so is the call, and its span ends
            self._end(None)
            raise

    async def aclose(self) -> None:
        self._end(None)

    def settle(self) -> None:
        """End the span now; the responses can still be read to their end."""
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        span, self._span = self._span, None
        if span is None:
            return
        if error is not None:
            failed(span, error)
        span.end()
