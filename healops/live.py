"""The live status view ``healops up`` shows in a terminal: the platform table, once a second."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.live import Live

from healops.status_view import status_table
from workloads.runtime import Runtime


async def _show(runtime: Runtime, stop: asyncio.Event) -> None:
    console = Console()
    with Live(status_table(runtime.snapshot()), console=console, refresh_per_second=2) as live:
        while not stop.is_set():
            live.update(status_table(runtime.snapshot()))
            await asyncio.sleep(1.0)


def live_status(runtime: Runtime, stop: asyncio.Event) -> asyncio.Future[None]:
    return asyncio.ensure_future(_show(runtime, stop))
