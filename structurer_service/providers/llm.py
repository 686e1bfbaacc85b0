"""What the LLM providers share: drafts from partial JSON, usage and its estimated cost."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from casecraft.casestudy_schema import schema
from casecraft.errors import ProviderError
from casecraft.v1 import structurer_pb2
from structurer_service.providers import Draft, Refinement
from structurer_service.providers.prompt import refine_message


@dataclass(frozen=True)
class Prices:
    """US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


_LEDGER: contextvars.ContextVar[list[UsageTotals] | None] = contextvars.ContextVar(
    "casecraft_usage_ledger", default=None
)


def ledger_context(ledger: list[UsageTotals]) -> contextvars.Context:
    """A copy of the current context in which every UsageTotals made joins ``ledger``.

    The chain runs its provider attempts in it, so the tokens of attempts that failed (a re-ask
    that was still invalid, a stream cut off by an error or a timeout) are counted too: the
    provider billed them all the same.
    """
    context = contextvars.copy_context()
    context.run(_LEDGER.set, ledger)
    return context


@dataclass
class UsageTotals:
    """Tokens summed over every call of one ``structure`` run, re-asks included."""

    provider: str
    model: str
    prices: Prices
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    # Whether an answer carries these totals; the ledger's other entries are failed attempts.
    answered: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        ledger = _LEDGER.get()
        if ledger is not None:
            ledger.append(self)

    def add(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def cost(self) -> float:
        return self.prices.cost(self.input_tokens, self.output_tokens)

    def message(self) -> structurer_pb2.Usage:
        self.answered = True
        return structurer_pb2.Usage(
            provider=self.provider,
            model=self.model,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=self.cost(),
            attempts=self.calls,
        )


def cut_off(provider: str, max_tokens: int) -> ProviderError:
    """The answer hit the output limit. The same request would hit it again: not retried."""
    return ProviderError(
        provider,
        f"the answer was cut off at max_tokens ({max_tokens}): raise "
        "CASECRAFT_STRUCTURER_MAX_OUTPUT_TOKENS or shorten the notes",
    )


def unanswered(ledger: Sequence[UsageTotals]) -> tuple[int, int, float]:
    """Input tokens, output tokens and cost of the ledger's attempts that failed."""
    failed = [totals for totals in ledger if not totals.answered]
    return (
        sum(t.input_tokens for t in failed),
        sum(t.output_tokens for t in failed),
        sum(t.cost() for t in failed),
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


def refine_request(refinement: Refinement, instructions: str = "") -> str:
    """The user turn asking an LLM to rewrite one section of the case study (with the request's
    own instructions, anonymize, when it has some)."""
    # Every field, empty and default ones too: the model writes back what it is shown, and the
    # schema requires them all.
    shown = json_format.MessageToDict(
        refinement.case_study,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    as_json = json.dumps(shown, ensure_ascii=False, indent=1)
    return refine_message(
        refinement.notes, as_json, refinement.section, refinement.instruction, instructions
    )
