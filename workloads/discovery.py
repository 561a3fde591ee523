"""Service discovery for the local runtime: one JSON file the runtime rewrites atomically.

It plays the part of Kubernetes Endpoints plus a ConfigMap: where each service's live replicas
listen, the feature flags, canary weights and the gateway's policy from the desired state.
Services poll its modification time, so a flag flip or a scale-out needs no restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from workloads.manifest import GatewayPolicy


@dataclass(frozen=True)
class Endpoint:
    url: str
    instance: str
    version: str
    track: Literal["stable", "canary"]


@dataclass(frozen=True)
class ServiceRoute:
    endpoints: tuple[Endpoint, ...] = ()
    canary_weight: int = 0
    flags: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Cluster:
    revision: str = ""
    services: dict[str, ServiceRoute] = field(default_factory=dict)
    gateway: GatewayPolicy | None = None  # validated once here, not on every request

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "gateway": self.gateway.model_dump(by_alias=True, mode="json") if self.gateway else None,
            "services": {
                name: {"canaryWeight": r.canary_weight, "flags": r.flags,
                       "endpoints": [vars(e) for e in r.endpoints]}
                for name, r in self.services.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cluster:
        services = {
            name: ServiceRoute(
                endpoints=tuple(Endpoint(**e) for e in s.get("endpoints", [])),
                canary_weight=int(s.get("canaryWeight", 0)),
                flags=dict(s.get("flags", {})),
            )
            for name, s in data.get("services", {}).items()
        }
        raw_gateway = data.get("gateway")
        gateway = GatewayPolicy.model_validate(raw_gateway) if raw_gateway is not None else None
        return cls(str(data.get("revision", "")), services, gateway)


class DiscoveryWatcher:
    """Keeps the latest :class:`Cluster` from ``path``; a torn or missing file keeps the last one."""

    def __init__(self, path: Path, interval_s: float = 0.25) -> None:
        self.path = path
        self.interval_s = interval_s
        self.cluster = Cluster()
        self._mtime_ns = -1

    def refresh(self) -> bool:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime == self._mtime_ns:
            return False
        try:
            self.cluster = Cluster.from_json(json.loads(self.path.read_text()))
        except (ValueError, TypeError, KeyError, OSError):
            return False
        self._mtime_ns = mtime
        return True

    async def run(self) -> None:
        while True:
            with contextlib.suppress(OSError):
                self.refresh()
            await asyncio.sleep(self.interval_s)
