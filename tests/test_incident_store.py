"""SQLite incident store: a real database file in WAL mode that a second connection (a restarted
control plane) reads back whole, timeline included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from healops.events import Incident, RankedService, Signal, TimelineEntry
from healops.incident_store import IncidentStore


def _incident(i: str, state: str = "open", at: float = 100.0) -> Incident:
    s = Signal("p99{a}", "anomaly", "a", at, True, "warning", "red.latency_p99_ms", 250.0, 30.0, 0.99, "slow")
    return Incident(i, state, "warning", at, at, "a: slow", services=["a"], active={s.key: s},  # type: ignore[arg-type]
                    evidence={s.key: s}, ranking=[RankedService("a", 1.2, "own latency")])


def test_round_trip_survives_reopening(tmp_path: Path) -> None:
    db = tmp_path / "incidents.db"
    store = IncidentStore(db)
    inc = _incident("inc-1")
    store.save(inc, [TimelineEntry(100.0, "opened", {"by": "p99{a}"})])
    inc.state = "resolved"
    store.save(inc, [TimelineEntry(130.0, "state", {"state": "resolved"})])
    store.save(_incident("inc-2", at=200.0))
    store.close()
    again = IncidentStore(db)
    assert [i.id for i in again.incidents()] == ["inc-2", "inc-1"]
    assert [i.id for i in again.incidents(state="active")] == ["inc-2"]
    got = again.get("inc-1")
    assert got is not None and got.to_json() == inc.to_json()
    assert [e.kind for e in again.timeline("inc-1")] == ["opened", "state"]
    assert [seq for seq, _, _ in again.changes_since(1)] == [2]
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_loop_metrics_count_every_incident_kept_without_decoding_documents(tmp_path: Path) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from healops.controlplane.loop_metrics import LoopExposition

    store = IncidentStore(tmp_path / "incidents.db")
    expected_durations, expected_lags = [], []
    for n in range(30):  # more than any per-scrape window would matter for; each figure is exact
        opened = 1000.0 + 100 * n
        inc = _incident(f"inc-{n}", at=opened - (n % 7))  # its signal came n % 7 s before it opened
        inc.opened_at = opened
        expected_lags.append(float(n % 7))
        if n % 3:
            inc.state, inc.resolved_at = "resolved", opened + 10 * n
            expected_durations.append(10.0 * n)
        if n % 5 == 0:
            inc.severity = "critical"
        store.save(inc)
    assert sorted(store.durations()) == sorted(expected_durations)
    assert sorted(store.detection_lags()) == sorted(expected_lags)
    assert store.counts() == {("open", "critical"): 2, ("open", "warning"): 8,
                              ("resolved", "critical"): 4, ("resolved", "warning"): 16}
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LoopExposition(store, None))
    text = generate_latest(registry).decode()
    assert 'healops_incidents_active{severity="critical"} 2.0' in text
    assert 'healops_incidents_total{state="resolved"} 20.0' in text
    assert f"healops_incident_duration_seconds_count {len(expected_durations)}.0" in text
    assert 'healops_incident_duration_seconds_bucket{le="60.0"} 4.0' in text  # 10, 20, 40, 50 s
    assert f"healops_incident_detection_lag_seconds_sum {sum(expected_lags)}" in text
