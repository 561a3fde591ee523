"""Starting the TUI: attached to any control plane (``healops tui``), or as the face of ``healops up``,
where quitting the TUI stops the platform it started."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tui.app import HealopsApp
from tui.client import ControlPlaneClient


def run_tui(url: str, token: str) -> None:
    HealopsApp(ControlPlaneClient(url, token)).run()


def tui_watch(url: str, token: str) -> Callable[[Any, asyncio.Event], asyncio.Future[None]]:
    """A ``watch`` for :func:`healops.up.run_up`: the TUI on the same event loop as the supervisor;
    it ends when the operator quits (or the platform stops)."""

    def watch(_runtime: Any, stop: asyncio.Event) -> asyncio.Future[None]:
        app = HealopsApp(ControlPlaneClient(url, token))

        async def run() -> None:
            ui = asyncio.ensure_future(app.run_async())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([ui, stopping], return_when=asyncio.FIRST_COMPLETED)
            if not ui.done():
                app.exit()
                await ui
            stopping.cancel()

        return asyncio.ensure_future(run())

    return watch
