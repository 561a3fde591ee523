"""A real control plane over a seeded, fixed state: for what needs the same screen twice (the TUI's
snapshot tests) or a platform bigger than this machine runs (the TUI's 50-service benchmark).

Everything is the production code: ``create_app`` over real HTTP on loopback, the incident store
and remediation journal in SQLite, the desired state in git, RED series in the collector's store
scored by the live detectors. Only the inputs are seeded, and the clock is fixed, so every answer
is the same from run to run. ``stream()`` keeps adding timeline entries and points while a
benchmark measures the UI under updates.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from collectors import names
from collectors.collector import Collector
from collectors.series_store import labels
from detectors.openslo import DEFAULT_DIR as SLO_DIR
from detectors.openslo import load_slos
from healops.config import HealopsConfig, load_config, load_or_create_tokens
from healops.controlplane.app import create_app
from healops.controlplane.detection import DetectionEngine
from healops.controlplane.gamedays import GamedayScheduler
from healops.events import Incident, RankedService, Signal, TimelineEntry
from healops.gitrepo import Author
from healops.incident_store import IncidentStore
from healops.serving import QuietServer
from remediation.journal import ActionRecord, Journal, Remediation
from workloads.catalog import SERVICES
from workloads.desired_state import DesiredStateRepo

T0 = 1_800_000_000.0  # the seeded "now" (2027-01-15 08:00 UTC)
HISTORY_S = 180


def service_names(count: int) -> list[str]:
    """The platform's services first, then made-up ones up to ``count``."""
    real = list(SERVICES)
    return real[:count] + [f"svc-{i:02d}" for i in range(len(real), count)]


def _red(i: int, t: float) -> tuple[float, float, float]:
    """Requests/s, error ratio and p99 ms of service ``i`` at ``t``: a steady, distinct shape per service."""
    phase = (t - T0) / 20.0 + i
    rps = 20.0 + 5 * i % 17 + 4.0 * math.sin(phase)
    err = 0.002 * (1 + math.sin(phase / 2) ** 2)
    p99 = 30.0 + 3 * (i % 7) + 8.0 * math.sin(phase / 3) ** 2
    return rps, err, p99


