"""`casecraft up` and `demo` with the real services as child processes: Ctrl-C, a port in use, a
provider without its key or out of reach, a service that dies. Every failure is one line."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fakes.server import closed_port

ROOT = Path(__file__).resolve().parent.parent
NOTES = (ROOT / "examples" / "logistics_dispatch.md").read_text()
WAIT_S = 90.0
# Keys a developer's shell may hold; the tests say which providers run.
_KEYS = ("ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY")


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _KEYS and not k.startswith("CASECRAFT_")}
    return {**env, **extra}


class Lines:
    """A stream's lines, read by a thread, awaited one pattern at a time."""

    def __init__(self, stream: object) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, text: str) -> str:
        """The first line from now on that contains ``text``."""
        while True:
            line = self._queue.get(timeout=WAIT_S)
            if line is None:
                raise AssertionError(f"ended without {text!r}:\n" + "\n".join(self.seen[-30:]))
            self.seen.append(line)
            if text in line:
                return line

    def rest(self) -> list[str]:
        """Every line until the stream ends."""
        while (line := self._queue.get(timeout=WAIT_S)) is not None:
            self.seen.append(line)
        return self.seen


@contextmanager
def casecraft(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """`casecraft ARGS` in a session of its own, as a terminal would run it (its group gets the
    terminal's Ctrl-C)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "casecraft.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env or environment(),
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def service_pid(parent: int, module: str) -> int:
    """The pid of the child of ``parent`` that runs ``python -m module``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and module.encode() in command:
            return int(entry.name)
    raise AssertionError(f"no {module} under {parent}")


def refuses_connections(url: str) -> bool:
    try:
        httpx.get(f"{url}/healthz", timeout=5)
    except httpx.ConnectError:
        return True
    return False


def test_ctrl_c_on_up_drains_every_service_and_exits_0() -> None:
    with casecraft("up", "--port", "0") as process:
        assert process.stdout is not None and process.stderr is not None
        url = process.stdout.readline().strip()
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        children = [service_pid(process.pid, m) for m in ("structurer_service", "gateway")]

        os.killpg(process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C

        assert process.wait(timeout=WAIT_S) == 0
        logged = process.stderr.read()
    assert "Traceback" not in logged
    assert logged.count('"event": "draining"') == 2  # each gRPC service drained once
    assert refuses_connections(url)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists()


def test_a_port_in_use_is_named_with_the_flag_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with casecraft("up", "--port", str(port)) as process:
            _, stderr = process.communicate(timeout=WAIT_S)

    assert process.returncode == 1
    assert stderr == (
        f"casecraft: port {port} is in use; pass --port with a free port (0: any free port) "
        "or set CASECRAFT_GATEWAY_PORT\n"
    )


def test_a_provider_without_its_key_stops_up_and_demo_with_one_line() -> None:
    env = environment(CASECRAFT_STRUCTURER_PROVIDERS="anthropic,local")
    message = (
        "casecraft: structurer_service exited with code 1 before serving: "
        "CASECRAFT_STRUCTURER_PROVIDERS names 'anthropic' but ANTHROPIC_API_KEY is not set; "
        "set ANTHROPIC_API_KEY, or remove 'anthropic' from CASECRAFT_STRUCTURER_PROVIDERS"
    )
    with casecraft("demo", env=env) as process:
        _, stderr = process.communicate(timeout=WAIT_S)
    assert process.returncode == 1
    assert stderr == message + "\n"
    # `up` shows the services' own output as it comes; its last line is the same one.
    with casecraft("up", "--port", "0", env=env) as process:
        _, stderr = process.communicate(timeout=WAIT_S)
    assert process.returncode == 1
    assert stderr.splitlines()[-1] == message and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("module", "variable", "provider", "key"),
    [
        (
            "structurer_service",
            "CASECRAFT_STRUCTURER_PROVIDERS",
            "openai_compatible",
            "OPENROUTER_API_KEY",
        ),
        ("image_service", "CASECRAFT_IMAGE_PROVIDERS", "openai", "OPENAI_API_KEY"),
    ],
)
def test_each_service_without_its_providers_key_says_so_in_one_line(
    module: str, variable: str, provider: str, key: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(**{variable: provider}),
        timeout=WAIT_S,
    )

    assert result.returncode == 1
    assert result.stderr.startswith(
        f"casecraft: {variable} names '{provider}' but {key} is not set"
    )
    assert result.stderr.count("\n") == 1


def test_an_unreachable_provider_is_named_and_demo_shows_the_services_last_lines(
    tmp_path: Path,
) -> None:
    env = environment(
        CASECRAFT_STRUCTURER_PROVIDERS="anthropic",
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=f"http://127.0.0.1:{closed_port()}",
        CASECRAFT_STRUCTURER_RETRY_MAX_ATTEMPTS="1",
    )
    with casecraft("demo", "--out", str(tmp_path), env=env) as process:
        _, stderr = process.communicate(timeout=WAIT_S)

    assert process.returncode == 1
    lines = stderr.splitlines()
    assert lines[-1].startswith(
        # the demo runs as a job on a gateway with jobs: its failure is the job's
        "casecraft: the job failed: structurer_service is running, but its provider "
        "anthropic failed (structuring failed: every provider failed: anthropic: connection to"
    )
    assert "is unavailable" not in stderr and "Traceback" not in stderr
    shown = {line.split(" | ")[0].strip() for line in lines[:-1] if " | " in line}
    assert shown == {"structurer_service", "image_service", "gateway"}
    assert any("structuring attempt failed" in line for line in lines)


def test_a_service_that_dies_is_named_restarted_and_given_up_on_when_it_keeps_dying() -> None:
    with casecraft("up", "--port", "0") as process:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        log = Lines(process.stderr)

        pid = service_pid(process.pid, "structurer_service")
        os.kill(pid, signal.SIGKILL)
        log.expect("casecraft: structurer_service was killed by SIGKILL; restarting it in 0.5 s")
        log.expect("casecraft: structurer_service is serving again on port")
        # The gateway reaches the new process where it reached the old one.
        response = httpx.post(f"{url}/v1/case-studies", json={"notes": NOTES}, timeout=60)
        assert response.status_code == 200, response.text

        os.kill(service_pid(process.pid, "structurer_service"), signal.SIGKILL)
        log.expect("casecraft: structurer_service was killed by SIGKILL; restarting it in 1 s")
        log.expect("casecraft: structurer_service is serving again on port")
        os.kill(service_pid(process.pid, "structurer_service"), signal.SIGKILL)

        assert process.wait(timeout=WAIT_S) == 1
        last = log.rest()[-1]
    assert last.startswith(
        "casecraft: structurer_service was killed by SIGKILL and had failed 3 times within 30 s "
        "of starting, so everything was stopped"
    )
    assert refuses_connections(url)


def test_demo_open_shows_the_page_on_the_finished_job_until_ctrl_c(tmp_path: Path) -> None:
    opened = tmp_path / "opened"
    browser = f"{sys.executable} -c \"import sys; open('{opened}', 'w').write(sys.argv[1])\" %s"
    env = environment(BROWSER=browser)
    with casecraft("demo", "--open", "--out", str(tmp_path / "out"), env=env) as process:
        lines = Lines(process.stdout)
        line = lines.expect("casecraft: opened ")
        url = line.split()[2]
        base, _, fragment = url.partition("/#/case-studies/")
        assert fragment and opened.read_text() == url
        job = httpx.get(f"{base}/v1/case-studies/{fragment}", timeout=WAIT_S)
        assert job.status_code == 200 and job.json()["status"] == "done", "still served"
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=WAIT_S) == 0
