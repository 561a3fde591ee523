"""Incidents and their timelines in SQLite (WAL), so they survive a restart of the control plane.

One row per incident holds its current document; the timeline is append-only. Writers are the
control plane's detection loop; readers (API, CLI, TUI) may run in other processes: WAL lets them
read while it writes. Alertmanager fingerprints are kept so a re-sent alert is recognised.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from healops.events import Incident, TimelineEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    opened_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_by_state ON incidents(state, opened_at);
CREATE TABLE IF NOT EXISTS timeline (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS timeline_by_incident ON timeline(incident_id, seq);
"""


class IncidentStore:
    """Thread-safe (one connection, one lock): the API's threads and the detection loop share it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, incident: Incident, entries: Sequence[TimelineEntry] = ()) -> None:
        """Write the incident's current document and append ``entries`` to its timeline, atomically."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO incidents(id, state, severity, opened_at, updated_at, doc) VALUES (?,?,?,?,?,?) "
                    "ON CONFLICT(id) DO UPDATE SET state=excluded.state, severity=excluded.severity, "
                    "updated_at=excluded.updated_at, doc=excluded.doc",
                    (incident.id, incident.state, incident.severity, incident.opened_at, incident.updated_at,
                     json.dumps(incident.to_json())))
                self._db.executemany(
                    "INSERT INTO timeline(incident_id, at, kind, detail) VALUES (?,?,?,?)",
                    [(incident.id, e.at, e.kind, json.dumps(e.detail)) for e in entries])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def get(self, incident_id: str) -> Incident | None:
        with self._lock:
            row = self._db.execute("SELECT doc FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return Incident.from_json(json.loads(row[0])) if row else None

    def incidents(self, state: str | None = None, limit: int = 100) -> list[Incident]:
        """Newest first; ``state`` 'active' means open or mitigating."""
        if state == "active":
            where, args = "WHERE state IN ('open', 'mitigating')", []
        elif state:
            where, args = "WHERE state = ?", [state]
        else:
            where, args = "", []
        with self._lock:
            rows = self._db.execute(f"SELECT doc FROM incidents {where} ORDER BY opened_at DESC LIMIT ?",  # noqa: S608
                                    (*args, limit)).fetchall()
        return [Incident.from_json(json.loads(r[0])) for r in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """Every incident kept, counted by (state, severity)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, severity, COUNT(*) FROM incidents GROUP BY state, severity").fetchall()
        return {(state, severity): int(n) for state, severity, n in rows}

    def durations(self) -> list[float]:
        """Opened to resolved, in seconds, of every incident that resolved: read inside SQLite (JSON1)
        so a scrape does not decode every incident document."""
        with self._lock:
            rows = self._db.execute(
                "SELECT json_extract(doc, '$.resolved_at') - opened_at FROM incidents "
                "WHERE json_extract(doc, '$.resolved_at') IS NOT NULL").fetchall()
        return [float(r[0]) for r in rows]

    def detection_lags(self) -> list[float]:
        """Each incident's first signal to its opening, in seconds (incidents with evidence only)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT opened_at - (SELECT MIN(json_extract(e.value, '$.at')) FROM json_each(doc, '$.evidence') e) "
                "FROM incidents WHERE json_array_length(doc, '$.evidence') > 0").fetchall()
        return [float(r[0]) for r in rows if r[0] is not None]

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        with self._lock:
            rows = self._db.execute("SELECT at, kind, detail FROM timeline WHERE incident_id = ? ORDER BY seq",
                                    (incident_id,)).fetchall()
        return [TimelineEntry(at, kind, json.loads(detail)) for at, kind, detail in rows]

    def changes_since(self, seq: int, limit: int = 1000) -> list[tuple[int, str, TimelineEntry]]:
        """Timeline entries after ``seq``, oldest first, as (seq, incident id, entry): for streaming."""
        with self._lock:
            rows = self._db.execute("SELECT seq, incident_id, at, kind, detail FROM timeline WHERE seq > ? "
                                    "ORDER BY seq LIMIT ?", (seq, limit)).fetchall()
        return [(r[0], r[1], TimelineEntry(r[2], r[3], json.loads(r[4]))) for r in rows]

    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM timeline").fetchone()
        return int(row[0])
