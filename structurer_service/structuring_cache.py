"""The structuring cache: identical requests get the answer already paid for.

The key hashes everything that decides the answer: the notes, the options that change it
(``fast``; not ``fresh``), each provider of the chain with the model it would use, the prompt
(system prompt, tool, re-ask) and the CaseStudy schema as text, and casecraft's version (the
local extractor is code). An edited prompt, another model or a new schema is another key.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version

from casecraft.byte_cache import ByteCache
from casecraft.casestudy_schema import schema
from casecraft.v1 import structurer_pb2
from structurer_service.providers import StructurerProvider, prompt

_FORMAT = "casecraft.structure/1"
_VERSION = version("casecraft")


def provider_identity(provider: StructurerProvider, fast: bool) -> str:
    """Each provider of ``provider`` (a chain, or one) with the model it uses at this speed."""
    parts = []
    for each in getattr(provider, "providers", (provider,)):
        model_for = getattr(each, "model_for", None)
        parts.append(f"{each.name}={model_for(fast) if model_for is not None else ''}")
    return ",".join(parts)


def _prompt_fingerprint() -> str:
    text = json.dumps(
        [
            prompt.SYSTEM,
            prompt.TOOL_NAME,
            prompt.TOOL_DESCRIPTION,
            prompt.user_message("{notes}"),
            prompt.reask(["{error}"]),
            schema(),
        ],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def structuring_key(request: structurer_pb2.StructureRequest, provider: StructurerProvider) -> str:
    """The hex SHA-256 of what determines ``request``'s answer from ``provider``."""
    options = structurer_pb2.StructureOptions()
    options.CopyFrom(request.options)
    options.ClearField("fresh")
    digest = hashlib.sha256()
    for part in (
        _FORMAT,
        _VERSION,
        provider_identity(provider, request.options.fast),
        _PROMPT,
        options.SerializeToString(deterministic=True).hex(),
        request.notes,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


_PROMPT = _prompt_fingerprint()


def as_hit(response: structurer_pb2.StructureResponse) -> structurer_pb2.StructureResponse:
    """``response`` as the answer of a request that called no provider: marked a hit, its usage
    naming who wrote it at no cost, without the spans of the call that made it."""
    hit = structurer_pb2.StructureResponse()
    hit.CopyFrom(response)
    hit.ClearField("spans")
    hit.cache = structurer_pb2.CACHE_OUTCOME_HIT
    hit.usage.input_tokens = hit.usage.output_tokens = hit.usage.attempts = 0
    hit.usage.cost_usd = 0.0
    return hit


class StructuringCache:
    """Final answers by key, stored without the spans of the call that made them."""

    def __init__(self, store: ByteCache) -> None:
        self.store = store

    async def get(self, key: str) -> structurer_pb2.StructureResponse | None:
        data = await self.store.get(key)
        if data is None:
            return None
        return as_hit(structurer_pb2.StructureResponse.FromString(data))

    async def put(self, key: str, response: structurer_pb2.StructureResponse) -> None:
        stored = structurer_pb2.StructureResponse()
        stored.CopyFrom(response)
        stored.ClearField("spans")
        stored.ClearField("cache")
        await self.store.set(key, stored.SerializeToString())
