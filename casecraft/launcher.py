"""Runs the three services as child processes on local ports, the way `casecraft up` does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import IO

START_TIMEOUT_S = 60.0
# Local stacks take any free metrics port (each logs its port) unless the environment names one.
_METRICS_ANY_PORT = {"CASECRAFT_STRUCTURER_METRICS_PORT": "0", "CASECRAFT_IMAGE_METRICS_PORT": "0"}
STOP_TIMEOUT_S = 30.0


class LaunchError(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    process: subprocess.Popen[str]
    port: Future[int] = field(default_factory=Future)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    pump: threading.Thread | None = None


def _pump(child: Child, sink: Callable[[str], None]) -> None:
    """Forward the child's output lines and resolve its port from the JSON 'serving' line."""
    stream: IO[str] | None = child.process.stdout
    assert stream is not None
    for line in stream:
        child.tail.append(line.rstrip())
        sink(line)
        if not child.port.done() and '"serving"' in line:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("event") == "serving":
                child.port.set_result(int(entry["port"]))
    if not child.port.done():
        child.port.set_exception(
            LaunchError(
                f"{child.name} exited with code {child.process.wait()} before serving:\n"
                + "\n".join(child.tail)
            )
        )


class Stack:
    """The structurer, the image service and the gateway, started in that order."""

    def __init__(
        self,
        *,
        gateway_port: int = 0,
        host: str = "127.0.0.1",
        sink: Callable[[str], None] = lambda line: None,
        env: dict[str, str] | None = None,
    ) -> None:
        self._gateway_port = gateway_port
        self._host = host
        self._sink = sink
        self._env = dict(os.environ if env is None else env)
        self.children: list[Child] = []
        self.gateway_url = ""

    def _spawn(self, name: str, module: str, extra_env: dict[str, str]) -> int:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**_METRICS_ANY_PORT, **self._env, **extra_env, "PYTHONUNBUFFERED": "1"},
        )
        child = Child(name, process)
        self.children.append(child)
        child.pump = threading.Thread(target=_pump, args=(child, self._sink), daemon=True)
        child.pump.start()
        try:
            return child.port.result(timeout=START_TIMEOUT_S)
        except TimeoutError as exc:
            raise LaunchError(f"{name} did not start within {START_TIMEOUT_S:g} s") from exc

    def start(self) -> str:
        """Start every service; returns the gateway's URL. Stops what started on failure."""
        try:
            structurer = self._spawn(
                "structurer_service",
                "structurer_service",
                {"CASECRAFT_STRUCTURER_HOST": self._host, "CASECRAFT_STRUCTURER_PORT": "0"},
            )
            images = self._spawn(
                "image_service",
                "image_service",
                {"CASECRAFT_IMAGE_HOST": self._host, "CASECRAFT_IMAGE_PORT": "0"},
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
            )
        except BaseException:
            self.stop()
            raise
        self.gateway_url = f"http://{self._host}:{gateway}"
        return self.gateway_url

    def stop(self) -> list[int]:
        """SIGTERM every child (gateway first), wait for each to drain; returns exit codes."""
        codes = []
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
            try:
                codes.append(child.process.wait(timeout=STOP_TIMEOUT_S))
            except subprocess.TimeoutExpired:
                child.process.kill()
                codes.append(child.process.wait())
            if child.pump is not None:
                child.pump.join()  # the child's output ends with it
            if child.process.stdout is not None:
                child.process.stdout.close()
        self.children.clear()
        return codes

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
