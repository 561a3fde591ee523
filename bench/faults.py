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
import contextlib
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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from detectors.burn_rate import current_burn_rates
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
    "bad_deploy": {"version": "1.2.0"},  # a commit, not an injection: every service's 1.2.0 has a bug
}
KINDS = tuple(PARAMS)
DETECTION_KINDS = KINDS[:-1]
FIXABLE_KINDS = ("crash", "hang", "memory_leak", "bad_deploy")  # a shipped runbook answers each
DEPLOYER = Author("ci", "ci@localhost")
RECOVERY_HOLD_S = 3.0


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
    note: str = ""


def cases(per_kind: int | None, kinds: tuple[str, ...] = DETECTION_KINDS) -> list[Case]:
    """Every (kind, service) pair, or ``per_kind`` services per kind, rotating the starting service
    from kind to kind so every service is hit. A dependency failure needs a service with downstreams
    (it cuts the first of them)."""
    out: list[Case] = []
    names = list(SERVICES)
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
        self.http = httpx.Client(timeout=10)

    def incidents(self) -> list[dict[str, Any]]:
        resp = self.http.get(f"{self.proc.control_url}/v1/incidents", params={"limit": 200},
                             headers=self.proc.api_headers)
        resp.raise_for_status()
        data: list[dict[str, Any]] = resp.json()
        return data

    def detection(self) -> dict[str, Any]:
        resp = self.http.get(f"{self.proc.control_url}/v1/detection", headers=self.proc.api_headers)
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def settle(self, timeout_s: float, quiet_s: float = 30.0) -> bool:
        """Wait until, for ``quiet_s`` on end, no incident is active and no page-level burn rule fires:
        the next case must start from a quiet platform, or its signals would join the last case's
        incident (a long-window page rule can fire again a few seconds after an incident resolved)."""
        deadline = time.time() + timeout_s
        quiet_since: float | None = None
        while time.time() < deadline:
            paging = [r for slo in self.detection()["slos"] for r in slo["rules"]
                      if r["firing"] and r["severity"] == "critical"]
            if paging or self.active():
                quiet_since = None
            else:
                quiet_since = quiet_since or time.time()
                if time.time() - quiet_since >= quiet_s:
                    return True
            time.sleep(1.0)
        return False

    def active(self) -> list[dict[str, Any]]:
        return [i for i in self.incidents() if i["state"] != "resolved"]

    def inject(self, case: Case, ttl_s: float) -> None:
        if case.kind == "bad_deploy":
            self.proc.repo.set_version(case.service, case.params["version"], "fault harness: a bad deploy", DEPLOYER)
            return
        body = {"kind": case.kind, "ttl_s": ttl_s, **case.params}
        replicas = [r for r in self.proc.replicas_of(case.service) if r["state"] == "ready"]
        for r in replicas:
            resp = self.http.post(f"http://127.0.0.1:{r['port']}/admin/faults", json=body,
                                  headers=self.proc.admin_headers)
            resp.raise_for_status()

    def clear(self, service: str) -> None:
        for r in self.proc.replicas_of(service):
            if r["state"] == "ready":
                with contextlib.suppress(httpx.HTTPError):  # a hung or dying replica: its fault expires
                    self.http.delete(f"http://127.0.0.1:{r['port']}/admin/faults", headers=self.proc.admin_headers)

    def repair(self, service: str) -> None:
        """What an operator does when no remediation did: undo a bad deploy, restart a service that
        lost replicas."""
        stable = SERVICES[service].stable
        if self.proc.repo.load().services[service].spec.version != stable:
            self.proc.repo.set_version(service, stable, "fault harness: undo the bad deploy", DEPLOYER)
        if any(r["state"] != "ready" for r in self.proc.replicas_of(service)):
            self.proc.repo.restart(service, "fault harness: repair after a crash case",
                                   datetime.now(UTC).isoformat(timespec="seconds"))
        wait_until(self.proc.all_ready, 90, 0.5, f"{service} to be ready again")


    def api(self, path: str) -> Any:
        resp = self.http.get(f"{self.proc.control_url}{path}", headers=self.proc.api_headers)
        resp.raise_for_status()
        return resp.json()

    def slo_met(self, service: str) -> bool:
        """The service's SLOs burn below 1x over their shortest window and every replica is ready."""
        burns = current_burn_rates(self.detection()["slos"]).get(service, [])
        ready = [r["state"] == "ready" for r in self.proc.replicas_of(service)]
        return bool(burns) and max(burns) < 1.0 and bool(ready) and all(ready)

    def actions_since(self, t: float) -> list[dict[str, Any]]:
        return [a for a in self.api("/v1/remediation/actions?limit=1000")
                if a["state"] == "applied" and (a["applied_at"] or 0) >= t]


def last_opened(incident: dict[str, Any]) -> float:
    """When an incident opened, or last reopened (the same culprit flapping)."""
    return max(float(incident["opened_at"]), float(incident.get("reopened_at") or 0.0))


