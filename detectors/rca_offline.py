"""Root-cause ranking on recorded data, for post-mortems: one CSV of metrics per service and a call
graph file, the same :func:`~detectors.rca.rank` the live loop uses.

CSV: a ``timestamp`` (or ``time``) column in unix seconds or ISO 8601, and any metric columns; the
file name (without ``.csv``) is the service. Graph: one ``caller -> callee`` per line (``#``
comments allowed), or a JSON list of ``[caller, callee]`` pairs.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from pathlib import Path

from detectors.rca import Points
from healops.errors import DocumentError, Problem

TIME_COLUMNS = ("timestamp", "time", "ts")


def parse_time(text: str) -> float:
    """Unix seconds (milliseconds when over 1e11) or ISO 8601 (UTC when no zone is given)."""
    try:
        v = float(text)
    except ValueError:
        try:
            dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text!r} is neither unix seconds nor an ISO 8601 time") from None
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    return v / 1000.0 if v > 1e11 else v


def load_metrics(folder: Path) -> dict[str, dict[str, Points]]:
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise DocumentError([Problem(str(folder), None, "", "no *.csv files (one per service)")])
    out: dict[str, dict[str, Points]] = {}
    problems: list[Problem] = []
    for f in files:
        with f.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            tcol = next((c for c in fields if c.strip().lower() in TIME_COLUMNS), None)
            if tcol is None:
                problems.append(Problem(str(f), 1, "header", f"needs a time column ({', '.join(TIME_COLUMNS)})"))
                continue
            series: dict[str, Points] = {c: [] for c in fields if c != tcol}
            for line, row in enumerate(reader, start=2):
                try:
                    t = parse_time(row[tcol])
                except ValueError as exc:
                    problems.append(Problem(str(f), line, tcol, str(exc)))
                    continue
                for c in series:
                    try:
                        v = float(row[c]) if row.get(c) not in (None, "") else math.nan
                    except ValueError:
                        problems.append(Problem(str(f), line, c, f"{row[c]!r} is not a number"))
                        continue
                    series[c].append((t, v))
        out[f.stem] = series
    if problems:
        raise DocumentError(problems[:50])
    return out


def load_graph(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            pairs = json.loads(text)
            return [(str(a), str(b)) for a, b in pairs]
        except (ValueError, TypeError) as exc:
            raise DocumentError([Problem(str(path), None, "", f"expected [[caller, callee], ...]: {exc}")]) from exc
    edges: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        caller, sep, callee = line.partition("->")
        if not sep or not caller.strip() or not callee.strip():
            problems.append(Problem(str(path), n, "edge", f"expected 'caller -> callee', got {raw.strip()!r}"))
            continue
        edges.append((caller.strip(), callee.strip()))
    if problems:
        raise DocumentError(problems)
    return edges
