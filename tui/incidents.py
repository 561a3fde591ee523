"""Incidents: the active ones first, newest first, with the service ranked as root cause; open one
for its detail, acknowledge it from the list."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui import format as fmt
from tui.base import HealopsScreen
from tui.state import Latest

COLUMNS = [("incident", "id"), ("state", "state"), ("sev", "severity"), ("root cause", "root"),
           ("opened", "opened"), ("ack", "ack"), ("title", "title")]


def incident_cells(inc: dict[str, Any], now: float) -> list[Any]:
    ranking = inc.get("ranking") or []
    root = Text(f"{ranking[0]['service']} {ranking[0]['score']:.2f}", style="bold") if ranking else Text("—")
    sev = inc.get("severity", "")
    return [inc["id"], fmt.styled(inc.get("state", "?")), Text(sev, style="bold red" if sev == "critical" else ""),
            root, fmt.ago(inc.get("opened_at"), now), inc.get("acknowledged_by") or "",
            inc.get("title", "")[:80]]


class IncidentsScreen(HealopsScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=True), Binding("a", "acknowledge", "Ack"),
        Binding("f", "toggle_filter", "Active/all")]

    def __init__(self) -> None:
        super().__init__()
        self.only_active = False
        self._drawn: tuple[Any, ...] = ()

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        table: DataTable[Any] = DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table

    def selected(self) -> str | None:
        table = self.query_one("#incidents", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_open(self) -> None:
        incident = self.selected()
        if incident:
            self.healops.open_incident(incident)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.healops.open_incident(str(event.row_key.value))

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
        table = self.query_one("#incidents", DataTable)
        now = latest.server_now
        drawn = (self.only_active, now // 10, tuple((i["id"], i.get("state"), i.get("updated_at"), i.get("title"),
                                                      i.get("acknowledged_by"), str(i.get("ranking", [])[:1]))
                                                     for i in shown))
        if drawn == self._drawn:  # the ages are shown to the minute; nothing else changed
            return
        self._drawn = drawn
        keys = [str(k.value) for k in table.rows]
        wanted = [i["id"] for i in shown]
        if keys != wanted:
            cursor = keys[table.cursor_row] if keys and 0 <= table.cursor_row < len(keys) else None
            table.clear()
            for inc in shown:
                table.add_row(*incident_cells(inc, now), key=inc["id"])
            if cursor in wanted:
                table.move_cursor(row=wanted.index(cursor))
            return
        columns = [c.key for c in table.columns.values()]
        for inc in shown:
            for col, cell in zip(columns, incident_cells(inc, now), strict=True):
                table.update_cell(inc["id"], col, cell)
