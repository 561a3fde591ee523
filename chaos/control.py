"""One HTTP client for what chaos needs from a running healops: the control-plane API (status,
incidents, SLOs, remediations, desired-state history) and the services' fault admin endpoints.

Chaos Toolkit hands every activity a ``configuration`` mapping; :func:`connect` reads the keys
below from it, falling back to the same environment and state directory the ``healops`` CLI uses,
so an experiment runs unchanged against ``healops up`` on this machine.

- ``healops_url``: control-plane base URL (default ``HEALOPS_URL``, else the config's control URL)
- ``healops_token`` / ``healops_admin_token``: bearer tokens (default: ``HEALOPS_HOME/tokens.json``)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from healops.config import load_config


class ChaosSetupError(RuntimeError):
    """healops cannot be reached or named as configured: raised before anything is injected."""


def _tokens(home: str) -> dict[str, str]:
    path = Path(home) / "tokens.json"
    try:
        data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChaosSetupError(f"no healops tokens at {path} ({exc}); is `healops up` running with this "
                              "HEALOPS_HOME, or pass healops_token and healops_admin_token") from exc
    return data


@dataclass
class ControlPlane:
    url: str
    token: str
    admin_token: str
    timeout_s: float = 10.0
    http: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self.http = httpx.Client(timeout=self.timeout_s)

    # -- control-plane API -------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        try:
            resp = self.http.get(f"{self.url}{path}", params=params or None,
                                 headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            raise ChaosSetupError(f"healops control plane at {self.url} did not answer: {exc}") from exc
        resp.raise_for_status()
        return resp.json()

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = self.get("/v1/status")
        return data

    def services(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.status().get("services", {})
        return services

    def replicas(self, service: str) -> list[dict[str, Any]]:
        svc = self.services().get(service)
        if svc is None:
            raise ChaosSetupError(f"no service {service!r} on this platform; services: "
                                  f"{', '.join(sorted(self.services()))}")
        replicas: list[dict[str, Any]] = svc.get("replicas", [])
        return replicas

    def incidents(self, limit: int = 200) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.get("/v1/incidents", limit=limit)
        return data

    def detection(self) -> dict[str, Any]:
        data: dict[str, Any] = self.get("/v1/detection")
        return data

    def actions(self, limit: int = 1000) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.get("/v1/remediation/actions", limit=limit)
        return data

    def actions_since(self, t: float) -> list[dict[str, Any]]:
        return [a for a in self.actions() if a["state"] == "applied" and (a["applied_at"] or 0) >= t]

    def journal(self, limit: int = 1000) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.get("/v1/remediation/journal", limit=limit)
        return data

    def remediation(self) -> dict[str, Any]:
        data: dict[str, Any] = self.get("/v1/remediation")
        return data

    def desired_log(self, limit: int = 200) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.get("/v1/desired-state/log", limit=limit)
        return data

    def commit_names(self, incident_id: str) -> bool:
        """A desired-state commit carries the ``Healops-Incident`` trailer of this incident."""
        trailer = f"Healops-Incident: {incident_id}"
        return any(trailer in (c.get("body") or "") for c in self.desired_log())

    # -- the services' fault admin endpoints ---------------------------------------------------------
    def _admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def inject(self, service: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The fault on every ready replica of ``service``; the faults as the replicas report them."""
        ready = [r for r in self.replicas(service) if r["state"] == "ready"]
        if not ready:
            raise ChaosSetupError(f"{service} has no ready replica to inject into")
        out = []
        for r in ready:
            resp = self.http.post(f"http://127.0.0.1:{r['port']}/admin/faults", json=dict(body),
                                  headers=self._admin())
            if resp.status_code >= 400:
                raise ChaosSetupError(f"{service} ({r['instance']}) refused the fault: {resp.text}")
            out.append({"instance": r["instance"], **resp.json()})
        return out

    def clear(self, service: str) -> int:
        """Clear the injected faults of every ready replica; a hung or dying one's faults expire."""
        cleared = 0
        for r in self.replicas(service):
            if r["state"] != "ready":
                continue
            try:
                resp = self.http.delete(f"http://127.0.0.1:{r['port']}/admin/faults", headers=self._admin(),
                                        timeout=2.0)
                cleared += int(resp.json().get("cleared", 0)) if resp.status_code == 200 else 0
            except (httpx.HTTPError, ValueError):
                continue
        return cleared

    def wait(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def connect(configuration: Mapping[str, Any] | None = None) -> ControlPlane:
    """The control plane named by a Chaos Toolkit ``configuration`` (or the environment)."""
    conf = dict(configuration or {})
    cfg = load_config()
    home = str(conf.get("healops_home") or cfg.home)
    url = str(conf.get("healops_url") or os.environ.get("HEALOPS_URL") or cfg.control_url)
    token = conf.get("healops_token") or os.environ.get("HEALOPS_TOKEN")
    admin = conf.get("healops_admin_token") or os.environ.get("HEALOPS_ADMIN_TOKEN")
    if not token or not admin:
        stored = _tokens(home)
        token, admin = token or stored["api"], admin or stored["admin"]
    return ControlPlane(url, str(token), str(admin))
