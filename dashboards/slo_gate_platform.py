"""The SLO gate on a live platform: watch the control plane's own SLO evaluator (the burn-rate rules
that page healops) for a window, optionally while a Chaos Toolkit experiment runs, and diff its
counters. :func:`run_platform_check` also brings the platform up and down around the window.

Events in the window are the difference of the evaluator's running counts at its start and end; a
rule fired if it was firing when the window opened or started firing in it (its ``fired`` counter,
so a burst shorter than the poll interval is not missed).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chaos.control import ChaosSetupError, ControlPlane
from dashboards.slo_gate import FiredRule, GateResult, Judging, SloWindow, judge
from healops.config import load_or_create_tokens
from healops.errors import HealopsError
from healops.harness import PlatformProcess, wait_until


def _slos(cp: ControlPlane) -> list[dict[str, Any]]:
    slos: list[dict[str, Any]] = cp.detection()["slos"]
    return slos


def counting(slos: list[dict[str, Any]]) -> bool:
    """Every SLO counts requests (its service is past the start-up grace)."""
    return bool(slos) and all(s["counted_s"] > 0 for s in slos)


@dataclass
class _Watch:
    """Per rule, whether it burned in the window and the highest burn seen while it did."""

    first: dict[str, dict[str, Any]]
    peak: dict[tuple[str, str], float] = field(default_factory=dict)

    def see(self, slos: list[dict[str, Any]]) -> None:
        for s in slos:
            for r in s["rules"]:
                if r["firing"] and r["burn"]:
                    key = (s["slo"], r["rule"])
                    self.peak[key] = max(self.peak.get(key, 0.0), min(r["burn"]))

    def windows(self, last: list[dict[str, Any]]) -> list[SloWindow]:
        out = []
        for s in last:
            before = self.first.get(s["slo"])
            if before is None or s["counted_s"] < before["counted_s"]:
                raise HealopsError(f"the control plane restarted during the window (SLO {s['slo']} counts "
                                   "from zero again): the window cannot be judged")
            fired_before = {r["rule"]: r for r in before["rules"]}
            fired = []
            for r in s["rules"]:
                prior = fired_before.get(r["rule"], {})
                if prior.get("firing") or r.get("fired", 0) > prior.get("fired", 0):
                    fired.append(FiredRule(r["rule"], r["severity"], float(r["threshold"]),
                                           self.peak.get((s["slo"], r["rule"]))))
            total = float(s["total_events"]) - float(before["total_events"])
            bad = float(s["bad_events"]) - float(before["bad_events"])
            out.append(SloWindow(s["slo"], s["service"], float(s["objective"]), total, min(bad, total),
                                 tuple(fired)))
        return out


def watch(cp: ControlPlane, duration_s: float, poll_s: float = 1.0,
          on_start: Callable[[], None] | None = None) -> tuple[list[SloWindow], float, float]:
    """Watch the SLOs for ``duration_s`` seconds; return the windows and the window's bounds."""
    first = _slos(cp)
    started = time.time()
    seen = _Watch({s["slo"]: s for s in first})
    seen.see(first)
    if on_start is not None:
        on_start()
    while time.time() < started + duration_s:
        time.sleep(min(poll_s, max(0.0, started + duration_s - time.time())))
        seen.see(_slos(cp))
    last = _slos(cp)
    seen.see(last)
    return seen.windows(last), started, time.time()


@dataclass
class Experiment:
    """A Chaos Toolkit experiment run through the stock ``chaos run`` while the window is open."""

    file: Path
    target: str
    out_dir: Path
    timeout_s: float = 600.0
    outcome: Any = None
    error: str | None = None
    _thread: threading.Thread | None = None

    def start(self, cp: ControlPlane, home: Path | None) -> None:
        from chaos.gameday import run_experiment
        from chaos.gameday_model import Entry

        entry = Entry.model_validate({"experiment": str(self.file), "target": self.target,
                                      "timeoutSeconds": self.timeout_s})
        env = {**os.environ, "HEALOPS_URL": cp.url, "HEALOPS_TOKEN": cp.token, "HEALOPS_ADMIN_TOKEN": cp.admin_token}
        if home is not None:
            env["HEALOPS_HOME"] = str(home)

        def run() -> None:
            try:
                self.outcome = run_experiment(entry, self.file, 1, self.out_dir, env)
            except Exception as exc:  # the gate reports it; it must still stop the platform
                self.error = f"chaos run failed to start: {exc}"

        self._thread = threading.Thread(target=run, name="slo-gate-experiment", daemon=True)
        self._thread.start()

    def finish(self, cp: ControlPlane, home: Path | None) -> list[str]:
        """Wait for the experiment (its rollbacks clear the fault), restore the platform anyway,
        and say what happened. An experiment that never injected is an error: its gate proves nothing."""
        from chaos.actions import restore

        if self._thread is not None:
            self._thread.join(self.timeout_s + 30)
        conf = {"healops_url": cp.url, "healops_token": cp.token, "healops_admin_token": cp.admin_token}
        if home is not None:
            conf["healops_home"] = str(home)
        try:
            restore(configuration=conf)
        except (ChaosSetupError, OSError, HealopsError) as exc:
            self.error = self.error or f"restoring the platform after the experiment failed: {exc}"
        if self.error is None and self.outcome is None:
            self.error = f"the experiment {self.file.name} did not finish within {self.timeout_s:g}s"
        if self.error is None and not _injected(self.outcome.journal):
            self.error = (f"the experiment {self.file.name} did not run its method (steady state not met "
                          f"before it?); see {self.outcome.journal}")
        if self.outcome is None:
            return []
        return [f"experiment {self.file.name} on {self.target}: {self.outcome.status}"
                + (", steady state deviated" if self.outcome.deviated else "") + f"; journal {self.outcome.journal}"]


