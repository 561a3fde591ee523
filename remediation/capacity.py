"""Capacity: scale out on saturation, ahead of a rising daily pattern, and back in after a quiet
period, through the same rails (rate limits, cooldown, bounds, kill switch, journal) as runbooks.

HPA-style: the desired replica count keeps mean CPU per replica at ``target_cpu``; the load that CPU
will carry is forecast ``horizon_steps`` ahead by river's Holt-Winters on the service's request
rate, so a rising pattern is met before it arrives (a replica starts in seconds; the forecast looks
a minute ahead). It never scales below the count a person last set in git (the floor), and scales
in one replica at a time, only after ``quiet_s`` of wanting fewer and with no incident on the service.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from remediation.actions import ActionContext, ActionRefused
from remediation.changes import Executor, Intent
from remediation.journal import ActionRecord, Journal
from remediation.journaled import run_journaled
from remediation.safety import SafetyPolicy, rate_limited

CAPACITY = "capacity"  # the runbook and incident name capacity decisions are journaled under


@dataclass(frozen=True)
class CapacityPolicy:
    step_s: float = 10.0  # one observation per service per step
    target_cpu: float = 0.6  # mean CPU per replica (1.0 = one core) the count is sized for
    seasonality_steps: int = 60  # the daily pattern in steps (the load generator's 600 s period)
    horizon_steps: int = 6  # how far ahead to meet the load
    max_step_out: int = 2  # replicas added at once
    out_after_steps: int = 2  # wanting more this many steps in a row (a starting replica's CPU spike is one)
    quiet_s: float = 600.0  # wanting fewer replicas this long before one goes
    cooldown_s: float = 120.0  # between two capacity changes of one service


@dataclass(frozen=True)
class Load:
    """One service now: request rate, mean CPU per ready replica, replicas."""

    rps: float
    cpu: float
    replicas: int


@dataclass
class _Service:
    model: Any  # river.time_series.HoltWinters
    history: deque[float]  # the last season and a bit: "the same time yesterday"
    seen: int = 0
    fewer_since: float | None = None
    more_steps: int = 0  # consecutive steps that wanted more replicas

    def learn(self, rps: float) -> None:
        self.model.learn_one(rps)
        self.history.append(rps)
        self.seen += 1


def forecast_factor(st: _Service, rps: float, horizon: int, policy: CapacityPolicy) -> float:
    """How much more load than now the next ``horizon`` steps bring at their peak (>= 1): the higher
    of Holt-Winters' forecast and the same steps one season ago (a seasonal-naive guard for when the
    smoother lags the pattern). 1 until two seasons are learnt, or when the rate is too low to say."""
    m = policy.seasonality_steps
    if st.seen < 2 * m or rps < 1.0:
        return 1.0
    peak = max(st.model.forecast(horizon=horizon))
    last_season = list(st.history)[-m: -m + horizon] or [0.0]
    peak = max(peak if math.isfinite(peak) else 0.0, *last_season)
    return max(1.0, peak / rps)


def desired_replicas(load: Load, factor: float, policy: CapacityPolicy) -> int:
    return max(1, math.ceil(load.replicas * load.cpu * factor / policy.target_cpu - 1e-9))


@dataclass
class CapacityController:
    executor: Executor
    journal: Journal
    loads: Callable[[], dict[str, tuple[float, float]]]  # service -> (requests/s, mean CPU per replica)
    floor: Callable[[str], int]  # the replicas a person last set for the service
    busy: Callable[[str], bool]  # an incident is active on the service: leave it to the runbooks
    policy: SafetyPolicy = field(default_factory=SafetyPolicy)
    capacity: CapacityPolicy = field(default_factory=CapacityPolicy)
    clock: Callable[[], float] = time.time
    _services: dict[str, _Service] = field(default_factory=dict)
    _skipped: dict[str, str] = field(default_factory=dict)  # the last skip journaled per service
    _last_step: float = 0.0

    def _state(self, service: str) -> _Service:
        if service not in self._services:
            from river.time_series import HoltWinters

            model = HoltWinters(alpha=0.3, beta=0.05, gamma=0.3,  # type: ignore[no-untyped-call]
                                seasonality=self.capacity.seasonality_steps)
            self._services[service] = _Service(model, deque(maxlen=2 * self.capacity.seasonality_steps))
        return self._services[service]

    def tick(self) -> None:
        now = self.clock()
        if now - self._last_step < self.capacity.step_s:
            return
        self._last_step = now
        for service, (rps, cpu) in sorted(self.loads().items()):
            st = self._state(service)
            st.learn(rps)
            load = Load(rps, cpu, self.executor.view(service).desired_replicas)
            if load.replicas == 0:
                continue
            cap = self.capacity
            want = desired_replicas(load, forecast_factor(st, rps, cap.horizon_steps, cap), cap)
            # scale in only if the load will not come back within the quiet period either
            quiet_steps = max(cap.horizon_steps, math.ceil(cap.quiet_s / cap.step_s))
            enough = desired_replicas(load, forecast_factor(st, rps, quiet_steps, cap), cap)
            self._decide(service, load, want, max(want, enough), st, now)

    def _decide(self, service: str, load: Load, want: int, enough: int, st: _Service, now: float) -> None:
        st.more_steps = st.more_steps + 1 if want > load.replicas else 0
        if want > load.replicas:
            st.fewer_since = None
            if st.more_steps < self.capacity.out_after_steps:
                return
            self._scale(service, min(want - load.replicas, self.capacity.max_step_out),
                        f"CPU {load.cpu:.0%} per replica at {load.rps:.1f} rps needs {want} replicas "
                        f"(target {self.capacity.target_cpu:.0%}, "
                        f"forecast {self.capacity.horizon_steps} steps ahead)", now)
            return
        if enough >= load.replicas or load.replicas <= self.floor(service) or self.busy(service):
            st.fewer_since = None
            return
        st.fewer_since = st.fewer_since or now
        if now - st.fewer_since >= self.capacity.quiet_s:
            st.fewer_since = None
            self._scale(service, -1, f"{enough} replicas would do for {self.capacity.quiet_s:g}s; "
                        f"floor {self.floor(service)}", now)

    def _scale(self, service: str, delta: int, why: str, now: float) -> None:
        last = self.journal.last_applied(service, CAPACITY)
        blocked = rate_limited(self.policy, self.journal, service, now)
        if blocked is None and last is not None and now - last < self.capacity.cooldown_s:
            blocked = f"capacity changed {service} {now - last:.0f}s ago (cooldown {self.capacity.cooldown_s:g}s)"
        step = "scale-out" if delta > 0 else "scale-in"
        if blocked is not None:
            reason = f"{step}: {blocked.split(' ')[0]} {blocked.split('(')[-1]}"  # same rule, same words
            if self._skipped.get(service) != reason:
                self._skipped[service] = reason
                self.journal.decide(CAPACITY, CAPACITY, service, "skipped", f"{step}: {blocked}")
            return
        self._skipped.pop(service, None)
        intent = Intent(time.strftime("cap-%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(3), CAPACITY,
                        CAPACITY, step, f"Capacity for {service}: {why}.")
        args = {"service": service, "delta": delta}
        record = ActionRecord(intent.action_id, CAPACITY, CAPACITY, CAPACITY, step, "scale", args, service,
                              "intended", self.policy.dry_run, now)
        try:
            applied = run_journaled(self.journal, record, ActionContext(self.executor, intent, self.policy.limits),
                                    args, self.policy.dry_run)
        except ActionRefused as exc:
            self.journal.decide(CAPACITY, CAPACITY, service, "refused", f"{step}: {exc}")
            return
        self.journal.decide(CAPACITY, CAPACITY, service, "executed", f"{applied.summary}: {why}", ref=applied.ref,
                            dry_run=applied.dry_run)
