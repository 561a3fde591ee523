"""The remediation actions: plain typed functions a runbook step names.

Each takes an :class:`ActionContext` (the executor, the intent, the limits) and keyword arguments
only; :func:`arguments_model` turns a signature into a pydantic model, so a runbook's ``args`` are
checked against it when the runbook loads. Each decides *what* to change from the executor's view
of the service, refuses what breaks a limit (blast radius, replica bounds) and with ``dry_run``
returns the plan without touching anything. Arguments are typed values passed to typed changes:
no text from an incident or a label ever becomes a command line.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_type_hints

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, create_model

from healops.errors import HealopsError
from remediation.changes import (
    Applied,
    Executor,
    Intent,
    Restart,
    Scale,
    SetBreaker,
    SetFlag,
    SetRateLimit,
    SetVersion,
)
from workloads.catalog import GATEWAY, SERVICES


class ActionRefused(HealopsError):
    """An action would break a safety limit or cannot apply to the service as it is now."""


@dataclass(frozen=True)
class Limits:
    max_restart_share: float = 0.5  # of a service's ready replicas taken down at once
    min_replicas: int = 1
    max_replicas: int = 6


@dataclass(frozen=True)
class ActionContext:
    executor: Executor
    intent: Intent
    limits: Limits = Limits()


def _known(service: str) -> str:
    if service not in SERVICES:
        raise ActionRefused(f"unknown service {service!r}")
    return service


def restart(ctx: ActionContext, *, service: str, scope: Literal["service", "unhealthy"] = "service",
            dry_run: bool = False) -> Applied:
    """Restart every replica (rolling: replacements start before the old ones stop) or only the
    crashed and unresponsive ones. Healthy replicas taken down at once are bounded by the limits."""
    view = ctx.executor.view(_known(service))
    if scope == "unhealthy":
        if not view.unhealthy:
            raise ActionRefused(f"{service} has no crashed or unresponsive replica to restart")
        return ctx.executor.apply(ctx.intent, Restart(service, view.unhealthy), dry_run)
    return ctx.executor.apply(ctx.intent, Restart(service), dry_run)


def scale(ctx: ActionContext, *, service: str, delta: Annotated[int, Field(ge=-10, le=10)] = 1,
          dry_run: bool = False) -> Applied:
    """Add (or with a negative ``delta`` remove) replicas, within the replica bounds."""
    view = ctx.executor.view(_known(service))
    target = min(ctx.limits.max_replicas, max(ctx.limits.min_replicas, view.desired_replicas + delta))
    if target == view.desired_replicas:
        raise ActionRefused(f"{service} is at its bound ({view.desired_replicas} replicas, "
                            f"limits {ctx.limits.min_replicas}..{ctx.limits.max_replicas})")
    if delta < 0 and view.ready_replicas - (view.desired_replicas - target) < ctx.limits.min_replicas:
        raise ActionRefused(f"scaling {service} in would leave fewer than {ctx.limits.min_replicas} ready")
    return ctx.executor.apply(ctx.intent, Scale(service, target), dry_run)


def rollback(ctx: ActionContext, *, service: str, dry_run: bool = False) -> Applied:
    """Go back to the version that ran before the current one. Never forward: when the last change
    already went down a version (a rollback by a person, a pipeline or healops), "the version before"
    is the one rolled away from, and redeploying it would bring its defect back."""
    view = ctx.executor.view(_known(service))
    if view.previous_version is None or view.previous_version == view.version:
        raise ActionRefused(f"{service} has no earlier version to roll back to")
    if _newer(view.previous_version, view.version):
        raise ActionRefused(f"{service}'s last change went down from {view.previous_version} to {view.version} "
                            f"(a rollback): rolling back would redeploy {view.previous_version}")
    return ctx.executor.apply(ctx.intent, SetVersion(service, view.previous_version), dry_run)


def _newer(a: str, b: str) -> bool:
    """``a`` is a later release than ``b`` (PEP 440 / semver-like); False when either is not a version."""
    try:
        return Version(a) > Version(b)
    except InvalidVersion:
        return False


def set_flag(ctx: ActionContext, *, service: str, flag: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")],
             enabled: bool, dry_run: bool = False) -> Applied:
    """Turn a feature flag on or off (flags that are not set are on)."""
    view = ctx.executor.view(_known(service))
    if view.flags.get(flag, True) == enabled:
        raise ActionRefused(f"{flag} is already {'on' if enabled else 'off'} on {service}")
    return ctx.executor.apply(ctx.intent, SetFlag(service, flag, enabled), dry_run)


def circuit_breaker(ctx: ActionContext, *, downstream: str, open: bool = True, dry_run: bool = False) -> Applied:
    """Open (or close) the gateway's breaker to a downstream: fail fast instead of queueing."""
    if downstream not in SERVICES[GATEWAY].downstreams():
        raise ActionRefused(f"{downstream!r} is not a downstream of the gateway")
    return ctx.executor.apply(ctx.intent, SetBreaker(downstream, open), dry_run)


def shed_load(ctx: ActionContext, *, route: str, rps: Annotated[float, Field(gt=0, le=10_000)],
              dry_run: bool = False) -> Applied:
    """Rate-limit one gateway route (the rest answers 429 with Retry-After)."""
    if route not in {e.path for e in SERVICES[GATEWAY].endpoints}:
        raise ActionRefused(f"{route!r} is not a gateway route")
    return ctx.executor.apply(ctx.intent, SetRateLimit(route, rps), dry_run)


Action = Callable[..., Applied]
ACTIONS: dict[str, Action] = {f.__name__: f for f in (restart, scale, rollback, set_flag, circuit_breaker,
                                                      shed_load)}
SERVICE_ARGS = ("service", "downstream")  # arguments that name a service (a ``${target}`` may fill them)


def arguments_model(action: Action) -> type[BaseModel]:
    """A pydantic model of the action's keyword arguments (``dry_run`` and the context excluded),
    built from its signature: the one definition of what a runbook step may pass."""
    hints = get_type_hints(action, include_extras=True)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(action).parameters.items():
        if param.kind is not inspect.Parameter.KEYWORD_ONLY or name == "dry_run":
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (hints[name], default)
    model: type[BaseModel] = create_model(
        f"{action.__name__}_args", __config__=ConfigDict(extra="forbid", strict=False), **fields)
    return model


def call(name: str, ctx: ActionContext, args: dict[str, Any], dry_run: bool) -> Applied:
    """Validate ``args`` against the action's signature and run it."""
    action = ACTIONS[name]
    checked = arguments_model(action).model_validate(args)
    values = {k: getattr(checked, k) for k in type(checked).model_fields}
    if any(isinstance(v, float) and not math.isfinite(v) for v in values.values()):
        raise ActionRefused("arguments must be finite numbers")
    return action(ctx, **values, dry_run=dry_run)
