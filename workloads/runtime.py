"""The local runtime: converges replica processes to the desired state at git HEAD.

One loop, every ``reconcile_interval_s``: read HEAD (refusing a bad revision as a whole and keeping
the last good one), reap exited processes, restart crashed ones only where ``restartPolicy: Always``
(with back-off), enforce memory limits as an OOM kill would, apply the plan, probe health, and
publish discovery (for the services) and a snapshot (for ``healops status`` and the control plane).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import psutil

from healops.config import HealopsConfig, write_json_atomic
from healops.errors import DocumentError, GitError, RuntimeStateError
from healops.processes import stop_all
from workloads.catalog import GATEWAY
from workloads.desired_state import DesiredState, DesiredStateRepo
from workloads.discovery import Cluster, Endpoint, ServiceRoute
from workloads.downstream import NO_ANSWER, plain_session
from workloads.plan import Start, plan
from workloads.replica import Replica, SpawnSettings, spawn

TERMINATE_GRACE_S = 5.0
DRAIN_S = 1.0  # out of discovery before SIGTERM: callers re-read discovery every 0.25 s
UNRESPONSIVE_AFTER = 3
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=1.0)
MAX_BACKOFF_S = 30.0
HEAD_RECHECK_S = 5.0  # ask git even if no ref file changed, in case a change escaped the mtime test


@dataclass
class RuntimeEvent:
    at: float
    kind: str
    service: str
    instance: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return vars(self)


@dataclass
class Runtime:
    config: HealopsConfig
    repo: DesiredStateRepo
    admin_token: str
    components: dict[str, int] = field(default_factory=dict)
    replicas: list[Replica] = field(default_factory=list)
    desired: DesiredState | None = None
    desired_error: str = ""
    events: deque[RuntimeEvent] = field(default_factory=lambda: deque(maxlen=200))
    _seen_head: str | None = None
    _last_cluster: dict[str, Any] | None = None
    _last_probe: float = 0.0
    _refs_seen: tuple[int, ...] = ()
    _refs_checked_at: float = 0.0

    @property
    def settings(self) -> SpawnSettings:
        c = self.config
        return SpawnSettings(c.host, c.gateway_port, c.discovery_file, c.otlp_endpoint, c.log_dir,
                             self.admin_token, dict(c.extra_env))

    def _event(self, kind: str, service: str, instance: str = "", detail: str = "") -> None:
        ev = RuntimeEvent(time.time(), kind, service, instance, detail)
        self.events.append(ev)
        with contextlib.suppress(OSError), (self.config.run_dir / "events.jsonl").open("a") as fh:
            fh.write(json.dumps(ev.to_json()) + "\n")

    # -- desired state -----------------------------------------------------------------------------
    def read_desired(self) -> None:
        refs = self.repo.git.refs_fingerprint()
        if refs == self._refs_seen and time.monotonic() - self._refs_checked_at < HEAD_RECHECK_S:
            return
        self._refs_seen, self._refs_checked_at = refs, time.monotonic()
        head = self.repo.git.head()
        if head is None or head == self._seen_head:
            return
        self._seen_head = head
        try:
            self.desired = self.repo.load(head)
            self.desired_error = ""
            self._event("revision_applied", "", detail=head)
        except (DocumentError, GitError, RuntimeStateError) as exc:
            self.desired_error = f"revision {head[:8]} refused: {exc}"
            kept = self.desired.revision[:8] if self.desired else "none"
            self._event("revision_refused", "", detail=f"{exc} (keeping {kept})")

    def note_component_exit(self, name: str, code: int | None) -> None:
        self._event("component_exited", name, detail=f"exit code {code}; restarting it")

    # -- processes ---------------------------------------------------------------------------------
    def _new_instance(self, service: str) -> str:
        return f"{service}-{secrets.token_hex(3)}"

    def start(self, action: Start) -> Replica:
        r = Replica(action.service, action.track, action.version, action.generation,
                    self._new_instance(action.service))
        spawn(r, self.settings, public=action.service == GATEWAY)
        self.replicas.append(r)
        self._event("started", r.service, r.instance, f"{r.version} pid {r.pid} port {r.port}")
        return r

    def stop(self, replica: Replica, reason: str) -> None:
        """Drain, then terminate: the replica leaves discovery now and gets SIGTERM after ``DRAIN_S``
        (as a Kubernetes preStop delay does), so callers do not hit a closing socket."""
        replica.state = "terminating"
        drain = DRAIN_S if replica.alive else 0.0
        replica.signal_at = time.monotonic() + drain
        replica.terminate_at = replica.signal_at + TERMINATE_GRACE_S
        self._event("stopping", replica.service, replica.instance, reason)

    def reap(self) -> None:
        """Notice exits: finished terminations go away; anything else is a crash, kept visible."""
        now = time.time()
        keep = []
        for r in self.replicas:
            exited = r.proc is not None and r.proc.poll() is not None
            if r.state == "terminating":
                if exited:
                    self._event("stopped", r.service, r.instance)
                    continue
                self._signal_when_due(r)
            elif exited and r.state != "crashed":
                assert r.proc is not None
                r.last_exit_code = r.proc.returncode
                r.last_exit_reason = r.last_exit_reason or f"exited with code {r.proc.returncode}"
                r.state = "crashed"
                self._event("crashed", r.service, r.instance, r.last_exit_reason)
                if self._restart_policy(r) == "Always":
                    r.restart_due_at = now + min(MAX_BACKOFF_S, 2.0 ** r.restarts)
            elif r.state == "crashed" and r.restart_due_at is not None and now >= r.restart_due_at:
                r.restarts += 1
                spawn(r, self.settings, public=r.service == GATEWAY)
                r.last_exit_reason = ""
                self._event("restarted", r.service, r.instance, f"restart #{r.restarts} pid {r.pid}")
            keep.append(r)
        self.replicas = keep

    @staticmethod
    def _signal_when_due(r: Replica) -> None:
        if r.proc is None:
            return
        now = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            if r.terminate_at is not None and now > r.terminate_at:
                r.proc.kill()
            elif r.signal_at is not None and now >= r.signal_at:
                r.proc.send_signal(signal.SIGTERM)
                r.signal_at = None

    def _restart_policy(self, r: Replica) -> str:
        m = self.desired.services.get(r.service) if self.desired else None
        return m.spec.restart_policy if m else "Never"

    def enforce_memory(self) -> None:
        for r in self.replicas:
            if not r.alive or r.state == "terminating" or r.pid is None:
                continue
            try:
                r.rss_bytes = psutil.Process(r.pid).memory_info().rss
            except psutil.Error:
                continue
            m = self.desired.services.get(r.service) if self.desired else None
            if m is not None and r.rss_bytes > m.memory_limit_bytes and r.proc is not None:
                limit = m.spec.resources.limits.memory
                r.last_exit_reason = f"OOMKilled: rss {r.rss_bytes >> 20} MiB > limit {limit}"
                r.proc.kill()

    async def probe(self, client: aiohttp.ClientSession) -> None:
        targets = [r for r in self.replicas if r.alive and r.state in ("starting", "ready", "unresponsive")]

        async def one(r: Replica) -> None:
            try:
                async with client.get(f"{r.url}/healthz", timeout=PROBE_TIMEOUT) as resp:
                    ok = resp.status == 200
            except NO_ANSWER:
                ok = False
            if r.state == "terminating" or not r.alive:
                return
            if ok:
                if r.ready_at is None:
                    r.ready_at = time.time()
                    self._event("ready", r.service, r.instance, f"after {r.ready_at - r.started_at:.1f}s")
                elif r.state == "unresponsive":
                    self._event("responsive", r.service, r.instance)
                r.state, r.probe_failures = "ready", 0
            elif r.ready_at is not None:
                r.probe_failures += 1
                if r.probe_failures >= UNRESPONSIVE_AFTER and r.state != "unresponsive":
                    r.state = "unresponsive"
                    self._event("unresponsive", r.service, r.instance, "health probe failing")

        await asyncio.gather(*(one(r) for r in targets))

    # -- publishing --------------------------------------------------------------------------------
    def cluster(self) -> Cluster:
        services: dict[str, ServiceRoute] = {}
        gateway = None
        if self.desired is not None:
            for name, m in self.desired.services.items():
                eps = tuple(Endpoint(r.url, r.instance, r.version, r.track) for r in self.replicas
                            if r.service == name and r.alive and r.ready_at is not None
                            and r.state != "terminating")
                weight = m.spec.canary.weight if m.spec.canary else 0
                services[name] = ServiceRoute(eps, weight, dict(m.spec.feature_flags))
                if m.spec.gateway is not None:
                    gateway = m.spec.gateway
        return Cluster(self.desired.revision if self.desired else "", services, gateway)

    def publish(self) -> None:
        doc = self.cluster().to_json()
        if doc != self._last_cluster:
            write_json_atomic(self.config.discovery_file, doc)
            self._last_cluster = doc
        write_json_atomic(self.config.snapshot_file, self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        services: dict[str, Any] = {}
        desired = self.desired.services if self.desired else {}
        for name in sorted(set(desired) | {r.service for r in self.replicas}):
            m = desired.get(name)
            mine = [r for r in self.replicas if r.service == name]
            services[name] = {
                "desired_replicas": (m.spec.replicas + (m.spec.canary.replicas if m.spec.canary else 0))
                if m else 0,
                "live_replicas": sum(1 for r in mine if r.state == "ready"),
                "version": m.spec.version if m else None,
                "canary": m.spec.canary.model_dump(mode="json") if m and m.spec.canary else None,
                "restart_policy": m.spec.restart_policy if m else None,
                "health": _health(m.spec.replicas if m else 0, mine),
                "replicas": [r.to_json() for r in mine],
            }
        return {
            "updated_at": time.time(),
            "revision": self.desired.revision if self.desired else None,
            "desired_error": self.desired_error,
            "gateway_url": self.config.gateway_url,
            "components": self.components,
            "services": services,
            "events": [e.to_json() for e in list(self.events)[-50:]],
        }

    # -- the loop ----------------------------------------------------------------------------------
    async def step(self, client: aiohttp.ClientSession) -> None:
        self.read_desired()
        self.reap()
        self.enforce_memory()
        if self.desired is not None:
            for action in plan(self.desired.services, self.replicas):
                if isinstance(action, Start):
                    self.start(action)
                else:
                    self.stop(action.replica, action.reason)
        if time.monotonic() - self._last_probe >= 1.0 or any(r.state == "starting" for r in self.replicas):
            self._last_probe = time.monotonic()
            await self.probe(client)
        self.publish()

    async def run(self, stop: asyncio.Event) -> None:
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        # aiohttp for the probes: a quarter of httpx's CPU a request, and there is one a replica a second.
        async with plain_session() as client:
            while not stop.is_set():
                await self.step(client)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.reconcile_interval_s)

    def shutdown(self) -> None:
        procs = [r.proc for r in self.replicas if r.proc is not None]
        stop_all(procs, grace_s=TERMINATE_GRACE_S)
        for r in self.replicas:
            r.state = "terminating"
        self.replicas = []
        with contextlib.suppress(OSError):
            self.publish()


def _health(desired: int, replicas: list[Replica]) -> str:
    ready = sum(1 for r in replicas if r.state == "ready")
    if any(r.state in ("crashed", "unresponsive") for r in replicas):
        return "degraded" if ready else "down"
    if ready >= desired:
        return "healthy"
    return "progressing" if any(r.state == "starting" for r in replicas) else "degraded"
