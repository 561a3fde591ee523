"""The frame every healops screen shares: header, the connection banner, the body, the footer with
its key bindings. Screens redraw from the app's latest data in :meth:`HealopsScreen.show`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Header, Static

from tui.keybar import KeyBar
from tui.state import Latest

if TYPE_CHECKING:
    from tui.app import HealopsApp


class Banner(Static):
    """Shown only while the control plane cannot be reached: says since when, and that the data
    on screen is the last that arrived."""

    def update_from(self, latest: Latest, url: str) -> None:
        if latest.error is None:
            self.display = False
            return
        since = time.monotonic() - (latest.error_since or time.monotonic())
        stale = "no data yet" if latest.last_ok is None else "data shown is stale"
        self.update(f"control plane unreachable at {url} for {since:.0f}s; reconnecting ({stale}). "
                    f"{latest.error}")
        self.display = True


class HealopsScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Banner(id="banner")
        yield from self.body()
        yield KeyBar()

    def body(self) -> ComposeResult:
        yield from ()

    @property
    def healops(self) -> HealopsApp:
        return cast("HealopsApp", self.app)

    def on_screen_resume(self) -> None:
        self.redraw()
        self.resumed()

    def resumed(self) -> None:
        """Back on top: a screen that loads its own data (and loads nothing out of sight) does now."""

    def redraw(self) -> None:
        app = self.healops
        self.query_one(Banner).update_from(app.latest, app.client.url)
        self.show(app.latest)

    def show(self, latest: Latest) -> None:
        """Draw the screen from the latest data (called after every poll while it is on top)."""

    def on_incident_event(self, event: dict[str, Any]) -> None:
        """A timeline entry from the incident stream (called while the screen is on top)."""


class Coalesced:
    """One load at a time, and at most one per ``min_interval_s``: asks made meanwhile fold into a
    single run afterwards. (An exclusive worker would cancel the running load at each ask, and under
    a stream of events none would ever finish; a load per event would redraw the screen 40 times a
    second and keep the keyboard waiting.)"""

    def __init__(self, node: DOMNode, load: Callable[[], Awaitable[None]], group: str,
                 min_interval_s: float = 0.0) -> None:
        self.node, self.load, self.group, self.min_interval_s = node, load, group, min_interval_s
        self.running = False  # a load in flight
        self.waiting = False  # a load scheduled for when the interval has passed
        self.again = False  # asked while busy: run once more afterwards
        self.last = -1e9  # monotonic start of the last load

    def __call__(self) -> None:
        if not self.node.is_running:  # closing: nothing to load for
            return
        if self.running or self.waiting:
            self.again = True
            return
        wait = self.last + self.min_interval_s - time.monotonic()
        if wait > 0:
            self.waiting = True
            self.node.set_timer(wait, self._after_wait)
            return
        self._start()

    def _after_wait(self) -> None:
        self.waiting = False
        if self.node.is_running:
            self._start()

    def _start(self) -> None:
        self.running, self.again, self.last = True, False, time.monotonic()
        self.node.run_worker(self._run(), group=self.group)

    async def _run(self) -> None:
        try:
            await self.load()
        except Exception as exc:  # a surprise in an answer must not take the screen down; say it
            self.node.app.notify(f"{self.group}: {type(exc).__name__}: {exc}", severity="error", timeout=8)
        finally:
            self.running = False
            if self.again:
                self.again = False
                self()


class LoadingScreen(HealopsScreen):
    """A screen with data of its own (beyond the app's poll): loaded on show, every ``REFRESH_S``
    while on top, never out of sight. ``load`` fetches and sets ``fresh``; ``show`` redraws its
    tables only when ``fresh`` (a table redrawn for nothing costs a full render)."""

    REFRESH_S = 2.0
    MIN_INTERVAL_S = 0.0  # between two loads, however many asks (incident events come in bursts)

    def __init__(self) -> None:
        super().__init__()
        self._reload = Coalesced(self, self._load_and_redraw, type(self).__name__, self.MIN_INTERVAL_S)
        self.fresh = False

    def on_mount(self) -> None:
        self.action_reload()
        self.set_interval(self.REFRESH_S, self.action_reload)

    def resumed(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        if self.is_current:
            self._reload()

    async def _load_and_redraw(self) -> None:
        if await self.load():
            self.fresh = True
            self.redraw()

    async def load(self) -> bool:
        """Fetch this screen's data; False when nothing new arrived (unreachable, an error shown)."""
        return False

    def take_fresh(self) -> bool:
        """Whether the tables need a redraw (once per load)."""
        fresh, self.fresh = self.fresh, False
        return fresh