@dataclass
class SeededPlane:
    home: Path
    services: int = 9
    incidents: int = 2
    clock: list[float] = field(default_factory=lambda: [T0])  # mutable, so stream() can move time on
    port: int = 0  # 0: any free port; a restarted plane asks for its old one
    url: str = ""
    token: str = ""
    _server: QuietServer | None = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _live: tuple[Collector, DetectionEngine, list[str]] | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def now(self) -> float:
        return self.clock[0]

    def seed(self) -> HealopsConfig:
        cfg = load_config().with_(home=self.home.resolve(), host="127.0.0.1")
        cfg.run_dir.mkdir(parents=True, exist_ok=True)
        self.token = load_or_create_tokens(cfg.home).api
        marker = cfg.home / "seeded"
        if marker.exists():  # a restart: the state is there, as a real control plane would find it
            return cfg
        self._snapshot(cfg)
        self._git(cfg)
        store = IncidentStore(cfg.incident_db)
        for n in range(self.incidents):
            inc, timeline = self.incident(n)
            store.save(inc, timeline)
        store.close()
        self._journal(cfg)
        marker.write_text("seeded\n")
        return cfg

    def _snapshot(self, cfg: HealopsConfig) -> None:
        import json

        svcs: dict[str, Any] = {}
        for i, name in enumerate(service_names(self.services)):
            down = i == 2 and self.incidents > 0  # one service in trouble while incidents are open
            replicas = [{"instance": f"{name}-{k}", "state": "crashed" if down and k == 0 else "ready",
                         "port": 0, "restarts": 1 if down and k == 0 else 0, "last_exit_code": 1} for k in range(2)]
            svcs[name] = {"health": "degraded" if down else "healthy", "version": "1.1.0", "desired_replicas": 2,
                          "live_replicas": 2, "replicas": replicas}
        cfg.snapshot_file.write_text(json.dumps({"revision": "5eeded00", "services": svcs}))
        (cfg.run_dir / "loadgen.json").write_text(json.dumps(
            {"achieved_rps": 20.0, "error_ratio": 0.001, "latency_ms": {"p50": 12.0, "p99": 48.0}}))

    def _git(self, cfg: HealopsConfig) -> None:
        dates = {"GIT_AUTHOR_DATE": f"@{int(T0 - 3600)} +0000", "GIT_COMMITTER_DATE": f"@{int(T0 - 3600)} +0000"}
        saved = {k: os.environ.get(k) for k in dates}
        os.environ.update(dates)  # git reads them; the commits (and their hashes) are the same every run
        try:
            repo = DesiredStateRepo(cfg.desired_state_dir)
            repo.ensure(2, list(SERVICES))
            for k in dates:
                os.environ[k] = f"@{int(T0 - 240)} +0000"
            repo.restart("identity", "Crash loop on a replica.\n\nHealops-Incident: inc-seeded-0",
                         "2027-01-15T07:56:00Z", Author("healops", "healops@localhost"))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def incident(self, n: int) -> tuple[Incident, list[TimelineEntry]]:
        svcs = service_names(self.services)
        target = svcs[(2 + n) % len(svcs)]
        opened = T0 - 300 + 20 * n
        sig = Signal(key=f"{names.RED_ERROR_RATIO}{{service={target}}}", source="anomaly", service=target,
                     at=opened, firing=True, severity="warning", metric=names.RED_ERROR_RATIO, value=0.3,
                     baseline=0.002, score=0.97, summary=f"{names.RED_ERROR_RATIO} on {target} is 0.3 against 0.002",
                     labels={"service": target, "kind": "errors", "opens": "true"})
        ranking = [RankedService(target, 0.91, "errors rose first, 40 s before its callers"),
                   RankedService(svcs[0], 0.34, "calls the top service; errors followed")]
        spans = [{"service": svcs[0], "name": "GET /api", "start_ms": 0.0, "duration_ms": 48.0, "error": True},
                 {"service": target, "name": "POST /work", "start_ms": 6.0, "duration_ms": 37.5, "error": True}]
        inc = Incident(id=f"inc-seeded-{n}", state="open" if n % 2 == 0 else "mitigating", severity="critical",
                       opened_at=opened, updated_at=opened + 30, title=f"{target}: error ratio 150x baseline",
                       services=[target, svcs[0]], active={sig.key: sig}, evidence={sig.key: sig}, ranking=ranking,
                       examples=[{"trace_id": f"{n:02d}" * 16, "spans": spans,
                                  "logs": [{"service": target, "severity": "ERROR", "body": "upstream refused"}]}])
        timeline = [TimelineEntry(opened, "opened", {"signal": sig.to_json()}),
                    TimelineEntry(opened + 5, "ranked", {"top": [r.to_json() for r in ranking]})]
        return inc, timeline

    def _journal(self, cfg: HealopsConfig) -> None:
        journal = Journal(cfg.remediation_db, clock=self.now)
        target = service_names(self.services)[2]
        runbook, inc, rem = "restart-unhealthy-replicas", "inc-seeded-0", "rem-seeded-0"
        if self.incidents:
            journal.decide(inc, runbook, target, "matched", "crash loop on a replica")
            journal.save_remediation(Remediation(rem, inc, runbook, target, 0, "awaiting_approval", T0 - 200,
                                                 T0 - 200))
            journal.intend(ActionRecord("act-seeded-0", rem, inc, runbook, "restart", "restart", {}, target,
                                        "intended", False, T0 - 200))
        journal.close()

    # -- serving -----------------------------------------------------------------------------------
    def start(self) -> SeededPlane:
        cfg = self.seed()
        collector = Collector()
        store = IncidentStore(cfg.incident_db)
        engine = DetectionEngine(collector, store, load_slos([SLO_DIR]), cfg.snapshot_file, clock=self.now)
        svcs = service_names(self.services)
        for t in range(int(T0) - HISTORY_S, int(T0)):
            self._step(collector, engine, svcs, float(t))
        from healops.controlplane.remediation_loop import make_engine

        remediation, _session, _capacity = make_engine(cfg.with_(remediation="dry-run"), engine)
        remediation.journal.clock = self.now
        gamedays = GamedayScheduler(cfg, engine.burn.status, clock=self.now)
        app = create_app(cfg, self.token, collector, engine, remediation, gamedays, clock=self.now)
        self._server = QuietServer(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                  access_log=False, lifespan="off", timeout_graceful_shutdown=1))
        self._live = (collector, engine, svcs)
        # a game day started from the TUI ends with the plane
        self._closers = [gamedays.close, remediation.journal.close, store.close]
        server = self._server
        self._thread = threading.Thread(target=lambda: self._loop.run_until_complete(server.serve()), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not (self._server.started and self._server.servers) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            raise RuntimeError("the seeded control plane did not start")
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def _step(self, collector: Collector, engine: DetectionEngine, svcs: list[str], t: float) -> None:
        written = {}
        for i, name in enumerate(svcs):
            lb = labels(service=name)
            for metric, value in zip((names.RED_REQUESTS, names.RED_ERROR_RATIO, names.RED_P99), _red(i, t),
                                     strict=True):
                collector.store.put(metric, lb, t, value)
                written[(metric, lb)] = value
        engine.live.on_step(t, written)

    def advance(self, seconds: float = 1.0) -> None:
        """Move the seeded clock on: new points for every service and a timeline entry on each active
        incident (what a benchmark streams while it presses keys). Runs on the server's event loop,
        where the detection engine's state lives."""
        asyncio.run_coroutine_threadsafe(self._advance(seconds), self._loop).result(timeout=10)

    async def _advance(self, seconds: float) -> None:
        assert self._live is not None, "start() first"
        collector, engine, svcs = self._live
        t0 = self.clock[0]
        self.clock[0] += seconds
        for t in range(int(t0), int(self.clock[0])):
            self._step(collector, engine, svcs, float(t))
        for inc in list(engine.incidents.active.values())[:10]:
            engine.store.save(inc, [TimelineEntry(self.clock[0], "note", {"tick": self.clock[0]})])
        engine.changed.set()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        for close in self._closers:
            close()
        self._closers, self._live = [], None


@contextmanager
def seeded_plane(home: Path, services: int = 9, incidents: int = 2) -> Iterator[SeededPlane]:
    plane = SeededPlane(home, services, incidents).start()
    try:
        yield plane
    finally:
        plane.stop()


def main() -> None:
    """``python -m healops.seeded --home DIR [--services N] [--incidents N] [--tick S]``: serve a seeded
    control plane until SIGTERM; the first line on stdout is ``{"url": ..., "token": ...}``. With
    ``--tick`` the clock moves on by a second every ``S`` seconds (updates streaming)."""
    import argparse
    import json
    import signal
    import sys

    p = argparse.ArgumentParser(prog="healops.seeded")
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--services", type=int, default=9)
    p.add_argument("--incidents", type=int, default=2)
    p.add_argument("--tick", type=float, default=0.0)
    args = p.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with seeded_plane(args.home, args.services, args.incidents) as plane:
        print(json.dumps({"url": plane.url, "token": plane.token}), flush=True)
        sys.stdout.flush()
        while not stop.wait(args.tick or 3600.0):
            if args.tick:
                plane.advance(1.0)


if __name__ == "__main__":
    main()
