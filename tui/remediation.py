"""The remediation journal (every decision and every action, newest first) and the desired-state
git history: who changed what, why, for which incident. Both are read from the control plane."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static, TabbedContent, TabPane

from tui import format as fmt
from tui.base import LoadingScreen
from tui.client import ApiError, Unreachable
from tui.grid import Column, Grid
from tui.state import Latest

DECISION_COLUMNS = [Column("when", "when", 8), Column("incident", "incident", 24), Column("service", "service", 13),
                    Column("runbook", "runbook", 26), Column("kind", "decision", 16), Column("reason", "reason", 80)]
ACTION_COLUMNS = [Column("when", "when", 8), Column("incident", "incident", 24), Column("action", "action", 18),
                  Column("service", "service", 13), Column("state", "state", 9), Column("commit", "commit", 8),
                  Column("summary", "summary", 80)]
COMMIT_COLUMNS = [Column("when", "when", 8), Column("commit", "commit", 8), Column("author", "author", 10),
                  Column("incident", "incident", 24), Column("subject", "change", 80)]


def trailer(body: str, key: str) -> str:
    """A git trailer's value (``Healops-Incident: inc-…``) from a commit message."""
    for line in body.splitlines():
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].strip()
    return ""


class RemediationScreen(LoadingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "tab('journal')", "Journal"), Binding("2", "tab('actions')", "Actions"),
        Binding("3", "tab('git')", "Git history"), Binding("enter", "open_incident", "Incident")]

    def __init__(self) -> None:
        super().__init__()
        self.decisions: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self.commits: list[dict[str, Any]] = []

    def body(self) -> ComposeResult:
        yield Static(id="summary")
        with TabbedContent(initial="journal"):
            with TabPane("Journal", id="journal"):
                yield self._grid("decisions", DECISION_COLUMNS)
            with TabPane("Actions", id="actions"):
                yield self._grid("action-table", ACTION_COLUMNS)
            with TabPane("Git history", id="git"):
                yield self._grid("commits", COMMIT_COLUMNS)

    @staticmethod
    def _grid(grid_id: str, columns: list[Column]) -> Grid:
        grid = Grid(id=grid_id)
        grid.set_columns(columns)
        return grid

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    async def load(self) -> bool:
        client = self.healops.client
        try:
            self.decisions, self.actions, self.commits = await asyncio.gather(
                client.get("/v1/remediation/journal", limit=200), client.get("/v1/remediation/actions", limit=200),
                client.get("/v1/desired-state/log", limit=100))
        except ApiError as exc:
            self.query_one("#summary", Static).update(Text(str(exc), style="red"))
            return False
        except Unreachable:
            return False  # the banner says so
        return True

    def action_open_incident(self) -> None:
        tab = self.query_one(TabbedContent).active
        grid = self.query_one({"journal": "#decisions", "actions": "#action-table", "git": "#commits"}[tab], Grid)
        key = grid.cursor_key
        if key is None:
            return
        incident = grid.rows[key][{"journal": 1, "actions": 1, "git": 3}[tab]][0]
        if incident.startswith("inc-"):
            self.healops.open_incident(incident)

    def show(self, latest: Latest) -> None:
        rem = latest.remediation
        now = latest.server_now
        summary = Text.assemble(
            "self-healing ", ("PAUSED (kill switch on)", "bold yellow reverse") if latest.healing_paused
            else ("on", "green"), f" · executor {rem.get('executor', '?')}",
            (" · DRY RUN", "bold yellow") if rem.get("dry_run") else "",
            f" · {len(rem.get('active', []))} in progress · {len(rem.get('runbooks', []))} runbooks · ",
            ("k", "bold"), " pauses/resumes")
        self.query_one("#summary", Static).update(summary)
        if not self.take_fresh():  # the tables change when a load brings news, not at every poll
            return
        self.query_one("#decisions", Grid).set_rows([(str(d.get("seq", i)), [
            (fmt.ago(d.get("at"), now), ""), (d.get("incident_id", ""), ""), (d.get("service", ""), ""),
            (d.get("runbook", ""), ""), (d.get("kind", ""), fmt.STATE_STYLE.get(d.get("kind", ""), "")),
            (str(d.get("reason", "")), "")]) for i, d in enumerate(reversed(self.decisions))])
        rows = []
        for a in self.actions:
            kind = a.get("action", "") + (" (revert)" if a.get("reverts") else "")
            kind += " dry" if a.get("dry_run") else ""
            state = a.get("state", "?")
            rows.append((a["action_id"], [
                (fmt.ago(a.get("applied_at") or a.get("created_at"), now), ""), (a.get("incident_id", ""), ""),
                (kind, ""), (a.get("service", ""), ""), (state, fmt.STATE_STYLE.get(state, "")),
                ((a.get("ref") or "")[:8], ""), (str(a.get("summary", "")), "")]))
        self.query_one("#action-table", Grid).set_rows(rows)
        self.query_one("#commits", Grid).set_rows([(str(c.get("sha", i)), [
            (fmt.ago(c.get("timestamp"), now), ""), (str(c.get("sha", ""))[:8], ""), (c.get("author", ""), ""),
            (trailer(c.get("body", ""), "Healops-Incident"), ""), (str(c.get("subject", "")), "")])
            for i, c in enumerate(self.commits)])
