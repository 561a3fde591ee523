"""Scheduled game days, run by the control plane: each at its cron times, only when every SLO has
enough error budget left, never two at once (the lock :mod:`chaos.lock` is shared with the CLI).

A run is ``healops gameday run FILE --report DIR`` in a child process (an argument list, nothing
built by a shell), so a run that crashes or hangs cannot take the control plane with it. Schedules
and runs are kept in SQLite, so a restarted control plane keeps its schedule.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from croniter import croniter
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from chaos.gameday_model import DEFAULT_DIR as GAMEDAY_DIR
from chaos.gameday_model import load_gameday
from chaos.lock import GamedayLock
from healops.config import HealopsConfig
from healops.errors import DocumentError

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (name TEXT PRIMARY KEY, file TEXT NOT NULL, cron TEXT NOT NULL,
    min_budget REAL NOT NULL, added_at REAL NOT NULL, next_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, due_at REAL NOT NULL,
    started_at REAL, finished_at REAL, outcome TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL DEFAULT '');
"""


EXPERIMENT_DIR = GAMEDAY_DIR.parent / "experiments"
NAME = r"^[a-z0-9][a-z0-9-]*$"


class Busy(Exception):
    """Another game day holds the lock."""


def library() -> dict[str, Any]:
    """The shipped experiments and game days, as an operator picks from them."""
    experiments = []
    for f in sorted(EXPERIMENT_DIR.glob("*.json")):
        doc = json.loads(f.read_text(encoding="utf-8"))
        tags = [t for t in doc.get("tags", []) if t != "healops"]
        experiments.append({"name": f.stem, "title": doc.get("title", ""), "kind": tags[0] if tags else f.stem,
                            "description": doc.get("description", ""), "file": str(f)})
    gamedays = []
    for f in sorted(GAMEDAY_DIR.glob("*.yaml")):
        spec = load_gameday(f).gameday.spec
        gamedays.append({"name": f.stem, "experiments": len(spec.experiments), "schedule": spec.schedule,
                         "file": str(f)})
    return {"experiments": experiments, "gamedays": gamedays}


def library_gameday(name: str) -> Path:
    file = GAMEDAY_DIR / f"{name}.yaml"
    if not file.is_file():
        shipped = ", ".join(sorted(g.stem for g in GAMEDAY_DIR.glob("*.yaml")))
        raise LookupError(f"no game day {name!r} in the library ({shipped})")
    return file


def single_experiment(experiment: str, target: str, name: str) -> dict[str, Any]:
    """A one-experiment game day, with the expectations and variables the library's game days give
    that experiment (the first that runs it), aimed at ``target``."""
    file = EXPERIMENT_DIR / f"{experiment}.json"
    if not file.is_file():
        raise LookupError(f"no experiment {experiment!r} in the library")
    entry: dict[str, Any] = {"experiment": str(file), "target": target}
    for gd in sorted(GAMEDAY_DIR.glob("*.yaml")):
        loaded = load_gameday(gd)
        for e, path in zip(loaded.gameday.spec.experiments, loaded.experiments, strict=True):
            if path.resolve() == file.resolve():
                known = e.model_dump(by_alias=True, exclude_defaults=True, exclude={"experiment", "target"})
                entry = {**known, **entry}
                break
        else:
            continue
        break
    return {"apiVersion": "healops.dev/v1", "kind": "GameDay",
            "metadata": {"name": name, "description": f"{experiment} against {target}, started by an operator"},
            "spec": {"experiments": [entry]}}


def budget_remaining(slos: list[dict[str, Any]]) -> float:
    """The smallest share of an SLO's error budget left, counted since the control plane started
    (at most one SLO period): 1 - average burn x counted time / period."""
    left = 1.0
    for s in slos:
        total, bad = float(s.get("total_events", 0.0)), float(s.get("bad_events", 0.0))
        period, counted = float(s.get("period_s", 0.0)), float(s.get("counted_s", 0.0))
        if total <= 0 or period <= 0:
            continue
        burn = (bad / total) / (1.0 - float(s["objective"]))
        left = min(left, 1.0 - burn * min(counted, period) / period)
    return max(0.0, left)


