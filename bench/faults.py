"""Fault harness: inject each single fault kind into each service of the running platform under
load and score detection (time to detect, root cause rank, incidents per fault), then a fault-free
run of the same platform, recovered, for false incidents. With ``--remediation on`` the runbooks
heal the platform and the harness also scores recovery.

Everything is real: ``healops up --headless`` with its load generator, faults through the services'
admin API (every replica of the service), incidents read from the control-plane API. With
remediation off the harness itself repairs what a fault leaves broken (a crashed service is
restarted by a desired-state commit, as an operator would) and waits for every incident to resolve
before the next case. Root cause is read ``--rank-after-s`` after the incident opened (what the
on-call engineer sees when they open the page).

With remediation on, the default kinds are those a shipped runbook can fix (crash, hang, memory
leak, and a bad deploy: a commit rolling the service to its 1.2.0 release, whose known bug is an
error burst or latency), injected for ``--fault-s`` (default 180 s), so only a remediation ends
them in time. Time to recover runs from the fault until the faulted service's SLOs burn below 1x
again over their shortest window with every replica ready, held 3 s; a recovery counts only if a
remediation commit naming the incident came first. A remediation that touched another service,
or any during the fault-free run, is a false remediation.

Prints one JSON line last: mttd_p50_s, mttd_p95_s, rca_top1, rca_top3, incidents_per_fault,
false_incidents, with a row per fault kind; with remediation on also mttr_p50_s, mttr_p95_s,
recovered_share, false_remediations, escalations.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from chaos.control import ControlPlane
from chaos.scoring import CaseWatch, last_opened, settle
from healops.config import load_or_create_tokens
from healops.gitrepo import Author
from healops.harness import PlatformProcess, wait_until
from workloads.catalog import SERVICES

PARAMS: dict[str, dict[str, Any]] = {
    "crash": {"exit_code": 137, "delay_s": 0.2},  # the replica answers the injection, then dies
    "hang": {},
    "latency": {"ms": 100},
    "error_rate": {"rate": 0.2},
    "cpu_burn": {"utilization": 0.8},
    "memory_leak": {"mb_per_s": 8, "max_mb": 512},
    "dependency_failure": {"mode": "error"},
    # load outgrows the service: each replica serves 1/overload of the load it had (a surge); two more
    # replicas bring every replica back under its capacity
    "saturation": {"overload": 1.5},
    "bad_deploy": {"version": "1.2.0"},  # a commit, not an injection: every service's 1.2.0 has a bug
}
KINDS = tuple(PARAMS)
DETECTION_KINDS = KINDS[:-1]
FIXABLE_KINDS = ("crash", "hang", "memory_leak", "saturation", "bad_deploy")  # a shipped runbook answers each
BASELINE_REPLICAS = 2
DEPLOYER = Author("ci", "ci@localhost")


@dataclass
class Case:
    kind: str
    service: str
    params: dict[str, Any]
    detected_s: float | None = None
    top1: bool = False
    top3: bool = False
    ranking: list[str] = field(default_factory=list)
    incidents: int = 0
    recovered_s: float | None = None  # fault start until the SLO is met again (remediation on)
    remediations: list[str] = field(default_factory=list)  # what the engine did, as journaled
    escalated: bool = False
    wrong_target: int = 0  # remediations of a service the fault was not in
    budget_spent: float = 0.0  # the largest share of one of its SLOs' (scaled) budget the case burned
    note: str = ""
    # what the incidents of the case held (first signals, top of the ranking with its reasons): a miss
    # is explained from the run's own output, not by a second run
    opened: list[dict[str, Any]] = field(default_factory=list)


def cases(per_kind: int | None, kinds: tuple[str, ...] = DETECTION_KINDS,
          services: list[str] | None = None) -> list[Case]:
    """Every (kind, service) pair, or ``per_kind`` services per kind, rotating the starting service
    from kind to kind so every service is hit. A dependency failure needs a service with downstreams
    (it cuts the first of them)."""
    out: list[Case] = []
    names = [s for s in SERVICES if services is None or s in services]
    for i, kind in enumerate(kinds):
        taken = 0
        for service in names[i % len(names):] + names[:i % len(names)]:
            params = dict(PARAMS[kind])
            if kind == "dependency_failure":
                downstream = sorted(SERVICES[service].downstreams())
                if not downstream:
                    continue
                params["target"] = downstream[0]
            out.append(Case(kind, service, params))
            taken += 1
            if per_kind is not None and taken >= per_kind:
                break
    return out


class Platform:
    def __init__(self, proc: PlatformProcess) -> None:
        self.proc = proc
        tokens = load_or_create_tokens(proc.home)
        self.cp = ControlPlane(proc.control_url, tokens.api, tokens.admin)

    def inject(self, case: Case, ttl_s: float) -> None:
        if case.kind == "bad_deploy":
            self.proc.repo.set_version(case.service, case.params["version"], "fault harness: a bad deploy", DEPLOYER)
            return
        self.cp.inject(case.service, {"kind": case.kind, "ttl_s": ttl_s, **case.params})

    def repair(self, service: str) -> None:
        """What an operator does when no remediation did: undo a bad deploy, restart a service that
        lost replicas; and put back the replica count every case starts from (a scale-out that
        answered a surge would otherwise be scaled in by the capacity controller during a later case
        or the fault-free run)."""
        state = self.proc.repo.load()
        stable = SERVICES[service].stable
        if state.services[service].spec.version != stable:
            self.proc.repo.set_version(service, stable, "fault harness: undo the bad deploy", DEPLOYER)
        for name, manifest in state.services.items():
            if manifest.spec.replicas != BASELINE_REPLICAS:
                self.proc.repo.set_replicas(name, BASELINE_REPLICAS, "fault harness: back to the baseline", DEPLOYER)
        if any(r["state"] != "ready" for r in self.proc.replicas_of(service)):
            self.proc.repo.restart(service, "fault harness: repair after a crash case",
                                   datetime.now(UTC).isoformat(timespec="seconds"))
        wait_until(self.proc.all_ready, 90, 0.5, f"{service} to be ready again")


def run_case(p: Platform, case: Case, fault_s: float, detect_timeout_s: float, rank_after_s: float,
             remediation: bool = False) -> None:
    """Inject, then score with the definitions game days share (:mod:`chaos.scoring`)."""
    watch = CaseWatch.begin(p.cp, case.kind, case.service, rank_after_s, healing=remediation)
    p.inject(case, fault_s)
    score = watch.run(fault_s if remediation else detect_timeout_s + rank_after_s + 1.0, detect_timeout_s)
    if remediation:
        time.sleep(5.0)  # let a verification in flight finish before the harness cleans up
        watch.finish()
    else:
        time.sleep(max(0.0, score.started_at + fault_s - time.time()))
    for name in ("detected_s", "ranking", "top1", "top3", "recovered_s", "remediations", "wrong_target",
                 "escalated", "budget_spent"):
        setattr(case, name, getattr(score, name))
    t0 = score.started_at
    p.cp.clear(case.service)
    p.repair(case.service)
    mine = [i for i in p.cp.incidents() if last_opened(i) >= t0 - 0.5]
    case.incidents = len(mine)
    case.opened = [incident_brief(i, t0) for i in mine]
    settle_s = 300  # the 6x page rule's long window (6 h / 120 = 180 s) remembers a big burst this long
    if not settle(p.cp, settle_s):
        case.note = f"an incident was still active {settle_s} s after the fault ended"


def incident_brief(doc: dict[str, Any], t0: float) -> dict[str, Any]:
    """An incident as a few lines: its title, the first signals of this episode (seconds after the
    fault; a reopened incident keeps its older evidence too) and the top of its ranking with reasons."""
    episode = last_opened(doc) - 30.0
    first = sorted((s for s in doc.get("evidence", []) if s["at"] >= episode), key=lambda s: s["at"])[:8]
    return {"title": doc.get("title", ""), "opened_s": round(last_opened(doc) - t0, 1),
            "signals": [f"{s['at'] - t0:+.1f}s {s.get('summary') or s['key']}" for s in first],
            "ranking": [f"{r['service']}: {r.get('reason', '')}" for r in doc.get("ranking", [])[:3]]}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def recovery(all_cases: list[Case], fault_free_remediations: int) -> dict[str, Any]:
    """The remediation figures: time to recover over every case (a case not recovered counts as
    not recovered, not as a time), and remediations that should not have happened."""
    times = [c.recovered_s for c in all_cases if c.recovered_s is not None]
    n = len(all_cases)
    return {"mttr_p50_s": pct(times, 0.5), "mttr_p95_s": pct(times, 0.95), "mttr_max_s": max(times, default=None),
            "recovered_share": round(len(times) / n, 3) if n else None,
            "false_remediations": sum(c.wrong_target for c in all_cases) + fault_free_remediations,
            "fault_free_remediations": fault_free_remediations,
            "escalations": sum(c.escalated for c in all_cases),
            "mttr_by_kind": {k: {"cases": len(mine), "recovered": len(t), "mttr_p50_s": pct(t, 0.5),
                                 "mttr_max_s": max(t, default=None)}
                             for k in KINDS if (mine := [c for c in all_cases if c.kind == k])
                             for t in [[c.recovered_s for c in mine if c.recovered_s is not None]]}}


def summary(all_cases: list[Case], false_incidents: int | None, fault_free_s: float,
            startup: int | None) -> dict[str, Any]:
    """The detection figures over ``all_cases``; ``false_incidents`` is None when no fault-free run
    was part of this scoring (cases combined from several runs)."""
    detected = [c.detected_s for c in all_cases if c.detected_s is not None]
    rows = {}
    for kind in KINDS:
        mine = [c for c in all_cases if c.kind == kind]
        if not mine:
            continue
        d = [c.detected_s for c in mine if c.detected_s is not None]
        rows[kind] = {"cases": len(mine), "detected": len(d), "mttd_p50_s": pct(d, 0.5),
                      "mttd_max_s": max(d, default=None),
                      "top1": sum(c.top1 for c in mine) / len(mine), "top3": sum(c.top3 for c in mine) / len(mine),
                      "incidents_per_fault": statistics.mean(c.incidents for c in mine)}
    n = len(all_cases)
    return {
        "bench": "faults", "remediation": "off", "cases": n, "detected": len(detected),
        "mttd_p50_s": pct(detected, 0.5), "mttd_p95_s": pct(detected, 0.95),
        "rca_top1": round(sum(c.top1 for c in all_cases) / n, 3) if n else None,
        "rca_top3": round(sum(c.top3 for c in all_cases) / n, 3) if n else None,
        "incidents_per_fault": round(statistics.mean(c.incidents for c in all_cases), 2) if n else None,
        "false_incidents": false_incidents, "fault_free_s": fault_free_s, "startup_incidents": startup,
        "by_kind": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--remediation", choices=["off", "on"], default="off",
                    help="on: the shipped runbooks heal the platform, and recovery is scored")
    ap.add_argument("--quick", action="store_true", help="one case per fault kind (--per-kind 1)")
    ap.add_argument("--per-kind", type=int, default=None, help="services per fault kind (default: all)")
    ap.add_argument("--rps", type=float, default=20.0)
    ap.add_argument("--warmup-s", type=float, default=150.0)
    ap.add_argument("--fault-free-s", type=float, default=None, help="default 1800 (quick: 120)")
    ap.add_argument("--fault-s", type=float, default=None,
                    help="how long an injected fault lasts (default 20 s; remediation on: 180 s)")
    ap.add_argument("--detect-timeout-s", type=float, default=30.0)
    ap.add_argument("--rank-after-s", type=float, default=5.0)
    ap.add_argument("--kinds", nargs="*", choices=KINDS, default=None,
                    help="default: every injected kind (remediation on: the kinds a runbook fixes)")
    ap.add_argument("--services", nargs="*", choices=list(SERVICES), default=None)
    ap.add_argument("--out", type=Path, default=None, help="also write per-case rows as JSON here")
    ap.add_argument("--combine", type=Path, nargs="+", default=None, metavar="CASES_JSON",
                    help="run nothing: score the per-case rows of earlier --out files together (a matrix "
                         "run in parts); false incidents come from a fault-free run, not from these")
    args = ap.parse_args()
    if args.combine:
        combined = [Case(**row) for f in args.combine for row in json.loads(f.read_text())]
        print(json.dumps(summary(combined, None, 0.0, None)))
        return
    # SIGTERM must run the ``finally`` below, or the platform it started lives on, healing itself
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    fault_free_s = args.fault_free_s if args.fault_free_s is not None else (120.0 if args.quick else 1800.0)
    healing = args.remediation == "on"
    fault_s = args.fault_s if args.fault_s is not None else (180.0 if healing else 20.0)
    kinds = tuple(args.kinds) if args.kinds else (FIXABLE_KINDS if healing else DETECTION_KINDS)
    todo = cases(1 if args.quick else args.per_kind, kinds, args.services)
    with tempfile.TemporaryDirectory(prefix="healops-faults-") as tmp:
        proc = PlatformProcess(Path(tmp) / "home", rps=args.rps, replicas=BASELINE_REPLICAS,
                               remediation=args.remediation).start()
        p = Platform(proc)
        try:
            time.sleep(args.warmup_s)
            startup_incidents = len(p.cp.incidents())
            settle(p.cp, 120)
            for case in todo:
                run_case(p, case, fault_s, args.detect_timeout_s, args.rank_after_s, healing)
                print(json.dumps({"case": asdict(case)}), file=sys.stderr, flush=True)
            # then the same platform, recovered from every case, runs fault-free under load
            t_free = time.time()
            time.sleep(fault_free_s)
            false_incidents = sum(1 for i in p.cp.incidents() if i["opened_at"] >= t_free)
            fault_free_remediations = len(p.cp.actions_since(t_free)) if healing else 0
            det = p.cp.detection()
            if args.out and healing:  # every decision, to explain each figure after the platform is gone
                args.out.with_suffix(".journal.json").write_text(json.dumps(
                    {"decisions": p.cp.journal(), "actions": p.cp.actions()}, indent=1))
        finally:
            proc.stop()
    if args.out:
        args.out.write_text(json.dumps([asdict(c) for c in todo], indent=1))
    out = summary(todo, false_incidents, fault_free_s, startup_incidents)
    out["remediation"] = args.remediation
    if healing:
        out.update(recovery(todo, fault_free_remediations))
    out.update(scoring_lag_s=det["lag_s"], scoring_max_lag_s=det["max_lag_s"], scored_points=det["scored_points"],
               watches=det["watches"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
