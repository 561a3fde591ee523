"""``healops tui``: the on-call terminal UI (textual), k9s-style: one key per screen, the keys shown
in the footer, a command palette (ctrl+p) and a help screen (?).

It attaches to a control plane by URL and token and keeps nothing of its own: a poll every second
(overview, incidents, remediation status) and the incident event stream, which triggers an
immediate refresh. Losing the control plane shows a banner over the last data and retries; no
request error ever escapes to crash the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.base import Coalesced, HealopsScreen
from tui.chaos import ChaosScreen
from tui.client import ApiError, ControlPlaneClient, Unreachable
from tui.confirm import Confirm
from tui.help import HelpScreen
from tui.incident_detail import IncidentScreen
from tui.incidents import IncidentsScreen
from tui.overview import OverviewScreen
from tui.remediation import RemediationScreen
from tui.state import Latest

POLL_S = 1.0
RETRY_S = 1.0


class HealopsApp(App[None]):
    TITLE = "healops"
    CSS_PATH = "healops.tcss"
    DEFAULT_MODE = "overview"
    MODES: ClassVar[dict[str, Any]] = {"overview": OverviewScreen, "incidents": IncidentsScreen,
                                       "remediation": RemediationScreen, "chaos": ChaosScreen}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "go('overview')", "Overview"), Binding("i", "go('incidents')", "Incidents"),
        Binding("r", "go('remediation')", "Remediation"), Binding("c", "go('chaos')", "Chaos"),
        Binding("k", "toggle_healing", "Pause healing"), Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit")]

    def __init__(self, client: ControlPlaneClient, poll_s: float = POLL_S, label: str | None = None) -> None:
        super().__init__()
        self.client = client
        self.label = label or client.url  # shown in the header: which control plane this is
        self.poll_s = poll_s
        self.latest = Latest()
        self.polls = 0  # completed polls, good or bad (tests wait on it)
        self._poll = Coalesced(self, self._fetch, "poll")
        # incident events come in bursts (one per timeline entry): at most two list refreshes a second
        self._incidents_poll = Coalesced(self, self._fetch_incidents, "incidents", min_interval_s=0.5)
        self._incident_screen: IncidentScreen | None = None  # one page for every incident, kept installed

    # -- life cycle --------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.sub_title = self.label
        self.poll()
        self.set_interval(self.poll_s, self.poll)
        self.stream()

    async def on_unmount(self) -> None:
        await self.client.close()

    # -- data in -----------------------------------------------------------------------------------
    def poll(self) -> None:
        """Refresh now (or right after the refresh in flight)."""
        self._poll()

    async def _fetch(self) -> None:
        try:
            overview, incidents, remediation = await asyncio.gather(
                self.client.overview(), self.client.incidents(100), self._remediation())
        except (Unreachable, ApiError, ValueError) as exc:  # ValueError: an answer that is not JSON
            if self.latest.error is None:
                self.latest.error_since = time.monotonic()
            self.latest.error = str(exc)
        else:
            self.latest.overview, self.latest.incidents, self.latest.remediation = overview, incidents, remediation
            self.latest.error, self.latest.error_since, self.latest.last_ok = None, None, time.monotonic()
        self.polls += 1
        active = len(self.latest.active_incidents())
        self.title = f"healops [{active} active]" if active else "healops"
        self._redraw()

    async def _fetch_incidents(self) -> None:
        try:
            self.latest.incidents = await self.client.incidents(100)
        except (Unreachable, ApiError, ValueError):
            return  # the next full poll says why, in the banner
        self._redraw()

    async def _remediation(self) -> dict[str, Any]:
        try:
            return await self.client.remediation()
        except ApiError as exc:
            if exc.status == 404:  # remediation off on this control plane
                return {"executor": "off", "active": [], "runbooks": []}
            raise

    @work(group="stream")
    async def stream(self) -> None:
        """Follow the incident stream for as long as the app runs, resuming after the last event."""
        while True:
            try:
                async for event in self.client.events(self.latest.event_seq):
                    self.latest.event_seq = max(self.latest.event_seq, event.id)
                    screen = self._current()
                    if screen is not None:
                        screen.on_incident_event(event.data)
                    self._incidents_poll()
            except (Unreachable, ApiError, ValueError):
                pass  # the poll shows the banner; retry
            await asyncio.sleep(RETRY_S)

    def _current(self) -> HealopsScreen | None:
        """The healops screen on top, if any (none while a modal is up, or the app is closing)."""
        try:
            screen = self.screen
        except ScreenStackError:
            return None
        return screen if isinstance(screen, HealopsScreen) and screen.is_mounted else None

    def _redraw(self) -> None:
        screen = self._current()
        if screen is not None:
            screen.redraw()

    # -- navigation --------------------------------------------------------------------------------
    def action_go(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def open_incident(self, incident_id: str) -> None:
        if self.current_mode != "incidents":
            self.switch_mode("incidents")
        page = self._incident_screen
        if page is None:
            page = self._incident_screen = IncidentScreen(incident_id)
            self.install_screen(page, "incident")
        else:
            page.open(incident_id)
        if page not in self.screen_stack:
            self.push_screen(page)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode in self.MODES:
            yield SystemCommand(f"Go to {mode}", f"Show the {mode} screen", lambda m=mode: self.action_go(m))
        paused = self.latest.healing_paused
        yield SystemCommand("Resume self-healing" if paused else "Pause self-healing",
                            "Turn the remediation kill switch " + ("off" if paused else "on"),
                            self.action_toggle_healing)
        for inc in self.latest.active_incidents()[:20]:
            yield SystemCommand(f"Open incident {inc['id']}", inc.get("title", ""),
                                lambda i=inc["id"]: self.open_incident(i))
            if not inc.get("acknowledged_by"):
                yield SystemCommand(f"Acknowledge {inc['id']}", inc.get("title", ""),
                                    lambda i=inc["id"]: self.acknowledge(i))

    # -- what the operator does (each confirms on screen what the control plane answered) ----------
    def action_toggle_healing(self) -> None:
        paused = self.latest.healing_paused
        question = ("Resume self-healing? Runbooks will act again." if paused else
                    "Pause self-healing? No runbook acts until you resume (kill switch on).")

        def answer(yes: bool | None) -> None:
            if yes:
                self._call(self.client.kill_switch(not paused),
                           "self-healing resumed" if paused else "self-healing PAUSED")

        self.push_screen(Confirm(question), answer)

    def acknowledge(self, incident_id: str, then: Callable[[], None] | None = None) -> None:
        self._call(self.client.acknowledge(incident_id), f"{incident_id} acknowledged", then)

    def decide(self, remediation_id: str, approve: bool, then: Callable[[], None] | None = None) -> None:
        self._call(self.client.decide(remediation_id, approve),
                   f"{remediation_id} {'approved' if approve else 'denied'}", then)

    def start_chaos(self, body: dict[str, Any], then: Callable[[], None] | None = None) -> None:
        what = body.get("gameday") or f"{body.get('experiment')} on {body.get('target')}"
        self._call(self.client.post("/v1/gamedays/runs", body), f"started {what}", then)

    def _call(self, request: Any, done: str, then: Callable[[], None] | None = None) -> None:
        async def go() -> None:
            try:
                await request
            except (Unreachable, ApiError) as exc:
                self.notify(str(exc), title="not done", severity="error", timeout=8)
                return
            self.notify(done)
            self.poll()
            if then is not None:
                then()

        self.run_worker(go(), group="calls")
