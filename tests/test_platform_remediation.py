"""Self-healing end to end on the real platform under load, with remediation on.

1. A fault no runbook fixes (a bad deploy, while the only error runbook adds capacity): the change
   is made, does not help, is reverted by a second commit and the incident is escalated.
2. The control plane is killed with SIGKILL while a remediation is being verified; ``healops up``
   starts it again and the remediation finishes from the journal: the restart commit exists once,
   no action is left half done, the service is healthy.

Real processes, git, SQLite and HTTP on loopback; about two and a half minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from healops.harness import PlatformProcess, http_ok, wait_until
from runbooks.loader import DEFAULT_DIR

pytestmark = pytest.mark.slow
WARMUP_S = 50

WRONG_FIX = """
apiVersion: healops.dev/v1
kind: Runbook
metadata: {name: scale-out-on-errors}
spec:
  priority: 10
  trigger: {kinds: [errors, slo], services: [healthcare], rootCauseRank: 3}
  steps:
    - name: add-capacity
      action: scale
      args: {service: "${target}", delta: 1}
      onFailure: [revert, escalate]
  verify: {withinSeconds: 12, holdSeconds: 3}
  cooldownSeconds: 600
"""


@pytest.fixture(scope="module")
def healing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    runbooks = tmp_path_factory.mktemp("runbooks")
    (runbooks / "scale-out-on-errors.yaml").write_text(WRONG_FIX)
    shutil.copy(DEFAULT_DIR / "restart-unhealthy-replicas.yaml", runbooks)
    plat = PlatformProcess(tmp_path_factory.mktemp("heal") / "home", rps=15, replicas=2, remediation="on",
                           env={"HEALOPS_RUNBOOK_PATHS": str(runbooks)}).start()
    time.sleep(WARMUP_S)
    # a cold start on two busy cores can burn a latency SLO; a fault must not join that incident
    wait_until(lambda: not _get(plat, "/v1/incidents?state=active"), 180, 1.0, "no start-up incident")
    yield plat
    plat.stop()


def _get(plat: PlatformProcess, path: str) -> Any:
    resp = httpx.get(f"{plat.control_url}{path}", headers=plat.api_headers, timeout=5)
    resp.raise_for_status()
    return resp.json()


def _trailer(plat: PlatformProcess, incident_id: str) -> list[str]:
    return [c.subject for c in plat.repo.git.log(limit=100) if f"Healops-Incident: {incident_id}" in c.body]


def _why(plat: PlatformProcess, rem: dict[str, Any], waiting: list[list[str]]) -> str:
    """Why a remediation did not verify: its journal, what verification waited for (the distinct
    answers, in order), and what detection still holds against the incident."""
    journal = _get(plat, f"/v1/remediation/journal?incident={rem['incident_id']}")
    incident = _get(plat, f"/v1/incidents/{rem['incident_id']}")
    lines = [f"{d['kind']}: {d.get('reason', '')}" for d in journal[-12:]]
    signals = [(s.get("key"), s.get("firing"), s.get("source")) for s in incident.get("active", [])]
    seen = [w for i, w in enumerate(waiting) if i == 0 or w != waiting[i - 1]]
    return "\n".join([*lines, f"verification waited for: {seen}",
                      f"incident state {incident.get('state')}, signals {signals}"])


def test_a_change_that_does_not_help_is_reverted_and_the_incident_escalated(healing: PlatformProcess) -> None:
    healing.repo.set_version("healthcare", "1.2.0", "test: deploy the release with a bug (30 % errors)")

    def escalated() -> dict[str, Any] | None:
        incidents: list[dict[str, Any]] = _get(healing, "/v1/incidents")
        for inc in incidents:
            timeline = _get(healing, f"/v1/incidents/{inc['id']}")["timeline"]
            if any(e["kind"] == "escalated" for e in timeline):
                return inc
        return None

    inc = wait_until(escalated, 90, 1.0, "the incident to be escalated")
    assert _trailer(healing, inc["id"]) == ['Revert "Scale healthcare to 3 replicas"', "Scale healthcare to 3 replicas"]
    assert healing.repo.load().services["healthcare"].spec.replicas == 2
    kinds = [d["kind"] for d in _get(healing, f"/v1/remediation/journal?incident={inc['id']}")]
    assert kinds[-4:] == ["executed", "failed", "reverted", "escalated"]
    healing.repo.set_version("healthcare", "1.1.0", "test: undo the bad deploy")
    wait_until(healing.all_ready, 60, 0.5, "healthcare back on 1.1.0")


def test_sigkill_mid_remediation_leaves_nothing_half_done_and_nothing_done_twice(healing: PlatformProcess) -> None:
    wait_until(healing.all_ready, 60, 0.5, "a healthy platform")
    for url in [f"http://127.0.0.1:{r['port']}" for r in healing.replicas_of("identity")]:
        httpx.post(f"{url}/admin/faults", json={"kind": "crash", "ttl_s": 120, "delay_s": 0.2},
                   headers=healing.admin_headers, timeout=5).raise_for_status()

    def verifying() -> dict[str, Any] | None:
        active = _get(healing, "/v1/remediation")["active"]
        return next((r for r in active if r["state"] == "verifying" and r["service"] == "identity"), None)

    rem = wait_until(verifying, 45, 0.2, "a remediation of identity being verified")
    old = healing.snapshot()["components"]["control-plane"]
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: healing.snapshot().get("components", {}).get("control-plane") not in (None, old), 30, 0.5,
               "healops up to start the control plane again")
    wait_until(lambda: http_ok(f"{healing.control_url}/v1/health"), 60, 0.5, "the new control plane")

    waiting: list[list[str]] = []  # what the verification still waited for, each poll

    def finished() -> dict[str, Any] | None:
        waiting.extend(r["waiting_for"] for r in _get(healing, "/v1/remediation")["active"] if r["id"] == rem["id"])
        done = [r for r in _get(healing, "/v1/remediation/remediations") if r["id"] == rem["id"]]
        return done[0] if done and done[0]["state"] not in ("pending", "verifying") else None

    try:
        final = wait_until(finished, 60, 0.5, "the remediation to finish after the restart")
    except TimeoutError as exc:  # say why: the journal and what detection still holds against identity
        raise AssertionError(_why(healing, rem, waiting)) from exc
    assert final["state"] == "verified", _why(healing, rem, waiting)
    # Nothing half done, nothing done twice. Usually one step suffices; when the runbook matched
    # before the second replica's crash was seen, "replace-unhealthy" restarts one, verification
    # rightly fails on the other and the next step restarts the service (seen once in CI): each step
    # then still runs once.
    actions = [a for a in _get(healing, "/v1/remediation/actions") if a["remediation_id"] == rem["id"]]
    assert actions and all(a["state"] == "applied" for a in actions), _why(healing, rem, waiting)
    steps = [a["step"] for a in sorted(actions, key=lambda a: a["created_at"])]
    assert steps in (["replace-unhealthy"], ["replace-unhealthy", "restart-service"]), _why(healing, rem, waiting)
    assert all(a["summary"].startswith("Restart ") and "identity" in a["summary"] for a in actions), actions
    log = healing.repo.git.log(limit=100)
    for a in actions:
        commits = [c for c in log if f"Healops-Action: {a['action_id']}" in c.body]
        assert len(commits) == 1 and f"Healops-Incident: {rem['incident_id']}" in commits[0].body, a
    wait_until(healing.all_ready, 30, 0.5, "identity healthy again")
    assert Path(healing.home / "desired-state" / ".git" / "index.lock").exists() is False
