"""The remediation journal (every decision and every action, newest first) and the desired-state
git history: who changed what, why, for which incident. Both are read from the control plane."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from tui import format as fmt
from tui.base import LoadingScreen
from tui.client import ApiError, Unreachable
from tui.state import Latest


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
                table: DataTable[Any] = DataTable(id="decisions", cursor_type="row", zebra_stripes=True)
                table.add_columns("when", "incident", "service", "runbook", "decision", "reason")
                yield table
            with TabPane("Actions", id="actions"):
                acts: DataTable[Any] = DataTable(id="action-table", cursor_type="row", zebra_stripes=True)
                acts.add_columns("when", "incident", "action", "service", "state", "commit", "summary")
                yield acts
            with TabPane("Git history", id="git"):
                git: DataTable[Any] = DataTable(id="commits", cursor_type="row", zebra_stripes=True)
                git.add_columns("when", "commit", "author", "incident", "change")
                yield git

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
        table = self.query_one({"journal": "#decisions", "actions": "#action-table", "git": "#commits"}[tab],
                               DataTable)
        if not table.row_count:
            return
        incident = str(table.get_row_at(table.cursor_row)[{"journal": 1, "actions": 1, "git": 3}[tab]])
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
        decisions = self.query_one("#decisions", DataTable)
        decisions.clear()
        for d in reversed(self.decisions):
            decisions.add_row(fmt.ago(d.get("at"), now), d.get("incident_id", ""), d.get("service", ""),
                              d.get("runbook", ""), fmt.styled(d.get("kind", "")), str(d.get("reason", ""))[:120])
        actions = self.query_one("#action-table", DataTable)
        actions.clear()
        for a in self.actions:
            kind = a.get("action", "") + (" (revert)" if a.get("reverts") else "")
            kind += " dry" if a.get("dry_run") else ""
            actions.add_row(fmt.ago(a.get("applied_at") or a.get("created_at"), now), a.get("incident_id", ""), kind,
                            a.get("service", ""), fmt.styled(a.get("state", "?")), (a.get("ref") or "")[:8],
                            str(a.get("summary", ""))[:100])
        commits = self.query_one("#commits", DataTable)
        commits.clear()
        for c in self.commits:
            commits.add_row(fmt.ago(c.get("timestamp"), now), str(c.get("sha", ""))[:8], c.get("author", ""),
                            trailer(c.get("body", ""), "Healops-Incident"), str(c.get("subject", ""))[:100])
