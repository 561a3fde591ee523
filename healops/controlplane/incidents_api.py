"""Incident routes of the control-plane API: list, one with its timeline, a live stream
(server-sent events, resumable with ``Last-Event-ID``), detection and SLO status, and the
Alertmanager webhook. The caller adds the bearer-token dependency to the whole router."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from collectors.alertmanager import parse_webhook
from healops.controlplane.detection import DetectionEngine
from healops.controlplane.evidence import evidence_series
from healops.errors import DocumentError

MAX_WEBHOOK_BYTES = 4 * 1024 * 1024
KEEPALIVE_S = 15.0


class Acknowledgement(BaseModel):
    by: str = Field(min_length=1, max_length=80, pattern=r"^[\w.@ -]+$")


def incidents_router(engine: DetectionEngine) -> APIRouter:
    router = APIRouter()
    store = engine.store

    @router.get("/v1/incidents")
    def list_incidents(state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if state not in (None, "active", "open", "mitigating", "resolved"):
            raise HTTPException(400, "state must be one of active, open, mitigating, resolved")
        return [i.to_json() for i in store.incidents(state=state, limit=min(max(limit, 1), 1000))]

    @router.get("/v1/incidents/stream")
    async def stream(request: Request) -> StreamingResponse:
        try:
            since = int(request.headers.get("last-event-id") or request.query_params.get("since") or -1)
        except ValueError:
            raise HTTPException(400, "Last-Event-ID must be an integer") from None
        return StreamingResponse(_events(engine, request, since), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/v1/incidents/{incident_id}")
    def get_incident(incident_id: str) -> dict[str, Any]:
        inc = store.get(incident_id)
        if inc is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return {**inc.to_json(), "timeline": [e.to_json() for e in store.timeline(incident_id)]}

    @router.get("/v1/incidents/{incident_id}/evidence")
    def evidence(incident_id: str) -> dict[str, Any]:
        inc = engine.incidents.active.get(incident_id) or store.get(incident_id)
        if inc is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return evidence_series(inc, engine.collector.store, engine.clock())

    @router.post("/v1/incidents/{incident_id}/ack")
    def acknowledge(incident_id: str, body: Acknowledgement) -> dict[str, Any]:
        inc = engine.acknowledge(incident_id, body.by)
        if inc is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return inc.to_json()

    @router.get("/v1/detection")
    async def detection() -> dict[str, Any]:
        return engine.status()

    @router.post("/v1/alertmanager")
    async def alertmanager(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            return JSONResponse({"error": f"body over {MAX_WEBHOOK_BYTES} bytes"}, status_code=413)
        try:
            hook = parse_webhook(body)
        except DocumentError as exc:
            return JSONResponse({"error": "invalid Alertmanager webhook",
                                 "problems": [{"field": p.field, "reason": p.reason} for p in exc.problems]},
                                status_code=400)
        return JSONResponse({"accepted": len(hook.alerts), "new_signals": engine.on_alertmanager(hook)})

    return router


async def _events(engine: DetectionEngine, request: Request, since: int) -> AsyncIterator[str]:
    """Every timeline entry after ``since`` (-1: from now), as they are stored."""
    store = engine.store
    seq = store.last_seq() if since < 0 else since
    idle = 0.0
    yield ": healops incident stream\n\n"
    while not await request.is_disconnected():
        rows = store.changes_since(seq)
        for seq, incident_id, entry in rows:
            data = json.dumps({"incident": incident_id, **entry.to_json()})
            yield f"id: {seq}\nevent: {entry.kind}\ndata: {data}\n\n"
        if rows:
            idle = 0.0
            continue
        engine.changed.clear()
        try:
            await asyncio.wait_for(engine.changed.wait(), timeout=1.0)
        except TimeoutError:
            idle += 1.0
            if idle >= KEEPALIVE_S:
                idle = 0.0
                yield ": keep-alive\n\n"
