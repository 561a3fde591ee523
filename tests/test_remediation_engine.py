"""The remediation engine on a real git repository and a real SQLite journal, with the local
executor committing to the desired state exactly as on the platform. Incidents and burn rates come
from a small in-test book (the engine's two ports), so every branch runs in milliseconds with a
controlled clock: verify, revert, escalate, cooldown, rate limit, loop, approval, kill switch, dry
run, and recovery from a crash at each point of a step."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from healops.events import Incident, RankedService, Signal
from remediation.actions import Limits
from remediation.safety import SafetyPolicy
from runbooks.loader import DEFAULT_DIR, LoadedRunbook, load_runbooks, parse_runbook
from tests.remediation_world import World


def incident(service: str, kind: str = "health", source: str = "health", severity: str = "critical",
             inc_id: str = "inc-1") -> Incident:
    sig = Signal(key=f"{kind}{{service={service}}}", source=source, service=service, at=0.0, firing=True,  # type: ignore[arg-type]
                 severity=severity, labels={"service": service, "kind": kind, "opens": "true"})  # type: ignore[arg-type]
    return Incident(inc_id, "open", severity, 0.0, 0.0, services=[service], active={sig.key: sig},  # type: ignore[arg-type]
                    evidence={sig.key: sig}, ranking=[RankedService(service, 2.0, "test")])


def runbook(text: str) -> list[LoadedRunbook]:
    return [LoadedRunbook(parse_runbook(text, "test.yaml"), "test.yaml")]


SCALE_ON_ERRORS = """
apiVersion: healops.dev/v1
kind: Runbook
metadata: {name: scale-on-errors}
spec:
  trigger: {kinds: [errors]}
  steps:
    - name: add
      action: scale
      args: {service: "${target}", delta: 2}
      onFailure: [revert, escalate]
  verify: {withinSeconds: 30, holdSeconds: 2}
  cooldownSeconds: 120
