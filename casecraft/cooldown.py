"""Provider health shared by every request of a process: a provider that keeps failing rests.

A circuit breaker per provider name, in three states:

- closed: calls go through; consecutive failures are counted, a success resets the count.
- open: after ``failure_threshold`` consecutive failures the provider rests for ``cooldown_s``;
  every call skips it.
- half-open: the rest is over. The first call admitted probes the provider while every other
  call keeps skipping it; the probe's success closes the circuit, its failure opens it again
  for another ``cooldown_s``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass
class _Health:
    failures: int = 0
    # When the rest ends (clock time); meaningful once failures reach the threshold.
    until: float = 0.0
    # A call is probing the provider after its rest.
    probing: bool = False


@dataclass(frozen=True)
class Permit:
    """Leave to call a provider, from ``Cooldown.admit``; hand it back with the outcome."""

    provider: str
    # This call is the one probe of a provider whose rest has ended.
    probe: bool = False


class Cooldown:
    """Consecutive failures per provider name; a provider past the threshold rests for a while.

    Build one per service at start-up and share it between every call, so that all requests see
    the same health. ``clock`` is injectable (monotonic seconds).
    """

    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._health: dict[str, _Health] = {}

    def state(self, provider: str) -> State:
        health = self._health.get(provider)
        if health is None or health.failures < self.failure_threshold:
            return "closed"
        if health.probing or self._clock() >= health.until:
            return "half_open"
        return "open"

    def remaining_s(self, provider: str) -> float:
        """Seconds of rest left; 0 when the provider is not resting."""
        health = self._health.get(provider)
        if health is None or health.failures < self.failure_threshold:
            return 0.0
        return max(0.0, health.until - self._clock())

    def admit(self, provider: str) -> Permit | None:
        """A permit to call ``provider`` now, or ``None`` while it rests or another call probes
        it. The call that ends a rest gets the probe permit."""
        health = self._health.get(provider)
        if health is None or health.failures < self.failure_threshold:
            return Permit(provider)
        if health.probing or self._clock() < health.until:
            return None
        health.probing = True
        return Permit(provider, probe=True)

    def succeeded(self, permit: Permit) -> None:
        """The call answered: the provider is healthy again (a probe closes the circuit)."""
        self._health.pop(permit.provider, None)

    def failed(self, permit: Permit) -> None:
        """The call failed: one more consecutive failure; past the threshold (or after a failed
        probe) the provider rests for ``cooldown_s`` from now."""
        health = self._health.setdefault(permit.provider, _Health())
        if permit.probe:
            health.probing = False
            health.failures = max(health.failures, self.failure_threshold)
        else:
            health.failures += 1
        if health.failures >= self.failure_threshold:
            health.until = self._clock() + self.cooldown_s

    def release(self, permit: Permit) -> None:
        """The call ended with no verdict on the provider (it was cancelled): a probe's place
        goes to the next call."""
        health = self._health.get(permit.provider)
        if permit.probe and health is not None:
            health.probing = False
