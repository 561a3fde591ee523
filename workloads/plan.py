"""What the reconciler must do to bring running replicas to the desired state: a pure function.

Rules that matter at 3 a.m.:
- a crashed replica keeps its slot and is *not* replaced unless the manifest's ``restartPolicy``
  says ``Always`` (the runtime must not hide crashes; healing is the runbooks' job);
- a version or restart-annotation change rolls: new replicas start first, outdated ones stop only
  once the new ones are all ready; replicas named in the replace annotation are replaced the same
  way (a crashed one stops at once), which is how one replica is restarted through git.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workloads.manifest import ServiceManifest
from workloads.replica import Replica, Track


@dataclass(frozen=True)
class Start:
    service: str
    track: Track
    version: str
    generation: str


@dataclass(frozen=True)
class Stop:
    replica: Replica
    reason: str


Action = Start | Stop
_STOP_ORDER = {"crashed": 0, "unresponsive": 1, "starting": 2, "ready": 3, "terminating": 4}


def desired_groups(m: ServiceManifest) -> dict[Track, tuple[str, int]]:
    groups: dict[Track, tuple[str, int]] = {"stable": (m.spec.version, m.spec.replicas)}
    if m.spec.canary is not None:
        groups["canary"] = (m.spec.canary.version, m.spec.canary.replicas)
    return groups


def plan(desired: Mapping[str, ServiceManifest], replicas: Iterable[Replica]) -> list[Action]:
    actions: list[Action] = []
    running = [r for r in replicas if r.state != "terminating"]
    for r in running:
        m = desired.get(r.service)
        if m is None:
            actions.append(Stop(r, "service removed from desired state"))
        elif r.track not in desired_groups(m):
            actions.append(Stop(r, f"{r.track} track removed"))
    for name, m in desired.items():
        for track, (version, count) in desired_groups(m).items():
            mine = [r for r in running if r.service == name and r.track == track]
            current = [r for r in mine if r.version == version and r.generation == m.restart_generation
                       and r.instance not in m.replace_instances]
            outdated = [r for r in mine if r not in current]
            actions += [Start(name, track, version, m.restart_generation)] * max(0, count - len(current))
            if len(current) > count:
                extras = sorted(current, key=lambda r: (_STOP_ORDER[r.state], -r.started_at))
                actions += [Stop(r, f"scaled to {count}") for r in extras[: len(current) - count]]
            ready = sum(1 for r in current if r.state == "ready")
            for r in outdated:
                if r.state == "crashed" or ready >= count:
                    why = "restart requested" if r.version == version else f"replaced by {version}"
                    if r.instance in m.replace_instances:
                        why = "replacement requested"
                    actions.append(Stop(r, why))
    return actions
