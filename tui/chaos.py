"""Chaos: the experiment library and the game days; run one against a service, and watch the run's
scorecard fill in as each experiment ends. Runs are the control plane's (a child process per run,
one at a time, recorded in its SQLite); the TUI only asks and reads."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, OptionList, Static

from tui import format as fmt
from tui.base import LoadingScreen
from tui.client import ApiError, Unreachable
from tui.state import Latest


def scorecard_cells(e: dict[str, Any]) -> list[Any]:
    root = "yes" if e.get("root_cause_first") else "no (" + ", ".join(e.get("ranking") or []) + ")"
    verdict = Text("pass", style="green") if e.get("passed") else Text(
        "FAIL: " + "; ".join(e.get("reasons") or []), style="bold red")
    return [e.get("experiment", ""), e.get("target", ""), fmt.millis(_ms(e.get("detected_s"))), root,
            fmt.millis(_ms(e.get("recovered_s"))), verdict]


def _ms(seconds: Any) -> float | None:
    return float(seconds) * 1000 if isinstance(seconds, int | float) else None


class TargetPicker(ModalScreen[str | None]):
    """Which service an experiment hits: chosen from the services the control plane reports."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, experiment: str, services: list[str]) -> None:
        super().__init__()
        self.experiment, self.services = experiment, services

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(f"Run {self.experiment} against which service? (enter runs it, escape cancels)")
            yield OptionList(*self.services, id="targets")
            yield Button("Cancel", id="cancel")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.services[event.option_index])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)


class ChaosScreen(LoadingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "run_experiment", "Run experiment"), Binding("g", "run_gameday", "Run game day")]

    def __init__(self) -> None:
        super().__init__()
        self.library: dict[str, Any] = {}
        self.gamedays: dict[str, Any] = {}
        self.run: dict[str, Any] = {}

    def body(self) -> ComposeResult:
        with Horizontal(id="chaos-top"):
            exps: DataTable[Any] = DataTable(id="experiments", cursor_type="row")
            exps.add_columns("experiment", "kind", "what it does")
            yield exps
            gds: DataTable[Any] = DataTable(id="gamedays", cursor_type="row")
            gds.add_columns("game day", "exps", "schedule")
            yield gds
        runs: DataTable[Any] = DataTable(id="runs", cursor_type="row")
        runs.add_columns("run", "game day", "outcome", "started", "reason")
        yield runs
        yield Static(id="progress")
        card: DataTable[Any] = DataTable(id="scorecard", cursor_type="none", show_cursor=False)
        card.add_columns("experiment", "target", "detected", "root cause first", "recovered", "result")
        yield card

    async def load(self) -> bool:
        client = self.healops.client
        try:
            library, gamedays = await asyncio.gather(client.get("/v1/gamedays/library"), client.get("/v1/gamedays"))
            runs = gamedays.get("runs") or []
            run = await client.get(f"/v1/gamedays/runs/{runs[0]['id']}") if runs else {}
        except ApiError as exc:
            self.query_one("#progress", Static).update(Text(str(exc), style="red"))
            return False
        except Unreachable:
            return False
        self.library, self.gamedays, self.run = library, gamedays, run
        return True

    def _selected(self, table_id: str) -> str | None:
        table = self.query_one(table_id, DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_run_experiment(self) -> None:
        experiment = self._selected("#experiments")
        if experiment is None:
            return
        services = sorted(self.healops.latest.overview.get("services", {}))

        def chosen(target: str | None) -> None:
            if target:
                self.healops.start_chaos({"experiment": experiment, "target": target}, then=self.action_reload)

        self.app.push_screen(TargetPicker(experiment, services), chosen)

    def action_run_gameday(self) -> None:
        name = self._selected("#gamedays")
        if name:
            self.healops.start_chaos({"gameday": name}, then=self.action_reload)

    def show(self, latest: Latest) -> None:
        if not self.take_fresh():
            return
        now = latest.server_now
        self._fill("#experiments", [(e["name"], [e["name"], e.get("kind", ""), e.get("title", "")[:60]])
                                    for e in self.library.get("experiments", [])])
        self._fill("#gamedays", [(g["name"], [g["name"], str(g.get("experiments", "")), g.get("schedule") or "—"])
                                 for g in self.library.get("gamedays", [])])
        self._fill("#runs", [(str(r["id"]), [str(r["id"]), r.get("name", ""), fmt.styled(r.get("outcome", "")),
                                             fmt.ago(r.get("started_at") or r.get("due_at"), now),
                                             str(r.get("reason", ""))[:60]])
                             for r in self.gamedays.get("runs", [])[:20]])
        run = self.run
        progress = run.get("progress") or {}
        line = Text()
        if run:
            line.append(f"run {run.get('id')} {run.get('name', '')}: ", style="bold")
            line.append_text(fmt.styled(run.get("outcome", "")))
            if progress:
                line.append(f"  {progress.get('done', 0)}/{progress.get('total', '?')}  {progress.get('what', '')}")
        else:
            line.append("no run yet: x runs the highlighted experiment, g the highlighted game day", style="dim")
        self.query_one("#progress", Static).update(line)
        rows = (run.get("scorecard") or {}).get("experiments") or []
        self._fill("#scorecard", [(e.get("experiment", str(i)), scorecard_cells(e)) for i, e in enumerate(rows)])

    def _fill(self, table_id: str, rows: list[tuple[str, list[Any]]]) -> None:
        table = self.query_one(table_id, DataTable)
        cursor = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if rows and table.cursor_type != "none":
            table.move_cursor(row=min(cursor, len(rows) - 1))
