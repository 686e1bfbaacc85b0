"""What the LLM providers share: drafts from partial JSON, usage and its estimated cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casecraft.casestudy_schema import schema
from casecraft.v1 import structurer_pb2
from structurer_service.providers import Draft


@dataclass(frozen=True)
class Prices:
    """US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


@dataclass
class UsageTotals:
    """Tokens summed over every call of one ``structure`` run, re-asks included."""

    provider: str
    model: str
    prices: Prices
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0

    def add(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def message(self) -> structurer_pb2.Usage:
        return structurer_pb2.Usage(
            provider=self.provider,
            model=self.model,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=self.prices.cost(self.input_tokens, self.output_tokens),
            attempts=self.calls,
        )


class Drafts:
    """Turns growing partial JSON into Drafts, only when something new appeared.

    A draft holds the longest run of CaseStudy fields present in schema order, so a field group is
    never announced before the model wrote every field it holds, whatever order the model uses.
    """

    def __init__(self) -> None:
        self._order = tuple(schema()["properties"])
        self._shape: tuple[tuple[str, int], ...] = ()

    def update(self, snapshot: Any) -> Draft | None:
        if not isinstance(snapshot, dict):
            return None
        fields: dict[str, Any] = {}
        for name in self._order:
            if name not in snapshot:
                break
            fields[name] = snapshot[name]
        shape = tuple(
            (name, len(value) if isinstance(value, list | dict) else 0)
            for name, value in fields.items()
        )
        if shape == self._shape:
            return None
        self._shape = shape
        return Draft(fields=fields)
