"""What the command shows while a job runs: the title the moment it exists, each image as it lands.

On a terminal, a live line per step (structuring, then each image) with a spinner while it runs
(rich); elsewhere (a pipe, a CI log), one plain line per event.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

# The field group whose arrival lets each image start (the gateway sends each image job then).
_IMAGE_NEEDS = {"headline": "hero", "metrics": "metrics", "phases": "timeline"}


@dataclass
class Step:
    """One line of the display."""

    label: str
    state: str = "pending"  # pending, running, done, failed
    detail: str = ""
    started: float | None = None
    ended: float | None = None


class Progress:
    """Turns a job's events into steps and news; ``LiveProgress`` and ``PlainProgress`` show them."""

    def __init__(
        self, components: Sequence[str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._t0 = clock()
        self.steps: dict[str, Step] = {"structuring": Step("structuring")}
        for component in components:
            self.steps[component] = Step(f"image {component}")

    def elapsed(self) -> float:
        return self._clock() - self._t0

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop showing progress (the summary follows)."""

    def note(self, message: str) -> None:
        """A line of news not tied to an event (where the job is, a fallback)."""
        self.show([message])

    def show(self, news: list[str]) -> None:
        raise NotImplementedError

    def answered(self, answer: dict[str, Any]) -> None:
        """Show a whole answer that came at once (a gateway without jobs) as its events."""
        for image in answer.get("images", []):
            ok = image.get("status") in ("ok", "done")
            self.handle("image", {**image, "status": "done" if ok else "failed"})
        self.handle("done", answer)

    def handle(self, kind: str, data: dict[str, Any]) -> None:
        """Apply one event of the job's stream and show what changed."""
        self.show(self._apply(kind, data))

    def _run(self, name: str) -> None:
        step = self.steps.get(name)
        if step is not None and step.state == "pending":
            step.state, step.started = "running", self.elapsed()

    def _end(self, name: str, state: str, detail: str) -> None:
        step = self.steps.get(name)
        if step is None:
            return
        if step.started is None:
            step.started = self.elapsed()
        step.state, step.detail, step.ended = state, detail, self.elapsed()

    def _apply(self, kind: str, data: dict[str, Any]) -> list[str]:
        if kind == "status":
            status = data.get("status", "")
            if status == "structuring":
                self._run("structuring")
            elif status == "rendering":
                if self.steps["structuring"].state != "done":
                    self._end("structuring", "done", self.steps["structuring"].detail)
                for name, step in self.steps.items():
                    if name != "structuring" and step.state == "pending":
                        self._run(name)
            return [status] if status and status not in ("done", "failed", "cancelled") else []
        if kind == "field_group":
            return self._field_group(str(data.get("group", "")), data.get("fields") or {})
        if kind == "image":
            return [self._image(data)]
        if kind == "warning":
            return [f"note: {data.get('message', '')}"]
        if kind == "done":
            self._end("structuring", "done", self.steps["structuring"].detail)
            return ["done"]
        if kind == "failed":
            problem = data.get("problem") or {}
            for step in self.steps.values():
                if step.state in ("pending", "running"):
                    step.state = "failed"
            return [f"failed: {problem.get('detail') or problem.get('title') or ''}"]
        if kind == "cancelled":
            return ["cancelled"]
        return []

    def _field_group(self, group: str, fields: dict[str, Any]) -> list[str]:
        self._run("structuring")
        structuring = self.steps["structuring"]
        structuring.detail = ", ".join(filter(None, [structuring.detail, group]))
        if group in _IMAGE_NEEDS:
            self._run(_IMAGE_NEEDS[group])
        if group == "headline":
            who = ", ".join(str(fields[k]) for k in ("client_name", "industry") if fields.get(k))
            title = f"title: {fields.get('title') or '(untitled)'}"
            return [title + (f" ({who})" if who else "")]
        if group == "metrics":
            return [f"metrics: {len(fields.get('metrics') or [])}"]
        if group == "phases":
            return [f"phases: {len(fields.get('phases') or [])}"]
        return [f"{group} written"]

    def _image(self, data: dict[str, Any]) -> str:
        component = str(data.get("component", "?"))
        if data.get("status") == "failed":
            detail = str(data.get("error", "failed"))
            self._end(component, "failed", detail)
            return f"image {component} failed: {detail}"
        detail = (
            f"{data.get('width', '?')}x{data.get('height', '?')} from {data.get('provider', '?')}"
        )
        if data.get("cache_hit"):
            detail += " (cached)"
        self._end(component, "done", detail)
        return f"image {component} ready: {detail}"


class PlainProgress(Progress):
    """One line per event, each with the seconds since the start."""

    def __init__(self, components: Sequence[str], out: TextIO | None = None) -> None:
        super().__init__(components)
        self._out = out or sys.stdout

    def show(self, news: list[str]) -> None:
        for line in news:
            print(f"{self.elapsed():6.1f} s  {line}", file=self._out, flush=True)


# News printed above the live lines and kept; the rest shows in the lines themselves.
_KEPT = ("title:", "note:", "failed:", "job ")
_ICONS = {"pending": ("·", "dim"), "done": ("✓", "green"), "failed": ("✗", "red")}


class LiveProgress(Progress):
    """A live line per step, redrawn in place; the title and warnings print above them."""

    def __init__(self, components: Sequence[str], console: Console | None = None) -> None:
        super().__init__(components)
        self._console = console or Console()
        self._live = Live(
            get_renderable=self.render, console=self._console, refresh_per_second=8, transient=False
        )
        self._live.start()

    def show(self, news: list[str]) -> None:
        for line in news:
            if line.startswith(_KEPT) or " failed: " in line:
                self._live.console.print(Text(line, style="bold" if line[:6] == "title:" else ""))
        self._live.refresh()

    def render(self) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        now = self.elapsed()
        for step in self.steps.values():
            icon: RenderableType
            if step.state == "running":
                icon = Spinner("dots", style="cyan")
            else:
                symbol, style = _ICONS[step.state]
                icon = Text(symbol, style=style)
            start = step.started if step.started is not None else now
            seconds = (step.ended if step.ended is not None else now) - start
            timing = f"{seconds:5.1f} s" if step.started is not None else ""
            table.add_row(icon, Text(f"{step.label:<16}"), Text(timing, style="dim"), step.detail)
        return table

    def close(self) -> None:
        self._live.stop()


def progress_for(components: Sequence[str], console: Console | None = None) -> Progress:
    """A live display on a terminal, plain lines elsewhere."""
    console = console or Console()
    if console.is_terminal:
        return LiveProgress(components, console)
    return PlainProgress(components)