def _injected(journal_path: str) -> bool:
    import json

    try:
        journal = json.loads(Path(journal_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(run.get("activity", {}).get("type") == "action" and run.get("status") == "succeeded"
               for run in journal.get("run", []))


def check_running(cp: ControlPlane, duration_s: float, warmup_timeout_s: float, source: str,
                  experiment: Experiment | None = None, home: Path | None = None,
                  judging: Judging | None = None) -> GateResult:
    """Judge a window on a platform that is already up, once its SLOs count (or ``warmup_timeout_s``
    passed: an SLO without traffic is then judged as such, "no data")."""
    notes: list[str] = []
    try:
        wait_until(lambda: counting(_slos(cp)), warmup_timeout_s, 1.0, "every SLO to start counting")
    except TimeoutError:
        idle = [s["slo"] for s in _slos(cp) if s["counted_s"] <= 0]
        notes.append(f"{len(idle)} SLO(s) not counting yet after {warmup_timeout_s:g}s (no traffic since the "
                     f"control plane started?): {', '.join(idle[:5])}{' ...' if len(idle) > 5 else ''}")
    if experiment is not None and experiment.target not in cp.services():
        now = time.time()
        return GateResult(source, now, now, error=f"no service {experiment.target!r} to run {experiment.file.name} "
                          f"against (services: {', '.join(sorted(cp.services()))}); nothing was injected")
    on_start = (lambda: experiment.start(cp, home)) if experiment is not None else None
    error: str | None = None
    windows: list[SloWindow] = []
    started = ended = time.time()
    try:
        windows, started, ended = watch(cp, duration_s, on_start=on_start)
    except (HealopsError, ChaosSetupError, httpx.HTTPError) as exc:
        error = str(exc)
    finally:  # even on Ctrl-C: the experiment's fault is cleared before the gate says anything
        notes += experiment.finish(cp, home) if experiment is not None else []
    error = error or (experiment.error if experiment is not None else None)
    return GateResult(source, started, ended, [judge(w, judging or Judging()) for w in windows],
                      notes, error)


@dataclass(frozen=True)
class PlatformRun:
    """What the gate brings up: the local platform under load, healing on or off."""

    duration_s: float = 120.0
    rps: float = 20.0
    replicas: int = 1
    healing: str = "on"  # on, off or dry-run (HEALOPS_REMEDIATION)
    warmup_s: float = 60.0  # the SLO start-up grace: requests count from this long after start
    slo_paths: tuple[Path, ...] = ()
    time_scale: float | None = None
    home: Path | None = None


def run_platform_check(run: PlatformRun, experiment: Experiment | None = None, judging: Judging | None = None,
                       tell: Callable[[str], None] = lambda _: None) -> GateResult:
    """Bring the platform up, judge one window of it, bring it down (whatever happened)."""
    home = run.home or Path(tempfile.mkdtemp(prefix="healops-slo-check-"))
    env = {"HEALOPS_SLO_STARTUP_GRACE_S": f"{run.warmup_s:g}"}
    if run.slo_paths:
        env["HEALOPS_SLO_PATHS"] = os.pathsep.join(str(p.resolve()) for p in run.slo_paths)
    if run.time_scale is not None:
        env["HEALOPS_SLO_TIME_SCALE"] = f"{run.time_scale:g}"
    what = (f"platform run of {run.duration_s:g}s at {run.rps:g} req/s, {run.replicas} replica(s), healing "
            f"{run.healing}" + (f", experiment {experiment.file.name} on {experiment.target}" if experiment else ""))
    plat = PlatformProcess(home, rps=run.rps, replicas=run.replicas, remediation=run.healing, env=env)
    tell(f"starting the platform in {home}")
    try:
        plat.start()
        tokens = load_or_create_tokens(home)
        cp = ControlPlane(plat.control_url, tokens.api, tokens.admin)
        tell(f"waiting {run.warmup_s:g}s for the SLOs to start counting, then watching for {run.duration_s:g}s")
        return check_running(cp, run.duration_s, run.warmup_s + 120.0, what, experiment, home, judging)
    except (RuntimeError, TimeoutError, HealopsError, ChaosSetupError) as exc:
        now = time.time()
        return GateResult(what, now, now, error=f"the platform did not come up: {exc} (see {home / 'up.out'})")
    finally:
        tell("stopping the platform")
        plat.stop()
