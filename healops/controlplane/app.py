"""Control-plane HTTP API.

It holds no process state of its own: the runtime publishes a snapshot, the load generator its
stats, and git the desired state; the API serves them to clients that hold the token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from collectors.collector import Collector
from healops import __version__
from healops.auth import bearer_ok
from healops.config import HealopsConfig
from healops.controlplane.detection import DetectionEngine
from healops.controlplane.gamedays import GamedayScheduler, gameday_router
from healops.controlplane.incidents_api import incidents_router
from healops.controlplane.overview import build_overview
from healops.controlplane.remediation_api import remediation_router
from healops.gitrepo import GitRepo
from remediation.engine import RemediationEngine


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def create_app(config: HealopsConfig, token: str, collector: Collector | None = None,
               engine: DetectionEngine | None = None, remediation: RemediationEngine | None = None,
               gamedays: GamedayScheduler | None = None, clock: Callable[[], float] = time.time) -> FastAPI:
    app = FastAPI(title="healops control plane", version=__version__, docs_url=None, redoc_url=None)

    def require_token(request: Request) -> None:
        if not bearer_ok(request.headers, token):
            raise HTTPException(status_code=401, detail="missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(require_token)]

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    def snapshot_with_load() -> dict[str, Any] | None:
        """The runtime's latest snapshot with the load generator's stats, or None before the first."""
        snap = _read_json(config.snapshot_file)
        if snap is not None:
            snap["load"] = _read_json(config.run_dir / "loadgen.json")
        return snap

    @app.get("/v1/status", dependencies=guarded)
    def status() -> JSONResponse:
        snap = snapshot_with_load()
        if snap is None:
            return JSONResponse({"error": "runtime has not published a snapshot yet"}, status_code=503,
                                headers={"Retry-After": "1"})
        if collector is not None:
            snap["telemetry"] = _telemetry(collector)
        return JSONResponse(snap)

    @app.get("/v1/overview", dependencies=guarded)
    def overview(points: int = 60) -> JSONResponse:
        if collector is None:
            return JSONResponse({"error": "this control plane runs no collector"}, status_code=404)
        live = engine.live if engine is not None else None
        return JSONResponse(build_overview(snapshot_with_load() or {}, collector.store, live,
                                           points=min(max(points, 1), 600), now=clock()))

    @app.get("/v1/desired-state/log", dependencies=guarded)
    def desired_log(limit: int = 50) -> list[dict[str, Any]]:
        return [vars(c) for c in GitRepo(config.desired_state_dir).log(limit=min(max(limit, 1), 500))]

    if engine is not None:
        app.include_router(incidents_router(engine), dependencies=guarded)
    if remediation is not None:
        app.include_router(remediation_router(remediation), dependencies=guarded)
    if gamedays is not None:
        app.include_router(gameday_router(gamedays), dependencies=guarded)
    return app


def _telemetry(collector: Collector) -> dict[str, Any]:
    """Latest RED values per service, from the collector's store."""
    from collectors import names

    out: dict[str, Any] = {}
    for metric in (names.RED_REQUESTS, names.RED_ERROR_RATIO, names.RED_P99):
        for name, lbls in collector.store.keys(metric):
            latest = collector.store.latest(name, lbls)
            if latest is not None:
                out.setdefault(dict(lbls)["service"], {})[metric] = latest[1]
    return {"services": out, "counts": dict(collector.counts)}
