"""Runs the three services as child processes on local ports, the way `casecraft up` does.

Each child runs in a process group of its own, so a Ctrl-C at the terminal reaches only the
launcher, which then stops each child once (SIGTERM: drain, then exit 0). A child that dies while
the stack runs is reported (which one, and how it ended) and restarted on the same port after a
backoff; one that keeps failing soon after each start stops the whole stack.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
# Local stacks take any free metrics port (each logs its port) unless the environment names one.
_METRICS_ANY_PORT = {"CASECRAFT_STRUCTURER_METRICS_PORT": "0", "CASECRAFT_IMAGE_METRICS_PORT": "0"}


class LaunchError(RuntimeError):
    """The stack could not start, or stopped because a service kept failing; the message is one
    line that says which service and why."""


class PortInUse(LaunchError):
    """The gateway's port is taken by another process."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is in use")
        self.host = host
        self.port = port


@dataclass(frozen=True)
class RestartPolicy:
    """How a service that dies is restarted: after ``base_delay_s``, doubling up to
    ``max_delay_s``; a service that dies within ``fast_failure_s`` of starting, ``max_fast_failures``
    times in a row, is given up on."""

    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    fast_failure_s: float = 30.0
    max_fast_failures: int = 3

    def delay_s(self, failures: int) -> float:
        return float(min(self.base_delay_s * 2 ** max(failures - 1, 0), self.max_delay_s))


@dataclass
class Child:
    """One service: its command and environment, and the process that runs it now."""

    name: str
    module: str
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    port: Future[int] = field(default_factory=Future)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    pumps: list[threading.Thread] = field(default_factory=list)
    started_at: float = 0.0
    fast_failures: int = 0


