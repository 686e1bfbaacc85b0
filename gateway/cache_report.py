"""How the structuring cache answered, as the answer's ``"cache": {"structuring": ...}`` says it."""

from __future__ import annotations

from casecraft.v1 import structurer_pb2

_NAMES = {
    structurer_pb2.CACHE_OUTCOME_HIT: "hit",
    structurer_pb2.CACHE_OUTCOME_MISS: "miss",
    structurer_pb2.CACHE_OUTCOME_BYPASS: "bypass",
}


def structuring_cache(outcome: structurer_pb2.CacheOutcome, fresh: bool) -> str:
    """ "hit", "miss" or "bypass". With the structurer's cache off every request is structured
    anew: "bypass" when ``fresh`` asked for it, "miss" otherwise."""
    return _NAMES.get(outcome) or ("bypass" if fresh else "miss")