def next_after(cron: str, t: float) -> float:
    return float(croniter(cron, datetime.fromtimestamp(t, UTC)).get_next(float))


@dataclass
class Schedule:
    name: str
    file: str
    cron: str
    min_budget: float
    next_at: float

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "schedule": self.cron, "min_budget_remaining": self.min_budget,
                "next_run": datetime.fromtimestamp(self.next_at, UTC).isoformat(timespec="seconds")}


class GamedayScheduler:
    def __init__(self, config: HealopsConfig, slo_status: Any, clock: Any = time.time) -> None:
        self.config = config
        self.slo_status = slo_status  # () -> the detection engine's SLO status rows
        self.clock = clock
        self.db = sqlite3.connect(config.home / "gamedays.db", check_same_thread=False)
        self.db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._child_run: int | None = None

    # -- schedules ---------------------------------------------------------------------------------
    def add(self, file: Path) -> Schedule:
        loaded = load_gameday(file)  # DocumentError names file, line, field
        spec = loaded.gameday.spec
        if spec.schedule is None:
            raise ValueError(f"{file}: spec.schedule: a scheduled game day needs a cron expression")
        sched = Schedule(loaded.name, str(file.resolve()), spec.schedule, spec.min_budget_remaining,
                         next_after(spec.schedule, self.clock()))
        with self._lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO schedules VALUES (?,?,?,?,?,?)",
                            (sched.name, sched.file, sched.cron, sched.min_budget, self.clock(), sched.next_at))
        return sched

    def remove(self, name: str) -> bool:
        with self._lock, self.db:
            return self.db.execute("DELETE FROM schedules WHERE name=?", (name,)).rowcount > 0

    def schedules(self) -> list[Schedule]:
        with self._lock:
            rows = self.db.execute("SELECT name, file, cron, min_budget, next_at FROM schedules ORDER BY name")
            return [Schedule(*r) for r in rows.fetchall()]

    def _runs(self, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Runs as dicts; ``where`` is one of this class's own literal clauses, values go in ``args``."""
        with self._lock:
            cur = self.db.execute("SELECT id, name, due_at, started_at, finished_at, outcome, reason, report "  # noqa: S608
                                  f"FROM runs {where}", args)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._runs("ORDER BY id DESC LIMIT ?", (limit,))

    def _record(self, name: str, due: float, outcome: str, reason: str = "", report: str = "",
                started: float | None = None) -> int:
        with self._lock, self.db:
            cur = self.db.execute("INSERT INTO runs (name, due_at, started_at, outcome, reason, report) "
                                  "VALUES (?,?,?,?,?,?)", (name, due, started, outcome, reason, report))
            return int(cur.lastrowid or 0)

    # -- the loop ----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Finish a run that ended; start (or skip, with the reason) every schedule that is due."""
        self._reap()
        now = self.clock()
        for sched in self.schedules():
            if sched.next_at > now:
                continue
            with self._lock, self.db:
                self.db.execute("UPDATE schedules SET next_at=? WHERE name=?",
                                (next_after(sched.cron, now), sched.name))
            self._start_or_skip(sched, now)

    @property
    def busy(self) -> bool:
        return self._child is not None or GamedayLock(self.config.run_dir).held_elsewhere

    def _start_or_skip(self, sched: Schedule, now: float) -> None:
        if self.busy:
            self._record(sched.name, sched.next_at, "skipped", "another game day is running")
            return
        left = budget_remaining(self.slo_status())
        if left < sched.min_budget:
            self._record(sched.name, sched.next_at, "skipped",
                         f"error budget left {left:.0%} < {sched.min_budget:.0%} required")
            return
        self._launch(sched.name, Path(sched.file), sched.next_at, self._report_dir(sched.name, now))

    def _report_dir(self, name: str, now: float) -> Path:
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        report = self.config.home / "gamedays" / name / stamp
        report.mkdir(parents=True, exist_ok=True)
        return report

    def _launch(self, name: str, file: Path, due: float, report: Path) -> int:
        cmd = [sys.executable, "-m", "healops.cli", "gameday", "run", str(file), "--report", str(report),
               "--url", self.config.control_url]
        env = {**os.environ, "HEALOPS_HOME": str(self.config.home)}
        with (report / "run.log").open("ab") as log:
            self._child = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
        self._child_run = self._record(name, due, "running", report=str(report), started=self.clock())
        return self._child_run

    def run_now(self, gameday: str | None = None, experiment: str | None = None, target: str | None = None) -> int:
        """Start a library game day, or one experiment of the library against ``target``, now (an
        operator's request: no budget gate, but never two at once). Returns the run's id."""
        if self.busy:
            raise Busy("another game day is running")
        now = self.clock()
        if gameday is not None:
            file = library_gameday(gameday)
            loaded = load_gameday(file)  # DocumentError names file, line, field
            return self._launch(loaded.name, file, now, self._report_dir(loaded.name, now))
        if experiment is None or target is None:
            raise ValueError("name a game day, or an experiment and a target service")
        name = f"{experiment}-{target}"
        report = self._report_dir(name, now)
        file = report / "gameday.yaml"
        file.write_text(yaml.safe_dump(single_experiment(experiment, target, name)), encoding="utf-8")
        load_gameday(file)
        return self._launch(name, file, now, report)

    def run_detail(self, run_id: int) -> dict[str, Any] | None:
        """One run with what its report folder holds so far (progress, scorecard)."""
        found = self._runs("WHERE id=?", (run_id,))
        if not found:
            return None
        out = found[0]
        for key in ("progress", "scorecard"):
            try:
                out[key] = json.loads((Path(out["report"]) / f"{key}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                out[key] = None
        return out

    def _reap(self) -> None:
        child = self._child
        if child is None or child.poll() is None:
            return
        outcome = {0: "passed", 1: "failed"}.get(child.returncode, "error")
        with self._lock, self.db:
            self.db.execute("UPDATE runs SET finished_at=?, outcome=?, reason=? WHERE id=?",
                            (self.clock(), outcome, f"exit code {child.returncode}", self._child_run))
        self._child, self._child_run = None, None

    async def run(self, interval_s: float = 5.0) -> None:
        while True:
            await asyncio.to_thread(self.tick)
            await asyncio.sleep(interval_s)

    def close(self) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.terminate()
        self.db.close()


class ScheduleRequest(BaseModel):
    file: str = Field(min_length=1, max_length=4096)


class RunRequest(BaseModel):
    """A library game day, or one library experiment against a service."""

    gameday: str | None = Field(default=None, pattern=NAME, max_length=80)
    experiment: str | None = Field(default=None, pattern=NAME, max_length=80)
    target: str | None = Field(default=None, pattern=NAME, max_length=80)


def gameday_router(scheduler: GamedayScheduler) -> APIRouter:
    router = APIRouter(prefix="/v1/gamedays")

    @router.get("")
    def listing() -> dict[str, Any]:
        return {"schedules": [s.to_json() for s in scheduler.schedules()], "runs": scheduler.runs()}

    @router.post("")
    def schedule(body: ScheduleRequest) -> dict[str, Any]:
        try:
            return scheduler.add(Path(body.file)).to_json()
        except DocumentError as exc:
            raise HTTPException(status_code=400, detail=[str(p) for p in exc.problems]) from exc
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc

    @router.get("/library")
    def shipped() -> dict[str, Any]:
        return library()

    @router.post("/runs")
    def run_now(body: RunRequest) -> dict[str, Any]:
        try:
            run_id = scheduler.run_now(body.gameday, body.experiment, body.target)
        except Busy as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        except LookupError as exc:
            raise HTTPException(status_code=404, detail=str(exc.args[0])) from exc
        except DocumentError as exc:
            raise HTTPException(status_code=400, detail=[str(p) for p in exc.problems]) from exc
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return scheduler.run_detail(run_id) or {"id": run_id}

    @router.get("/runs/{run_id}")
    def run_detail(run_id: int) -> dict[str, Any]:
        run = scheduler.run_detail(run_id)
        if run is None:
            raise HTTPException(status_code=404, detail=f"no game day run {run_id}")
        return run

    @router.delete("/{name}")
    def unschedule(name: str) -> dict[str, Any]:
        if not scheduler.remove(name):
            raise HTTPException(status_code=404, detail=f"no scheduled game day {name!r}")
        return {"removed": name}

    return router
