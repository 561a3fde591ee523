"""``healops up`` leaves nothing behind: not on SIGTERM, and not even when it is SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from healops.harness import PlatformProcess, ephemeral_low, free_port, wait_until


def alive(pids: set[int]) -> set[int]:
    return {p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE}


def test_sigterm_stops_everything_and_status_reports_it_first(tmp_path: Path) -> None:
    plat = PlatformProcess(tmp_path, rps=5, replicas=1).start()
    try:
        wait_until(lambda: "loadgen" in plat.snapshot().get("components", {}), 10, what="load generator")
        env = {**os.environ, "HEALOPS_HOME": str(tmp_path), "HEALOPS_CONTROL_PORT": str(plat.control_port)}
        out = subprocess.run([sys.executable, "-m", "healops.cli", "status", "--json"], env=env,
                             capture_output=True, text=True, timeout=30, check=True).stdout
        status = json.loads(out)
        assert len(status["services"]) == 9
        for svc in status["services"].values():
            assert svc["desired_replicas"] == 1 and svc["live_replicas"] == 1 and svc["health"] == "healthy"
        table = subprocess.run([sys.executable, "-m", "healops.cli", "status"], env=env,
                               capture_output=True, text=True, timeout=30, check=True).stdout
        assert "api-gateway" in table and "healthy" in table
        pids = plat.pids()
        assert len(pids) == 11, "9 replicas, the control plane and the load generator"
        assert alive(pids) == pids
    finally:
        code = plat.stop(signal.SIGTERM)
    assert code == 0
    assert alive(pids) == set(), "orphans after SIGTERM"


def test_children_exit_even_if_the_supervisor_is_sigkilled(tmp_path: Path) -> None:
    plat = PlatformProcess(tmp_path, rps=0, replicas=1).start()
    pids = plat.pids()
    plat.stop(signal.SIGKILL)
    wait_until(lambda: not alive(pids), 10, what="children to notice their parent died")


def test_status_without_a_token_is_refused(platform: PlatformProcess) -> None:
    assert httpx.get(f"{platform.control_url}/v1/status").status_code == 401
    assert httpx.get(f"{platform.control_url}/v1/status", headers={"Authorization": "Bearer nope"}
                     ).status_code == 401
    assert httpx.get(f"{platform.control_url}/v1/health").status_code == 200
    assert httpx.get(f"{platform.control_url}/v1/status", headers=platform.api_headers).status_code == 200


def test_free_ports_are_below_the_ephemeral_range_distinct_and_bindable() -> None:
    # a port from bind(0) is ephemeral: an outgoing connection of the platform being started could
    # take it before the server binds it (CI: the control plane's port was held; by what, not recorded)
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(p < ephemeral_low() for p in ports)
    for port in ports[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_start_that_times_out_leaves_no_process_behind(tmp_path: Path) -> None:
    plat = PlatformProcess(tmp_path, rps=0, replicas=1)
    with pytest.raises(TimeoutError):
        plat.start(ready_timeout_s=0.5)  # services cannot all be ready this soon
    assert plat.proc is not None and plat.proc.poll() is not None
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
