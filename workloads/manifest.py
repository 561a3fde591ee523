"""The desired state of one service: a small YAML manifest, validated against the catalog.

Shaped like a Kubernetes Deployment (``apiVersion``/``kind``/``metadata``/``spec``) so a later
renderer can turn it into one; fields the local runtime cannot enforce (CPU limits) are carried
for that renderer and documented as such.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workloads.catalog import GATEWAY, SERVICES

RESTARTED_AT = "healops.dev/restartedAt"
REPLACE_INSTANCES = "healops.dev/replaceInstances"  # comma-separated replicas to replace (like deleting pods)
_MEM = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$")
_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m)?$")
_UNITS = {None: 1, "K": 1000, "M": 1000**2, "G": 1000**3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def memory_bytes(quantity: str) -> int:
    """Parse a Kubernetes memory quantity (``512Mi``, ``1G``)."""
    m = _MEM.match(quantity)
    if not m:
        raise ValueError(f"{quantity!r} is not a memory quantity like 512Mi or 1Gi")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Limits(_Doc):
    cpu: str = "1"
    memory: str = "512Mi"

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str) -> str:
        memory_bytes(v)
        return v

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, v: str) -> str:
        if not _CPU.match(v):
            raise ValueError(f"{v!r} is not a CPU quantity like 500m or 1")
        return v


class Resources(_Doc):
    limits: Limits = Limits()


class Canary(_Doc):
    version: str
    replicas: int = Field(default=1, ge=1, le=20)
    weight: int = Field(default=10, ge=0, le=100, description="percent of calls sent to the canary")


class CircuitBreaker(_Doc):
    failure_ratio: float = Field(default=0.5, gt=0, le=1, alias="failureRatio")
    min_requests: int = Field(default=20, ge=1, alias="minRequests")
    window_seconds: float = Field(default=10, gt=0, alias="windowSeconds")
    open_seconds: float = Field(default=5, gt=0, alias="openSeconds")
    force_open: bool = Field(default=False, alias="forceOpen")


class GatewayPolicy(_Doc):
    rate_limits: dict[str, float] = Field(default_factory=dict, alias="rateLimits",
                                          description="route -> requests per second")
    circuit_breakers: dict[str, CircuitBreaker] = Field(default_factory=dict, alias="circuitBreakers")

    @field_validator("rate_limits")
    @classmethod
    def _routes(cls, v: dict[str, float]) -> dict[str, float]:
        routes = {e.path for e in SERVICES[GATEWAY].endpoints}
        for route, rps in v.items():
            if route not in routes:
                raise ValueError(f"unknown route {route!r}; routes: {', '.join(sorted(routes))}")
            if rps <= 0:
                raise ValueError(f"rate limit for {route!r} must be > 0")
        return v

    @field_validator("circuit_breakers")
    @classmethod
    def _downstreams(cls, v: dict[str, CircuitBreaker]) -> dict[str, CircuitBreaker]:
        known = SERVICES[GATEWAY].downstreams()
        for name in v:
            if name not in known:
                raise ValueError(f"{name!r} is not a downstream of the gateway ({', '.join(sorted(known))})")
        return v


class Metadata(_Doc):
    name: str
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in SERVICES:
            raise ValueError(f"unknown service {v!r}; known: {', '.join(SERVICES)}")
        return v


class Spec(_Doc):
    replicas: int = Field(ge=0, le=20)
    version: str
    restart_policy: Literal["Always", "Never"] = Field(default="Never", alias="restartPolicy")
    resources: Resources = Resources()
    feature_flags: dict[str, bool] = Field(default_factory=dict, alias="featureFlags")
    canary: Canary | None = None
    gateway: GatewayPolicy | None = None


class ServiceManifest(_Doc):
    api_version: Literal["healops.dev/v1"] = Field(default="healops.dev/v1", alias="apiVersion")
    kind: Literal["Service"] = "Service"
    metadata: Metadata
    spec: Spec

    @model_validator(mode="after")
    def _against_catalog(self) -> ServiceManifest:
        svc = SERVICES[self.metadata.name]
        if self.spec.version not in svc.releases:
            raise ValueError(f"spec.version {self.spec.version!r} is not a release of {svc.name} "
                             f"({', '.join(svc.releases)})")
        if self.spec.canary and self.spec.canary.version not in svc.releases:
            raise ValueError(f"spec.canary.version {self.spec.canary.version!r} is not a release of "
                             f"{svc.name} ({', '.join(svc.releases)})")
        if self.spec.gateway is not None and svc.name != GATEWAY:
            raise ValueError(f"spec.gateway is only valid for {GATEWAY}")
        return self

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def restart_generation(self) -> str:
        return self.metadata.annotations.get(RESTARTED_AT, "")

    @property
    def replace_instances(self) -> frozenset[str]:
        return frozenset(i for i in self.metadata.annotations.get(REPLACE_INSTANCES, "").split(",") if i)

    @property
    def memory_limit_bytes(self) -> int:
        return memory_bytes(self.spec.resources.limits.memory)


def default_manifest(name: str, replicas: int) -> ServiceManifest:
    gateway = None
    if name == GATEWAY:
        gateway = GatewayPolicy(
            rate_limits={e.path: 500.0 for e in SERVICES[GATEWAY].endpoints},
            circuit_breakers={d: CircuitBreaker() for d in sorted(SERVICES[GATEWAY].downstreams())},
        )
    return ServiceManifest(
        metadata=Metadata(name=name),
        spec=Spec(replicas=replicas, version=SERVICES[name].stable, gateway=gateway),
    )
