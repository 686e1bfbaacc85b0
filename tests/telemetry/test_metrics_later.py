"""Metric points are recorded a few milliseconds after the step that made it, off its path
(casecraft/prometheus.py ``later``), and before anything reads them."""

from __future__ import annotations

import asyncio

import pytest

from casecraft.prometheus import later


async def test_a_point_waits_for_its_loop_and_is_recorded_shortly() -> None:
    recorded = asyncio.get_running_loop().create_future()
    later(lambda: recorded.set_result("recorded"))
    assert not recorded.done()  # not on the path of the step that made it
    async with asyncio.timeout(5):
        assert await recorded == "recorded"


async def test_reading_the_metrics_records_what_is_pending_first() -> None:
    points: list[int] = []
    later(lambda: points.append(1))
    later(lambda: points.append(2))
    assert points == []
    later.record_all()
    assert points == [1, 2]
    after = asyncio.get_running_loop().create_future()
    later(lambda: after.set_result(None))
    async with asyncio.timeout(5):
        await after  # a timer has fired since: the points recorded before stay recorded once
    assert points == [1, 2]


def test_a_thread_without_a_loop_records_at_once() -> None:
    points: list[int] = []
    later(lambda: points.append(1))
    assert points == [1]


def test_a_point_that_fails_costs_the_others_nothing(caplog: pytest.LogCaptureFixture) -> None:
    points: list[int] = []

    def broken() -> None:
        raise ValueError("an attribute the SDK refuses")

    async def three() -> None:
        later(lambda: points.append(1))
        later(broken)
        later(lambda: points.append(3))

    asyncio.run(three())  # its timer, or record_all after the loop has ended, records them
    later.record_all()
    assert points == [1, 3]
    assert "could not be recorded" in caplog.text
