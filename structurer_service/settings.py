"""The structurer's settings, read once from CASECRAFT_STRUCTURER_* environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from casecraft.grpc_server import GrpcServerSettings


class StructurerSettings(GrpcServerSettings):
    model_config = SettingsConfigDict(env_prefix="CASECRAFT_STRUCTURER_")

    port: int = 50051
    # Ordered provider chain; the first that succeeds wins.
    providers: str = "local"

    @property
    def provider_chain(self) -> list[str]:
        return [name.strip() for name in self.providers.split(",") if name.strip()]
