"""Incidents: the active ones first, newest first, with the service ranked as root cause; open one
for its detail, acknowledge it from the list."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui import format as fmt
from tui.base import HealopsScreen
from tui.grid import Cell, Column, Grid
from tui.state import Latest

COLUMNS = [Column("id", "incident", 26), Column("state", "state", 10), Column("severity", "sev", 8),
           Column("root", "root cause", 18), Column("opened", "opened", 8), Column("ack", "ack", 10),
           Column("title", "title", 60)]


def incident_cells(inc: dict[str, Any], now: float) -> list[Cell]:
    ranking = inc.get("ranking") or []
    root = (f"{ranking[0]['service']} {ranking[0]['score']:.2f}", "bold") if ranking else ("—", "")
    sev = inc.get("severity", "")
    state = inc.get("state", "?")
    return [(inc["id"], ""), (state, fmt.STATE_STYLE.get(state, "")), (sev, "bold red" if sev == "critical" else ""),
            root, (fmt.ago(inc.get("opened_at"), now), ""), (inc.get("acknowledged_by") or "", "green"),
            (inc.get("title", ""), "")]


class IncidentsScreen(HealopsScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"), Binding("a", "acknowledge", "Ack"),
        Binding("f", "toggle_filter", "Active/all")]

    def __init__(self) -> None:
        super().__init__()
        self.only_active = False
        self._drawn: tuple[Any, ...] = ()

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        grid = Grid(id="incidents")
        grid.set_columns(COLUMNS)
        yield grid

    def selected(self) -> str | None:
        return self.query_one("#incidents", Grid).cursor_key

    def action_open(self) -> None:
        incident = self.selected()
        if incident:
            self.healops.open_incident(incident)

    def on_grid_selected(self, event: Grid.Selected) -> None:
        self.healops.open_incident(event.key)

    def action_acknowledge(self) -> None:
        incident = self.selected()
        if incident:
            self.healops.acknowledge(incident)

    def action_toggle_filter(self) -> None:
        self.only_active = not self.only_active
        self.redraw()

    def show(self, latest: Latest) -> None:
        shown = sorted(latest.active_incidents() if self.only_active else latest.incidents,
                       key=lambda i: (i.get("state") == "resolved", -float(i.get("opened_at") or 0)))
        self.query_one("#summary", Static).update(Text.assemble(
            (f"{len(latest.active_incidents())} active", "bold red" if latest.active_incidents() else "green"),
            f" of {len(latest.incidents)} recent · showing {'active only' if self.only_active else 'all'} · ",
            ("enter", "bold"), " opens one"))
        now = latest.server_now
        drawn = (self.only_active, now // 10, tuple((i["id"], i.get("state"), i.get("updated_at"), i.get("title"),
                                                      i.get("acknowledged_by"), str(i.get("ranking", [])[:1]))
                                                     for i in shown))
        if drawn == self._drawn:  # the ages are shown to the ten seconds; nothing else changed
            return
        self._drawn = drawn
        self.query_one("#incidents", Grid).set_rows([(inc["id"], incident_cells(inc, now)) for inc in shown])
