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
