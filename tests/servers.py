"""Real servers for tests (Debian packages), started on loopback ports.

Outside CI a missing binary skips the test that needs it; with ``CI=true`` it fails the run, so CI
can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from healops.harness import free_port, http_ok, wait_until


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextmanager
def prometheus(tmp: Path, scrape_targets: list[str], interval_s: int = 1) -> Iterator[str]:
    """A real Prometheus scraping ``scrape_targets`` (host:port) every ``interval_s``; yields its URL."""
    binary = require_binary("prometheus")
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text(textwrap.dedent(f"""
        global: {{scrape_interval: {interval_s}s, evaluation_interval: {interval_s}s}}
        scrape_configs:
          - job_name: healops
            static_configs: [{{targets: {scrape_targets!r}}}]
    """))
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=subprocess.DEVNULL, stderr=(tmp / "prometheus.log").open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/-/ready"), 30, 0.2, "Prometheus to be ready")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)



def instant(url: str, query: str) -> list[dict[str, object]]:
    resp = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=5)
    resp.raise_for_status()
    result: list[dict[str, object]] = resp.json()["data"]["result"]
    return result