def fault_gone(p: Platform, case: Case, faulted: set[str]) -> bool:
    """No replica that carried the fault serves any more (a bad deploy: the stable version is back)."""
    if case.kind == "bad_deploy":
        return p.proc.repo.load().services[case.service].spec.version == SERVICES[case.service].stable
    return not faulted & {r["instance"] for r in p.proc.replicas_of(case.service)}


def watch_recovery(p: Platform, case: Case, t0: float, incident_id: str | None, faulted: set[str],
                   timeout_s: float) -> None:
    """Wait for a remediation of the incident, then for the SLO to be met again (held), or time out."""
    ok_since: float | None = None
    while time.time() - t0 < timeout_s:
        mine = [a for a in p.actions_since(t0) if a["incident_id"] == incident_id] if incident_id else []
        by_commit = bool(mine) and bool(p.proc.repo.git.find(f"Healops-Incident: {incident_id}"))
        healed = by_commit and fault_gone(p, case, faulted) and p.slo_met(case.service)
        if healed:
            ok_since = ok_since or time.time()
            if time.time() - ok_since >= RECOVERY_HOLD_S:
                case.recovered_s = round(ok_since - t0, 2)
                return
        else:
            ok_since = None
        time.sleep(0.5)


def run_case(p: Platform, case: Case, fault_s: float, detect_timeout_s: float, rank_after_s: float,
             remediation: bool = False) -> None:
    faulted = {r["instance"] for r in p.proc.replicas_of(case.service)}
    t0 = time.time()
    p.inject(case, fault_s)
    found: dict[str, Any] | None = None
    while time.time() - t0 < detect_timeout_s:
        new = [{**i, "opened_at": last_opened(i)} for i in p.incidents() if last_opened(i) >= t0 - 0.5]
        if new:  # opened, or reopened (the same culprit flapping), since the fault began
            found = min(new, key=lambda i: i["opened_at"])
            break
        time.sleep(0.2)
    if found is not None:
        case.detected_s = round(found["opened_at"] - t0, 2)
        time.sleep(max(0.0, found["opened_at"] + rank_after_s - time.time()))
        inc = next((i for i in p.incidents() if i["id"] == found["id"]), found)
        case.ranking = [r["service"] for r in inc["ranking"]]
        case.top1 = case.ranking[:1] == [case.service]
        case.top3 = case.service in case.ranking[:3]
    if remediation:
        watch_recovery(p, case, t0, found["id"] if found else None, faulted, fault_s)
        time.sleep(5.0)  # let a verification in flight finish before the harness cleans up
        for a in p.actions_since(t0):
            case.remediations.append(f"{a['service']}: {a['summary']}")
            case.wrong_target += a["service"] != case.service
        case.escalated = any(d["kind"] == "escalated" for d in p.api("/v1/remediation/journal?limit=1000")
                             if d["at"] >= t0)
    else:
        time.sleep(max(0.0, t0 + fault_s - time.time()))
    p.clear(case.service)
    p.repair(case.service)
    case.incidents = sum(1 for i in p.incidents() if last_opened(i) >= t0 - 0.5)
    settle_s = 300  # the 6x page rule's long window (6 h / 120 = 180 s) remembers a big burst this long
    if not p.settle(settle_s):
        case.note = f"an incident was still active {settle_s} s after the fault ended"


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


def summary(all_cases: list[Case], false_incidents: int, fault_free_s: float, startup: int) -> dict[str, Any]:
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
    args = ap.parse_args()
    # SIGTERM must run the ``finally`` below, or the platform it started lives on, healing itself
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    fault_free_s = args.fault_free_s if args.fault_free_s is not None else (120.0 if args.quick else 1800.0)
    healing = args.remediation == "on"
    fault_s = args.fault_s if args.fault_s is not None else (180.0 if healing else 20.0)
    kinds = tuple(args.kinds) if args.kinds else (FIXABLE_KINDS if healing else DETECTION_KINDS)
    todo = [c for c in cases(1 if args.quick else args.per_kind, kinds)
            if args.services is None or c.service in args.services]
    with tempfile.TemporaryDirectory(prefix="healops-faults-") as tmp:
        proc = PlatformProcess(Path(tmp) / "home", rps=args.rps, replicas=2, remediation=args.remediation).start()
        p = Platform(proc)
        try:
            time.sleep(args.warmup_s)
            startup_incidents = len(p.incidents())
            p.settle(120)
            for case in todo:
                run_case(p, case, fault_s, args.detect_timeout_s, args.rank_after_s, healing)
                print(json.dumps({"case": asdict(case)}), file=sys.stderr, flush=True)
            # then the same platform, recovered from every case, runs fault-free under load
            t_free = time.time()
            time.sleep(fault_free_s)
            false_incidents = sum(1 for i in p.incidents() if i["opened_at"] >= t_free)
            fault_free_remediations = len(p.actions_since(t_free)) if healing else 0
            det = p.detection()
            if args.out and healing:  # every decision, to explain each figure after the platform is gone
                args.out.with_suffix(".journal.json").write_text(json.dumps(
                    {"decisions": p.api("/v1/remediation/journal?limit=1000"),
                     "actions": p.api("/v1/remediation/actions?limit=1000")}, indent=1))
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
