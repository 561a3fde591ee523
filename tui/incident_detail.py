"""One incident: what the engineer needs to decide at 3 a.m. on one scrolling page. The ranked
root-cause services with their reasons, the remediations (approve or deny a gated one here), the
evidence series as charts, example traces as waterfalls with their log lines, and the timeline."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Sparkline, Static

from tui import format as fmt
from tui.base import LoadingScreen
from tui.client import ApiError, Unreachable
from tui.state import Latest


def timeline_text(entry: dict[str, Any]) -> str:
    d = entry.get("detail") or {}
    kind = entry.get("kind", "")
    if kind in ("signal", "signal_cleared") and isinstance(d.get("signal"), dict):
        return str(d["signal"].get("summary") or d["signal"].get("key", ""))
    if kind == "ranked":
        return "top: " + ", ".join(f"{r['service']} {r['score']:.2f}" for r in d.get("top", []))
    if kind == "state":
        return f"{d.get('from', '?')} → {d.get('to', '?')}" + (f" ({d['reason']})" if d.get("reason") else "")
    if kind == "acknowledged":
        return f"by {d.get('by', '?')}"
    return ", ".join(f"{k}={v}" for k, v in d.items())[:200]


class IncidentScreen(LoadingScreen):
    MIN_INTERVAL_S = 1.0  # its incident's events come in bursts
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"), Binding("a", "acknowledge", "Ack"),
        Binding("y", "decide(True)", "Approve"), Binding("n", "decide(False)", "Deny"),
        Binding("R", "reload", "Reload")]

    def __init__(self, incident_id: str) -> None:
        """One instance serves every incident the app opens (:meth:`open`): building this page, and
        tearing it down on the way back, were the slowest keys of the UI."""
        super().__init__()
        self.incident_id = incident_id
        self.detail: dict[str, Any] = {}
        self.evidence: dict[str, Any] = {}
        self.remediations: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self._evidence_drawn: list[str] = []

    def open(self, incident_id: str) -> None:
        """Show ``incident_id`` from now on: the last incident's data goes at once, not when the load
        that follows lands (and a load still in flight for it is dropped, see :meth:`load`)."""
        if incident_id == self.incident_id:
            return
        self.incident_id = incident_id
        self.detail, self.evidence, self.remediations, self.actions = {}, {}, [], []
        self.fresh = False
        if not self.is_mounted:
            return
        self.query_one("#headline", Static).update(f"loading {incident_id}…")
        for table in ("#ranking", "#remediations", "#timeline"):
            self.query_one(table, DataTable).clear()
        self.query_one("#actions", Static).update("")
        self.query_one("#traces", Static).update("")
        self.query_one("#evidence", VerticalScroll).remove_children()
        self._evidence_drawn = []
        self.query_one("#detail", VerticalScroll).scroll_home(animate=False)

    def body(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(id="headline")
            yield Label("Root cause (ranked)", classes="section")
            ranking: DataTable[Any] = DataTable(id="ranking", cursor_type="none", show_cursor=False)
            ranking.add_columns("#", "service", "score", "why")
            yield ranking
            yield Label("Remediations  (y approve · n deny the highlighted one)", classes="section")
            rems: DataTable[Any] = DataTable(id="remediations", cursor_type="row")
            for key in ("remediation", "runbook", "service", "step", "state", "updated"):
                rems.add_column(key, key=key)
            yield rems
            yield Static(id="actions")
            yield Label("Evidence", classes="section")
            yield VerticalScroll(id="evidence", classes="charts")
            yield Label("Example traces", classes="section")
            yield Static(id="traces")
            yield Label("Timeline", classes="section")
            timeline: DataTable[Any] = DataTable(id="timeline", cursor_type="none", show_cursor=False)
            timeline.add_columns("when", "what", "detail")
            yield timeline

    async def load(self) -> bool:
        client = self.healops.client
        iid = self.incident_id
        try:
            detail, evidence, (rems, actions) = await asyncio.gather(
                client.incident(iid), client.evidence(iid), self._remediation_of(iid))
        except (Unreachable, ApiError) as exc:
            if iid == self.incident_id:
                self.query_one("#headline", Static).update(Text(f"{iid}: {exc}", style="red"))
            return False
        if iid != self.incident_id:  # another incident was opened while this one loaded
            return False
        self.detail, self.evidence, self.remediations, self.actions = detail, evidence, rems, actions
        return True

    async def _remediation_of(self, iid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        client = self.healops.client
        try:
            rems, actions = await asyncio.gather(client.get("/v1/remediation/remediations", incident=iid, limit=50),
                                                 client.get("/v1/remediation/actions", incident=iid, limit=50))
        except ApiError as exc:
            if exc.status == 404:  # remediation is off on this control plane
                return [], []
            raise
        return rems, actions

    def on_incident_event(self, event: dict[str, Any]) -> None:
        if event.get("incident") == self.incident_id:
            self.action_reload()

    def action_acknowledge(self) -> None:
        self.healops.acknowledge(self.incident_id, then=self.action_reload)

    def action_decide(self, approve: bool) -> None:
        table = self.query_one("#remediations", DataTable)
        if not table.row_count:
            self.notify("no remediation for this incident", severity="warning")
            return
        rid = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        rem = next((r for r in self.remediations if r["id"] == rid), None)
        if rem is None or rem.get("state") != "awaiting_approval":
            self.notify(f"{rid} is not awaiting approval", severity="warning")
            return
        self.healops.decide(rid, approve, then=self.action_reload)

    def show(self, latest: Latest) -> None:
        d = self.detail
        if not d:
            self.query_one("#headline", Static).update(f"loading {self.incident_id}…")
            return
        now = latest.server_now or float(d.get("updated_at") or 0)
        head = Text.assemble((d["id"], "bold"), "  ", fmt.styled(d.get("state", "?")), "  ",
                             (d.get("severity", ""), "bold red" if d.get("severity") == "critical" else ""),
                             f"  opened {fmt.ago(d.get('opened_at'), now)}")
        if d.get("acknowledged_by"):
            head.append(f"  ack by {d['acknowledged_by']}", style="green")
        else:
            head.append("  not acknowledged (a)", style="yellow")
        head.append(f"\n{d.get('title', '')}\nservices: {', '.join(d.get('services', []))}")
        self.query_one("#headline", Static).update(head)
        if not self.take_fresh():  # the rest changes when a load brings news, not at every poll
            return
        self._ranking(d.get("ranking") or [])
        self._remediations(now)
        self._evidence()
        self._traces(d.get("examples") or [])
        timeline = self.query_one("#timeline", DataTable)
        timeline.clear()
        for entry in (d.get("timeline") or [])[-200:]:
            timeline.add_row(fmt.ago(entry.get("at"), now), fmt.styled(entry.get("kind", "")), timeline_text(entry))

    def _ranking(self, ranking: list[dict[str, Any]]) -> None:
        table = self.query_one("#ranking", DataTable)
        table.clear()
        for i, r in enumerate(ranking[:5], 1):
            table.add_row(str(i), Text(r["service"], style="bold" if i == 1 else ""), f"{r['score']:.2f}",
                          str(r.get("reason") or "")[:160])
        if not ranking:
            table.add_row("", "not ranked yet", "", "")

    def _remediations(self, now: float) -> None:
        table = self.query_one("#remediations", DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in self.remediations:
            table.add_row(r["id"], r.get("runbook", ""), r.get("service", ""), str(r.get("step", "")),
                          fmt.styled(r.get("state", "?")), fmt.ago(r.get("updated_at"), now), key=r["id"])
        if self.remediations:
            table.move_cursor(row=min(cursor, len(self.remediations) - 1))
        lines = Text()
        for a in self.actions[:8]:
            lines.append(f"{a.get('action', '?')} {a.get('service', '')}", style="bold")
            lines.append(" ")
            lines.append_text(fmt.styled(a.get("state", "?")))
            if a.get("dry_run"):
                lines.append(" (dry run)", style="dim")
            if a.get("reverts"):
                lines.append(f" reverts {a['reverts']}", style="yellow")
            commit = f"  commit {a['ref'][:8]}" if a.get("ref") else ""
            lines.append(f"  {a.get('summary', '')}"[:100] + commit + "\n")
        self.query_one("#actions", Static).update(lines if self.actions else Text("no action taken", style="dim"))

    def _evidence(self) -> None:
        box = self.query_one("#evidence", VerticalScroll)
        series = self.evidence.get("series") or []
        labels = [s["series"] for s in series]
        if labels != self._evidence_drawn:  # rebuild only when the set of series changes
            self._evidence_drawn = labels
            box.remove_children()
            for s in series:
                box.mount(Label(Text(f"{s['series']}  ({s['why']})"[:120], style="bold")))
                box.mount(Sparkline([float(p[1]) for p in s["points"]] or [0.0], summary_function=max))
            if not series:
                box.mount(Label(Text("no evidence series kept for this incident", style="dim")))
            return
        for spark, s in zip(box.query(Sparkline), series, strict=False):
            spark.data = [float(p[1]) for p in s["points"]] or [0.0]

    def _traces(self, examples: list[dict[str, Any]]) -> None:
        out = Text()
        for ex in examples[:3]:
            out.append(f"trace {ex.get('trace_id', '')[:16]}\n", style="bold")
            for line in fmt.waterfall(ex.get("spans") or [], width=30):
                out.append_text(line)
                out.append("\n")
            for log in ex.get("logs") or []:
                out.append(f"  {log.get('service', '')} {log.get('severity', '')}: ", style="dim")
                out.append(f"{log.get('body', '')[:120]}\n")
        self.query_one("#traces", Static).update(out if examples else Text("no example trace", style="dim"))
