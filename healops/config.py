"""Typed configuration, read from the environment once at the edge (the CLI) and passed down.

Every address defaults to loopback; every path lives under one state directory (``HEALOPS_HOME``,
default ``./.healops``) so a run is self-contained and disposable.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from healops.errors import ConfigError


@dataclass(frozen=True)
class Tokens:
    """Bearer tokens: one for the services' fault admin endpoints, one for the control-plane API."""

    admin: str
    api: str


@dataclass(frozen=True)
class HealopsConfig:
    home: Path = Path(".healops")
    host: str = "127.0.0.1"
    gateway_port: int = 8080
    control_port: int = 7070
    otlp_port: int = 4318
    otlp_endpoint_override: str | None = None
    source: str = "otlp"  # or "prometheus": read RED series from prometheus_url instead
    prometheus_url: str = ""
    load_rps: float = 20.0
    default_replicas: int = 2
    reconcile_interval_s: float = 0.5
    slo_paths: tuple[Path, ...] = ()  # OpenSLO files or folders; empty: the platform's defaults
    slo_time_scale: float = 120.0  # burn-rate windows are divided by this (1 h -> 30 s)
    slo_startup_grace_s: float = 60.0  # a service's requests count towards its SLOs from this long after it starts
    red_lateness_s: float = 1.0  # a RED step closes this long after it ends (spans arrive every 0.5 s)
    remediation: str = "on"  # "on", "dry-run" (plan and journal only) or "off"
    runbook_paths: tuple[Path, ...] = ()  # runbook files or folders; empty: the shipped library
    executor: str = "local"  # or "kubernetes"
    k8s_namespace: str = "default"
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def desired_state_dir(self) -> Path:
        return self.home / "desired-state"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def discovery_file(self) -> Path:
        return self.run_dir / "cluster.json"

    @property
    def snapshot_file(self) -> Path:
        return self.run_dir / "runtime.json"

    @property
    def incident_db(self) -> Path:
        return self.home / "incidents.db"

    @property
    def remediation_db(self) -> Path:
        return self.home / "remediation.db"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def otlp_endpoint(self) -> str:
        """Where services export: healops' own collector unless an external endpoint is configured."""
        return self.otlp_endpoint_override or f"http://{self.host}:{self.otlp_port}"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.control_port}"

    def with_(self, **changes: object) -> HealopsConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if not value > 0:
        raise ConfigError(f"{name}={env[name]!r} must be positive")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default)
    if value not in choices:
        raise ConfigError(f"{name}={value!r}: use one of {', '.join(choices)}")
    return value


def load_config(env: Mapping[str, str] | None = None) -> HealopsConfig:
    """Build the config from ``env`` (default ``os.environ``), read once."""
    env = os.environ if env is None else env
    base = HealopsConfig()
    cfg = HealopsConfig(
        home=Path(env.get("HEALOPS_HOME", str(base.home))).resolve(),
        host=env.get("HEALOPS_HOST", base.host),
        gateway_port=_int(env, "HEALOPS_GATEWAY_PORT", base.gateway_port),
        control_port=_int(env, "HEALOPS_CONTROL_PORT", base.control_port),
        otlp_port=_int(env, "HEALOPS_OTLP_PORT", base.otlp_port),
        otlp_endpoint_override=env.get("HEALOPS_OTLP_ENDPOINT") or None,
        load_rps=_float(env, "HEALOPS_LOAD_RPS", base.load_rps),
        source=_choice(env, "HEALOPS_SOURCE", base.source, ("otlp", "prometheus")),
        prometheus_url=env.get("HEALOPS_PROMETHEUS_URL", ""),
        default_replicas=_int(env, "HEALOPS_REPLICAS", base.default_replicas),
        slo_paths=tuple(Path(p) for p in env.get("HEALOPS_SLO_PATHS", "").split(os.pathsep) if p),
        slo_time_scale=_positive(env, "HEALOPS_SLO_TIME_SCALE", base.slo_time_scale),
        slo_startup_grace_s=_positive(env, "HEALOPS_SLO_STARTUP_GRACE_S", base.slo_startup_grace_s),
        red_lateness_s=_positive(env, "HEALOPS_RED_LATENESS_S", base.red_lateness_s),
        remediation=_choice(env, "HEALOPS_REMEDIATION", base.remediation, ("on", "dry-run", "off")),
        runbook_paths=tuple(Path(p) for p in env.get("HEALOPS_RUNBOOK_PATHS", "").split(os.pathsep) if p),
        executor=_choice(env, "HEALOPS_EXECUTOR", base.executor, ("local", "kubernetes")),
        k8s_namespace=env.get("HEALOPS_K8S_NAMESPACE", base.k8s_namespace),
    )
    if cfg.source == "prometheus" and not cfg.prometheus_url:
        raise ConfigError("HEALOPS_SOURCE=prometheus needs HEALOPS_PROMETHEUS_URL")
    return cfg


def load_or_create_tokens(home: Path) -> Tokens:
    """Tokens persist in ``home/tokens.json`` (mode 0600) so CLI calls can find a running platform."""
    path = home / "tokens.json"
    if path.exists():
        data = json.loads(path.read_text())
        return Tokens(admin=data["admin"], api=data["api"])
    home.mkdir(parents=True, exist_ok=True)
    tokens = Tokens(admin=secrets.token_urlsafe(24), api=secrets.token_urlsafe(24))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"admin": tokens.admin, "api": tokens.api}, fh)
    return tokens


def control_endpoint(cfg: HealopsConfig, url: str | None = None, token: str | None = None) -> tuple[str, str]:
    """Where the CLI finds the control plane and with which token: the option, else ``HEALOPS_URL`` /
    ``HEALOPS_TOKEN``, else this home's config and ``tokens.json``. One rule for every command."""
    base = url or os.environ.get("HEALOPS_URL") or cfg.control_url
    return base.rstrip("/"), token or os.environ.get("HEALOPS_TOKEN") or load_or_create_tokens(cfg.home).api


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON so readers never see a half-written file (rename is atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    tmp.replace(path)
