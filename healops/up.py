"""``healops up``: the runtime, the services, the load generator and the control plane, together.

This process supervises every other one. SIGINT or SIGTERM stops them all (SIGTERM, grace, then
SIGKILL), and each child also exits on its own if this process dies, so nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from healops.config import HealopsConfig, load_or_create_tokens
from healops.errors import ConfigError
from healops.processes import stop_process
from workloads.desired_state import DesiredStateRepo
from workloads.runtime import Runtime


def _check_port_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the servers will bind: connections of a just-stopped run in TIME_WAIT do not count
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"{what} port {host}:{port} is already in use (another healops up?); "
                                  f"set a different one or stop the other process") from exc
            raise


def _claim_pidfile(config: HealopsConfig) -> None:
    pidfile = config.run_dir / "up.pid"
    if pidfile.exists():
        with contextlib.suppress(ValueError):
            other = int(pidfile.read_text().strip())
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(other, 0)
                raise ConfigError(f"healops is already running from {config.home} (pid {other})")
    config.run_dir.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(str(os.getpid()))


def _spawn_child(args: list[str], log_name: str, config: HealopsConfig) -> subprocess.Popen[bytes]:
    config.log_dir.mkdir(parents=True, exist_ok=True)
    with (config.log_dir / log_name).open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", *args, "--parent-pid", str(os.getpid())],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


async def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.2)
    return False


async def _keep_running(name: str, args: list[str], children: dict[str, subprocess.Popen[bytes]],
                        runtime: Runtime, config: HealopsConfig, stop: asyncio.Event) -> None:
    """Start ``name`` again when it dies (back-off 1 s doubling to 30 s, reset after a minute up), as
    systemd's Restart=always would: the control plane recovers its own state from SQLite and git."""
    backoff, started = 1.0, time.monotonic()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        proc = children.get(name)
        if stop.is_set() or proc is None or proc.poll() is None:
            continue
        runtime.note_component_exit(name, proc.returncode)
        backoff = 1.0 if time.monotonic() - started > 60 else min(30.0, backoff * 2)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff / 2)
        if stop.is_set():
            return
        children[name] = _spawn_child(args, f"{name}.log", config)
        started = time.monotonic()
        runtime.components = {n: p.pid for n, p in children.items()}


async def run_up(config: HealopsConfig, on_ready: Callable[[Runtime], None] | None = None,
                 watch: Callable[[Runtime, asyncio.Event], asyncio.Future[None]] | None = None) -> int:
    """Run until SIGINT/SIGTERM (or until ``watch`` returns); returns the exit code."""
    _check_port_free(config.host, config.gateway_port, "gateway")
    _check_port_free(config.host, config.control_port, "control-plane")
    _check_port_free(config.host, config.otlp_port, "OTLP receiver")
    from detectors.openslo import DEFAULT_DIR, load_slos

    load_slos(list(config.slo_paths) or [DEFAULT_DIR], config.slo_time_scale)  # a bad SLO file stops us here, named
    if config.remediation != "off":
        from runbooks.loader import DEFAULT_DIR as RUNBOOKS
        from runbooks.loader import load_runbooks

        load_runbooks(list(config.runbook_paths) or [RUNBOOKS])  # and so does a bad runbook
    _claim_pidfile(config)
    tokens = load_or_create_tokens(config.home)
    repo = DesiredStateRepo(config.desired_state_dir)
    repo.ensure(config.default_replicas)
    runtime = Runtime(config, repo, tokens.admin)
    children: dict[str, subprocess.Popen[bytes]] = {}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        control_args = ["healops.controlplane", "--home", str(config.home), "--host", config.host,
                        "--port", str(config.control_port), "--otlp-port", str(config.otlp_port)]
        children["control-plane"] = _spawn_child(control_args, "control-plane.log", config)
        runtime.components = {name: p.pid for name, p in children.items()}
        runtime_task = asyncio.create_task(runtime.run(stop))
        supervisor = asyncio.create_task(_keep_running("control-plane", control_args, children, runtime, config, stop))

        def gateway_ready() -> bool:
            return any(r.service == "api-gateway" and r.state == "ready" for r in runtime.replicas)

        await _wait_for(lambda: gateway_ready() or stop.is_set(), 90)
        if config.load_rps > 0 and not stop.is_set():
            children["loadgen"] = _spawn_child(
                ["workloads.loadgen", "--target", config.gateway_url, "--rps", str(config.load_rps),
                 "--stats-file", str(config.run_dir / "loadgen.json")], "loadgen.log", config)
            runtime.components = {name: p.pid for name, p in children.items()}
        if on_ready is not None:
            on_ready(runtime)
        watcher = watch(runtime, stop) if watch is not None else None
        waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
        if watcher is not None:
            waiters.append(asyncio.ensure_future(watcher))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        await runtime_task
        await supervisor
    finally:
        stop.set()
        if "loadgen" in children:
            stop_process(children.pop("loadgen"))
        runtime.shutdown()
        for proc in children.values():
            stop_process(proc)
        with contextlib.suppress(OSError):
            (config.run_dir / "up.pid").unlink()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0
