"""Run several uvicorn servers in one event loop, stopped together by one signal handler.

uvicorn installs process-wide signal handlers per server; with two servers the second would
silently replace the first's, so here the servers capture nothing and one handler stops them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Generator

import uvicorn


class QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve_all(configs: list[uvicorn.Config]) -> None:
    servers = [QuietServer(c) for c in configs]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for s in servers:
            s.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    stop()  # one server ending (a bind error, say) ends them all
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()
    if any(not s.started for s in servers):
        raise SystemExit("a server failed to start; see the log above")
