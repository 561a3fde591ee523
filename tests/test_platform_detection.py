"""End to end on the real platform under load: a fault opens one incident whose first-ranked service
is the faulty one, the SSE stream announces it, and the incident is still there after the control
plane restarts (SQLite). Real processes and HTTP on loopback; takes about a minute and a half."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from healops.harness import PlatformProcess, wait_until

pytestmark = pytest.mark.slow
WARMUP_S = 50  # every watch needs 30 scored steps before it may fire


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    plat = PlatformProcess(tmp_path_factory.mktemp("detect") / "home", rps=15, replicas=1).start()
    time.sleep(WARMUP_S)
    yield plat
    plat.stop()


def _incidents(plat: PlatformProcess, **params: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{plat.control_url}/v1/incidents", params=params, headers=plat.api_headers, timeout=5)
    resp.raise_for_status()
    found: list[dict[str, Any]] = resp.json()
    return found


def test_error_fault_opens_one_incident_ranked_on_the_faulty_service(loaded: PlatformProcess) -> None:
    assert _incidents(loaded) == [], "no incident before any fault"
    events: list[tuple[str, dict[str, Any]]] = []

    def listen() -> None:
        with httpx.stream("GET", f"{loaded.control_url}/v1/incidents/stream", headers=loaded.api_headers,
                          timeout=httpx.Timeout(5, read=60)) as resp:
            kind = ""
            for line in resp.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
                    if kind == "opened":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.5)
    t0 = time.time()
    resp = httpx.post(f"{loaded.replica_url('healthcare')}/admin/faults", headers=loaded.admin_headers,
                      json={"kind": "error_rate", "rate": 0.5, "ttl_s": 25})
    assert resp.status_code == 201
    opened = wait_until(lambda: _incidents(loaded, state="active"), 20, 0.25, "an incident to open")
    assert len(opened) == 1 and opened[0]["opened_at"] - t0 < 15
    wait_until(lambda: _incidents(loaded, state="active")[0]["ranking"], 10, 0.25, "a ranking")
    time.sleep(3)
    inc = _incidents(loaded, state="active")[0]
    assert inc["ranking"][0]["service"] == "healthcare", inc["ranking"][:3]
    assert {"healthcare"} <= set(inc["services"])
    listener.join(10)
    assert ("opened", inc["id"]) in [(k, e["incident"]) for k, e in events]
    detail = httpx.get(f"{loaded.control_url}/v1/incidents/{inc['id']}", headers=loaded.api_headers).json()
    assert detail["timeline"][0]["kind"] == "opened" and detail["evidence"]


def test_incidents_survive_a_control_plane_restart(loaded: PlatformProcess, tmp_path: Path) -> None:
    before = _incidents(loaded)
    assert before, "the previous test left an incident"
    loaded.stop()
    again = PlatformProcess(loaded.home, rps=0, replicas=1).start()
    try:
        after = {i["id"]: i for i in _incidents(again)}
        assert set(after) >= {i["id"] for i in before}
        timeline = httpx.get(f"{again.control_url}/v1/incidents/{before[0]['id']}", headers=again.api_headers)
        assert timeline.json()["timeline"][0]["kind"] == "opened"
    finally:
        again.stop()
    loaded.proc = None  # already stopped
