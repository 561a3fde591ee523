"""Faults a service can be told to have: their validated shapes and the in-process state.

Every injected fault carries an expiry (``ttl_s``), so a forgotten chaos experiment heals itself.
A release defect is the same kind of fault without an expiry: it lasts as long as that version runs.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from workloads.saturation import ArrivalMeter, TokenQueue

MAX_TTL_S = 3600.0
MIN_CAPACITY_RPS = 0.2  # a replica that saw no load still serves something


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ttl_s: float = Field(gt=0, le=MAX_TTL_S, description="seconds until the fault clears itself")


class LatencyFault(_Fault):
    kind: Literal["latency"]
    ms: float = Field(ge=0, le=60_000)
    jitter_ms: float = Field(default=0, ge=0, le=60_000)
    distribution: Literal["fixed", "uniform", "exponential", "lognormal"] = "fixed"


class ErrorRateFault(_Fault):
    kind: Literal["error_rate"]
    rate: float = Field(gt=0, le=1)
    status: int = Field(default=500, ge=500, le=599)


class CpuBurnFault(_Fault):
    kind: Literal["cpu_burn"]
    utilization: float = Field(default=0.9, gt=0, le=1)


class MemoryLeakFault(_Fault):
    kind: Literal["memory_leak"]
    mb_per_s: float = Field(default=5, gt=0, le=512)
    max_mb: float = Field(default=2048, gt=0, le=16_384)


class HangFault(_Fault):
    kind: Literal["hang"]


class CrashFault(_Fault):
    kind: Literal["crash"]
    exit_code: int = Field(default=137, ge=1, le=255)
    delay_s: float = Field(default=0.1, ge=0, le=60)


class SaturationFault(_Fault):
    """Load outgrows the replica: from the moment it begins, the replica serves only 1/``overload``
    of the request rate it had just before (or ``capacity_rps`` if given) and queues the rest."""

    kind: Literal["saturation"]
    overload: float = Field(default=1.5, gt=1, le=100, description="load / capacity while it lasts")
    capacity_rps: float | None = Field(default=None, gt=0, le=100_000, description="overrides overload")
    burst_s: float = Field(default=3.0, gt=0, le=60)
    max_queue_s: float = Field(default=2.0, gt=0, le=60, description="longer waits are shed with 503")


class DependencyFailureFault(_Fault):
    kind: Literal["dependency_failure"]
    target: str = Field(min_length=1)
    mode: Literal["error", "timeout"] = "error"


FaultSpec = Annotated[
    LatencyFault | ErrorRateFault | CpuBurnFault | MemoryLeakFault | HangFault | CrashFault
    | DependencyFailureFault | SaturationFault,
    Field(discriminator="kind"),
]
FAULT_ADAPTER: TypeAdapter[FaultSpec] = TypeAdapter(FaultSpec)
FAULT_KINDS = ("latency", "error_rate", "cpu_burn", "memory_leak", "hang", "crash", "dependency_failure",
               "saturation")


@dataclass
class ActiveFault:
    id: str
    spec: FaultSpec
    started_at: float
    expires_at: float | None  # None: a release defect, present while the version runs
    source: Literal["injected", "release"] = "injected"
    queue: TokenQueue | None = None  # a saturation fault's line, sized when the fault began

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "source": self.source, "started_at": self.started_at,
                                  "expires_at": self.expires_at, **self.spec.model_dump(exclude={"ttl_s"})}
        if self.queue is not None:
            out["capacity_rps"] = round(self.queue.capacity_rps, 3)
        return out


@dataclass
class FaultState:
    """The faults of one replica, and the background effects (CPU burn, memory leak) they drive."""

    clock: Callable[[], float] = time.time
    exit: Callable[[int], None] = os._exit
    rng: random.Random = field(default_factory=random.Random)
    _faults: list[ActiveFault] = field(default_factory=list)
    _leak: list[bytearray] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    arrivals: ArrivalMeter = field(default_factory=ArrivalMeter)
    queued_s: float = 0.0  # seconds requests spent waiting for capacity, ever (a counter, like CPU throttling)
    shed: int = 0  # requests refused because the line was too long

    def add(self, spec: FaultSpec, source: Literal["injected", "release"] = "injected") -> ActiveFault:
        now = self.clock()
        expires = None if source == "release" else now + spec.ttl_s
        fault = ActiveFault(uuid.uuid4().hex[:12], spec, now, expires, source)
        if isinstance(spec, SaturationFault):
            capacity = spec.capacity_rps or max(MIN_CAPACITY_RPS, self.arrivals.rate() / spec.overload)
            fault.queue = TokenQueue(capacity, spec.burst_s, spec.max_queue_s)
        with self._lock:
            self._faults.append(fault)
        if isinstance(spec, CrashFault):
            threading.Timer(spec.delay_s, self._crash_if_active, args=(fault.id, spec.exit_code)).start()
        return fault

    def _crash_if_active(self, fault_id: str, code: int) -> None:
        if any(f.id == fault_id for f in self.active()):
            self.exit(code)

    def clear(self, fault_id: str | None = None) -> int:
        """Remove one injected fault, or all of them; release defects stay. Returns how many went."""
        with self._lock:
            keep = [f for f in self._faults
                    if f.source == "release" or (fault_id is not None and f.id != fault_id)]
            removed = len(self._faults) - len(keep)
            self._faults = keep
        return removed

    def active(self) -> list[ActiveFault]:
        now = self.clock()
        with self._lock:
            self._faults = [f for f in self._faults if f.expires_at is None or f.expires_at > now]
            return list(self._faults)

    def _of(self, kind: type[_Fault]) -> list[ActiveFault]:
        return [f for f in self.active() if isinstance(f.spec, kind)]

    # -- per-request effects -------------------------------------------------------------------
    def hanging(self) -> bool:
        return bool(self._of(HangFault))

    async def wait_while_hanging(self, poll_s: float = 0.1) -> None:
        """Accept the request but answer nothing while a hang fault lasts."""
        while self.hanging():  # noqa: ASYNC110 - a hang ends by expiry (time), so it is polled
            await asyncio.sleep(poll_s)

    def extra_latency_s(self) -> float:
        total = 0.0
        for f in self._of(LatencyFault):
            spec = f.spec
            assert isinstance(spec, LatencyFault)
            total += self._draw_ms(spec) / 1000.0
        return total

    def _draw_ms(self, spec: LatencyFault) -> float:
        if spec.distribution == "fixed":
            return spec.ms + (self.rng.uniform(-spec.jitter_ms, spec.jitter_ms) if spec.jitter_ms else 0.0)
        if spec.distribution == "uniform":
            return self.rng.uniform(max(0.0, spec.ms - spec.jitter_ms), spec.ms + spec.jitter_ms)
        if spec.distribution == "exponential":
            return self.rng.expovariate(1.0 / spec.ms) if spec.ms > 0 else 0.0
        sigma = math.log1p(spec.jitter_ms / spec.ms) if spec.ms > 0 and spec.jitter_ms > 0 else 0.25
        return spec.ms * self.rng.lognormvariate(-sigma * sigma / 2, sigma)

    def error_status(self) -> int | None:
        for f in self._of(ErrorRateFault):
            spec = f.spec
            assert isinstance(spec, ErrorRateFault)
            if self.rng.random() < spec.rate:
                return spec.status
        return None

    def saturation_wait_s(self) -> float | None:
        """How long a request arriving now queues, or None when it is shed (the line is too long)."""
        total = 0.0
        for f in self.active():
            if f.queue is not None:
                wait = f.queue.admit()
                if wait is None:
                    self.shed += 1
                    return None
                total += wait
        self.queued_s += total
        return total

    def dependency_failure(self, target: str) -> Literal["error", "timeout"] | None:
        for f in self._of(DependencyFailureFault):
            spec = f.spec
            assert isinstance(spec, DependencyFailureFault)
            if spec.target == target:
                return spec.mode
        return None

    # -- background effects ----------------------------------------------------------------------
    def cpu_utilization(self) -> float:
        utils = []
        for f in self._of(CpuBurnFault):
            assert isinstance(f.spec, CpuBurnFault)
            utils.append(f.spec.utilization)
        return min(1.0, sum(utils))

    def leak_step(self, dt_s: float) -> None:
        """Grow the leak while a leak fault lasts; let it all go when none does."""
        leaks = self._of(MemoryLeakFault)
        if not leaks:
            self._leak.clear()
            return
        cap = max(f.spec.max_mb for f in leaks if isinstance(f.spec, MemoryLeakFault))
        rate = sum(f.spec.mb_per_s for f in leaks if isinstance(f.spec, MemoryLeakFault))
        if self.leaked_mb() < cap:
            chunk = bytearray(int(rate * dt_s * 1024 * 1024))
            chunk[::4096] = b"\x01" * len(chunk[::4096])  # touch every page so it is resident
            self._leak.append(chunk)

    def leaked_mb(self) -> float:
        return sum(len(c) for c in self._leak) / (1024 * 1024)


def run_cpu_burner(state: FaultState, stop: threading.Event, slice_s: float = 0.05) -> None:
    """Spin for ``utilization`` of every slice while a CPU-burn fault lasts (holding the GIL, as real
    CPU-bound code in a Python service would)."""
    while not stop.is_set():
        util = state.cpu_utilization()
        if util <= 0:
            stop.wait(0.1)
            continue
        end = time.perf_counter() + slice_s * util
        while time.perf_counter() < end:
            pass
        stop.wait(slice_s * (1 - util))
