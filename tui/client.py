"""The TUI's only source of truth: the control-plane HTTP API and its incident event stream.

Every call is short and bounded; a control plane that cannot be reached raises :class:`Unreachable`
(the app shows a banner and keeps retrying), one that answers with an error raises
:class:`ApiError` carrying the status and the body's reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(5.0, connect=2.0)
STREAM_TIMEOUT = httpx.Timeout(5.0, connect=2.0, read=40.0)  # the server sends a keep-alive every 15 s


class Unreachable(Exception):
    """No answer from the control plane (refused, timed out, reset)."""


class ApiError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"control plane answered {status}: {reason}")
        self.status, self.reason = status, reason


def _reason(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or body)[:300]
    return str(body)[:300]


@dataclass
class SseEvent:
    id: int
    data: dict[str, Any]


class ControlPlaneClient:
    def __init__(self, url: str, token: str, operator: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.operator = operator or os.environ.get("USER") or "operator"
        self._http = httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {token}"},
                                       timeout=TIMEOUT, transport=transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
                    params: dict[str, Any] | None = None) -> Any:
        try:
            resp = await self._http.request(method, path, json=body, params=params)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.url}: {exc or type(exc).__name__}") from exc
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, _reason(resp))
        return resp.json()

    async def get(self, path: str, **params: Any) -> Any:
        return await self._call("GET", path, params=params or None)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._call("POST", path, body=body)

    # -- what the screens read ---------------------------------------------------------------------
    async def overview(self, points: int = 60) -> dict[str, Any]:
        result: dict[str, Any] = await self.get("/v1/overview", points=points)
        return result

    async def incidents(self, limit: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.get("/v1/incidents", limit=limit)
        return result

    async def incident(self, incident_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.get(f"/v1/incidents/{incident_id}")
        return result

    async def evidence(self, incident_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.get(f"/v1/incidents/{incident_id}/evidence")
        return result

    async def remediation(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.get("/v1/remediation")
        return result

    # -- what the operator does --------------------------------------------------------------------
    async def acknowledge(self, incident_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.post(f"/v1/incidents/{incident_id}/ack", {"by": self.operator})
        return result

    async def decide(self, remediation_id: str, approve: bool) -> dict[str, Any]:
        verb = "approve" if approve else "reject"
        result: dict[str, Any] = await self.post(f"/v1/remediation/{remediation_id}/{verb}", {"by": self.operator})
        return result

    async def kill_switch(self, on: bool) -> dict[str, Any]:
        result: dict[str, Any] = await self.post("/v1/remediation/kill-switch", {"on": on, "by": self.operator})
        return result

    # -- the incident stream -----------------------------------------------------------------------
    async def events(self, since: int = -1) -> AsyncIterator[SseEvent]:
        """Timeline entries as the control plane stores them (server-sent events), from ``since``."""
        headers = {"Last-Event-ID": str(since)} if since >= 0 else {}
        try:
            async with self._http.stream("GET", "/v1/incidents/stream", headers=headers,
                                         timeout=STREAM_TIMEOUT) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    raise ApiError(resp.status_code, _reason(resp))
                event_id, data = -1, ""
                async for line in resp.aiter_lines():
                    if line.startswith("id:"):
                        event_id = int(line[3:].strip() or -1)
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif not line and data:
                        yield SseEvent(event_id, json.loads(data))
                        data = ""
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.url}: {exc or type(exc).__name__}") from exc
