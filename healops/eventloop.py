"""Run a process's main coroutine on uvloop when it is installed (it comes with ``uvicorn[standard]``).

Why: on the stock selector loop a replica spent more CPU in socket writes and ``select`` than in its
own work; on two shared cores that overhead is what pushed the platform's p99 up to its SLO.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's, unless ``HEALOPS_EVENT_LOOP=asyncio`` asks for the stock loop (to compare, or to debug)."""
    if os.environ.get("HEALOPS_EVENT_LOOP", "uvloop") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every platform we ship for
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the fastest loop available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
