"""The control plane's detection wiring without processes: replica health from a runtime snapshot,
and RED steps closed by a real collector flowing through scoring into a stored incident."""

from __future__ import annotations

import json
import random
from pathlib import Path

from collectors import names
from collectors.collector import Collector
from collectors.series_store import Labels
from detectors.openslo import DEFAULT_DIR, load_slos
from healops.controlplane.detection import DetectionEngine, episode_onset, replica_health
from healops.incident_store import IncidentStore


def test_crashed_replicas_are_a_health_signal() -> None:
    snap = {"services": {
        "ml": {"desired_replicas": 2, "replicas": [{"state": "crashed", "last_exit_code": 137},
                                                   {"state": "crashed", "last_exit_code": 137}]},
        "identity": {"desired_replicas": 2, "replicas": [{"state": "ready"}, {"state": "starting"}]}}}
    out = replica_health(snap, 5.0)
    assert list(out) == ["ml"]
    assert out["ml"].severity == "critical" and "crashed (exit 137)" in out["ml"].summary


def test_the_onset_is_the_run_of_signals_that_led_to_the_opening_not_leftovers() -> None:
    # a fault's own signals 3 and 12 s before the opening chain back; leftovers from a disturbance
    # 50 s earlier (quiet since) and signals after the opening do not move the onset
    assert episode_onset([950.0, 988.0, 997.0, 1003.0], episode=1000.0) == 988.0
    assert episode_onset([950.0, 955.0], episode=1000.0) == 1000.0
    assert episode_onset([], episode=1000.0) == 1000.0
    # a slow fault whose signals keep following each other is followed back as far as it goes
    assert episode_onset([940.0, 955.0, 970.0, 985.0], episode=1000.0) == 940.0


def test_red_steps_flow_into_a_stored_incident(tmp_path: Path) -> None:
    now = [1000.0]
    collector = Collector(clock=lambda: now[0])
    store = IncidentStore(tmp_path / "i.db")
    snapshot = tmp_path / "runtime.json"
    snapshot.write_text(json.dumps({"services": {}}))
    engine = DetectionEngine(collector, store, load_slos([DEFAULT_DIR], 120), snapshot, clock=lambda: now[0])
    rng = random.Random(0)
    svc: Labels = (("service", "identity"),)
    for step in range(120):
        bad = step >= 100
        written: dict[tuple[str, Labels], float] = {
                   (names.RED_REQUESTS, svc): 10.0, (names.RED_ERRORS, svc): 5.0 if bad else 0.0,
                   (names.RED_ERROR_RATIO, svc): 0.5 if bad else 0.0,
                   (names.RED_P50, svc): rng.gauss(10, 1)}
        for (name, lbls), v in written.items():
            collector.store.put(name, lbls, float(step), v)
        now[0] = step + 2.0
        for listener in collector.red.listeners:
            listener(float(step), written)
        engine.tick()
    stored = store.incidents(state="active")
    assert len(stored) == 1
    inc = stored[0]
    assert inc.services[0] == "identity" and inc.ranking[0].service == "identity"
    assert {s.source for s in inc.evidence.values()} >= {"anomaly", "burn_rate"}
    assert engine.status()["active_incidents"] == 1 and engine.live.scored_points > 300


def test_after_a_restart_restored_signals_clear_once_nothing_fires_them_again(tmp_path: Path) -> None:
    """Detectors' state dies with the process: a restored anomaly clears after the grace period, a
    restored health signal as soon as the runtime shows the replicas ready, so incidents can resolve."""
    from healops.controlplane.detection import RESTORED_GRACE_S
    from healops.events import Incident, Signal

    now = [5000.0]
    store = IncidentStore(tmp_path / "i.db")
    labels = {"service": "identity", "opens": "true"}
    anomaly = Signal("red.error_ratio{service=identity}", "anomaly", "identity", 4990.0, True, labels=labels)
    health = Signal("health{service=identity}", "health", "identity", 4991.0, True, "critical", labels=labels)
    store.save(Incident("inc-1", "mitigating", "critical", 4990.0, 4991.0, services=["identity"],
                        active={s.key: s for s in (anomaly, health)}, evidence={s.key: s for s in (anomaly, health)}))
    snapshot = tmp_path / "runtime.json"
    snapshot.write_text(json.dumps({"services": {"identity": {"desired_replicas": 2, "replicas": [
        {"state": "ready"}, {"state": "ready"}]}}}))
    engine = DetectionEngine(Collector(clock=lambda: now[0]), store, load_slos([DEFAULT_DIR], 120), snapshot,
                             clock=lambda: now[0])
    engine.tick()
    assert list(engine.incidents.active["inc-1"].active) == [anomaly.key]  # health: cleared at once
    now[0] += RESTORED_GRACE_S + 1
    engine.tick()
    inc = engine.incidents.active["inc-1"]
    assert not inc.active and inc.quiet_since == now[0]
