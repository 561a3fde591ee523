"""Load and check runbooks: a file with an error is refused whole, with file, line and field.

Beyond the document's shape, each step's action must exist and its ``args`` must fit that action's
signature (:func:`remediation.actions.arguments_model`); a service named literally must exist. Only
``${target}`` is substituted at run time, and only into arguments that name a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from healops.documents import field_path, line_of, parse_yaml_model
from healops.errors import DocumentError, Problem
from remediation.actions import ACTIONS, SERVICE_ARGS, arguments_model
from runbooks.model import TARGET, Runbook
from workloads.catalog import SERVICES

DEFAULT_DIR = Path(__file__).resolve().parent / "library"
_PLACEHOLDER = "api-gateway"  # stands in for ${target} while the types are checked


@dataclass(frozen=True)
class LoadedRunbook:
    runbook: Runbook
    file: str


def _step_problems(rb: Runbook, text: str, source: str) -> list[Problem]:
    problems: list[Problem] = []
    for i, step in enumerate(rb.spec.steps):
        here: list[int | str] = ["spec", "steps", i]
        if step.action not in ACTIONS:
            problems.append(Problem(source, line_of(text, [*here, "action"]), field_path([*here, "action"]),
                                    f"unknown action {step.action!r}; actions: {', '.join(ACTIONS)}"))
            continue
        args = dict(step.args)
        for name in SERVICE_ARGS:
            value = args.get(name)
            if value == TARGET:
                args[name] = _PLACEHOLDER
            elif isinstance(value, str) and value not in SERVICES:
                loc: list[int | str] = [*here, "args", name]
                problems.append(Problem(source, line_of(text, loc), field_path(loc),
                                        f"unknown service {value!r}; use {TARGET} or one of {', '.join(SERVICES)}"))
        try:
            arguments_model(ACTIONS[step.action]).model_validate(args)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [*here, "args", *[p for p in err["loc"] if isinstance(p, int | str)]]
                problems.append(Problem(source, line_of(text, loc), field_path(loc), err["msg"]))
    return problems


def parse_runbook(text: str, source: str) -> Runbook:
    rb = parse_yaml_model(text, Runbook, source)
    problems = _step_problems(rb, text, source)
    if problems:
        raise DocumentError(problems)
    return rb


def runbook_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            files.append(path)
    return files


def load_runbooks(paths: list[Path]) -> list[LoadedRunbook]:
    """Every runbook under ``paths`` (files or folders), checked; all problems of all files at once."""
    loaded: list[LoadedRunbook] = []
    problems: list[Problem] = []
    files = runbook_files(paths)
    if not files:
        raise DocumentError([Problem(", ".join(map(str, paths)), None, "", "no runbook files (*.yaml) found")])
    seen: dict[str, str] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(Problem(str(path), None, "", f"cannot read: {exc.strerror}"))
            continue
        try:
            rb = parse_runbook(text, str(path))
        except DocumentError as exc:
            problems.extend(exc.problems)
            continue
        if rb.name in seen:
            problems.append(Problem(str(path), line_of(text, ["metadata", "name"]), "metadata.name",
                                    f"runbook {rb.name!r} is also defined in {seen[rb.name]}"))
            continue
        seen[rb.name] = str(path)
        loaded.append(LoadedRunbook(rb, str(path)))
    if problems:
        raise DocumentError(problems)
    return sorted(loaded, key=lambda lr: (lr.runbook.spec.priority, lr.runbook.name))
