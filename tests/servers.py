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


def require_binary(name: str, *aliases: str) -> str:
    path = next((p for p in map(shutil.which, (name, *aliases)) if p), None)
    if path is None:
        message = f"{name} is not installed (Debian package; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextmanager
def prometheus(tmp: Path, scrape_targets: list[str], interval_s: int = 1,
               rule_files: list[Path] | None = None) -> Iterator[str]:
    """A real Prometheus scraping ``scrape_targets`` (host:port) every ``interval_s``, evaluating
    ``rule_files`` as often; yields its URL."""
    binary = require_binary("prometheus")
    port = free_port()
    config = tmp / "prometheus.yml"
    rules = [str(p) for p in rule_files or []]
    config.write_text(textwrap.dedent(f"""
        global: {{scrape_interval: {interval_s}s, evaluation_interval: {interval_s}s}}
        rule_files: {rules!r}
        scrape_configs:
          - job_name: healops
            static_configs: [{{targets: {scrape_targets!r}}}]
    """))
    with _serving([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], port, tmp / "prometheus.log") as url:
        yield url


@contextmanager
def _serving(argv: list[str], port: int, log: Path) -> Iterator[str]:
    """Run a server binary until its ``/-/ready`` answers (Prometheus and Alertmanager both have it)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/-/ready"), 30, 0.2, f"{Path(argv[0]).name} to be ready")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def alertmanager(tmp: Path, webhook_url: str, token: str) -> Iterator[str]:
    """A real Alertmanager (clustering off) sending every group to ``webhook_url`` with a bearer
    token, quickly (1 s group interval, 2 s repeat) so a test sees re-sends; yields its URL."""
    binary = require_binary("prometheus-alertmanager", "alertmanager")  # Debian names it so
    port = free_port()
    config = tmp / "alertmanager.yml"
    config.write_text(textwrap.dedent(f"""
        route:
          receiver: healops
          group_by: [alertname, service]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 2s
        receivers:
          - name: healops
            webhook_configs:
              - url: {webhook_url}
                send_resolved: true
                http_config:
                  authorization: {{credentials: {token}}}
    """))
    with _serving([binary, f"--config.file={config}", f"--storage.path={tmp / 'am-data'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
                  port, tmp / "alertmanager.log") as url:
        yield url


def instant(url: str, query: str) -> list[dict[str, object]]:
    resp = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=5)
    resp.raise_for_status()
    result: list[dict[str, object]] = resp.json()["data"]["result"]
    return result
