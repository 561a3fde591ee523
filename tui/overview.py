"""Overview: every service on one screen, its replicas, RED values now, their trend and the anomaly
score, coloured by health. Trend columns grow with the terminal: one at 80 columns, three when wide."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui import format as fmt
from tui.base import HealopsScreen
from tui.grid import Column, Grid
from tui.state import Latest

SORTS = ("platform order", "anomaly", "error ratio", "p99")
FIXED = [Column("service", "service", 13), Column("health", "health", 11), Column("ready", "ready", 6),
         Column("rps", "req/s", 7), Column("error_ratio", "errors", 6), Column("p99_ms", "p99", 6),
         Column("anomaly", "anomaly", 7)]
FIXED_WIDTH = sum(c.width + 1 for c in FIXED) + 1
TREND_LABELS = {"rps": "req/s trend", "error_ratio": "errors trend", "p99_ms": "p99 trend"}


def trend_columns(width: int) -> tuple[list[str], int]:
    """Which series get a sparkline column, and how wide, for a terminal ``width`` columns wide."""
    spare = width - FIXED_WIDTH - 2  # the scroll bar
    if spare >= 3 * 15:
        return ["rps", "error_ratio", "p99_ms"], min(30, spare // 3 - 1)
    return ["p99_ms"], max(4, min(30, spare - 1))


def sort_key(by: str, row: dict[str, Any]) -> float:
    value = {"anomaly": row.get("anomaly"), "error ratio": row.get("error_ratio"), "p99": row.get("p99_ms")}[by]
    return -(value if isinstance(value, int | float) else -1.0)


def anomaly_cell(row: dict[str, Any]) -> tuple[str, str]:
    text = fmt.anomaly_text(row.get("anomaly"), row.get("anomaly_gate"), int(row.get("firing") or 0))
    return text.plain, str(text.style)


class OverviewScreen(HealopsScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "cycle_sort", "Sort")]

    def __init__(self) -> None:
        super().__init__()
        self.sort = SORTS[0]
        self._layout: tuple[list[str], int] | None = None
        self._drawn: tuple[Any, ...] = ()

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        yield Grid(id="services")

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def on_grid_selected(self, event: Grid.Selected) -> None:
        """enter on a service: its most recent active incident, if it has one."""
        for inc in self.healops.latest.active_incidents():
            if event.key in inc.get("services", []):
                self.healops.open_incident(inc["id"])
                return
        self.notify(f"no active incident involves {event.key}")

    def show(self, latest: Latest) -> None:
        self.query_one("#summary", Static).update(self._summary(latest))
        grid = self.query_one("#services", Grid)
        layout = trend_columns(self.size.width or 80)
        drawn = (latest.overview.get("at"), self.sort, layout)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        if layout != self._layout:
            self._layout = layout
            grid.set_columns(FIXED + [Column(f"trend:{s}", TREND_LABELS[s], layout[1]) for s in layout[0]])
        services = latest.overview.get("services", {})
        order = list(services)
        if self.sort != SORTS[0]:
            order.sort(key=lambda s: sort_key(self.sort, services[s]))
        grid.set_rows([(name, self._cells(name, services[name], layout)) for name in order])

    def _cells(self, name: str, row: dict[str, Any], layout: tuple[list[str], int]) -> list[tuple[str, str]]:
        health = row.get("health", "unknown")
        colour = fmt.HEALTH_STYLE.get(health, "")
        ready = f"{row.get('ready_replicas', 0)}/{row.get('desired_replicas', 0)}"
        if row.get("restarts"):
            ready += f" ↻{row['restarts']}"
        cells = [(name, colour), (health, colour or "white"), (ready, ""), (fmt.rate(row.get("rps")), ""),
                 (fmt.ratio(row.get("error_ratio")), ""), (fmt.millis(row.get("p99_ms")), ""),
                 anomaly_cell(row)]
        series, width = layout
        trend_style = "cyan" if health == "healthy" else colour or "cyan"
        cells += [(fmt.sparkline(row.get("series", {}).get(key, []), width), trend_style) for key in series]
        return cells

    def _summary(self, latest: Latest) -> Text:
        services = latest.overview.get("services", {})
        bad = sum(1 for s in services.values() if s.get("health") not in ("healthy", None))
        active = latest.active_incidents()
        text = Text()
        text.append(f"{len(services)} services", style="bold")
        text.append(f" ({bad} unhealthy)" if bad else " (all healthy)", style="red" if bad else "green")
        text.append(" · ")
        text.append(f"{len(active)} active incident(s)", style="bold red" if active else "green")
        waiting = latest.awaiting_approval()
        if waiting:
            text.append(f" · {len(waiting)} awaiting approval", style="bold magenta")
        text.append(" · healing ")
        text.append("PAUSED" if latest.healing_paused else "on",
                    style="bold yellow reverse" if latest.healing_paused else "green")
        load = latest.overview.get("load") or {}
        if load:
            text.append(f" · load {load.get('achieved_rps', 0):.0f} rps, p99 "
                        f"{fmt.millis((load.get('latency_ms') or {}).get('p99'))}")
        text.append(f" · sort: {self.sort}", style="dim")
        return text
