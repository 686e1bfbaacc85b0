"""OpenAI's Images API: ``/images/generations``, or ``/images/edits`` when a logo is given.

GPT image models answer with ``data[0].b64_json``. They draw three sizes (1536x1024, 1024x1536,
1024x1024): a job gets the one whose orientation matches the size it asks for. Fast mode switches to
the fast model, the fast quality and JPEG output, which is smaller than PNG.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import SecretStr

from casecraft.errors import ProviderError
from casecraft.keys import usable_key
from casecraft.v1 import image_pb2
from image_service import prompts
from image_service.image_check import ImageLimits, check_image, decode_base64
from image_service.providers import GeneratedImage
from image_service.providers.http import max_answer_bytes, new_client, send_json

LANDSCAPE, PORTRAIT, SQUARE = "1536x1024", "1024x1536", "1024x1024"
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


class OpenAIImages:
    """Image generation through OpenAI's Images API."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: SecretStr,
        base_url: str,
        model: str,
        fast_model: str,
        limits: ImageLimits,
        timeout_s: float,
        quality: str = "medium",
        fast_quality: str = "low",
    ) -> None:
        self._api_key = SecretStr(usable_key(self.name, api_key.get_secret_value()))
        self._base_url = base_url.rstrip("/")
        self.model = model
        self.fast_model = fast_model
        self._quality = quality
        self._fast_quality = fast_quality
        self._limits = limits
        self._timeout_s = timeout_s

    def request_fields(self, job: image_pb2.ImageJob) -> dict[str, Any]:
        """The request's parameters for ``job`` (no credentials, no reference image)."""
        fast = job.options.fast
        size = prompts.target_size(job)
        return {
            "model": self.fast_model if fast else self.model,
            "prompt": prompts.build_prompt(job, size),
            "n": 1,
            "size": api_size(*size),
            "quality": self._fast_quality if fast else self._quality,
            "output_format": "jpeg" if fast else "png",
        }

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        fields = self.request_fields(job)
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}
        async with new_client(self._timeout_s) as client:
            answer = await send_json(
                client,
                self._request(client, job, fields, headers),
                provider=self.name,
                max_bytes=max_answer_bytes(self._limits.max_bytes),
            )
        data = decode_base64(_b64_image(self.name, answer), self._limits, provider=self.name)
        checked = await asyncio.to_thread(check_image, data, self._limits, provider=self.name)
        return GeneratedImage(
            data=checked.data,
            media_type=checked.media_type,
            width=checked.width,
            height=checked.height,
            model=fields["model"],
        )

    def _request(
        self,
        client: httpx.AsyncClient,
        job: image_pb2.ImageJob,
        fields: dict[str, Any],
        headers: dict[str, str],
    ) -> httpx.Request:
        if not job.reference_image:
            url = f"{self._base_url}/images/generations"
            return client.build_request("POST", url, json=fields, headers=headers)
        media_type = job.reference_media_type
        filename = f"logo.{_EXTENSIONS.get(media_type, 'png')}"
        return client.build_request(
            "POST",
            f"{self._base_url}/images/edits",
            data={key: str(value) for key, value in fields.items()},
            files=[("image[]", (filename, job.reference_image, media_type))],
            headers=headers,
        )


def api_size(width: int, height: int) -> str:
    """The Images API size with the orientation of ``width`` x ``height``."""
    if width > height:
        return LANDSCAPE
    if height > width:
        return PORTRAIT
    return SQUARE


def _b64_image(provider: str, answer: dict[str, Any]) -> str:
    data = answer.get("data")
    first = data[0] if isinstance(data, list) and data else None
    encoded = first.get("b64_json") if isinstance(first, dict) else None
    if not isinstance(encoded, str) or not encoded:
        raise ProviderError(provider, "answered without an image (no data[0].b64_json)")
    return encoded
