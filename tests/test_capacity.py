"""The capacity controller on a real desired-state repository and journal, fed synthetic load: it
scales out on saturation, ahead of a rising daily pattern (river's Holt-Winters), in again only
after a quiet period and never below what a person set, and not at all on steady load."""

from __future__ import annotations

import math
from dataclasses import replace

from remediation.capacity import CAPACITY, CapacityController, CapacityPolicy, Load, desired_replicas
from remediation.gitops import GitOps
from remediation.safety import SafetyPolicy
from tests.remediation_world import World

POLICY = CapacityPolicy(step_s=10, seasonality_steps=12, horizon_steps=3, quiet_s=120, cooldown_s=30)


def controller(world: World, load: dict[str, tuple[float, float]], busy: bool = False,
               policy: CapacityPolicy = POLICY, safety: SafetyPolicy | None = None) -> CapacityController:
    gitops = GitOps(world.repo)
    return CapacityController(world.executor, world.journal, lambda: dict(load), gitops.person_replicas,
                              lambda _s: busy, policy=safety or SafetyPolicy(), capacity=policy, clock=world.clock)


def replicas(world: World, service: str = "analytics") -> int:
    return world.repo.load().services[service].spec.replicas


def run(ctl: CapacityController, world: World, steps: int) -> None:
    for _ in range(steps):
        world.clock.now += POLICY.step_s
        ctl.tick()


def test_the_replica_count_keeps_cpu_per_replica_at_the_target() -> None:
    assert desired_replicas(Load(rps=20, cpu=0.9, replicas=2), 1.0, POLICY) == 3
    assert desired_replicas(Load(rps=20, cpu=0.6, replicas=2), 1.0, POLICY) == 2
    assert desired_replicas(Load(rps=20, cpu=0.3, replicas=2), 1.5, POLICY) == 2
    assert desired_replicas(Load(rps=20, cpu=0.05, replicas=2), 1.0, POLICY) == 1


def test_steady_load_changes_nothing(world: World) -> None:
    load = {"analytics": (20.0, 0.3)}
    run(controller(world, load), world, 60)
    assert replicas(world) == 2 and len(world.commits()) == 1
    assert not world.journal.decisions(CAPACITY)


def test_saturation_scales_out_then_in_after_the_quiet_period_not_below_the_floor(world: World) -> None:
    load = {"analytics": (20.0, 0.95)}
    ctl = controller(world, load)
    run(ctl, world, 1)
    assert replicas(world) == 2  # one step of high CPU could be a replica starting
    run(ctl, world, 1)
    assert replicas(world) == 4  # ceil(2 * 0.95 / 0.6) = 4
    head = world.repo.git.log(limit=1)[0]
    assert head.author == "healops-remediation" and "Healops-Incident: capacity" in head.body
    load["analytics"] = (20.0, 0.1)  # the surge is over
    run(ctl, world, int(POLICY.quiet_s / POLICY.step_s) - 1)
    assert replicas(world) == 4  # not before the quiet period
    run(ctl, world, 2)
    assert replicas(world) == 3
    run(ctl, world, 40)
    assert replicas(world) == 2  # the floor: what the initial (person's) commit set
    kinds = [d["kind"] for d in world.journal.decisions(CAPACITY)]
    assert kinds.count("executed") == 3


def test_no_scale_in_while_an_incident_is_open_on_the_service(world: World) -> None:
    world.repo.set_replicas("analytics", 2, "person")
    load = {"analytics": (20.0, 0.95)}
    run(controller(world, load), world, 2)
    load["analytics"] = (20.0, 0.1)
    run(controller(world, load, busy=True), world, 40)
    assert replicas(world) == 4


def test_a_rising_daily_pattern_is_met_before_it_arrives(world: World) -> None:
    """Load follows a daily sine; CPU per replica follows the load. Once two seasons are learnt, the
    controller adds capacity on the rising side, before CPU per replica passes the target (it scales
    in over each trough, so every morning's ramp needs capacity again)."""
    # a 2-minute "day" makes many changes in the 10-minute rate-limit window: lift it for this test
    load: dict[str, tuple[float, float]] = {}
    ctl = controller(world, load, policy=replace(POLICY, quiet_s=30), safety=SafetyPolicy(per_service_limit=1000))
    period = POLICY.seasonality_steps
    scaled_at_cpu: list[float] = []
    for step in range(5 * period):
        rps = 30 + 25 * math.sin(2 * math.pi * step / period)
        n = replicas(world)
        cpu = 0.02 * rps * 2 / n  # 2 replicas at 30 rps run at 60 % (the target) on average
        before = n
        load["analytics"] = (rps, cpu)
        world.clock.now += POLICY.step_s
        ctl.tick()
        if replicas(world) > before and step >= 2 * period:
            scaled_at_cpu.append(cpu)
    assert scaled_at_cpu, "never scaled ahead of the pattern"
    assert min(scaled_at_cpu) < POLICY.target_cpu  # acted on the forecast, not only on saturation