def how_it_ended(code: int) -> str:
    """A process's return code in words: ``exited with code 1``, ``was killed by SIGKILL``."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def last_words(lines: list[str]) -> str:
    """The line of a child's output that best says why it stopped: its own one-line refusal
    (``casecraft: ...``), else the last error logged, else the last line."""
    for line in reversed(lines):
        if line.startswith("casecraft: "):
            return line.removeprefix("casecraft: ")
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
            return str(entry.get("message", line))
    return lines[-1] if lines else "no output"


def check_port_free(host: str, port: int) -> None:
    """Raise PortInUse when ``port`` cannot be bound the way the gateway binds it."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(host, port) from None
            raise LaunchError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class Stack:
    """The structurer, the image service and the gateway, started in that order and kept
    running until ``stop``."""

    def __init__(
        self,
        *,
        gateway_port: int = 0,
        host: str = "127.0.0.1",
        sink: Callable[[str], None] = lambda line: None,
        env: dict[str, str] | None = None,
        notify: Callable[[str], None] = lambda message: None,
        restart: RestartPolicy | None = None,
    ) -> None:
        self._gateway_port = gateway_port
        self._host = host
        self._sink = sink
        self._notify = notify
        self._restart = restart or RestartPolicy()
        self._env = dict(os.environ if env is None else env)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.children: list[Child] = []
        self.gateway_url = ""
        self.ended = threading.Event()
        """Set when ``request_stop`` is called or a service is given up on."""
        self.failure: LaunchError | None = None

    def _launch(self, child: Child) -> None:
        child.port = Future()
        child.started_at = time.monotonic()
        child.process = process = subprocess.Popen(
            [sys.executable, "-m", child.module],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**_METRICS_ANY_PORT, **self._env, **child.env, "PYTHONUNBUFFERED": "1"},
            # Its own process group: a terminal's Ctrl-C reaches the launcher only, which then
            # stops each child once.
            process_group=0,
        )
        pump = threading.Thread(target=self._pump, args=(child, process), daemon=True)
        child.pumps.append(pump)
        pump.start()

    def _pump(self, child: Child, process: subprocess.Popen[str]) -> None:
        """Forward one process's output, resolve its port from its 'serving' line, and handle
        its end."""
        assert process.stdout is not None
        port = child.port
        for line in process.stdout:
            child.tail.append(line.rstrip())
            self._sink(line)
            if not port.done() and '"serving"' in line:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if entry.get("event") == "serving":
                    port.set_result(int(entry["port"]))
        process.stdout.close()
        code = process.wait()
        if not port.done():
            port.set_exception(
                LaunchError(
                    f"{child.name} {how_it_ended(code)} before serving: {last_words(list(child.tail))}"
                )
            )
        if not self._stopping.is_set() and self.gateway_url:
            self._died(child, code)

    def _died(self, child: Child, code: int) -> None:
        ran_s = time.monotonic() - child.started_at
        fast = ran_s < self._restart.fast_failure_s
        child.fast_failures = child.fast_failures + 1 if fast else 1
        if fast and child.fast_failures >= self._restart.max_fast_failures:
            self.failure = LaunchError(
                f"{child.name} {how_it_ended(code)} and had failed {child.fast_failures} times "
                f"within {self._restart.fast_failure_s:g} s of starting, so everything was "
                f"stopped; its last words: {last_words(list(child.tail))}"
            )
            self.ended.set()
            return
        delay = self._restart.delay_s(child.fast_failures)
        self._notify(f"{child.name} {how_it_ended(code)}; restarting it in {delay:g} s")
        if self._stopping.wait(delay):
            return
        with self._lock:
            if self._stopping.is_set():
                return
            self._launch(child)
        child.port.add_done_callback(lambda port: self._serving_again(child, port))

    def _serving_again(self, child: Child, port: Future[int]) -> None:
        if port.exception() is None:
            self._notify(f"{child.name} is serving again on port {port.result()}")

    def _spawn(self, name: str, module: str, env: dict[str, str], port_variable: str = "") -> int:
        """Start ``python -m module`` and wait until it serves; returns its port. A restart
        listens on the same port (``port_variable`` names the setting for it)."""
        child = Child(name, module, env)
        with self._lock:
            self.children.append(child)
            self._launch(child)
        try:
            port = child.port.result(timeout=START_TIMEOUT_S)
        except TimeoutError as exc:
            raise LaunchError(f"{name} did not start within {START_TIMEOUT_S:g} s") from exc
        if port_variable:
            child.env = {**env, port_variable: str(port)}
        return port

    def start(self) -> str:
        """Start every service; returns the gateway's URL. Stops what started on failure."""
        check_port_free(self._host, self._gateway_port)
        try:
            structurer = self._spawn(
                "structurer_service",
                "structurer_service",
                {"CASECRAFT_STRUCTURER_HOST": self._host, "CASECRAFT_STRUCTURER_PORT": "0"},
                "CASECRAFT_STRUCTURER_PORT",
            )
            images = self._spawn(
                "image_service",
                "image_service",
                {"CASECRAFT_IMAGE_HOST": self._host, "CASECRAFT_IMAGE_PORT": "0"},
                "CASECRAFT_IMAGE_PORT",
            )
            gateway = self._spawn(
                "gateway",
                "gateway",
                {
                    "CASECRAFT_GATEWAY_HOST": self._host,
                    "CASECRAFT_GATEWAY_PORT": str(self._gateway_port),
                    "CASECRAFT_STRUCTURER_TARGET": f"{self._host}:{structurer}",
                    "CASECRAFT_IMAGE_TARGET": f"{self._host}:{images}",
                },
                "CASECRAFT_GATEWAY_PORT",
            )
        except BaseException:
            self.stop()
            raise
        self.gateway_url = f"http://{self._host}:{gateway}"
        return self.gateway_url

    def request_stop(self) -> None:
        """Ask whoever waits on ``ended`` to stop the stack (safe from a signal handler)."""
        self.ended.set()

    def tails(self) -> dict[str, list[str]]:
        """Each service's last lines of output."""
        return {child.name: list(child.tail) for child in self.children}

    def stop(self) -> list[int]:
        """SIGTERM every child (gateway first), wait for each to drain; returns exit codes."""
        with self._lock:
            self._stopping.set()
        codes = []
        for child in reversed(self.children):
            process = child.process
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                codes.append(process.wait(timeout=STOP_TIMEOUT_S))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
            for pump in child.pumps:
                if pump is not threading.current_thread():
                    pump.join()  # the child's output ends with it
        self.children.clear()
        return codes

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
