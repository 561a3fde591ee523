"""The platform: nine services, their endpoints, the work each does and whom it calls.

The catalog is data, not code, so the call graph that traces show is the one written here, and a
test can compare them. Work per request is real: CPU burnt on the event loop, awaited I/O, and
downstream HTTP calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

GATEWAY = "api-gateway"


@dataclass(frozen=True)
class Call:
    """A downstream HTTP call; ``path`` may use the incoming request's path parameters."""

    service: str
    method: str
    path: str
    flag: str | None = None  # made only while this feature flag is on (flags default to on)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    cpu_ms: float = 0.5
    io_ms: float = 1.0
    calls: tuple[Call, ...] = ()
    parallel: bool = False


@dataclass(frozen=True)
class Defect:
    """A bug shipped in a release: the fault it behaves like, for as long as that version runs."""

    kind: str
    params: Mapping[str, object] = field(default_factory=dict)
    summary: str = ""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    endpoints: tuple[Endpoint, ...]
    releases: tuple[str, ...] = ("1.0.0", "1.1.0", "1.2.0")
    stable: str = "1.1.0"
    defects: Mapping[str, Defect] = field(default_factory=dict)

    def downstreams(self) -> set[str]:
        return {c.service for e in self.endpoints for c in e.calls}


def _bad_release(kind: str, summary: str, **params: object) -> Mapping[str, Defect]:
    """Every service's 1.2.0 ships a bug, so a bad deploy and its rollback are real everywhere."""
    return MappingProxyType({"1.2.0": Defect(kind, MappingProxyType(dict(params)), summary)})


SERVICES: Mapping[str, ServiceSpec] = MappingProxyType({s.name: s for s in (
    ServiceSpec(GATEWAY, (
        Endpoint("GET", "/api/patients/{pid}", 0.3, 0, (Call("healthcare", "GET", "/patients/{pid}"),)),
        Endpoint("POST", "/api/robots/{rid}/telemetry", 0.3, 0,
                 (Call("robot-iot", "POST", "/robots/{rid}/telemetry"),)),
        Endpoint("POST", "/api/workflows", 0.3, 0, (Call("workflow", "POST", "/workflows"),)),
        Endpoint("GET", "/api/reports", 0.3, 0, (Call("analytics", "GET", "/reports"),)),
        Endpoint("POST", "/api/login", 0.3, 0, (Call("identity", "POST", "/login"),)),
        Endpoint("GET", "/api/home", 0.3, 0, (
            Call("identity", "GET", "/verify"), Call("notification", "GET", "/inbox"),
            Call("realtime", "GET", "/presence")), parallel=True),
    ), defects=_bad_release("latency", "synchronous auth cache miss on every request", ms=120)),
    ServiceSpec("identity", (
        Endpoint("POST", "/login", 3.0, 2.0),
        Endpoint("GET", "/verify", 0.5, 0.3),
    ), defects=_bad_release("memory_leak", "session cache never evicts", mb_per_s=8.0)),
    ServiceSpec("healthcare", (
        Endpoint("GET", "/patients/{pid}", 1.5, 4.0, (
            Call("identity", "GET", "/verify"),
            Call("analytics", "POST", "/events", flag="analytics_events"))),
    ), defects=_bad_release("error_rate", "null patient record on schema v2", rate=0.3)),
    ServiceSpec("robot-iot", (
        Endpoint("POST", "/robots/{rid}/telemetry", 1.0, 1.0, (
            Call("realtime", "POST", "/publish"),
            Call("analytics", "POST", "/events", flag="analytics_events")),
            parallel=True),
    ), defects=_bad_release("error_rate", "telemetry decoder rejects firmware 7", rate=0.4)),
    ServiceSpec("workflow", (
        Endpoint("POST", "/workflows", 1.0, 2.0, (
            Call("ml", "POST", "/predict"), Call("notification", "POST", "/send"))),
    ), defects=_bad_release("error_rate", "step retry storm", rate=0.25)),
    ServiceSpec("analytics", (
        Endpoint("GET", "/reports", 4.0, 3.0),
        Endpoint("POST", "/events", 0.5, 0.5),
    ), defects=_bad_release("cpu_burn", "quadratic aggregation", utilization=0.8)),
    ServiceSpec("ml", (
        Endpoint("POST", "/predict", 6.0, 0.0),
    ), defects=_bad_release("latency", "model loaded per request", ms=150)),
    ServiceSpec("realtime", (
        Endpoint("POST", "/publish", 0.3, 0.5),
        Endpoint("GET", "/presence", 0.3, 0.2),
    ), defects=_bad_release("latency", "fan-out lock contention", ms=80)),
    ServiceSpec("notification", (
        Endpoint("POST", "/send", 0.5, 3.0),
        Endpoint("GET", "/inbox", 0.5, 1.0),
    ), defects=_bad_release("error_rate", "template engine crash on locale", rate=0.35)),
)})


def call_graph() -> set[tuple[str, str]]:
    """Edges (caller, callee) of the whole platform."""
    return {(s.name, d) for s in SERVICES.values() for d in s.downstreams()}


def spec(name: str) -> ServiceSpec:
    try:
        return SERVICES[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}") from None
