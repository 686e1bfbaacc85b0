"""OpenRouter: chat completions with image output; the logo travels as an ``image_url`` part.

``POST {base}/chat/completions`` with ``"modalities": ["image", "text"]``; the images come back as
data URLs in ``choices[0].message.images[i].image_url.url``. A 200 answer without an image is
usually a refusal or a text-only reply that the same prompt would get again, so it is not retried:
the chain moves on to the next provider. An ``error`` object inside a 200 answer is retried when its
code is one that passes (429, 5xx ...).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from pydantic import SecretStr

from casecraft.errors import ProviderError
from casecraft.http_errors import RETRYABLE_STATUSES
from casecraft.keys import redact, usable_key
from casecraft.v1 import image_pb2
from image_service import prompts
from image_service.image_check import ImageLimits, check_image, decode_data_url
from image_service.providers import GeneratedImage
from image_service.providers.http import max_answer_bytes, new_client, send_json

# The aspect ratios OpenRouter's image_config accepts; a job's size is sent as the nearest one.
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")


class OpenRouterImages:
    """Image generation through OpenRouter's chat completions endpoint."""

    name = "openrouter"

    def __init__(
        self,
        *,
        api_key: SecretStr,
        base_url: str,
        model: str,
        fast_model: str,
        limits: ImageLimits,
        timeout_s: float,
        image_size: str = "",
        fast_image_size: str = "",
    ) -> None:
        self._api_key = SecretStr(usable_key(self.name, api_key.get_secret_value()))
        self._url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.fast_model = fast_model
        self._image_size = image_size
        self._fast_image_size = fast_image_size
        self._limits = limits
        self._timeout_s = timeout_s

    def request_body(self, job: image_pb2.ImageJob) -> dict[str, Any]:
        """The chat completions request for ``job`` (no credentials in it)."""
        fast = job.options.fast
        size = prompts.target_size(job)
        content: list[dict[str, Any]] = [{"type": "text", "text": prompts.build_prompt(job, size)}]
        if job.reference_image:
            encoded = base64.b64encode(job.reference_image).decode("ascii")
            content.append(
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:{job.reference_media_type};base64,{encoded}"},
                }
            )
        image_config = {"aspect_ratio": nearest_aspect_ratio(*size)}
        image_size = self._fast_image_size if fast else self._image_size
        if image_size:
            image_config["image_size"] = image_size
        return {
            "model": self.fast_model if fast else self.model,
            "messages": [{"role": "user", "content": content}],
            "modalities": ["image", "text"],
            "image_config": image_config,
            "stream": False,
        }

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        body = self.request_body(job)
        headers = {
            "Authorization": f"Bearer {self._api_key.get_secret_value()}",
            "X-Title": "casecraft",
        }
        async with new_client(self._timeout_s) as client:
            request = client.build_request("POST", self._url, json=body, headers=headers)
            answer = await send_json(
                client,
                request,
                provider=self.name,
                max_bytes=max_answer_bytes(self._limits.max_bytes),
            )
        data = decode_data_url(self._image_url(answer), self._limits, provider=self.name)
        checked = await asyncio.to_thread(check_image, data, self._limits, provider=self.name)
        model = answer.get("model")
        return GeneratedImage(
            data=checked.data,
            media_type=checked.media_type,
            width=checked.width,
            height=checked.height,
            model=model if isinstance(model, str) and model else body["model"],
        )

    def _image_url(self, answer: dict[str, Any]) -> str:
        choices = answer.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else {}
        choice = choice if isinstance(choice, dict) else {}
        error = answer.get("error") or choice.get("error")
        if error:
            raise _answered_error(self.name, error)
        message = choice.get("message")
        images = message.get("images") if isinstance(message, dict) else None
        for image in images if isinstance(images, list) else []:
            url = image.get("image_url", {}).get("url") if isinstance(image, dict) else None
            if isinstance(url, str) and url:
                return url
        finish = choice.get("finish_reason") or choice.get("native_finish_reason") or "none"
        raise ProviderError(self.name, f"answered without an image (finish_reason: {finish})")


def nearest_aspect_ratio(width: int, height: int) -> str:
    """The supported aspect ratio closest to ``width:height``."""
    wanted = width / height

    def distance(ratio: str) -> float:
        w, h = (int(part) for part in ratio.split(":"))
        return abs(w / h - wanted)

    return min(ASPECT_RATIOS, key=distance)


def _answered_error(provider: str, error: object) -> ProviderError:
    if not isinstance(error, dict):
        return ProviderError(provider, f"answered with an error: {redact(str(error))}")
    code = error.get("code")
    message = redact(str(error.get("message") or "no message"))
    status = code if isinstance(code, int) else None
    retryable = status is not None and (status in RETRYABLE_STATUSES or status >= 500)
    return ProviderError(
        provider, f"answered with an error ({code}): {message}", retryable=retryable
    )
