"""Incident grouping and state machine, with a clock the test drives: one fault's signals make one
incident, evidence alone opens none, quiet incidents resolve after the hold-down, a flapping signal
reopens the same incident, and an unrelated service gets its own."""

from __future__ import annotations

from detectors.incidents import IncidentManager, hops
from healops.events import RankedService, Signal

GRAPH = [("gw", "a"), ("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sig(service: str, metric: str = "p99", firing: bool = True, opens: bool = True, at: float = 0) -> Signal:
    return Signal(f"{metric}{{{service}}}", "anomaly", service, at, firing, "warning", metric,
                  labels={"opens": str(opens).lower()})


def test_hops_follow_edges_both_ways() -> None:
    assert hops(GRAPH, "b", 1) == {"a", "b", "c"}
    assert hops(GRAPH, "b", 2) == {"gw", "a", "b", "c", "d"}


def test_one_fault_many_signals_one_incident() -> None:
    clock = Clock()
    m = IncidentManager(graph=lambda: GRAPH, clock=clock)
    changes = m.ingest(sig("b"))
    inc = changes[0][0]
    assert [e.kind for e in changes[0][1]] == ["opened", "signal"]
    for s in (sig("a"), sig("gw"), sig("b", "errors"), sig("a", "rps", opens=False)):
        clock.now += 1
        m.ingest(s)
    assert list(m.active) == [inc.id] and sorted(inc.services) == ["a", "b", "gw"]
    assert len(inc.active) == 5


def test_evidence_alone_opens_nothing_but_joins_the_incident_that_opens() -> None:
    clock = Clock()
    m = IncidentManager(graph=lambda: GRAPH, clock=clock)
    assert m.ingest(sig("c", "silence", opens=False, at=clock.now)) == []
    clock.now += 5
    inc = m.ingest(sig("b"))[0][0]
    assert "silence{c}" in inc.evidence


def test_quiet_incident_resolves_after_hold_down_and_flapping_reopens_it() -> None:
    clock = Clock()
    m = IncidentManager(graph=lambda: GRAPH, clock=clock, hold_down_s=30, reopen_window_s=120)
    inc = m.ingest(sig("b"))[0][0]
    inc.ranking = [RankedService("b", 1.0, "own latency")]
    clock.now += 5
    m.ingest(sig("b", firing=False))
    assert inc.quiet_since == clock.now
    clock.now += 29
    assert m.tick() == [] and inc.state == "open"
    clock.now += 2
    assert [e.detail["state"] for _, es in m.tick() for e in es] == ["resolved"]
    clock.now += 60
    again = m.ingest(sig("b"))
    assert again[0][0].id == inc.id and again[0][1][0].kind == "reopened" and inc.state == "open"


def test_signal_firing_again_keeps_the_incident_open() -> None:
    clock = Clock()
    m = IncidentManager(graph=lambda: GRAPH, clock=clock, hold_down_s=30)
    inc = m.ingest(sig("b"))[0][0]
    m.ingest(sig("b", firing=False))
    clock.now += 20
    m.ingest(sig("b"))
    clock.now += 20
    assert m.tick() == [] and inc.quiet_since is None


def test_far_apart_services_get_separate_incidents() -> None:
    m = IncidentManager(graph=lambda: GRAPH, clock=Clock())
    first = m.ingest(sig("gw"))[0][0]
    second = m.ingest(sig("e"))[0][0]
    assert first.id != second.id and len(m.active) == 2


def test_mitigating_state() -> None:
    m = IncidentManager(graph=lambda: GRAPH, clock=Clock())
    inc = m.ingest(sig("b"))[0][0]
    change = m.set_state(inc.id, "mitigating", "runbook restart-crashed started")
    assert change is not None and inc.state == "mitigating"
    assert m.set_state(inc.id, "resolved", "not allowed") is None


def test_a_different_fault_after_resolution_is_a_new_incident() -> None:
    clock = Clock()
    m = IncidentManager(graph=lambda: GRAPH, clock=clock, hold_down_s=30, reopen_window_s=120)
    first = m.ingest(sig("b"))[0][0]
    m.ingest(sig("b", firing=False))
    clock.now += 31
    m.tick()
    clock.now += 10
    second = m.ingest(sig("a", "errors"))[0][0]
    assert second.id != first.id and first.state == "resolved"
