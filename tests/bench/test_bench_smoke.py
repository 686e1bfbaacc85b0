"""The benchmarks run end to end at a tiny scale; their figures are not checked, only their shape."""

from __future__ import annotations

from bench import fanout, load, pipeline


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
    ):
        assert figures[key] > 0, key


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
        inflight=0, sequential=2, throughput=6, concurrency=2, with_tracing_cost=True, rounds=1
    )
    assert figures["tracing_off_per_s"] > 0
    assert figures["tracing_exported_per_s"] > 0
    assert "tracing_cost_ratio" in figures and "tracing_sampled_cost_ratio" in figures
    assert "inflight_n" not in figures
