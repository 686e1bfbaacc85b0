"""`casecraft generate`, `watch` and `--no-wait` against a gateway with the jobs API (a loopback
fake that speaks CONTRACTS.md's events), and against older gateways without it."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from casecraft.cli import main
from casecraft.gateway_client import MAX_RECONNECTS
from casecraft.progress import LiveProgress
from tests.fakes.jobs_gateway import (
    HEADLINE,
    IMAGES,
    JOB_ID,
    JobsGateway,
    done_script,
    failed_script,
)
from tests.fakes.server import closed_port, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "examples" / "fintech_onboarding.md"


@pytest.fixture
def fake() -> JobsGateway:
    return JobsGateway()


@pytest.fixture
def gateway_url(fake: JobsGateway) -> Iterator[str]:
    with serve_in_thread(fake.app) as url:
        yield url


def exit_message(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return str(stopped.value.code)


def assert_outputs(out: Path) -> None:
    for name, data in IMAGES.items():
        assert (out / f"{name}.png").read_bytes() == data
    stored = json.loads((out / "case_study.json").read_text())
    assert stored["case_study"]["title"] == HEADLINE["title"]
    assert all("data_url" not in image for image in stored["images"])
    assert "hero.png" in (out / "index.html").read_text()


def test_generate_follows_the_job_title_first_then_each_image(
    fake: JobsGateway, gateway_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"

    assert main(["generate", str(NOTES), "--gateway", gateway_url, "--out", str(out)]) == 0

    headers, body = fake.posts[0]
    assert headers["prefer"] == "respond-async" and body["notes"] == NOTES.read_text().strip()
    printed = capsys.readouterr().out
    lines = [re.sub(r"^ *\d+\.\d s  ", "", line) for line in printed.splitlines()]
    title = lines.index(f"title: {HEADLINE['title']} (Harbor Freightways, Logistics)")
    hero = lines.index("image hero ready: 160x90 from local")
    timeline = lines.index("image timeline ready: 160x90 from local")
    assert lines.index(f"job {gateway_url}/v1/case-studies/{JOB_ID}") < title < hero < timeline
    assert "note: the quote's role was guessed" in lines
    assert "Where the time went (120.0 ms in all):" in printed
    # The answer carries URLs: each image was fetched once, by its address.
    assert sorted(fake.image_requests) == sorted(
        image["sha256"] for image in done_script()[-1][1]["images"]
    )
    assert_outputs(out)


def test_a_broken_stream_is_resumed_where_it_broke(
    fake: JobsGateway, gateway_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.drop_after = 4

    assert main(["generate", str(NOTES), "--gateway", gateway_url, "--out", str(tmp_path)]) == 0

    assert [r.get("last-event-id") for r in fake.event_requests] == [None, "4"]
    printed = capsys.readouterr().out
    assert printed.count("image hero ready") == 1 and printed.count("title:") == 1
    assert_outputs(tmp_path)


@pytest.mark.parametrize("mode", ["sync", "refuses_async"])
def test_a_gateway_without_jobs_gets_the_synchronous_request(
    mode: str, fake: JobsGateway, gateway_url: str, tmp_path: Path
) -> None:
    fake.mode = mode

    assert main(["generate", str(NOTES), "--gateway", gateway_url, "--out", str(tmp_path)]) == 0

    prefers = [headers.get("prefer") for headers, _ in fake.posts]
    assert prefers == (["respond-async"] if mode == "sync" else ["respond-async", None])
    assert fake.event_requests == []
    assert_outputs(tmp_path)


def test_no_wait_prints_the_job_url_and_watch_follows_it(
    fake: JobsGateway, gateway_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", str(NOTES), "--gateway", gateway_url, "--no-wait"]) == 0
    job_url = capsys.readouterr().out.strip()
    assert job_url == f"{gateway_url}/v1/case-studies/{JOB_ID}"
    assert fake.event_requests == []

    assert main(["watch", job_url, "--out", str(tmp_path / "by-url")]) == 0
    assert main(["watch", JOB_ID, "--gateway", gateway_url, "--out", str(tmp_path / "by-id")]) == 0

    assert len(fake.event_requests) == 2
    assert_outputs(tmp_path / "by-url")
    assert_outputs(tmp_path / "by-id")


def test_notes_from_standard_input(
    fake: JobsGateway, gateway_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Client: Acme. Churn went from 9% to 4%."))

    assert main(["generate", "-", "--gateway", gateway_url, "--out", str(tmp_path)]) == 0

    assert fake.posts[0][1]["notes"] == "Client: Acme. Churn went from 9% to 4%."


def test_a_failed_job_is_one_line_with_the_problem(fake: JobsGateway, gateway_url: str) -> None:
    fake.script = failed_script("anthropic failed: connection to 127.0.0.1:9 failed")

    message = exit_message(["generate", str(NOTES), "--gateway", gateway_url])

    assert (
        message == "casecraft: the job failed: anthropic failed: connection to 127.0.0.1:9 failed"
    )


@pytest.mark.parametrize("mode", ["jobs", "hangs"])
def test_a_timeout_says_the_gateway_did_not_answer_in_time(
    mode: str, fake: JobsGateway, gateway_url: str
) -> None:
    fake.mode = mode
    fake.script, fake.hold_open = done_script()[:3], True  # a job that never ends

    message = exit_message(["generate", str(NOTES), "--gateway", gateway_url, "--timeout", "0.5"])

    assert message == (
        f"casecraft: the gateway at {gateway_url} did not answer within 0.5 s; "
        "pass a longer --timeout (or --fast)"
    )


def test_an_unreachable_gateway_is_named_with_the_fix() -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}"

    message = exit_message(["generate", str(NOTES), "--gateway", nowhere])

    assert message.startswith(f"casecraft: could not reach the gateway at {nowhere} (")
    assert message.endswith("start one with `casecraft up` or pass --gateway")
    assert "\n" not in message


def test_on_a_terminal_each_step_has_a_live_line() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    with LiveProgress(["hero", "metrics", "timeline"], console) as progress:
        for kind, data in done_script():
            progress.handle(kind, data)

    drawn = screen.getvalue()
    assert f"title: {HEADLINE['title']}" in drawn
    final = drawn.rsplit("\x1b[2K", 1)[-1]  # the last frame, drawn over the ones before
    for component in ("hero", "metrics", "timeline"):
        assert f"image {component}" in final
    assert final.count("✓") == 4 and "160x90 from local" in final


def test_a_stream_that_keeps_ending_early_is_given_up_on(
    fake: JobsGateway, gateway_url: str
) -> None:
    fake.script = done_script()[:3]

    message = exit_message(["generate", str(NOTES), "--gateway", gateway_url])

    job_url = f"{gateway_url}/v1/case-studies/{JOB_ID}"
    assert message == (
        f"casecraft: the event stream of {job_url} kept breaking (it ended before the job did); "
        f"follow it again with: casecraft watch {job_url}"
    )
    assert len(fake.event_requests) == 1 + MAX_RECONNECTS


def interrupted_while_following(
    gateway_url: str, interrupt: Callable[[subprocess.Popen[str]], None]
) -> tuple[int, str]:
    """Run ``casecraft generate`` until the title is out (the stream then stays open and quiet),
    ``interrupt`` it, and answer its exit code and stderr; a CLI still running 30 s later is
    killed and fails the test, never left to hang it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "casecraft.cli", "generate", str(NOTES), "--gateway", gateway_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    with process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if "title:" in line:
                    break
            interrupt(process)
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the CLI did not stop on Ctrl-C")
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return process.returncode, stderr


def test_ctrl_c_leaves_the_job_running_and_says_how_to_follow_it(
    fake: JobsGateway, gateway_url: str
) -> None:
    fake.script, fake.hold_open = done_script()[:3], True
    returncode, stderr = interrupted_while_following(
        gateway_url, lambda process: os.killpg(process.pid, signal.SIGINT)
    )

    assert returncode == 130
    assert stderr == (
        "casecraft: the job goes on; follow it again with: casecraft watch "
        f"{gateway_url}/v1/case-studies/{JOB_ID}\ncasecraft: interrupted\n"
    )
