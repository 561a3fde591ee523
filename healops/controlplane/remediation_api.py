"""Remediation routes of the control-plane API: status, the journal, approvals and the kill switch.
The caller adds the bearer-token dependency; who approved is recorded as the caller says (the TUI
sends the operator's login name), next to the decision it unblocked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from remediation.engine import RemediationEngine


class Decision(BaseModel):
    by: str = Field(min_length=1, max_length=80, pattern=r"^[\w.@ -]+$")


class KillSwitch(Decision):
    on: bool


def remediation_router(engine: RemediationEngine) -> APIRouter:
    router = APIRouter(prefix="/v1/remediation")

    @router.get("")
    def status() -> dict[str, Any]:
        return engine.status()

    @router.get("/journal")
    def journal(incident: str | None = None, since: int = 0, limit: int = 200) -> list[dict[str, Any]]:
        return engine.journal.decisions(incident, since_seq=max(since, 0), limit=min(max(limit, 1), 1000))

    @router.get("/actions")
    def actions(incident: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return [a.to_json() for a in engine.journal.actions(limit=min(max(limit, 1), 1000), incident_id=incident)]

    @router.get("/remediations")
    def remediations(incident: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; a gated one carries the decision recorded for it (until the engine acts on it)."""
        rows = engine.journal.remediations(limit=min(max(limit, 1), 1000), incident_id=incident)
        return [{**r.to_json(), "approval": engine.approval(r.id) if r.state == "awaiting_approval" else None}
                for r in rows]

    @router.post("/{remediation_id}/approve")
    def approve(remediation_id: str, body: Decision) -> dict[str, Any]:
        return _decide(engine, remediation_id, True, body.by)

    @router.post("/{remediation_id}/reject")
    def reject(remediation_id: str, body: Decision) -> dict[str, Any]:
        return _decide(engine, remediation_id, False, body.by)

    @router.post("/kill-switch")
    def kill_switch(body: KillSwitch) -> dict[str, Any]:
        engine.set_kill_switch(body.on, body.by)
        return engine.status()

    return router


def _decide(engine: RemediationEngine, remediation_id: str, approve: bool, by: str) -> dict[str, Any]:
    try:
        return engine.decide_approval(remediation_id, approve, by).to_json()
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
