"""Serve a collector on its own: ``python -m collectors.server --port 4318`` (healops up runs it inside
the control plane instead), or in a background thread for tests and benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from collectors.collector import Collector, CollectorSettings, tune_gc_for_ingest
from collectors.receiver import OtlpReceiver, ReceiverSettings
from healops.serving import QuietServer, serve_all


def config(receiver: OtlpReceiver, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(receiver, host=host, port=port, lifespan="on", backlog=4096, log_level="warning",
                          access_log=False, timeout_graceful_shutdown=3)


@dataclass
class ThreadedCollector:
    """A real collector on a loopback port, served from a thread of this process."""

    port: int
    collector: Collector
    receiver: OtlpReceiver
    server: QuietServer
    thread: threading.Thread

    @classmethod
    def start(cls, port: int, collector_settings: CollectorSettings | None = None,
              receiver_settings: ReceiverSettings | None = None) -> ThreadedCollector:
        collector = Collector(collector_settings or CollectorSettings())
        receiver = OtlpReceiver(collector, receiver_settings or ReceiverSettings())
        server = QuietServer(config(receiver, "127.0.0.1", port))
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"collector did not start on port {port}")
            time.sleep(0.02)
        return cls(port, collector, receiver, server, thread)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@contextmanager
def receiver_process(max_queued_spans: int | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A collector in its own process on a free loopback port (as in production, not sharing this
    process's GIL); yields its URL and process once it answers, and stops it on exit."""
    from healops.harness import free_port, http_ok, wait_until

    port = free_port()
    args = [sys.executable, "-m", "collectors.server", "--port", str(port)]
    if max_queued_spans is not None:
        args += ["--max-queued-spans", str(max_queued_spans)]
    proc = subprocess.Popen(args, cwd=Path(__file__).resolve().parents[1])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/healthz"), 30, 0.2, "the receiver")
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(prog="collectors.server", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4318)
    p.add_argument("--max-queued-spans", type=int, default=ReceiverSettings().max_queued_spans)
    args = p.parse_args()
    tune_gc_for_ingest()
    receiver = OtlpReceiver(Collector(), ReceiverSettings(max_queued_spans=args.max_queued_spans))
    asyncio.run(serve_all([config(receiver, args.host, args.port)]))


if __name__ == "__main__":
    main()
