"""Case-study jobs as records, and the store that keeps them.

A job is plain JSON-able data (``JobRecord``), so the store can be this process's memory or a
shared one (Redis) behind the same Protocol. The store knows nothing of the work itself: the
running of jobs is gateway/jobrunner.py's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

Status = Literal["queued", "structuring", "rendering", "done", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class JobRequest(BaseModel):
    """What the job was asked to make; kept so that images can be made again later."""

    notes: str
    components: list[str]
    logo_base64: str = ""
    logo_media_type: str = ""
    fast: bool = False
    accent_color: str = ""
    fresh: bool = False
    anonymize: bool = False
    logo_withheld: bool = False


class Change(BaseModel):
    """One edit of a finished job: the version it made, the fields it changed, and how."""

    version: int
    changed: list[str]
    by: Literal["patch", "refine", "image"]


class JobRecord(BaseModel):
    """A job's whole state. ``images`` holds each component's latest image as the answer shows
    it (with ``url`` and ``sha256``, never the bytes); ``case_study`` is what is known so far."""

    id: str
    status: Status = "queued"
    version: int = 0
    created_at: float
    expires_at: float
    finished_at: float | None = None
    trace_id: str = ""
    request: JobRequest
    fingerprint: str = ""
    idempotency_key: str | None = None
    # The name of the API key that made the job ("" without keys): only that key sees it.
    owner: str = ""
    case_study: dict[str, Any] = Field(default_factory=dict)
    images: dict[str, dict[str, Any]] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    # fidelity and anonymized, as the answer shows them (gateway/trust.py).
    trust: dict[str, Any] = Field(default_factory=dict)
    usage: dict[str, Any] = Field(default_factory=dict)
    # What a person should check before publishing: [{"field", "reason"}].
    needs_review: list[dict[str, str]] = Field(default_factory=list)
    # How the structuring cache answered: "hit", "miss" or "bypass" ("" until structured).
    structuring_cache: str = ""
    timings: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    changes: list[Change] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobStore(Protocol):
    """Where jobs are kept between requests."""

    async def add(self, job: JobRecord) -> None:
        """Keep a new job (and its idempotency key, if any)."""
        ...

    async def get(self, job_id: str) -> JobRecord | None:
        """The job, or None when it is unknown, expired or evicted."""
        ...

    async def save(self, job: JobRecord) -> None:
        """Replace the job's record with ``job``."""
        ...

    async def delete(self, job_id: str) -> None:
        """Forget the job and its idempotency key."""
        ...

    async def by_idempotency_key(self, key: str) -> JobRecord | None:
        """The job a POST with this ``Idempotency-Key`` started, while it is kept."""
        ...

    async def expired(self, now: float) -> list[str]:
        """The ids of the jobs whose ``expires_at`` has passed."""
        ...

    async def oldest_finished(self) -> str | None:
        """The id of the finished job that finished first: the first to evict."""
        ...

    def count(self) -> int:
        """How many jobs are kept."""
        ...

    def size_bytes(self) -> int:
        """Roughly how much memory the jobs hold."""
        ...


class Leases(Protocol):
    """Who is running which job, when several gateways share the store: a gateway holds a lease
    on each job it runs and renews it; a job left unfinished with a lapsed lease lost its
    gateway. (One gateway alone, with its jobs in memory, needs none.)"""

    async def hold(self, job_ids: Iterable[str]) -> set[str]:
        """Take or renew the leases of these jobs, which this gateway runs; the ids among them
        that another gateway was asked to cancel."""
        ...

    async def claim(self, job_id: str) -> bool:
        """True when the job's lease had lapsed and is now the caller's, to end the job."""
        ...

    async def held(self, job_id: str) -> bool:
        """Whether a gateway holds the job's lease (it is running the job)."""
        ...

    async def ask_to_cancel(self, job_id: str) -> None:
        """Ask the gateway holding the job's lease to cancel it (it does at its next renewal)."""
        ...


class MemoryJobStore:
    """Jobs in this process's memory (the default: one gateway, no set-up). Each is kept as its
    JSON, as a shared store would keep it, so a record changes only through ``save``.

    Every job has the same TTL, so jobs expire in the order they were added, and finished jobs
    are kept in the order they finished: finding what to drop never scans every job.
    """

    def __init__(self) -> None:
        self._jobs: dict[str, str] = {}
        self._finished: dict[str, float] = {}
        self._expires: dict[str, float] = {}
        self._keys: dict[str, str] = {}
        self._key_of: dict[str, str] = {}
        self._bytes = 0

    async def add(self, job: JobRecord) -> None:
        await self.save(job)
        if job.idempotency_key is not None:
            self._keys[job.idempotency_key] = job.id
            self._key_of[job.id] = job.idempotency_key

    async def get(self, job_id: str) -> JobRecord | None:
        data = self._jobs.get(job_id)
        return JobRecord.model_validate_json(data) if data is not None else None

    async def save(self, job: JobRecord) -> None:
        data = job.model_dump_json()
        self._bytes += len(data) - len(self._jobs.get(job.id, ""))
        self._jobs[job.id] = data
        self._expires.setdefault(job.id, job.expires_at)
        self._finished.pop(job.id, None)  # an edit makes images again; then it finishes anew
        if job.finished:
            self._finished[job.id] = job.finished_at or job.created_at

    async def delete(self, job_id: str) -> None:
        self._bytes -= len(self._jobs.pop(job_id, ""))
        self._finished.pop(job_id, None)
        self._expires.pop(job_id, None)
        key = self._key_of.pop(job_id, None)
        if key is not None:
            del self._keys[key]

    async def by_idempotency_key(self, key: str) -> JobRecord | None:
        job_id = self._keys.get(key)
        return await self.get(job_id) if job_id is not None else None

    async def expired(self, now: float) -> list[str]:
        expired = []
        for job_id, at in self._expires.items():
            if at > now:
                break
            expired.append(job_id)
        return expired

    async def oldest_finished(self) -> str | None:
        return next(iter(self._finished), None)

    def count(self) -> int:
        return len(self._jobs)

    def size_bytes(self) -> int:
        return self._bytes
