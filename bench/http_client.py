"""CPU a service-to-service call costs the caller: httpx against aiohttp and healops' traced call.

Why it matters: the platform's services make one such call per hop, nine services share two cores,
and this overhead, not the work the services do, decided whether the gateway met its 50 ms p99.

A minimal ASGI app (uvicorn on uvloop, its own process, 127.0.0.1) answers a small JSON body. This
process makes ``--requests`` sequential calls with each client in turn, ``--rounds`` times, and
measures its own CPU time per call (``time.process_time``), so the server's CPU is not counted.
The baseline is plain httpx in the same process and round. Prints one JSON line.

    python bench/http_client.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from healops import eventloop
from healops.harness import free_port, http_ok, wait_until
from workloads.downstream import Downstream, plain_session

SERVER = """
import sys, uvicorn
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"service":"x","version":"1.1.0"}'})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", loop="uvloop")
"""


def clients(url: str, n: int) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    async def with_httpx() -> None:
        async with httpx.AsyncClient() as c:
            for _ in range(n):
                (await c.get(url)).raise_for_status()

    async def with_aiohttp() -> None:
        async with plain_session() as s:
            for _ in range(n):
                async with s.get(url) as r:
                    await r.read()
                    r.raise_for_status()

    async def with_downstream() -> None:
        # What a replica does: aiohttp plus a client span, batched as the replicas' exporter does.
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
        client = Downstream(tracer_provider=provider)
        await client.open()
        try:
            for _ in range(n):
                if (await client.request("x", "GET", url, timeout_s=5)).status != 200:
                    raise SystemExit("the test server answered an error")
        finally:
            await client.close()
            provider.shutdown()

    return {"httpx": with_httpx, "aiohttp": with_aiohttp, "healops_downstream": with_downstream}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        url = f"http://127.0.0.1:{port}/x"
        wait_until(lambda: http_ok(url), 15, what="the test server")
        runs = clients(url, args.requests)
        cpu_us: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                start = time.process_time()
                eventloop.run(run())
                cpu_us[name].append((time.process_time() - start) / args.requests * 1e6)
    finally:
        server.terminate()
        server.wait(timeout=10)
    median = {name: statistics.median(v) for name, v in cpu_us.items()}
    print(json.dumps({
        "bench": "http_client", "requests": args.requests, "rounds": args.rounds,
        "cpu_us_per_call": {name: round(v, 1) for name, v in median.items()},
        "ratio_to_httpx": {name: round(v / median["httpx"], 3) for name, v in median.items()},
    }))


if __name__ == "__main__":
    main()
