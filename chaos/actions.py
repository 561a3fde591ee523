"""Chaos Toolkit actions for healops: inject each fault kind into a service, deploy a bad release,
and undo all of it.

Plain functions, as Chaos Toolkit's Python provider expects (``"module": "chaos.actions"``); chaoslib
checks an experiment's arguments against these signatures when it validates the file, and each
action checks its values (fault kind and parameters, service name) before touching anything.
Faults go through the services' token-guarded admin endpoint; a release goes through a commit to
the desired-state repository, as every change on the platform does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chaos.cases import begin_case
from chaos.control import ChaosSetupError, ControlPlane, connect
from healops.config import load_config
from healops.gitrepo import Author
from workloads.catalog import SERVICES
from workloads.desired_state import DesiredStateRepo
from workloads.faults import FAULT_ADAPTER, FAULT_KINDS

CHAOS_AUTHOR = Author("healops-chaos", "chaos@localhost")
Configuration = dict[str, Any] | None


def _fault_body(kind: str, ttl_s: float, parameters: dict[str, Any] | None) -> dict[str, Any]:
    if kind not in FAULT_KINDS:
        raise ChaosSetupError(f"unknown fault kind {kind!r}; kinds: {', '.join(FAULT_KINDS)}")
    body = {"kind": kind, "ttl_s": ttl_s, **(parameters or {})}
    try:
        FAULT_ADAPTER.validate_python(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        raise ChaosSetupError(f"invalid {kind} fault: {problems}") from None
    return body


def inject_fault(service: str, kind: str, ttl_s: float = 180.0, parameters: dict[str, Any] | None = None,
                 configuration: Configuration = None) -> dict[str, Any]:
    """Give every ready replica of ``service`` the fault; it clears itself after ``ttl_s``.
    Returns the faults as the replicas report them, and when the case began."""
    body = _fault_body(kind, ttl_s, parameters)
    cp = connect(configuration)
    case = begin_case(cp, kind, service)
    faults = cp.inject(service, body)
    return {"service": service, "kind": kind, "started_at": case.score.started_at, "faults": faults}


def _repo(configuration: Configuration) -> DesiredStateRepo:
    home = Path(str((configuration or {}).get("healops_home") or load_config().home))
    repo = DesiredStateRepo(home / "desired-state")
    if not (repo.path / ".git").exists():
        raise ChaosSetupError(f"no desired-state repository at {repo.path}: a deploy needs the local runtime's "
                              "state directory (healops_home)")
    return repo


def deploy_version(service: str, version: str, configuration: Configuration = None) -> dict[str, Any]:
    """Commit ``version`` of ``service`` to the desired state, as a release pipeline would (a bad
    deploy, when that release has a defect)."""
    spec = SERVICES.get(service)
    if spec is None:
        raise ChaosSetupError(f"no service {service!r}; services: {', '.join(SERVICES)}")
    known = {spec.stable, *spec.defects}
    if version not in known:
        raise ChaosSetupError(f"{service} has no release {version!r}; releases: {', '.join(sorted(known))}")
    cp = connect(configuration)
    case = begin_case(cp, "bad_deploy", service)
    sha = _repo(configuration).set_version(service, version, f"chaos: deploy {service} {version}", CHAOS_AUTHOR)
    return {"service": service, "version": version, "commit": sha, "started_at": case.score.started_at}


def clear_faults(service: str | None = None, configuration: Configuration = None) -> dict[str, int]:
    """Clear injected faults on one service, or on every service; per service, how many went."""
    return _clear(connect(configuration), service)


def _clear(cp: ControlPlane, service: str | None) -> dict[str, int]:
    names = [service] if service else sorted(cp.services())
    return {name: cp.clear(name) for name in names}


def restore(service: str | None = None, configuration: Configuration = None) -> dict[str, Any]:
    """Undo whatever an experiment left, whatever happened: clear injected faults, put every
    service (or one) back on its stable release, and restart a service with a replica down."""
    cp = connect(configuration)
    cleared = _clear(cp, service)
    names = [service] if service else sorted(cp.services())
    repo = _repo(configuration)
    state = repo.load()
    changed: list[str] = []
    for name in names:
        stable = SERVICES[name].stable if name in SERVICES else None
        manifest = state.services.get(name)
        if manifest is None or stable is None:
            continue
        if manifest.spec.version != stable:
            repo.set_version(name, stable, f"chaos rollback: {name} back to {stable}", CHAOS_AUTHOR)
            changed.append(f"{name}: version {stable}")
        if any(r["state"] != "ready" for r in cp.replicas(name)):
            repo.restart(name, f"chaos rollback: restart {name}", datetime.now(UTC).isoformat(timespec="seconds"),
                         CHAOS_AUTHOR)
            changed.append(f"{name}: restarted")
    return {"cleared": cleared, "changed": changed}
