"""The stores behind the job interfaces (in memory, and in Redis): images by address within a
byte budget, the event log, and RFC 7396 merge patches."""

from __future__ import annotations

import hashlib
import time

from gateway.edits import merge_patch
from gateway.events import MemoryEventLog, follow
from gateway.images import MemoryImageStore
from gateway.jobs import JobRecord, JobRequest
from gateway.redis_backend import connect
from gateway.redis_stores import RedisEventLog, RedisImageStore, RedisJobStore
from tests.conftest import REDIS_URL


async def test_images_are_kept_by_sha256_and_the_least_recently_used_unpinned_go_first() -> None:
    store = MemoryImageStore(budget_bytes=10)
    a = await store.put(b"aaaa", "image/png")
    b = await store.put(b"bbbb", "image/png")
    assert a == hashlib.sha256(b"aaaa").hexdigest()
    await store.unpin(a)
    await store.unpin(b)
    assert await store.get(a) is not None  # a is now the most recently used
    c = await store.put(b"cccc", "image/jpeg")  # 12 bytes > 10: the least recently used goes
    assert await store.get(b) is None
    assert (await store.get(a)) is not None
    stored = await store.get(c)
    assert stored is not None and stored.media_type == "image/jpeg" and stored.data == b"cccc"
    assert store.size_bytes() == 8


async def test_an_image_a_live_job_refers_to_is_never_evicted() -> None:
    store = MemoryImageStore(budget_bytes=4)
    pinned = await store.put(b"1111", "image/png")
    other = await store.put(b"2222", "image/png")  # over budget, but both are pinned
    assert await store.get(pinned) is not None and await store.get(other) is not None
    await store.unpin(other)
    assert await store.get(other) is None  # unpinned and over budget: evicted at once
    assert await store.get(pinned) is not None
    await store.unpin(pinned)
    assert await store.get(pinned) is not None  # within budget now


async def test_the_event_log_numbers_events_and_follows_from_any_of_its_ids() -> None:
    log = MemoryEventLog()
    for kind in ("status", "field_group", "done"):
        await log.append("job", kind, {"n": kind})
    assert [e.id for e in await log.read("job")] == [1, 2, 3]
    assert [e.type async for e in follow(log, "job", 1)] == ["field_group", "done"]
    assert [e.id async for e in follow(log, "job", 7)] == [1, 2, 3]  # not one of its ids
    await log.delete("job")
    assert await log.read("job") == [] and log.size_bytes() == 0


async def test_an_image_whose_address_is_known_is_kept_under_it_once() -> None:
    """The image service sends each image's sha256: the store takes it as the address, and an
    image it holds already is only pinned again (a repeated request stores nothing new)."""
    store = MemoryImageStore(budget_bytes=100)
    data = b"png bytes"
    known = hashlib.sha256(data).hexdigest()
    assert await store.put(data, "image/png", known) == known
    assert await store.put(data, "image/png", known) == known
    assert store.size_bytes() == len(data)
    await store.unpin(known)
    assert await store.get(known) is not None, "still pinned by the second put"


async def test_in_redis_an_image_kept_already_is_not_sent_again(redis_prefix: str) -> None:
    client = connect(REDIS_URL)
    images = RedisImageStore(client, redis_prefix, ttl_s=60)
    try:
        data = b"png bytes"
        known = hashlib.sha256(data).hexdigest()
        assert await images.put(data, "image/png", known) == known
        key = f"{redis_prefix}img:{known}"
        await client.expire(key, 5)
        # The same address again, with other bytes: what is kept is not replaced, its TTL is.
        assert await images.put(b"not sent", "image/png", known) == known
        stored = await images.get(known)
        assert stored is not None and stored.data == data
        assert await client.ttl(key) > 5
        # Unknown to Redis: stored, under the address given.
        other = hashlib.sha256(b"other").hexdigest()
        assert await images.put(b"other", "image/jpeg", other) == other
        kept = await images.get(other)
        assert kept is not None and kept.media_type == "image/jpeg"
    finally:
        await client.aclose()


def test_merge_patch_follows_rfc_7396_examples() -> None:
    cases = [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ]
    for target, patch, result in cases:
        assert merge_patch(target, patch) == result


async def test_in_redis_events_keep_their_numbers_and_every_key_expires(redis_prefix: str) -> None:
    client = connect(REDIS_URL)
    jobs = RedisJobStore(client, redis_prefix)
    log = RedisEventLog(client, redis_prefix, ttl_s=60)
    images = RedisImageStore(client, redis_prefix, ttl_s=60)
    try:
        job = JobRecord(
            id="j1",
            created_at=time.time(),
            expires_at=time.time() + 60,
            request=JobRequest(notes="n", components=["hero"]),
            idempotency_key="k1",
        )
        await jobs.add(job)
        for kind in ("status", "field_group", "done"):
            await log.append("j1", kind, {"n": kind})
        sha256 = await images.put(b"png bytes", "image/png")
        job.status, job.finished_at = "done", time.time()
        await jobs.save(job)
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
        ttls = {key.decode().removeprefix(redis_prefix): await client.ttl(key) for key in keys}
        events = await log.read("j1", 1)
        followed = [e.id async for e in follow(log, "j1", 1)]
        kept = await jobs.by_idempotency_key("k1")
        image = await images.get(sha256)
        oldest = await jobs.oldest_finished()
        await jobs.delete("j1")
        await jobs.expired(time.time())  # reads the count and the bytes back
        gone = await jobs.get("j1"), await jobs.by_idempotency_key("k1")
    finally:
        await client.aclose()
    assert [(e.id, e.type) for e in events] == [(2, "field_group"), (3, "done")]
    assert followed == [2, 3]
    assert kept is not None and kept.status == "done" and oldest == "j1"
    assert image is not None and image.data == b"png bytes" and image.media_type == "image/png"
    assert set(ttls) >= {"job:j1", "idem:k1", "events:j1", f"img:{sha256}", "jobs", "finished"}
    assert all(0 < ttl <= 60 for ttl in ttls.values()), ttls
    assert gone == (None, None) and jobs.count() == 0 and jobs.size_bytes() == 0
