"""Drive a real ``healops up --headless`` process from a test, a benchmark or a script.

Nothing is mocked: the platform runs as OS processes on loopback, exactly as a user runs it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from healops.config import load_or_create_tokens
from workloads.desired_state import DesiredStateRepo

T = TypeVar("T")


_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def ephemeral_low() -> int:
    """The lowest port the kernel hands out for outgoing connections (Linux; 32768 elsewhere)."""
    try:
        return int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A loopback port free now and *below the kernel's ephemeral range*, for a process about to be
    started. A port from ``bind(0)`` is an ephemeral one: released here, the kernel may give it to an
    outgoing connection of the platform being started before the server binds it, and a long-lived
    connection holds it. CI saw the control plane's port taken (every restart of it failed to bind;
    which connection held it was not recorded), 33 platform tests erroring. Ports already handed
    out by this process are skipped, so one start never gets the same port twice."""
    low = ephemeral_low()
    first = 20000 if low > 21000 else 1024
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(first, low)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {first}-{low - 1}")


def http_ok(url: str, timeout_s: float = 1.0) -> bool:
    """True when ``url`` answers 200 now (a readiness probe for waits)."""
    try:
        return httpx.get(url, timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(predicate: Callable[[], T | None], timeout_s: float, interval_s: float = 0.1,
               what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


@dataclass
class PlatformProcess:
    home: Path
    rps: float = 0.0
    replicas: int = 1
    gateway_port: int = field(default_factory=free_port)
    control_port: int = field(default_factory=free_port)
    otlp_port: int = field(default_factory=free_port)
    remediation: str = "off"  # tests of other parts keep the platform as they broke it
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def collector_url(self) -> str:
        return f"http://127.0.0.1:{self.otlp_port}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    @property
    def repo(self) -> DesiredStateRepo:
        return DesiredStateRepo(self.home / "desired-state")

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {load_or_create_tokens(self.home).admin}"}

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {load_or_create_tokens(self.home).api}"}

    def start(self, ready_timeout_s: float = 120.0) -> PlatformProcess:
        env = {**os.environ, "HEALOPS_HOME": str(self.home), "HEALOPS_GATEWAY_PORT": str(self.gateway_port),
               "HEALOPS_CONTROL_PORT": str(self.control_port), "HEALOPS_OTLP_PORT": str(self.otlp_port),
               "HEALOPS_REMEDIATION": self.remediation, **self.env}
        env.pop("HEALOPS_OTLP_ENDPOINT", None)
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "up.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "healops.cli", "up", "--headless", "--rps", str(self.rps),
                 "--replicas", str(self.replicas)], env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        try:
            wait_until(self.all_ready, ready_timeout_s, 0.5, "every service to be ready")
            wait_until(lambda: http_ok(f"{self.control_url}/v1/health"), 60, 0.2, "the control plane to answer")
        except BaseException:
            # a fixture whose setup raised is never torn down: stop the platform here, or its
            # processes outlive the run (a failed CI start left ten behind)
            self.stop()
            raise
        return self

    def snapshot(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.home / "run" / "runtime.json").read_text())
        except (OSError, ValueError):
            return {}
        return data

    def status(self) -> dict[str, Any]:
        resp = httpx.get(f"{self.control_url}/v1/status", headers=self.api_headers, timeout=5)
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def all_ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"healops up exited with {self.proc.returncode}; see {self.home / 'up.out'}")
        services = self.snapshot().get("services", {})
        return bool(services) and all(
            s["live_replicas"] >= s["desired_replicas"] and s["health"] == "healthy" for s in services.values())

    def replicas_of(self, service: str) -> list[dict[str, Any]]:
        replicas: list[dict[str, Any]] = self.snapshot().get("services", {}).get(service, {}).get("replicas", [])
        return replicas

    def replica_url(self, service: str, index: int = 0) -> str:
        ready = [r for r in self.replicas_of(service) if r["state"] == "ready"]
        return f"http://127.0.0.1:{ready[index]['port']}"

    def pids(self) -> set[int]:
        snap = self.snapshot()
        pids = {int(p) for p in snap.get("components", {}).values()}
        for svc in snap.get("services", {}).values():
            pids |= {int(r["pid"]) for r in svc["replicas"] if r.get("pid")}
        return pids

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)
