"""Pure rendering helpers: numbers, ages, health colours, sparklines and trace waterfalls.

Kept apart from the widgets so they are cheap to test and the screens stay about layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from healops.status_view import HEALTH_COLOURS

BLOCKS = "▁▂▃▄▅▆▇█"
HEALTH_STYLE = HEALTH_COLOURS  # the same colours as `healops status`
DEFAULT_GATE = 0.6  # WatchRule.min_score, for a control plane that does not send its gate
STATE_STYLE = {"open": "bold red", "mitigating": "yellow", "resolved": "green", "awaiting_approval": "bold magenta",
               "pending": "yellow", "verifying": "yellow", "verified": "green", "escalated": "bold red",
               "rejected": "dim", "stopped": "dim", "applied": "green", "intended": "yellow", "refused": "red",
               "aborted": "red", "error": "bold red", "passed": "green", "failed": "bold red", "running": "yellow",
               "skipped": "dim"}


def sparkline(values: Sequence[float | None], width: int = 20) -> str:
    """The last ``width`` values as block characters scaled between their own min and max (a gap,
    ``None`` or NaN, is a space): the shape of the series, not its level."""
    tail = list(values)[-width:]
    real = [v for v in tail if v is not None and math.isfinite(v)]
    if not real:
        return " " * len(tail)
    lo, hi = min(real), max(real)
    span = hi - lo
    out = []
    for v in tail:
        if v is None or not math.isfinite(v):
            out.append(" ")
        elif span <= 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, int((v - lo) / span * len(BLOCKS)))])
    return "".join(out)


def rate(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}/s"


def ratio(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def millis(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v / 1000:.1f}s" if v >= 1000 else f"{v:.0f}ms"


def ago(t: float | None, now: float) -> str:
    """A timestamp as an on-call engineer reads it: how long ago."""
    if not t:
        return "—"
    d = max(0.0, now - t)
    if d < 60:
        return f"{d:.0f}s ago"
    if d < 3600:
        return f"{d // 60:.0f}m ago"
    if d < 86400:
        return f"{d // 3600:.0f}h{d % 3600 // 60:02.0f}m ago"
    return f"{d // 86400:.0f}d ago"


def styled(value: str, state: str | None = None) -> Text:
    return Text(value, style=STATE_STYLE.get(state or value, ""))


def anomaly_text(score: float | None, gate: float | None = None, firing: int = 0) -> Text:
    """The anomaly score (0..1, the detectors' likelihood) coloured by what the loop does with it: red
    while a watch of the service fires, yellow from the watches' score gate (surprising, but not past
    the practical floor or not for long enough), green below it. A score alone says little: a new
    all-time high by a hair scores 0.5, and p99 from 31 to 38 ms can score 0.95 and page no one."""
    if score is None:
        return Text("—", style="dim")
    style = "bold red" if firing else "yellow" if score >= (DEFAULT_GATE if gate is None else gate) else "green"
    return Text(f"{score:.2f}", style=style)


def waterfall(spans: list[dict[str, Any]], width: int = 40) -> list[Text]:
    """One line per span: service and name, then a bar placed at its start and as long as its
    duration, against the whole trace (the spans as the control plane gives them, in start order)."""
    if not spans:
        return [Text("no spans", style="dim")]
    starts = [float(s.get("start_ms", 0.0)) for s in spans]
    ends = [st + float(s.get("duration_ms", 0.0)) for st, s in zip(starts, spans, strict=True)]
    t0, total = min(starts), max(max(ends) - min(starts), 1e-6)
    label_w = min(28, max(len(f"{s['service']} {s['name']}") for s in spans))
    lines = []
    for st, en, s in zip(starts, ends, spans, strict=True):
        a = int((st - t0) / total * width)
        b = max(a + 1, math.ceil((en - t0) / total * width))
        label = f"{s['service']} {s['name']}"[:label_w].ljust(label_w)
        line = Text(label + " ")
        line.append(" " * a)
        line.append("█" * (b - a), style="red" if s.get("error") else "cyan")
        line.append(" " * (width - b) + f" {millis(float(s.get('duration_ms', 0.0)))}")
        lines.append(line)
    return lines
