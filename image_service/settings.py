"""The image service's settings, read once from CASECRAFT_IMAGE_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from casecraft.grpc_server import GrpcServerSettings


class ImageSettings(GrpcServerSettings):
    model_config = SettingsConfigDict(env_prefix="CASECRAFT_IMAGE_")

    port: int = 50052
    # Ordered provider chain; the first that succeeds wins.
    providers: str = "local"
    # Images generated at once across every call to this process (a sliding window).
    concurrency: int = Field(default=3, ge=1, le=1024)
    # A job's deadline when the caller sets none, waiting for a slot included.
    job_timeout_s: float = Field(default=120.0, gt=0)

    @property
    def provider_chain(self) -> list[str]:
        return [name.strip() for name in self.providers.split(",") if name.strip()]
