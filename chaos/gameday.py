"""Run a game day: each experiment through the stock ``chaos run`` command, one after another on a
quiet platform, then score it from its Chaos Toolkit journal and restore the platform.

Why the stock CLI in a subprocess: what a game day proves is exactly what an engineer gets from
``chaos run experiment.json``, the journal is Chaos Toolkit's own, and an experiment that hangs is
killed without taking the game day with it. The scores come from the experiment's own wait probe
(:mod:`chaos.probes`), which uses the fault harness's definitions.

Whatever happens (a failed experiment, Ctrl-C, a crash), the platform is restored before the
report is written: every injected fault cleared, every service on its stable release.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.actions import restore
from chaos.control import ChaosSetupError, ControlPlane
from chaos.gameday_model import Entry, LoadedGameDay
from chaos.scoring import settle

SCORING_PROBES = ("wait_for_recovery", "wait_for_detection")
START_ATTEMPTS = 3  # an experiment whose steady state does not hold before it starts is tried again
Progress = Callable[[int, str], None]  # (experiments done, what is happening now)


@dataclass
class ExperimentResult:
    name: str
    title: str
    file: str
    target: str
    kind: str
    status: str  # Chaos Toolkit's: completed, failed, aborted, interrupted; or "not run"
    deviated: bool
    passed: bool
    reasons: list[str] = field(default_factory=list)
    score: dict[str, Any] = field(default_factory=dict)
    journal: str = ""
    duration_s: float = 0.0
    exit_code: int | None = None
    attempts: int = 1  # runs of chaos needed before its steady state held and the method ran


@dataclass
class GameDayResult:
    name: str
    file: str
    started_at: float
    finished_at: float = 0.0
    experiments: list[ExperimentResult] = field(default_factory=list)
    restored: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.experiments) and all(e.passed for e in self.experiments)


def check_targets(loaded: LoadedGameDay, cp: ControlPlane) -> None:
    """Every target (and every service an experiment var names) exists: checked before any injection."""
    services = cp.services()
    missing = []
    for i, entry in enumerate(loaded.gameday.spec.experiments):
        if entry.target not in services:
            missing.append(f"spec.experiments[{i}].target: no service {entry.target!r}")
        dep = entry.vars.get("dependency")
        if isinstance(dep, str) and dep not in services:
            missing.append(f"spec.experiments[{i}].vars.dependency: no service {dep!r}")
    if missing:
        raise ChaosSetupError(f"{loaded.file}: " + "; ".join(missing) + f" (services: {', '.join(sorted(services))})")


def chaos_command() -> list[str]:
    """The stock Chaos Toolkit CLI of this environment."""
    script = Path(sys.executable).parent / "chaos"
    return [str(script)] if script.exists() else [sys.executable, "-m", "chaostoolkit"]


def _score_from(journal: dict[str, Any]) -> dict[str, Any]:
    for run in journal.get("run", []):
        activity = run.get("activity", {})
        if activity.get("provider", {}).get("func") in SCORING_PROBES and isinstance(run.get("output"), dict):
            out: dict[str, Any] = run["output"]
            return out
    return {}


def judge(entry: Entry, status: str, deviated: bool, score: dict[str, Any]) -> list[str]:
    """Why an experiment failed; empty when it passed."""
    why = []
    if status != "completed":
        why.append(f"chaos run ended {status}")
    if deviated:
        why.append("steady state not met after the method (SLOs)")
    if not score:
        return [*why, "no score: the experiment's wait probe did not run"]
    exp = entry.expect
    detected = score.get("detected_s")
    if detected is None:
        why.append("no incident opened")
    elif detected > exp.detect_within_s:
        why.append(f"detected after {detected:.1f}s (limit {exp.detect_within_s:g}s)")
    if exp.root_cause_first and not score.get("top1"):
        ranking = score.get("ranking") or []
        why.append(f"root cause ranked {ranking[:3]}, not {entry.target} first")
    if exp.recover_within_s is not None:
        recovered = score.get("recovered_s")
        if recovered is None:
            why.append("not recovered by a remediation")
        elif recovered > exp.recover_within_s:
            why.append(f"recovered after {recovered:.1f}s (limit {exp.recover_within_s:g}s)")
    if score.get("wrong_target"):
        why.append(f"{score['wrong_target']} remediation(s) of another service")
    spent = float(score.get("budget_spent") or 0.0)
    if exp.max_budget_spent is not None and spent > exp.max_budget_spent:
        why.append(f"spent {spent:.1%} of the error budget (limit {exp.max_budget_spent:.1%})")
    return why


def _blank_result(entry: Entry, file: Path, index: int, journal: str) -> ExperimentResult:
    doc = json.loads(file.read_text(encoding="utf-8"))
    tags = [t for t in doc.get("tags", []) if t != "healops"]
    return ExperimentResult(f"{index:02d}-{file.stem}", doc.get("title", file.stem), str(file), entry.target,
                            tags[0] if tags else file.stem, "not run", False, False, journal=journal)


def not_run(entry: Entry, file: Path, index: int, why: str) -> ExperimentResult:
    """An experiment the game day could not start: failed, with the reason."""
    result = _blank_result(entry, file, index, "")
    result.reasons.append(why)
    return result


def run_experiment(entry: Entry, file: Path, index: int, out_dir: Path, env: dict[str, str]) -> ExperimentResult:
    journal_path = out_dir / "journals" / f"{index:02d}-{file.stem}-{entry.target}.json"
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [*chaos_command(), "--no-version-check", "--log-file", str(journal_path.with_suffix(".log")),
           "run", "--journal-path", str(journal_path), "--rollback-strategy", "always",
           "--var", f"target_service={entry.target}"]
    for key, value in entry.vars.items():
        typed = {bool: "", int: ":int", float: ":float"}.get(type(value), "")  # chaos keeps the type
        cmd += ["--var", f"{key}{typed}={value}"]
    cmd.append(str(file))
    t0 = time.time()
    result = _blank_result(entry, file, index, str(journal_path))
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=entry.timeout_s, check=False)
        result.exit_code = proc.returncode
    except subprocess.TimeoutExpired:
        result.reasons.append(f"chaos run killed after {entry.timeout_s:g}s")
    result.duration_s = round(time.time() - t0, 1)
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        journal = {}
    result.status = str(journal.get("status", result.status))
    result.deviated = bool(journal.get("deviated", False))
    result.score = _score_from(journal)
    result.reasons += judge(entry, result.status, result.deviated, result.score)
    result.passed = not result.reasons
    return result


def _not_started(result: ExperimentResult) -> bool:
    """The steady state did not hold before the method, so nothing was injected: safe to try again."""
    try:
        journal = json.loads(Path(result.journal).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    before = (journal.get("steady_states") or {}).get("before") or {}
    return before.get("steady_state_met") is False and not result.score


def run_gameday(loaded: LoadedGameDay, cp: ControlPlane, out_dir: Path, env: dict[str, str] | None = None,
                progress: Progress | None = None,
                checkpoint: Callable[[GameDayResult], None] | None = None) -> GameDayResult:
    """Run every experiment of the game day in order; always restore the platform at the end.
    ``checkpoint`` sees the result after each experiment (a scorecard that fills in as it runs)."""
    tell = progress or (lambda done, what: None)
    check_targets(loaded, cp)
    child_env = {**os.environ, **(env or {}), "HEALOPS_URL": cp.url, "HEALOPS_TOKEN": cp.token,
                 "HEALOPS_ADMIN_TOKEN": cp.admin_token}
    result = GameDayResult(loaded.name, str(loaded.file), time.time())
    spec = loaded.gameday.spec
    settle_timeout_s = spec.settle_timeout_s
    try:
        for i, (entry, file) in enumerate(zip(spec.experiments, loaded.experiments, strict=True)):
            tell(i, f"{file.stem} on {entry.target}: waiting for a quiet platform")
            for attempt in range(1, START_ATTEMPTS + 1):
                if not settle(cp, settle_timeout_s, spec.settle_s):
                    # its signals would join an incident already open: scoring it would mean nothing
                    outcome = not_run(entry, file, i + 1, f"platform not quiet after {settle_timeout_s:g}s "
                                      "(an incident still active or an SLO paging)")
                    break
                tell(i, f"{file.stem} on {entry.target}: running" + (f" (attempt {attempt})" if attempt > 1 else ""))
                outcome = run_experiment(entry, file, i + 1, out_dir, child_env)
                if not _not_started(outcome) or attempt == START_ATTEMPTS:
                    break
                # something opened an incident between the settle and the start: settle again
                tell(i, f"{file.stem}: steady state not met before the method, settling again")
            outcome.attempts = attempt
            result.experiments.append(outcome)
            if checkpoint is not None:
                checkpoint(result)
            tell(i + 1, f"{file.stem} on {entry.target}: {'passed' if result.experiments[-1].passed else 'FAILED'}")
    except KeyboardInterrupt:
        result.error = "interrupted"
        raise
    except ChaosSetupError as exc:
        result.error = str(exc)
    finally:
        tell(len(result.experiments), "restoring the platform")
        conf = {"healops_url": cp.url, "healops_token": cp.token, "healops_admin_token": cp.admin_token}
        if env and env.get("HEALOPS_HOME"):
            conf["healops_home"] = env["HEALOPS_HOME"]
        try:
            result.restored = restore(configuration=conf)
        except (ChaosSetupError, OSError) as exc:
            result.error = result.error or f"restore failed: {exc}"
        result.finished_at = time.time()
    return result
