"""Jobs, their events, idempotency keys, leases and images in Redis, shared by every gateway.

Every key starts with the deployment's prefix and has a TTL, so nothing outlives the job TTL:

- ``job:{id}``        the job's record as JSON (its TTL ends at the job's ``expires_at``)
- ``idem:{key}``      the id of the job an ``Idempotency-Key`` started, as long as the job
- ``events:{id}``     a stream, one entry per event; entry id ``0-n`` is event ``n``, so reading
                      after ``Last-Event-ID: n`` is ``XRANGE (0-n +`` and live tailing is
                      ``XREAD BLOCK`` from ``0-n``
- ``lease:{id}``      held by the gateway running the job, renewed while it runs
- ``cancel:{id}``     a DELETE that reached another gateway, for the one running the job
- ``img:{sha256}``    an image's bytes and media type, kept a job TTL after it was last stored
- ``jobs``            the ids of the jobs kept, by when they expire (sorted set)
- ``finished``        the finished ones, by when they finished (sorted set): the first to evict
- ``sizes``, ``bytes`` each job's record size and their total, for CASECRAFT_MAX_JOB_BYTES
  (these four indexes live as long as the longest-lived job in them)
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import redis.asyncio

from gateway.events import Event
from gateway.images import StoredImage
from gateway.jobs import JobRecord
from gateway.redis_backend import LONGEST_BLOCK_S

# One round trip, atomic: the record, the idempotency key, the indexes and the byte total.
_SAVE = """
local job, idem, jobs, finished, sizes, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, data, ttl_ms, expires_at, finished_at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local old = tonumber(redis.call('HGET', sizes, id) or '0')
redis.call('SET', job, data, 'PX', ttl_ms)
if idem ~= '' then redis.call('SET', idem, id, 'PX', ttl_ms, 'NX') end
redis.call('ZADD', jobs, 'NX', expires_at, id)
if finished_at ~= '' then redis.call('ZADD', finished, finished_at, id)
else redis.call('ZREM', finished, id) end
redis.call('HSET', sizes, id, string.len(data))
redis.call('INCRBY', total, string.len(data) - old)
-- The indexes live as long as the longest-lived job in them.
for _, index in ipairs({jobs, finished, sizes, total}) do
  if redis.call('PTTL', index) < tonumber(ttl_ms) then redis.call('PEXPIRE', index, ttl_ms) end
end
return old
"""

_DELETE = """
local job, idem, jobs, finished, sizes, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id = ARGV[1]
local old = tonumber(redis.call('HGET', sizes, id) or '0')
redis.call('DEL', job)
if idem ~= '' then redis.call('DEL', idem) end
redis.call('ZREM', jobs, id)
redis.call('ZREM', finished, id)
redis.call('HDEL', sizes, id)
redis.call('INCRBY', total, -old)
return old
"""


# One command per event: the entry, and on the first one the log's TTL (it expires with its job).
_APPEND = """
local id = redis.call('XADD', KEYS[1], '0-*', 't', ARGV[1], 'd', ARGV[2])
if id == '0-1' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return id
"""


class RedisJobStore:
    """Job records in Redis; ``count`` and ``size_bytes`` are the figures the last ``expired``
    read (every admission asks for it first), kept current by this gateway's own adds and
    deletes."""

    def __init__(
        self, client: redis.asyncio.Redis, prefix: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock
        self._save = client.register_script(_SAVE)
        self._delete = client.register_script(_DELETE)
        self._count = 0
        self._bytes = 0

    def _keys(self, job_id: str, idempotency_key: str | None) -> list[str]:
        p = self._prefix
        idem = f"{p}idem:{idempotency_key}" if idempotency_key is not None else ""
        return [f"{p}job:{job_id}", idem, f"{p}jobs", f"{p}finished", f"{p}sizes", f"{p}bytes"]

    async def add(self, job: JobRecord) -> None:
        await self.save(job)
        self._count += 1

    async def get(self, job_id: str) -> JobRecord | None:
        data = await self._redis.get(f"{self._prefix}job:{job_id}")
        return JobRecord.model_validate_json(data) if data is not None else None

    async def save(self, job: JobRecord) -> None:
        data = job.model_dump_json()
        ttl_ms = max(int((job.expires_at - self._clock()) * 1000), 1)
        finished_at = (job.finished_at or job.created_at) if job.finished else ""
        args: list[str | int | float] = [job.id, data, ttl_ms, job.expires_at, finished_at]
        old = await self._save(keys=self._keys(job.id, job.idempotency_key), args=args)
        self._bytes += len(data) - int(old)

    async def delete(self, job_id: str) -> None:
        job = await self.get(job_id)
        key = job.idempotency_key if job is not None else None
        old = await self._delete(keys=self._keys(job_id, key), args=[job_id])
        self._count = max(self._count - 1, 0)
        self._bytes -= int(old)

    async def by_idempotency_key(self, key: str) -> JobRecord | None:
        job_id = await self._redis.get(f"{self._prefix}idem:{key}")
        return await self.get(_text(job_id)) if job_id is not None else None

    async def expired(self, now: float) -> list[str]:
        p = self._prefix
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(f"{p}jobs", "-inf", now)
            pipe.zcard(f"{p}jobs")
            pipe.get(f"{p}bytes")
            ids, count, total = await pipe.execute()
        self._count = int(count)
        self._bytes = int(total or 0)
        return [_text(job_id) for job_id in ids]

    async def oldest_finished(self) -> str | None:
        oldest = await self._redis.zrange(f"{self._prefix}finished", 0, 0)
        return _text(oldest[0]) if oldest else None

    def count(self) -> int:
        return self._count

    def size_bytes(self) -> int:
        return self._bytes


class RedisEventLog:
    """Each job's events as a Redis stream whose entry ids are ``0-1``, ``0-2`` …: Redis numbers
    them (``XADD … 0-*``), so two gateways appending to one job never reuse a number."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        prefix: str,
        ttl_s: float,
        followers: redis.asyncio.Redis | None = None,
    ) -> None:
        self._redis = client
        self._followers = followers or client  # for the blocking reads of live tailing
        self._prefix = prefix
        self._ttl_s = max(int(ttl_s), 1)
        self._append = client.register_script(_APPEND)

    def _key(self, job_id: str) -> str:
        return f"{self._prefix}events:{job_id}"

    async def append(self, job_id: str, type: str, data: dict[str, Any]) -> Event:
        body = orjson.dumps(data)
        entry_id = await self._append(keys=[self._key(job_id)], args=[type, body, self._ttl_s])
        return Event(_number(entry_id), type, body.decode())

    async def read(self, job_id: str, after: int = 0) -> list[Event]:
        entries = await self._redis.xrange(self._key(job_id), min=f"(0-{max(after, 0)}")
        return [_event(entry_id, fields) for entry_id, fields in entries or []]

    async def wait(self, job_id: str, after: int, timeout_s: float) -> None:
        # At most LONGEST_BLOCK_S per call: the caller (events.follow) reads and waits again.
        block_ms = max(int(min(timeout_s, LONGEST_BLOCK_S) * 1000), 1)
        await self._followers.xread({self._key(job_id): f"0-{after}"}, count=1, block=block_ms)

    async def delete(self, job_id: str) -> None:
        await self._redis.delete(self._key(job_id))

    def size_bytes(self) -> int:
        # Events are bounded by their TTL and Redis's maxmemory (docs/redis.md), not counted.
        return 0


