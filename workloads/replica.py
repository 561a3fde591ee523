"""One replica process of a service: how it is started, and what the runtime knows of it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

State = Literal["starting", "ready", "unresponsive", "crashed", "terminating"]
Track = Literal["stable", "canary"]


@dataclass
class Replica:
    service: str
    track: Track
    version: str
    generation: str
    instance: str
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    state: State = "starting"
    started_at: float = field(default_factory=time.time)
    ready_at: float | None = None
    restarts: int = 0
    last_exit_code: int | None = None
    last_exit_reason: str = ""
    probe_failures: int = 0
    restart_due_at: float | None = None
    signal_at: float | None = None
    terminate_at: float | None = None
    rss_bytes: int = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def to_json(self) -> dict[str, object]:
        return {
            "instance": self.instance, "version": self.version, "track": self.track, "state": self.state,
            "pid": self.pid, "port": self.port, "started_at": self.started_at, "ready_at": self.ready_at,
            "restarts": self.restarts, "last_exit_code": self.last_exit_code,
            "last_exit_reason": self.last_exit_reason, "rss_mb": round(self.rss_bytes / 2**20, 1),
        }


@dataclass(frozen=True)
class SpawnSettings:
    host: str
    gateway_port: int
    discovery_file: Path
    otlp_endpoint: str
    log_dir: Path
    admin_token: str
    extra_env: dict[str, str] = field(default_factory=dict)


def _listen(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def spawn(replica: Replica, settings: SpawnSettings, public: bool) -> None:
    """Start the replica's process on a socket bound here and inherited by the child."""
    own = _listen(settings.host, 0, reuse_port=False)
    shared = _listen(settings.host, settings.gateway_port, reuse_port=True) if public else None
    replica.port = own.getsockname()[1]
    args = [sys.executable, "-m", "workloads.serve", "--service", replica.service,
            "--version", replica.version, "--instance", replica.instance, "--fd", str(own.fileno()),
            "--discovery", str(settings.discovery_file), "--otlp-endpoint", settings.otlp_endpoint,
            "--parent-pid", str(os.getpid())]
    fds = [own.fileno()]
    if shared is not None:
        args += ["--public-fd", str(shared.fileno())]
        fds.append(shared.fileno())
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HEALOPS_ADMIN_TOKEN": settings.admin_token, "PYTHONUNBUFFERED": "1",
           **settings.extra_env}
    try:
        with (settings.log_dir / f"{replica.instance}.log").open("ab") as log:
            replica.proc = subprocess.Popen(args, pass_fds=fds, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env)
    finally:
        own.close()
        if shared is not None:
            shared.close()
    replica.state, replica.started_at, replica.ready_at = "starting", time.time(), None
    replica.probe_failures, replica.restart_due_at = 0, None
    replica.signal_at, replica.terminate_at = None, None
