"""The reconciler's plan: scale, roll, and never hide a crash unless restartPolicy says so."""

from __future__ import annotations

from workloads.manifest import Canary, ServiceManifest, default_manifest
from workloads.plan import Start, Stop, plan
from workloads.replica import Replica


def manifest(name: str = "ml", replicas: int = 2, **spec: object) -> ServiceManifest:
    m = default_manifest(name, replicas)
    return m.model_copy(update={"spec": m.spec.model_copy(update=spec)})


def replica(state: str = "ready", version: str = "1.1.0", generation: str = "", started: float = 0.0,
            track: str = "stable") -> Replica:
    r = Replica("ml", track, version, generation, f"ml-{started}")  # type: ignore[arg-type]
    r.state, r.started_at = state, started  # type: ignore[assignment]
    return r


def test_scale_out_starts_the_difference() -> None:
    actions = plan({"ml": manifest(replicas=3)}, [replica()])
    assert actions == [Start("ml", "stable", "1.1.0", "")] * 2


def test_scale_in_stops_crashed_first_then_newest() -> None:
    old, new, dead = replica(started=1), replica(started=2), replica("crashed", started=0)
    actions = plan({"ml": manifest(replicas=1)}, [old, new, dead])
    assert [a.replica for a in actions if isinstance(a, Stop)] == [dead, new]


def test_a_crashed_replica_keeps_its_slot() -> None:
    assert plan({"ml": manifest(replicas=2)}, [replica(), replica("crashed", started=1)]) == []


def test_version_change_rolls_new_first_then_stops_old_when_ready() -> None:
    m = manifest(replicas=1, version="1.2.0")
    old = replica(version="1.1.0")
    assert plan({"ml": m}, [old]) == [Start("ml", "stable", "1.2.0", "")]
    starting = replica("starting", version="1.2.0", started=5)
    assert plan({"ml": m}, [old, starting]) == []
    ready = replica("ready", version="1.2.0", started=5)
    [stop] = plan({"ml": m}, [old, ready])
    assert isinstance(stop, Stop) and stop.replica is old and "1.2.0" in stop.reason


def test_restart_annotation_replaces_crashed_replicas_immediately() -> None:
    base = manifest(replicas=1)
    m = base.model_copy(update={"metadata": base.metadata.model_copy(
        update={"annotations": {"healops.dev/restartedAt": "t1"}})})
    dead = replica("crashed")
    actions = plan({"ml": m}, [dead])
    assert Start("ml", "stable", "1.1.0", "t1") in actions
    assert any(isinstance(a, Stop) and a.replica is dead for a in actions)


def test_canary_track_and_removal() -> None:
    m = manifest(replicas=1, canary=Canary(version="1.2.0", replicas=1, weight=20))
    assert plan({"ml": m}, [replica()]) == [Start("ml", "canary", "1.2.0", "")]
    canary = replica(version="1.2.0", track="canary")
    [stop] = plan({"ml": manifest(replicas=1)}, [replica(), canary])
    assert isinstance(stop, Stop) and stop.replica is canary


def test_service_removed_from_desired_state_is_stopped() -> None:
    r = replica()
    assert plan({}, [r]) == [Stop(r, "service removed from desired state")]


def test_terminating_replicas_are_ignored() -> None:
    assert plan({"ml": manifest(replicas=1)}, [replica("terminating"), replica()]) == []
