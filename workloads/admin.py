"""The fault admin endpoint every service carries: token-guarded, validated, expiring."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from healops.auth import bearer_ok
from workloads.faults import FAULT_ADAPTER, FAULT_KINDS, FaultState


def _authorised(request: Request, token: str) -> bool:
    return bearer_ok(request.headers, token)


def _unauthorised() -> JSONResponse:
    return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


def admin_router(faults: FaultState, token: str) -> APIRouter:
    router = APIRouter(prefix="/admin")

    @router.post("/faults")
    async def inject(request: Request) -> JSONResponse:
        if not _authorised(request, token):
            return _unauthorised()
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        if not isinstance(body, dict) or body.get("kind") not in FAULT_KINDS:
            kind = body.get("kind") if isinstance(body, dict) else None
            return JSONResponse({"error": f"unknown fault kind {kind!r}", "kinds": list(FAULT_KINDS)},
                                status_code=400)
        try:
            spec = FAULT_ADAPTER.validate_python(body)
        except ValidationError as exc:
            details = [{"field": ".".join(str(p) for p in e["loc"][1:]), "reason": e["msg"]}
                       for e in exc.errors()]
            return JSONResponse({"error": "invalid fault", "details": details}, status_code=400)
        return JSONResponse(faults.add(spec).to_json(), status_code=201)

    @router.get("/faults")
    async def list_faults(request: Request) -> JSONResponse:
        if not _authorised(request, token):
            return _unauthorised()
        return JSONResponse({"faults": [f.to_json() for f in faults.active()]})

    @router.delete("/faults")
    async def clear_all(request: Request) -> JSONResponse:
        if not _authorised(request, token):
            return _unauthorised()
        return JSONResponse({"cleared": faults.clear()})

    @router.delete("/faults/{fault_id}")
    async def clear_one(fault_id: str, request: Request) -> JSONResponse:
        if not _authorised(request, token):
            return _unauthorised()
        removed = faults.clear(fault_id)
        if not removed:
            return JSONResponse({"error": f"no injected fault {fault_id!r}"}, status_code=404)
        return JSONResponse({"cleared": removed})

    return router