"""


def test_crash_is_restarted_by_a_commit_naming_the_incident_then_verified(world: World) -> None:
    world.replicas("healthcare", ["crashed", "crashed"])
    world.book.incidents["inc-1"] = incident("healthcare")
    engine = world.engine()
    engine.tick()
    head = world.repo.git.log(limit=1)[0]
    assert head.subject == "Restart 2 replica(s) of healthcare: healthcare-0, healthcare-1"
    assert "Healops-Incident: inc-1" in head.body and head.author == "healops-remediation"
    manifest = world.repo.load().services["healthcare"]
    assert manifest.replace_instances == {"healthcare-0", "healthcare-1"}
    decisions = world.journal.decisions("inc-1")
    assert [d["kind"] for d in decisions] == ["skipped", "matched", "executed"]
    assert decisions[0]["runbook"] == "rollback-bad-deploy" and "new version" in decisions[0]["reason"]
    assert world.book.mitigating_ids == ["inc-1"]
    engine.tick()  # still crashed: not verified, nothing new done
    assert world.journal.remediations()[0].state == "verifying" and len(world.commits()) == 2
    world.replicas("healthcare", ["ready", "ready"])
    world.book.incidents["inc-1"].active.clear()
    engine.tick()
    world.clock.now += 3.5
    engine.tick()
    assert world.journal.remediations()[0].state == "verified"
    assert "verified" in world.repo.git.notes(head.sha)


def test_unhelpful_change_is_reverted_and_the_incident_escalated(world: World) -> None:
    world.book.incidents["inc-1"] = incident("healthcare", kind="errors", source="anomaly", severity="warning")
    engine = world.engine(runbook(SCALE_ON_ERRORS))
    engine.tick()
    assert world.repo.load().services["healthcare"].spec.replicas == 4
    world.replicas("healthcare", ["ready"] * 4)
    world.clock.now += 31
    engine.tick()
    assert world.repo.load().services["healthcare"].spec.replicas == 2
    assert world.commits()[:2] == ['Revert "Scale healthcare to 4 replicas"', "Scale healthcare to 4 replicas"]
    assert world.kinds("inc-1") == ["matched", "executed", "failed", "reverted", "escalated"]
    assert world.book.escalations and "still firing" in world.book.escalations[0][1]
    engine.tick()  # escalated: a person owns it; the runbook does not try again
    assert len(world.commits()) == 3


def test_flapping_fault_is_held_by_cooldown_and_stopped_as_a_loop(world: World) -> None:
    engine = world.engine(runbook(SCALE_ON_ERRORS), loop_limit=2, per_service_limit=10)
    inc = incident("healthcare", kind="errors", source="anomaly", severity="warning")
    world.book.incidents["inc-1"] = inc

    def flap(after_s: float) -> None:
        """The fault comes back: the incident reopens with its signal firing again."""
        world.clock.now += after_s
        inc.active.update(incident("healthcare", kind="errors", source="anomaly").active)
        inc.reopened_at = world.clock.now - 5  # reopened a moment ago: its ranking has settled
        engine.tick()

    def recover() -> None:
        world.replicas("healthcare", ["ready"] * world.repo.load().services["healthcare"].spec.replicas)
        inc.active.clear()
        engine.tick()
        world.clock.now += 3
        engine.tick()

    engine.tick()
    recover()
    assert len(world.commits()) == 2
    for _ in range(3):  # back every 30 s: inside the 120 s cooldown, nothing is done
        flap(30)
        inc.active.clear()
    assert len(world.commits()) == 2 and "cooldown" in world.journal.decisions("inc-1")[-1]["reason"]
    flap(40)  # past the cooldown: the runbook may act once more
    assert len(world.commits()) == 3
    recover()
    flap(130)  # a third run of the same runbook on the same service within 30 min: a loop
    assert len(world.commits()) == 3
    assert world.kinds("inc-1")[-1] == "escalated"
    assert any("loop" in why for _, why in world.book.escalations)


def test_rate_limit_holds_a_step_until_the_window_passes(world: World) -> None:
    engine = world.engine(runbook(SCALE_ON_ERRORS.replace("cooldownSeconds: 120", "cooldownSeconds: 0")),
                          per_service_limit=1)
    world.repo.set_replicas("healthcare", 3, "operator")  # not counted: only remediation changes are
    for i in (1, 2):
        world.book.incidents[f"inc-{i}"] = incident("healthcare", kind="errors", source="anomaly", inc_id=f"inc-{i}")
    engine.tick()
    assert world.repo.load().services["healthcare"].spec.replicas == 5
    assert world.kinds("inc-2")[-1] == "skipped" and "limit 1" in world.journal.decisions("inc-2")[-1]["reason"]


def test_bounds_refuse_a_scale_past_max_and_escalate(world: World) -> None:
    engine = world.engine(runbook(SCALE_ON_ERRORS), limits=Limits(max_replicas=2))
    world.book.incidents["inc-1"] = incident("healthcare", kind="errors", source="anomaly")
    engine.tick()
    assert world.kinds("inc-1") == ["matched", "refused", "failed", "escalated"]
    assert len(world.commits()) == 1


def test_dry_run_and_kill_switch_change_nothing(world: World) -> None:
    world.replicas("healthcare", ["crashed", "ready"])
    world.book.incidents["inc-1"] = incident("healthcare")
    world.engine(dry_run=True).tick()
    assert len(world.commits()) == 1
    executed = [d for d in world.journal.decisions("inc-1") if d["kind"] == "executed"]
    assert executed and executed[0]["detail"]["dry_run"] and executed[0]["reason"].startswith("[dry run]")
    world.book.incidents["inc-2"] = incident("healthcare", inc_id="inc-2")
    engine = world.engine()
    engine.set_kill_switch(True, "test")
    engine.tick()
    reasons = [d["reason"] for d in world.journal.decisions("inc-2")]
    assert len(world.commits()) == 1 and "the kill switch is on" in reasons
    engine.set_kill_switch(False, "test")
    engine.tick()
    assert len(world.commits()) == 2


def test_approval_gate_waits_for_a_person(world: World) -> None:
    world.replicas("healthcare", ["crashed", "crashed"])
    world.book.incidents["inc-1"] = incident("healthcare")
    breaker = [lr for lr in load_runbooks([DEFAULT_DIR]) if lr.runbook.name == "open-breaker-to-failing-downstream"]
    engine = world.engine(breaker)
    engine.tick()
    engine.tick()
    rem = world.journal.remediations()[0]
    assert rem.state == "awaiting_approval" and len(world.commits()) == 1
    engine.decide_approval(rem.id, True, "alice")
    engine.tick()
    gateway = world.repo.load().services["api-gateway"].spec.gateway
    assert gateway is not None and gateway.circuit_breakers["healthcare"].force_open
    assert world.kinds("inc-1")[:4] == ["matched", "pending_approval", "approved", "executed"]


def test_recovery_settles_an_intent_the_crash_left_unapplied_and_runs_it_once(world: World) -> None:
    world.replicas("healthcare", ["crashed", "crashed"])
    world.book.incidents["inc-1"] = incident("healthcare")
    engine = world.engine()

    def killed(*_: Any, **__: Any) -> Any:
        raise SystemExit("killed between the journal and git")  # what SIGKILL does at that instant

    apply = world.executor.apply
    world.executor.apply = killed  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        engine.tick()
    world.executor.apply = apply  # type: ignore[method-assign]
    assert [a.state for a in world.journal.actions()] == ["intended"] and len(world.commits()) == 1
    again = world.engine()
    again.recover()
    again.tick()
    states = sorted(a.state for a in world.journal.actions())
    assert states == ["aborted", "applied"] and len(world.commits()) == 2


def test_recovery_finds_a_change_applied_just_before_the_crash_and_does_not_repeat_it(world: World) -> None:
    world.replicas("healthcare", ["crashed", "crashed"])
    world.book.incidents["inc-1"] = incident("healthcare")
    engine = world.engine()
    settle = world.journal.settle

    def killed(*_: Any, **__: Any) -> None:
        raise SystemExit("killed between git and the journal")

    world.journal.settle = killed  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        engine.tick()
    world.journal.settle = settle  # type: ignore[method-assign]
    assert len(world.commits()) == 2
    again = world.engine()
    again.recover()
    again.tick()
    assert [a.state for a in world.journal.actions()] == ["applied"] and len(world.commits()) == 2
    assert "recovered" in world.kinds("inc-1")


def test_recovery_clears_a_stale_git_lock(world: World) -> None:
    lock = world.repo.path / ".git" / "index.lock"
    lock.write_text("")
    import os

    os.utime(lock, (0, 0))
    world.engine().recover()
    assert not lock.exists()
    assert any(d["kind"] == "recovered" and "index.lock" in d["reason"] for d in world.journal.decisions())


def test_a_hang_is_not_taken_for_saturation_while_the_probe_decides(world: World) -> None:
    """Requests pile up in flight in a hung replica as in a saturated one; the scale-out runbook waits
    its forSeconds, by which time the health probe has named the hang and the restart runbook acts."""
    inc = incident("identity", kind="saturation", source="anomaly", severity="warning")
    fresh = replace(next(iter(inc.active.values())), at=world.clock.now)  # fired just now
    inc.active = {fresh.key: fresh}
    world.book.incidents["inc-1"] = inc
    engine = world.engine()
    engine.tick()
    assert len(world.commits()) == 1 and world.journal.remediations() == []
    world.clock.now += 4
    world.replicas("identity", ["unresponsive", "unresponsive"])
    inc.active.update(incident("identity").active)
    engine.tick()
    assert world.journal.remediations()[0].runbook == "restart-unhealthy-replicas"
    assert world.commits()[0].startswith("Restart 2 replica(s) of identity")


def test_nothing_acts_on_an_incident_before_its_ranking_settles(world: World) -> None:
    world.replicas("healthcare", ["crashed", "crashed"])
    inc = incident("healthcare")
    inc.opened_at = world.clock.now - 1
    world.book.incidents["inc-1"] = inc
    engine = world.engine()
    engine.tick()
    assert world.journal.remediations() == []
    world.clock.now += SafetyPolicy().act_after_s
    engine.tick()
    assert len(world.journal.remediations()) == 1


def test_verification_asks_the_current_burn_not_the_long_window_page(world: World) -> None:
    """A 6x page remembers minutes of budget; once the anomaly cleared and the current burn is under
    1x, the service is verified even while that page still fires."""
    world.replicas("healthcare", ["crashed", "crashed"])
    inc = incident("healthcare")
    world.book.incidents["inc-1"] = inc
    engine = world.engine()
    engine.tick()
    world.replicas("healthcare", ["ready", "ready"])
    page = Signal("burn:healthcare-latency/critical/6x", "burn_rate", "healthcare", 0.0, True, "critical",
                  labels={"service": "healthcare", "kind": "slo", "opens": "true"})
    inc.active = {page.key: page}
    world.book.burns["healthcare"] = [3.0]
    engine.tick()
    world.clock.now += 5
    engine.tick()
    assert world.journal.remediations()[0].state == "verifying"  # burning now: not verified
    assert engine.status()["active"][0]["waiting_for"] == ["burn rate 3.0x, not below 1x"]  # the on-call sees why
    world.book.burns["healthcare"] = [0.2]
    engine.tick()
    world.clock.now += 5
    engine.tick()
    assert world.journal.remediations()[0].state == "verified"


def test_rollback_never_rolls_forward_to_the_release_just_rolled_away_from(world: World) -> None:
    """After a bad 1.2.0 was rolled back to 1.1.0, "the version before" is 1.2.0: an incident that
    ranks the service (rightly or not) must not bring the defect back."""
    world.repo.set_version("healthcare", "1.2.0", "deploy")
    world.repo.set_version("healthcare", "1.1.0", "undo the bad deploy")
    world.book.incidents["inc-1"] = incident("healthcare", kind="errors", source="anomaly")
    engine = world.engine()
    world.clock.now = time.time() + 10  # the deploys above were just committed
    engine.tick()
    assert world.repo.load().services["healthcare"].spec.version == "1.1.0"
    refused = [d for d in world.journal.decisions("inc-1") if d["runbook"] == "rollback-bad-deploy"]
    assert refused and "would redeploy 1.2.0" in refused[-1]["reason"], refused


def test_a_restart_while_verifying_gives_the_step_its_whole_window_again(world: World) -> None:
    world.replicas("healthcare", ["crashed", "crashed"])
    world.book.incidents["inc-1"] = incident("healthcare")
    world.engine().tick()
    [rem] = world.journal.remediations()
    assert rem.state == "verifying" and len(world.commits()) == 2
    world.clock.now += 45  # the control plane was down past the 40 s verification deadline
    again = world.engine()
    again.recover()
    world.replicas("healthcare", ["ready", "ready"])
    world.book.incidents["inc-1"].active.clear()
    again.tick()
    world.clock.now += 3.5
    again.tick()
    assert world.journal.remediations()[0].state == "verified"
    assert [a.state for a in world.journal.actions()] == ["applied"] and len(world.commits()) == 2, \
        "the next step (restart the whole service) must not run for a deadline nobody watched"
    assert any("verification of step 1 restarted" in d["reason"] for d in world.journal.decisions("inc-1"))


def test_backoff_heals_a_new_fault_minutes_later_and_doubles_for_a_repeat(world: World) -> None:
    """A crash then, minutes later, a hang on the same service: the restart runbook's back-off (not
    its 300 s cooldown) lets it heal the second fault; a third coming quickly waits twice as long."""
    text = SCALE_ON_ERRORS.replace("delta: 2", "delta: 1").replace("cooldownSeconds: 120",
                                                                   "cooldownSeconds: 300\n  backoffSeconds: 15")
    engine = world.engine(runbook(text),
                          loop_limit=10, per_service_limit=10)

    def fault(inc_id: str) -> None:
        world.book.incidents[inc_id] = incident("healthcare", kind="errors", source="anomaly", inc_id=inc_id)
        engine.tick()

    def recover(inc_id: str) -> None:
        world.replicas("healthcare", ["ready"] * world.repo.load().services["healthcare"].spec.replicas)
        world.book.incidents[inc_id].active.clear()
        engine.tick()
        world.clock.now += 3
        engine.tick()
        del world.book.incidents[inc_id]

    fault("inc-1")
    recover("inc-1")
    assert len(world.commits()) == 2  # the initial desired state and the change
    world.clock.now += 10  # 13 s after the change: inside the 15 s back-off
    fault("inc-2")
    assert len(world.commits()) == 2
    assert "cooldown 15s" in world.journal.decisions("inc-2")[-1]["reason"]
    world.clock.now += 5  # past it: the new fault is healed, not held for 300 s
    engine.tick()
    assert len(world.commits()) == 3
    recover("inc-2")
    world.clock.now += 20  # a third within 30 s of the second: two changes in the window, 30 s wait
    fault("inc-3")
    assert len(world.commits()) == 3
    assert "cooldown 30s" in world.journal.decisions("inc-3")[-1]["reason"]
    world.clock.now += 10
    engine.tick()
    assert len(world.commits()) == 4


def test_backoff_doubles_per_change_made_not_per_attempt(tmp_path: Any) -> None:
    """Two remediations in the window, but only one changed anything (the other was denied before
    its change was made): the back-off stays at its first step, 15 s, not 30 s."""
    from remediation.journal import ActionRecord, Journal, Remediation
    from remediation.safety import cooling_down

    now = [1000.0]
    journal = Journal(tmp_path / "journal.db", clock=lambda: now[0])
    for rid, changed in (("rem-1", True), ("rem-2", False)):
        journal.save_remediation(Remediation(rid, "inc", "restart", "healthcare", 0,
                                             "verified" if changed else "rejected", now[0], now[0]))
        journal.intend(ActionRecord(f"{rid}-a", rid, "inc", "restart", "0", "restart", {}, "healthcare",
                                    "intended", False, now[0]))
        journal.settle(f"{rid}-a", "applied" if changed else "refused")
        now[0] += 2
    assert journal.started_since("restart", "healthcare", 900) == 2
    assert journal.changed_by_since("restart", "healthcare", 900) == 1
    held = cooling_down(journal, "restart", "healthcare", 300, 1010.0, backoff_s=15)
    assert held is not None and "cooldown 15s" in held
    assert cooling_down(journal, "restart", "healthcare", 300, 1016.0, backoff_s=15) is None
