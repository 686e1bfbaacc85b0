"""Providers for tests that need to hold, fail or observe a step; real servers run around them."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf import json_format
from PIL import Image

from casecraft.components import GROUP_FIELDS
from casecraft.errors import AllProvidersFailed
from casecraft.v1 import case_study_pb2, image_pb2, structurer_pb2
from image_service.providers import GeneratedImage
from structurer_service.providers import Draft, Structured

ACME = case_study_pb2.CaseStudy(
    client_name="Acme Freight",
    industry="Logistics",
    title="How Acme Freight cut dispatch time by 67%",
    subtitle="Route planning rebuilt in ten weeks",
    metrics=[
        case_study_pb2.Metric(
            label="Dispatch time",
            before="94 min",
            after="31 min",
            improvement="67% faster",
            before_value=94,
            after_value=31,
            unit="min",
            change_percent=-67.0,
            lower_is_better=True,
        )
    ],
    phases=[
        case_study_pb2.Phase(name="Discovery", period="Weeks 1-2", description="Mapped routes.")
    ],
    challenge="Dispatch took too long.",
    solution="A new planner.",
    results="Faster dispatch.",
)


class ScriptedStructurer:
    """Writes a given case study group by group; can pause after any group until released."""

    name = "scripted"

    def __init__(
        self,
        case_study: case_study_pb2.CaseStudy = ACME,
        *,
        final: case_study_pb2.CaseStudy | None = None,
        hold_after: int | None = None,
    ) -> None:
        self.case_study = case_study
        self.final = final if final is not None else case_study
        self.hold_after = hold_after
        self.release = asyncio.Event()
        self.held = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.finished = False

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        fields = json_format.MessageToDict(self.case_study, preserving_proto_field_name=True)
        groups = list(GROUP_FIELDS.values())
        try:
            for count in range(2, len(groups) + 1):
                keys = {f for g in groups[:count] for f in g}
                yield Draft({k: v for k, v in fields.items() if k in keys})
                if self.hold_after == count - 1:
                    self.held.set()
                    await self.release.wait()
            self.finished = True
            yield Structured(
                self.final,
                structurer_pb2.Usage(provider=self.name, model="script-1", attempts=1),
                ("scripted warning",) if not self.final.metrics else (),
            )
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


class FailsAfterTheHeadline(ScriptedStructurer):
    """Writes the first field groups, then every provider fails."""

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        async for step in super().structure(notes, fast=fast):
            yield step
            raise AllProvidersFailed(["scripted: the model went away"])


class FailsAtOnce(ScriptedStructurer):
    """Every provider fails before a field is written."""

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        async for step in super().structure(notes, fast=fast):
            raise AllProvidersFailed(["scripted: the model went away"])
            yield step


def png(width: int = 32, height: int = 16, colour: tuple[int, int, int] = (30, 90, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


class RecordingImages:
    """Returns a small real PNG per job and records each job (with its data) as it starts."""

    name = "recording"

    def __init__(self, *, hold: bool = False) -> None:
        self.jobs: list[image_pb2.ImageJob] = []
        self.started: asyncio.Queue[image_pb2.ImageJob] = asyncio.Queue()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()
        self.cancelled = asyncio.Event()

    async def generate(self, job: image_pb2.ImageJob) -> GeneratedImage:
        self.jobs.append(job)
        self.started.put_nowait(job)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return GeneratedImage(png(), "image/png", 32, 16, "recording-1")


class DownStructurer:
    """Every provider of the chain failed: the structurer answers UNAVAILABLE."""

    name = "down"

    async def structure(self, notes: str, *, fast: bool) -> AsyncIterator[Draft | Structured]:
        raise AllProvidersFailed(["down: upstream said 503"])
        yield  # pragma: no cover


async def next_result(call: Any) -> image_pb2.ImageResult:
    """The next result of a Generate call (grpc.aio), which must come alone in its message."""
    message = await call.read()
    assert message is not grpc.aio.EOF, "the call ended before the next result"
    (result,) = message.results
    return result
