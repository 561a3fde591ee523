"""Every remediation decision in SQLite: what matched, what was skipped and why, what was intended,
applied, verified, reverted, escalated; the remediations in progress; approvals; the kill switch.

The order of writes is what makes a crash safe: an action's intent (with its id) is committed here
before the executor is called, and the executor writes the same id into the change. After a crash
an intent without an outcome is settled by asking the executor (:meth:`Executor.find`): applied
once, or not at all, never twice. Readers (API, CLI, TUI) may use other processes (WAL).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    incident_id TEXT NOT NULL,
    runbook TEXT NOT NULL,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_incident ON decisions(incident_id, seq);
CREATE TABLE IF NOT EXISTS remediations (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    runbook TEXT NOT NULL,
    service TEXT NOT NULL,
    step INTEGER NOT NULL,
    state TEXT NOT NULL,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    deadline REAL,
    ok_since REAL,
    action_id TEXT
);
CREATE INDEX IF NOT EXISTS remediations_by_state ON remediations(state);
CREATE INDEX IF NOT EXISTS remediations_by_incident ON remediations(incident_id, started_at);
CREATE TABLE IF NOT EXISTS actions (
    action_id TEXT PRIMARY KEY,
    remediation_id TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    runbook TEXT NOT NULL,
    step TEXT NOT NULL,
    action TEXT NOT NULL,
    args TEXT NOT NULL,
    service TEXT NOT NULL,
    state TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    created_at REAL NOT NULL,
    applied_at REAL,
    ref TEXT,
    summary TEXT NOT NULL DEFAULT '',
    revertible INTEGER NOT NULL DEFAULT 0,
    reverts TEXT,
    before TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS actions_by_service ON actions(service, applied_at);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

RemediationState = Literal["pending", "awaiting_approval", "verifying", "verified", "escalated", "rejected",
                           "stopped"]
ActionState = Literal["intended", "applied", "aborted", "refused", "error"]
ACTIVE_STATES = ("pending", "awaiting_approval", "verifying")
# an action that changed the platform (not a dry run): what rate limits, cooldowns and back-off count
REAL_CHANGE = "state = 'applied' AND dry_run = 0"


@dataclass
class Remediation:
    """One runbook working one incident's target, step by step."""

    id: str
    incident_id: str
    runbook: str
    service: str
    step: int
    state: RemediationState
    started_at: float
    updated_at: float
    deadline: float | None = None
    ok_since: float | None = None  # verification conditions true since
    action_id: str | None = None  # the current step's action

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ActionRecord:
    action_id: str
    remediation_id: str
    incident_id: str
    runbook: str
    step: str
    action: str
    args: dict[str, Any]
    service: str
    state: ActionState
    dry_run: bool
    created_at: float
    applied_at: float | None = None
    ref: str | None = None
    summary: str = ""
    revertible: bool = False
    reverts: str | None = None  # the action id this one reverts
    before: dict[str, Any] = field(default_factory=dict)  # what an API executor restores on revert

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """One connection and one lock, shared by the engine (event loop and its worker thread) and the API."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.clock = path, clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an intent must be on disk before the action runs
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- decisions ----------------------------------------------------------------------------------
    def decide(self, incident_id: str, runbook: str, service: str, kind: str, reason: str,
               **detail: Any) -> None:
        self._exec("INSERT INTO decisions(at, incident_id, runbook, service, kind, reason, detail) "
                   "VALUES (?,?,?,?,?,?,?)",
                   (self.clock(), incident_id, runbook, service, kind, reason, json.dumps(detail, default=str)))

    def decisions(self, incident_id: str | None = None, since_seq: int = 0, limit: int = 200) -> list[dict[str, Any]]:
        where, args = ("WHERE seq > ? AND incident_id = ?", (since_seq, incident_id)) if incident_id \
            else ("WHERE seq > ?", (since_seq,))
        rows = self._exec(f"SELECT seq, at, incident_id, runbook, service, kind, reason, detail FROM decisions "  # noqa: S608
                          f"{where} ORDER BY seq DESC LIMIT ?", (*args, limit))
        return [{"seq": r[0], "at": r[1], "incident_id": r[2], "runbook": r[3], "service": r[4], "kind": r[5],
                 "reason": r[6], "detail": json.loads(r[7])} for r in reversed(rows)]

    # -- remediations -------------------------------------------------------------------------------
    def save_remediation(self, rem: Remediation) -> None:
        rem.updated_at = self.clock()
        self._exec("INSERT INTO remediations(id, incident_id, runbook, service, step, state, started_at, updated_at, "
                   "deadline, ok_since, action_id) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                   "step=excluded.step, state=excluded.state, updated_at=excluded.updated_at, "
                   "deadline=excluded.deadline, ok_since=excluded.ok_since, action_id=excluded.action_id",
                   (rem.id, rem.incident_id, rem.runbook, rem.service, rem.step, rem.state, rem.started_at,
                    rem.updated_at, rem.deadline, rem.ok_since, rem.action_id))

    def remediations(self, active_only: bool = False, limit: int = 200,
                     incident_id: str | None = None) -> list[Remediation]:
        """Newest first; only those in progress, or only one incident's, when asked."""
        clauses, args = [f"state IN {ACTIVE_STATES}"] if active_only else [], []
        if incident_id is not None:
            clauses.append("incident_id = ?")
            args.append(incident_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._exec(f"SELECT id, incident_id, runbook, service, step, state, started_at, updated_at, deadline, "  # noqa: S608
                          f"ok_since, action_id FROM remediations {where} ORDER BY started_at DESC LIMIT ?",
                          (*args, limit))
        return [Remediation(*r) for r in rows]

    def started_since(self, runbook: str, service: str, since: float) -> int:
        """Remediations of ``runbook`` on ``service`` started since ``since`` (loop detection)."""
        return int(self._exec("SELECT COUNT(*) FROM remediations WHERE runbook = ? AND service = ? AND started_at >= ?",
                              (runbook, service, since))[0][0])

    # -- actions ------------------------------------------------------------------------------------
    def intend(self, rec: ActionRecord) -> None:
        self._exec("INSERT INTO actions(action_id, remediation_id, incident_id, runbook, step, action, args, service, "
                   "state, dry_run, created_at, summary, reverts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (rec.action_id, rec.remediation_id, rec.incident_id, rec.runbook, rec.step, rec.action,
                    json.dumps(rec.args), rec.service, "intended", int(rec.dry_run), rec.created_at, rec.summary,
                    rec.reverts))

    def settle(self, action_id: str, state: ActionState, summary: str = "", ref: str | None = None,
               revertible: bool = False, before: dict[str, Any] | None = None) -> None:
        applied_at = self.clock() if state == "applied" else None
        self._exec("UPDATE actions SET state = ?, summary = ?, ref = ?, revertible = ?, applied_at = ?, before = ? "
                   "WHERE action_id = ?",
                   (state, summary, ref, int(revertible), applied_at, json.dumps(before or {}), action_id))

    _ACTION_COLUMNS = ("action_id, remediation_id, incident_id, runbook, step, action, args, service, state, "
                       "dry_run, created_at, applied_at, ref, summary, revertible, reverts, before")

    @staticmethod
    def _action(r: tuple[Any, ...]) -> ActionRecord:
        return ActionRecord(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8], bool(r[9]), r[10],
                            r[11], r[12], r[13], bool(r[14]), r[15], json.loads(r[16]))

    def actions(self, state: ActionState | None = None, limit: int = 200,
                incident_id: str | None = None) -> list[ActionRecord]:
        """Newest first; only in ``state``, or only one incident's, when asked."""
        clauses: list[str] = []
        args: list[str] = []
        if state:
            clauses.append("state = ?")
            args.append(state)
        if incident_id is not None:
            clauses.append("incident_id = ?")
            args.append(incident_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._exec(f"SELECT {self._ACTION_COLUMNS} FROM actions {where} "  # noqa: S608
                          f"ORDER BY created_at DESC LIMIT ?", (*args, limit))
        return [self._action(r) for r in rows]

    def action(self, action_id: str) -> ActionRecord | None:
        rows = self._exec(f"SELECT {self._ACTION_COLUMNS} FROM actions WHERE action_id = ?", (action_id,))  # noqa: S608
        return self._action(rows[0]) if rows else None

    def reverted(self, action_id: str) -> bool:
        """Whether a revert of ``action_id`` was applied (so a retried failure path does not revert twice)."""
        return bool(self._exec("SELECT 1 FROM actions WHERE reverts = ? AND state = 'applied'", (action_id,)))

    def action_counts(self) -> dict[tuple[str, str, str], int]:
        """Every action kept, counted by (runbook, action, state)."""
        rows = self._exec("SELECT runbook, action, state, COUNT(*) FROM actions GROUP BY runbook, action, state")
        return {(r[0], r[1], r[2]): int(r[3]) for r in rows}

    def remediation_counts(self) -> dict[tuple[str, str], int]:
        """Every remediation kept, counted by (runbook, state)."""
        rows = self._exec("SELECT runbook, state, COUNT(*) FROM remediations GROUP BY runbook, state")
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def applied_since(self, since: float, service: str | None = None) -> int:
        """Real (not dry-run) changes applied since ``since``, for one service or all: rate limits."""
        sql = f"SELECT COUNT(*) FROM actions WHERE {REAL_CHANGE} AND applied_at >= ?"  # noqa: S608
        args: tuple[Any, ...] = (since,)
        if service is not None:
            sql, args = sql + " AND service = ?", (since, service)
        return int(self._exec(sql, args)[0][0])

    def changed_by_since(self, runbook: str, service: str, since: float) -> int:
        """Remediations of ``runbook`` on ``service`` that applied a real change since ``since`` (one
        however many steps it took): a back-off doubles per change made, not per attempt that was
        held, denied or dry-run."""
        return int(self._exec(f"SELECT COUNT(DISTINCT remediation_id) FROM actions WHERE {REAL_CHANGE} "  # noqa: S608
                              "AND runbook = ? AND service = ? AND applied_at >= ?", (runbook, service, since))[0][0])

    def last_applied(self, service: str, runbook: str | None = None) -> float | None:
        sql = f"SELECT MAX(applied_at) FROM actions WHERE {REAL_CHANGE} AND service = ?"  # noqa: S608
        args: tuple[Any, ...] = (service,)
        if runbook is not None:
            sql, args = sql + " AND runbook = ?", (service, runbook)
        value = self._exec(sql, args)[0][0]
        return float(value) if value is not None else None

    # -- switches -----------------------------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        rows = self._exec("SELECT value FROM settings WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self._exec("INSERT INTO settings(key, value) VALUES (?, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
