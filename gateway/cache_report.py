"""The answer's ``"cache"`` object: how the structuring cache answered the request."""

from __future__ import annotations

from casecraft.v1 import structurer_pb2
from gateway.orchestrator import Outcome, Plan

_NAMES = {
    structurer_pb2.CACHE_OUTCOME_HIT: "hit",
    structurer_pb2.CACHE_OUTCOME_MISS: "miss",
    structurer_pb2.CACHE_OUTCOME_BYPASS: "bypass",
}


def cache_report(outcome: Outcome, plan: Plan) -> dict[str, str]:
    """``{"structuring": "hit"|"miss"|"bypass"}``; with the structurer's cache turned off every
    request is structured anew: "bypass" when ``fresh`` asked for it, "miss" otherwise."""
    name = _NAMES.get(outcome.structuring_cache) or ("bypass" if plan.fresh else "miss")
    return {"structuring": name}
