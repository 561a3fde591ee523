"""The live status view ``healops up`` shows in a terminal: the platform table, once a second."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rich.console import Console
from rich.live import Live

from healops.status_view import status_table
from workloads.runtime import Runtime


def _snapshot_with_load(runtime: Runtime) -> dict[str, Any]:
    snap = runtime.snapshot()
    try:
        snap["load"] = json.loads((runtime.config.run_dir / "loadgen.json").read_text())
    except (OSError, ValueError):
        snap["load"] = None
    return snap


async def _show(runtime: Runtime, stop: asyncio.Event) -> None:
    console = Console()
    with Live(status_table(_snapshot_with_load(runtime)), console=console, refresh_per_second=2) as live:
        while not stop.is_set():
            live.update(status_table(_snapshot_with_load(runtime)))
            await asyncio.sleep(1.0)


def live_status(runtime: Runtime, stop: asyncio.Event) -> asyncio.Future[None]:
    return asyncio.ensure_future(_show(runtime, stop))
