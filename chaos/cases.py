"""The faults this process injected, by service, so a later probe of the same experiment can
score what its action started (Chaos Toolkit passes nothing from one activity to the next, but it
runs them all in one process)."""

from __future__ import annotations

import threading

from chaos.control import ChaosSetupError, ControlPlane
from chaos.scoring import CaseWatch

_CASES: dict[str, CaseWatch] = {}
_LOCK = threading.Lock()


def begin_case(cp: ControlPlane, kind: str, service: str) -> CaseWatch:
    """Start watching a fault on ``service``; call just before injecting it."""
    watch = CaseWatch.begin(cp, kind, service)
    with _LOCK:
        _CASES[service] = watch
    return watch


def case_of(service: str) -> CaseWatch:
    with _LOCK:
        watch = _CASES.get(service)
    if watch is None:
        raise ChaosSetupError(f"no fault was injected into {service} by this experiment run; "
                              "put chaos.actions.inject_fault or deploy_version before this probe")
    return watch


def has_cases() -> bool:
    """This process injected a fault already (the experiment's method has begun)."""
    with _LOCK:
        return bool(_CASES)
