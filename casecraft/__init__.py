"""casecraft's shared package: the generated contracts (casecraft.v1) and the code that more than one
service needs (gRPC server lifecycle, telemetry, retries and provider chains, the component vocabulary)."""
