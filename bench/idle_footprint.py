"""Idle footprint of the whole platform at 1 replica per service, no load.

Starts ``healops up --headless`` (real processes), lets it settle, then samples the resident memory
and CPU of every process it runs for ``--window`` seconds. The baseline, measured in the same run, is
a bare uvicorn process serving a one-route app: the ratio says what the instrumentation, the runtime
and the platform's own work cost over the bare minimum of a Python HTTP service.

Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from healops.harness import PlatformProcess, free_port, http_ok, wait_until

BARE_APP = textwrap.dedent("""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    async def ok(request):
        return JSONResponse({"ok": True})
    app = Starlette(routes=[Route("/healthz", ok)])
    uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning")
""")


def sample(pids: set[int], window_s: float) -> tuple[float, dict[int, float]]:
    """Return (total RSS in MiB at the end, CPU cores used per pid on average over the window).

    CPU includes finished children (the supervisor's ``git`` calls count against it)."""
    procs = [psutil.Process(p) for p in pids if psutil.pid_exists(p)]

    def cpu(p: psutil.Process) -> float:
        t = p.cpu_times()
        return t.user + t.system + t.children_user + t.children_system

    start = {p.pid: cpu(p) for p in procs}
    t0 = time.monotonic()
    time.sleep(window_s)
    elapsed = time.monotonic() - t0
    cores = {p.pid: (cpu(p) - start[p.pid]) / elapsed for p in procs if p.is_running()}
    rss = sum(p.memory_info().rss for p in procs if p.is_running())
    return rss / 2**20, cores


def bare_baseline(window_s: float) -> tuple[float, float]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port)])
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 30, what="bare uvicorn")
        rss, cores = sample({proc.pid}, window_s)
        return rss, sum(cores.values())
    finally:
        proc.terminate()
        proc.wait(10)



def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--window", type=float, default=30.0, help="seconds to sample")
    p.add_argument("--settle", type=float, default=10.0, help="seconds to wait after ready")
    args = p.parse_args()
    base_rss, base_cpu = bare_baseline(min(args.window, 10.0))
    with tempfile.TemporaryDirectory() as tmp:
        plat = PlatformProcess(Path(tmp), rps=0, replicas=1)
        t0 = time.monotonic()
        plat.start()
        startup_s = time.monotonic() - t0
        try:
            time.sleep(args.settle)
            assert plat.proc is not None
            pids = plat.pids() | {plat.proc.pid}
            replicas = sum(len(s["replicas"]) for s in plat.snapshot()["services"].values())
            rss_mb, per_pid = sample(pids, args.window)
            supervisor = per_pid.get(plat.proc.pid, 0.0)
            cp = per_pid.get(int(plat.snapshot()["components"]["control-plane"]), 0.0)
            cores = sum(per_pid.values())
        finally:
            plat.stop()
    ncpu = psutil.cpu_count() or 1
    print(json.dumps({
        "bench": "idle_footprint", "replicas": replicas, "processes": len(pids),
        "startup_s": round(startup_s, 1), "window_s": args.window,
        "rss_total_mb": round(rss_mb, 1), "rss_per_process_mb": round(rss_mb / len(pids), 1),
        "cpu_cores": round(cores, 4), "cpu_share_of_machine": round(cores / ncpu, 4),
        "cpu_cores_supervisor": round(supervisor, 4), "cpu_cores_control_plane": round(cp, 4),
        "cpu_cores_per_replica": round((cores - supervisor - cp) / max(1, replicas), 4),
        "baseline_bare_uvicorn_rss_mb": round(base_rss, 1), "baseline_bare_uvicorn_cpu_cores": round(base_cpu, 4),
        "rss_per_process_ratio_to_bare_uvicorn": round(rss_mb / len(pids) / base_rss, 2),
        "machine_cpus": ncpu,
    }))


if __name__ == "__main__":
    main()
