"""The platform under its standard load: CPU per request and how often a service misses 50 ms.

Why: every latency SLO of the platform is p99 < 50 ms, so a service may answer at most 1 % of its
requests slower than that before its SLOs burn by themselves. If the platform cannot do that on this
machine with nothing injected, every fault leaves latency pages behind it and every figure of the
detection, recovery and game-day benchmarks inherits the noise.

Two runs of ``healops up --headless`` (real processes, two replicas per service), one after the
other in this command: the baseline with no load, then with the load generator at ``--rps``. Each
settles, then for ``--window`` seconds this script samples the CPU of every process of the platform
(supervisor, control plane, replicas, load generator) and diffs the collector's span-metrics
histogram (``/metrics``) to get each service's share of server spans slower than 50 ms in the window.
Prints one JSON line last.

    python bench/platform_load.py [--rps 20] [--window 60] [--settle 30]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from healops.harness import PlatformProcess

SLO_MS = "50.0"  # a bucket bound of traces_span_metrics_duration_milliseconds (collectors/names.py)
SERVER = 'span_kind="SPAN_KIND_SERVER"'


def server_histogram(collector_url: str) -> tuple[dict[str, float], dict[str, float]]:
    """(spans at or under 50 ms, all spans) per service, cumulative, from the Prometheus exposition."""
    fast: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for line in httpx.get(f"{collector_url}/metrics", timeout=10).text.splitlines():
        if not line.startswith("traces_span_metrics_duration_milliseconds_") or SERVER not in line:
            continue
        found = re.search(r'service_name="([^"]+)"', line)
        if found is None:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if "_bucket{" in line and f'le="{SLO_MS}"' in line:
            fast[found.group(1)] += value
        elif "_count{" in line:
            total[found.group(1)] += value
    return fast, total


ROLES = {"workloads.serve": "replicas", "healops.controlplane": "control_plane",
         "workloads.loadgen": "load_generator"}  # module run (-m) -> role; anything else: the supervisor


def role(proc: psutil.Process) -> str:
    return next((r for module, r in ROLES.items() if module in proc.cmdline()), "supervisor")


def measure(rps: float, window_s: float, settle_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        plat = PlatformProcess(Path(tmp) / "home", rps=rps, replicas=2)
        plat.start()
        try:
            time.sleep(settle_s)
            assert plat.proc is not None
            root = psutil.Process(plat.proc.pid)
            procs = [root, *root.children(recursive=True)]
            start_cpu = {p.pid: sum(p.cpu_times()[:2]) for p in procs}
            fast0, total0 = server_histogram(plat.collector_url)
            t0 = time.monotonic()
            time.sleep(window_s)
            elapsed = time.monotonic() - t0
            fast1, total1 = server_histogram(plat.collector_url)
            cores: dict[str, float] = defaultdict(float)
            for p in procs:
                if p.is_running():
                    cores[role(p)] += (sum(p.cpu_times()[:2]) - start_cpu[p.pid]) / elapsed
        finally:
            plat.stop()
    served = {s: total1[s] - total0.get(s, 0.0) for s in total1}
    slow = {s: round(100 * (1 - (fast1.get(s, 0.0) - fast0.get(s, 0.0)) / served[s]), 2)
            for s in sorted(served) if served[s]}
    return {"cpu_cores": round(sum(cores.values()), 3),
            "cpu_cores_by_role": {k: round(v, 3) for k, v in sorted(cores.items())},
            "server_spans": {s: int(n) for s, n in sorted(served.items())},
            "pct_server_spans_over_50ms": slow}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rps", type=float, default=20.0)
    p.add_argument("--window", type=float, default=60.0)
    p.add_argument("--settle", type=float, default=30.0)
    args = p.parse_args()
    idle = measure(0.0, args.window, args.settle)
    loaded = measure(args.rps, args.window, args.settle)
    extra = loaded["cpu_cores"] - idle["cpu_cores"]
    worst = max(loaded["pct_server_spans_over_50ms"].items(), key=lambda kv: kv[1], default=("", 0.0))
    print(json.dumps({
        "bench": "platform_load", "rps": args.rps, "window_s": args.window, "replicas_per_service": 2,
        "baseline_idle": idle, "loaded": loaded,
        "cpu_ms_per_request": round(extra / args.rps * 1000, 2) if args.rps else None,
        "cpu_ratio_loaded_to_idle": round(loaded["cpu_cores"] / idle["cpu_cores"], 2),
        "worst_service": worst[0], "worst_pct_over_50ms": worst[1],
        "services_over_1pct": sorted(s for s, v in loaded["pct_server_spans_over_50ms"].items() if v > 1.0),
    }))


if __name__ == "__main__":
    main()
