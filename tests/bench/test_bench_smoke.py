"""The benchmarks run end to end at a tiny scale; their figures are not checked, only their shape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench import cache, fanout, load, pipeline

ROOT = Path(__file__).resolve().parents[2]


async def test_fanout_runs() -> None:
    figures = await fanout.run(0.02)
    assert figures["jobs"] == len(fanout.DURATIONS_MS)
    assert {"optimum_ms", "window_ms", "chunks_ms", "window_over_optimum"} <= set(figures)


def test_pipeline_runs_every_mode() -> None:
    figures = pipeline.run(requests=2, llm_ms=60, image_ms=10)
    for key in (
        "t_llm_ms",
        "sequential_p50_ms",
        "gather_p50_ms",
        "early_p50_ms",
        "early_over_llm",
        "gather_over_ideal",
        "first_field_ms",
        "first_image_ms",
        "first_image_over_llm",
    ):
        assert figures[key] > 0, key


def test_cache_runs_on_both_backends() -> None:
    figures = cache.run(
        requests=2, burst=3, llm_ms=60, image_ms=20, backends=["memory", "redis"], block=2
    )
    for backend in ("memory", "redis"):
        repeated, at_once = figures[backend]["repeated"], figures[backend]["at_once"]
        assert repeated["p50_ms"] > 0 and at_once["p99_over_alone"] > 0
        assert repeated["floor_p50_ms"] > 0 and repeated["over_floor"] > 0
        assert (repeated["llm_calls"], repeated["image_calls"]) == (0, 0)
        assert sum(at_once["image_calls_per_component"].values()) == 3


def test_load_runs_and_every_case_study_completes() -> None:
    figures = load.run(inflight=5, scale=0.001, sequential=3, throughput=10, concurrency=2)
    assert figures["inflight_completed"] == 5
    assert figures["sequential_completed"] == 3
    assert figures["throughput_completed"] == 10
    for key in ("added_p50_ms", "added_p99_ms", "throughput_per_s", "inflight_p99_over_ideal"):
        assert figures[key] > 0, key
    assert set(figures["peak_rss_mib"]) == {"structurer", "images", "gateway"}
    assert set(figures["cpu_ms_per_case_study"]) >= {"structurer", "images", "gateway"}


def test_load_compares_tracing_off_and_exported() -> None:
    figures = load.run(
        inflight=0, sequential=2, throughput=6, concurrency=2, with_tracing_cost=True, rounds=2
    )
    assert figures["tracing_off_per_s"] > 0
    assert figures["tracing_recorded_per_s"] > 0
    assert figures["tracing_exported_per_s"] > 0
    for key in ("tracing_cost_ratio", "tracing_sampled_cost_ratio", "tracing_recorded_cost_ratio"):
        assert key in figures, key
        assert len(figures[f"{key}_rounds"]) == 2, key
    assert "inflight_n" not in figures


def test_instructions_inner_run_serves_its_requests() -> None:
    """What bench.instructions runs under valgrind: the three services in one process, serving
    the warm-up and the requests (each answer checked), then exiting cleanly."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.instructions", "--inner", "3"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
