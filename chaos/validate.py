"""Check a Chaos Toolkit experiment file and say where it is wrong: file, line and field.

chaoslib validates an experiment as a whole and names no location; this walks the file activity by
activity with chaoslib's own checks (so what passes here passes ``chaos validate``), then adds the
checks chaoslib cannot make: a healops fault's kind and parameters, a service named literally.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaoslib.activity import ensure_activity_is_valid
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.hypothesis import ensure_hypothesis_tolerance_is_valid
from pydantic import ValidationError

from healops.documents import field_path, line_of
from healops.errors import Problem
from workloads.catalog import SERVICES
from workloads.faults import FAULT_ADAPTER, FAULT_KINDS

REQUIRED = ("title", "description", "method")
SECTIONS: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("steady-state-hypothesis", "probes"), True), (("method",), False), (("rollbacks",), False))


def _is_template(value: object) -> bool:
    return isinstance(value, str) and "${" in value


def _healops_problems(activity: dict[str, Any], here: list[int | str], say: Any) -> None:
    """Values a healops activity would refuse at run time, caught while the file is checked."""
    provider = activity.get("provider") or {}
    if not str(provider.get("module", "")).startswith("chaos."):
        return
    args = provider.get("arguments") or {}
    at: list[int | str] = [*here, "provider", "arguments"]
    service = args.get("service")
    if isinstance(service, str) and not _is_template(service) and service not in SERVICES:
        say([*at, "service"], f"unknown service {service!r}; services: {', '.join(SERVICES)}")
    if provider.get("func") != "inject_fault":
        return
    kind = args.get("kind")
    if _is_template(kind):
        return
    if kind not in FAULT_KINDS:
        say([*at, "kind"], f"unknown fault kind {kind!r}; kinds: {', '.join(FAULT_KINDS)}")
        return
    given = args.get("parameters") or {}
    templated = {k for k, v in given.items() if _is_template(v)}
    if _is_template(args.get("ttl_s")):
        templated.add("ttl_s")
    params = {k: v for k, v in given.items() if k not in templated}
    body = {"kind": kind, "ttl_s": args.get("ttl_s", 180.0), **params}
    try:
        FAULT_ADAPTER.validate_python({**body, "ttl_s": 1.0} if "ttl_s" in templated else body)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][1]) if len(err["loc"]) > 1 else "parameters"
            if name in templated:
                continue  # filled in at run time (--var); the action checks it then
            where = [*at, "ttl_s"] if name == "ttl_s" else [*at, "parameters", name]
            say(where, err["msg"])


def experiment_problems(path: Path) -> list[Problem]:
    """Everything wrong with the experiment at ``path``; empty when Chaos Toolkit would run it."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [Problem(source, None, "", f"cannot read: {exc.strerror}")]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return [Problem(source, exc.lineno, "", f"not valid JSON: {exc.msg}")]
    if not isinstance(doc, dict):
        return [Problem(source, 1, "", "expected a JSON object at the top level")]
    problems: list[Problem] = []

    def say(loc: Sequence[int | str], reason: str) -> None:
        problems.append(Problem(source, line_of(text, loc), field_path(loc), reason))

    for key in REQUIRED:
        if not doc.get(key) and not (key == "method" and key in doc):
            say([key], f"an experiment needs a {key}")
    chaos_log = logging.getLogger("chaostoolkit")
    level = chaos_log.level
    chaos_log.setLevel(logging.CRITICAL)  # chaoslib logs each failure too; the Problem rows say it once
    try:
        for section, is_hypothesis in SECTIONS:
            node: Any = doc
            for part in section:
                node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                continue
            if not isinstance(node, list):
                say(list(section), "expected a list of activities")
                continue
            for i, activity in enumerate(node):
                here: list[int | str] = [*section, i]
                try:
                    ensure_activity_is_valid(activity)
                    if is_hypothesis:
                        if "tolerance" not in activity:
                            say(here, "a hypothesis probe needs a tolerance")
                        else:
                            ensure_hypothesis_tolerance_is_valid(activity["tolerance"])
                except ChaosException as exc:
                    say(here, str(exc))
                    continue
                if isinstance(activity, dict):
                    _healops_problems(activity, here, say)
        if not problems:
            try:
                ensure_experiment_is_valid(doc)
            except ChaosException as exc:  # what the walk above does not cover (configuration, controls)
                say([], str(exc))
    finally:
        chaos_log.setLevel(level)
    return problems
