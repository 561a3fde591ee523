"""Alertmanager intake: payload validation and deduplication by fingerprint, then end to end with a
real Alertmanager (Debian package) posting to the real control-plane API on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from collectors.alertmanager import AlertmanagerIntake, parse_webhook
from collectors.collector import Collector
from detectors.openslo import DEFAULT_DIR, load_slos
from healops.config import HealopsConfig
from healops.controlplane.app import create_app
from healops.controlplane.detection import DetectionEngine
from healops.errors import DocumentError
from healops.harness import free_port, http_ok, wait_until
from healops.incident_store import IncidentStore
from tests.servers import alertmanager

TOKEN = "test-token-for-alertmanager"


def _hook(status: str = "firing", fingerprint: str = "abc123") -> dict[str, object]:
    return {"version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "status": status, "receiver": "healops",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "alerts": [{"status": status, "labels": {"alertname": "HighErrorRate", "service": "identity",
                                                     "severity": "critical"},
                        "annotations": {"summary": "5xx above 5 %"}, "startsAt": "2026-11-27T01:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": fingerprint}]}


def test_webhook_becomes_a_signal_once_per_state_change() -> None:
    intake = AlertmanagerIntake()
    hook = parse_webhook(json.dumps(_hook()).encode())
    first = intake.accept(hook, 1.0)
    assert [(s.service, s.severity, s.firing) for s in first] == [("identity", "critical", True)]
    assert intake.accept(hook, 2.0) == [] and intake.duplicates == 1
    resolved = intake.accept(parse_webhook(json.dumps(_hook("resolved")).encode()), 3.0)
    assert [s.firing for s in resolved] == [False] and resolved[0].key == first[0].key


def test_malformed_webhook_names_the_field() -> None:
    bad = _hook()
    bad["version"] = "3"
    del bad["alerts"][0]["fingerprint"]  # type: ignore[index]
    with pytest.raises(DocumentError) as err:
        parse_webhook(json.dumps(bad).encode())
    assert {p.field for p in err.value.problems} == {"version", "alerts.0.fingerprint"}
    with pytest.raises(DocumentError):
        parse_webhook(b"{not json")


@pytest.fixture
def control_plane(tmp_path: Path) -> Iterator[tuple[str, DetectionEngine]]:
    """The control-plane API with a detection engine, served by uvicorn on a loopback port."""
    collector = Collector()
    engine = DetectionEngine(collector, IncidentStore(tmp_path / "incidents.db"), load_slos([DEFAULT_DIR], 120))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(HealopsConfig(home=tmp_path), TOKEN, collector, engine),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: http_ok(f"{url}/v1/health"), 20, 0.1, "the control plane")
    yield url, engine
    server.should_exit = True
    thread.join(10)


def test_api_refuses_without_token_and_rejects_bad_payloads(control_plane: tuple[str, DetectionEngine]) -> None:
    url, _ = control_plane
    assert httpx.post(f"{url}/v1/alertmanager", json=_hook()).status_code == 401
    assert httpx.get(f"{url}/v1/incidents").status_code == 401
    assert httpx.get(f"{url}/v1/incidents/stream").status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = httpx.post(f"{url}/v1/alertmanager", content=b'{"version": "4"}', headers=auth)
    assert resp.status_code == 400 and {"groupKey", "alerts"} <= {p["field"] for p in resp.json()["problems"]}


def test_real_alertmanager_opens_and_clears_one_incident(tmp_path: Path,
                                                         control_plane: tuple[str, DetectionEngine]) -> None:
    url, engine = control_plane
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with alertmanager(tmp_path, f"{url}/v1/alertmanager", TOKEN) as am:
        alert = {"labels": {"alertname": "HighErrorRate", "service": "identity", "severity": "critical"},
                 "annotations": {"summary": "5xx above 5 %"}}
        httpx.post(f"{am}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()

        def active() -> list[dict[str, object]]:
            found: list[dict[str, object]] = httpx.get(f"{url}/v1/incidents?state=active", headers=auth).json()
            return found

        incidents = wait_until(active, 30, 0.2, "an incident from Alertmanager")
        wait_until(lambda: engine.alerts.duplicates >= 2, 30, 0.2, "Alertmanager to re-send the group")
        assert len(active()) == 1 and engine.signals_seen == 1  # re-sends deduplicated by fingerprint
        inc = incidents[0]
        assert inc["severity"] == "critical" and inc["services"] == ["identity"]
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        httpx.post(f"{am}/api/v2/alerts", json=[{**alert, "endsAt": past}], timeout=5).raise_for_status()
        detail = wait_until(lambda: (d := httpx.get(f"{url}/v1/incidents/{inc['id']}", headers=auth).json())
                            ["quiet_since"] and d, 30, 0.2, "the resolved alert to clear the signal")
        kinds = [e["kind"] for e in detail["timeline"]]
        assert kinds[:2] == ["opened", "signal"] and "signal_cleared" in kinds
    time.sleep(0)  # Alertmanager stopped with the context
