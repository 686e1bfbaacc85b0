"""Short chaos runs (bench/chaos.py, the same code): faults from every fake, the structurer (or,
with the jobs in Redis, a gateway) killed and restarted mid-run, a few jobs cancelled; nothing is
lost, stuck or half-told."""

from __future__ import annotations

import asyncio

from bench import chaos
from tests.support.redis import shared_redis


def test_every_job_ends_whole_through_faults_and_a_killed_structurer() -> None:
    figures = chaos.run(
        30, seed=5, kill="structurer", cancel_share=0.1, deadline_s=60, kill_after=10
    )
    assert figures["accepted"] == figures["jobs"] == 30
    assert figures["done"] + figures["failed"] + figures["cancelled"] == 30
    assert figures["lost"] == figures["stuck"] == 0
    assert figures["stream_gaps"] == 0, figures["examples"]
    assert figures["invalid_answers"] == 0, figures["examples"]
    assert figures["done"] > 0
    assert figures["killed"]["service"] == "structurer_service"
    # A job the kill cut off fails with a problem that says which backend, never a 500.
    assert all(not reason.startswith("500") for reason in figures["failed_because"])


def test_a_gateway_killed_mid_run_loses_nothing_when_another_shares_its_redis() -> None:
    redis_url = asyncio.run(shared_redis())
    figures = chaos.run(
        30,
        seed=7,
        kill="gateway",
        cancel_share=0.1,
        deadline_s=60,
        kill_after=3,
        redis_url=redis_url,
    )
    assert (figures["gateways"], figures["jobs_in"]) == (2, "redis")
    assert figures["accepted"] == figures["jobs"] == 30
    assert figures["done"] + figures["failed"] + figures["cancelled"] == 30
    assert figures["lost"] == figures["stuck"] == 0
    assert figures["stream_gaps"] == 0, figures["examples"]
    assert figures["invalid_answers"] == 0, figures["examples"]
    assert figures["killed"]["service"] == "gateway0"
    # The killed gateway's running jobs were noticed through their leases and ended in words.
    assert figures["failed_because"].get("503 Interrupted", 0) > 0
    assert all(not reason.startswith("500") for reason in figures["failed_because"])


def test_a_stream_with_a_gap_or_no_end_is_caught() -> None:
    done = {"status": "done"}
    assert chaos.stream_gap([(1, "status", {}), (2, "done", done)]) is None
    assert chaos.stream_gap([(1, "status", {}), (3, "done", done)]) is not None
    assert chaos.stream_gap([(1, "status", {}), (2, "image", {})]) is not None
    assert chaos.stream_gap([(1, "failed", {}), (2, "done", done)]) is not None
    assert chaos.stream_gap([]) is not None


def test_an_answer_off_the_schema_is_caught() -> None:
    assert chaos.answer_errors({"id": "x"})
