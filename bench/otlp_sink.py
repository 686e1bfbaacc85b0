"""A loopback OTLP/gRPC receiver for the benches: accepts traces and metrics, counts the spans.

It stands in for a collector, so a bench can measure tracing with a real exporter sending to it.

    python -m bench.otlp_sink    # prints {"event": "serving", "port": N}
"""

from __future__ import annotations

import asyncio
import json
import signal

import grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from casecraft import eventloop


class TraceSink(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans = 0

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: object
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.spans += len(scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


class MetricsSink(metrics_service_pb2_grpc.MetricsServiceServicer):
    async def Export(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, context: object
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        return metrics_service_pb2.ExportMetricsServiceResponse()


async def serve() -> None:
    traces = TraceSink()
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(traces, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(MetricsSink(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"event": "serving", "port": port}), flush=True)
    await stop.wait()
    await server.stop(1)
    print(json.dumps({"event": "stopped", "spans": traces.spans}), flush=True)


if __name__ == "__main__":
    eventloop.run(serve())
