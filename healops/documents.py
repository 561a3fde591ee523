"""Load YAML documents into pydantic models, reporting errors by file, line and field.

Runbooks, manifests, experiments and SLO files are all validated documents; this is the one place
that turns a pydantic ``ValidationError`` into :class:`~healops.errors.Problem` rows with line numbers
taken from the YAML node tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from healops.errors import DocumentError, Problem

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _locate(node: yaml.Node | None, loc: Sequence[int | str]) -> tuple[int | None, list[int | str]]:
    """Follow ``loc`` through the YAML node tree: the 1-based line of the deepest match, and the parts
    of ``loc`` that are really in the document (pydantic adds union tags, e.g. a model's name)."""
    if node is None:
        return None, list(loc)
    line = node.start_mark.line + 1
    matched: list[int | str] = []
    for i, part in enumerate(loc):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            if isinstance(part, str) and part[:1].isupper():
                continue  # a union tag, not a key: look for the next part at the same place
            return line, matched + list(loc[i:])
        node = child
        matched.append(part)
        line = node.start_mark.line + 1
    return line, matched


def _field(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _not_yaml(exc: yaml.YAMLError, source: str) -> DocumentError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    return DocumentError([Problem(source, line, "", f"not valid YAML: {exc}")])


def _problems(node: yaml.Node | None, exc: ValidationError, source: str) -> list[Problem]:
    """One :class:`Problem` per validation error, located in the document's node tree."""
    problems = []
    for err in exc.errors():
        line, path = _locate(node, [p for p in err["loc"] if isinstance(p, int | str)])
        problems.append(Problem(source, line, _field(path), err["msg"]))
    return problems


def parse_yaml_model(text: str, model: type[M], source: str) -> M:
    """Validate YAML ``text`` as ``model``; raise :class:`DocumentError` naming ``source``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _not_yaml(exc, source) from exc
    if not isinstance(data, dict):
        raise DocumentError([Problem(source, 1, "", "expected a mapping at the top level")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DocumentError(_problems(node, exc, source)) from exc


def parse_yaml_documents(text: str, adapter: TypeAdapter[T], source: str) -> list[T]:
    """Validate every document of a multi-document YAML stream (``---`` separated) with ``adapter``;
    report all problems of all documents at once, each with its line in the file."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise _not_yaml(exc, source) from exc
    out: list[T] = []
    problems: list[Problem] = []
    for node, data in zip(nodes, docs, strict=True):
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(source, node.start_mark.line + 1, "", "expected a mapping"))
            continue
        try:
            out.append(adapter.validate_python(data))
        except ValidationError as exc:
            problems.extend(_problems(node, exc, source))
    if problems:
        raise DocumentError(problems)
    return out


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Read and validate one YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from exc
    return parse_yaml_model(text, model, str(path))


def line_of(text: str, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the field at ``loc`` in YAML ``text`` (or of its deepest present parent):
    for checks made after the model validated, which still owe the reader a line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    return _locate(node, loc)[0]


def field_path(loc: Sequence[int | str]) -> str:
    """``("spec", "steps", 0, "args")`` -> ``spec.steps[0].args``."""
    return _field(loc)