class RedisLeases:
    """A lease per running job: a key with a short TTL that the gateway running the job renews.
    A lapsed lease means the gateway stopped; whoever claims it first ends the job."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str, lease_s: float) -> None:
        self._redis = client
        self._prefix = prefix
        self._lease_ms = max(int(lease_s * 1000), 1)

    async def hold(self, job_ids: Iterable[str]) -> set[str]:
        ids = list(job_ids)
        async with self._redis.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.set(f"{self._prefix}lease:{job_id}", b"running", px=self._lease_ms)
            for job_id in ids:
                pipe.exists(f"{self._prefix}cancel:{job_id}")
            replies = await pipe.execute()
        return {job_id for job_id, asked in zip(ids, replies[len(ids) :], strict=True) if asked}

    async def held(self, job_id: str) -> bool:
        return bool(await self._redis.exists(f"{self._prefix}lease:{job_id}"))

    async def ask_to_cancel(self, job_id: str) -> None:
        # Kept a few leases long: the running gateway looks at every renewal (a third of one).
        await self._redis.set(f"{self._prefix}cancel:{job_id}", b"1", px=3 * self._lease_ms)

    async def claim(self, job_id: str) -> bool:
        claimed = await self._redis.set(
            f"{self._prefix}lease:{job_id}", b"ending", px=self._lease_ms, nx=True
        )
        return bool(claimed)


class RedisImageStore:
    """Images by address in Redis. Each ``put`` gives the image a whole job TTL again, and a job
    lives a job TTL from its start, so an image outlives every job that refers to it: pins need
    no bookkeeping, and ``unpin`` has nothing to do."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str, ttl_s: float) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_s = max(int(ttl_s), 1)

    async def put(self, data: bytes, media_type: str, sha256: str = "") -> str:
        if sha256 and await self._redis.expire(f"{self._prefix}img:{sha256}", self._ttl_s):
            return sha256  # kept already (a repeat): its TTL renewed, the bytes not sent again
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        key = f"{self._prefix}img:{sha256}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"d": data, "t": media_type})
            pipe.expire(key, self._ttl_s)
            await pipe.execute()
        return sha256

    async def get(self, sha256: str) -> StoredImage | None:
        fields = await self._redis.hgetall(f"{self._prefix}img:{sha256}")
        if not fields:
            return None
        data = fields[b"d"]
        return StoredImage(data if isinstance(data, bytes) else data.encode(), _text(fields[b"t"]))

    async def unpin(self, sha256: str) -> None:
        return None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(entry_id: object) -> int:
    """The event number of a stream entry id ``0-n``."""
    return int(_text(entry_id).partition("-")[2])


def _event(entry_id: object, fields: Any) -> Event:
    return Event(_number(entry_id), _text(fields[b"t"]), _text(fields[b"d"]))
