"""How fast the TUI handles a key while updates stream in, with 50 services and 10 open incidents.

The control plane runs in its own process, as in production: a real control plane over a seeded
state (``python -m healops.seeded``: create_app on loopback HTTP, SQLite, git) whose clock moves on
a second every ``--tick`` seconds, so every service gets new RED points (scored by the live
detectors) and every open incident a timeline entry, which the incident stream pushes to the TUI;
the TUI also polls every second. The TUI runs headless (textual's test driver) in this process.

A fixed key script walks the overview, sorts it, opens the incidents and one incident, goes back,
switches the journal's tabs. Each key is sent as the terminal driver would and timed until its
effect is visible in the app's state (cursor moved, sort changed, screen or tab switched): the time
an on-call engineer waits for the UI to answer. (textual's ``Pilot.press`` waits for the whole
process to go idle, which under a stream never quite happens; it measures the stream, not the key.)

The same script runs first against a plane whose clock stands still and a TUI that does not poll
(the baseline, same process and machine), then with updates streaming. Prints one JSON line; the
bar is p99 under 100 ms while updates stream.

    python bench/tui_keys.py [--services 50] [--incidents 10] [--rounds 5] [--tick 0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual.widgets import DataTable, TabbedContent

from tui.app import HealopsApp
from tui.client import ControlPlaneClient
from tui.grid import Grid
from tui.incident_detail import IncidentScreen
from tui.overview import OverviewScreen

# overview: move and sort; incidents: move, open one, back; the journal's tabs; home
SCRIPT = (["down"] * 8 + ["s"] * 4 + ["i"] + ["down"] * 5 + ["enter", "escape"] + ["up"] * 5
          + ["r", "2", "3", "1", "o"] + ["up"] * 8)
KEY_TIMEOUT_S = 10.0
MOVES = ("down", "up", "s")  # keys that act within the screen on top (the rest show another screen or tab)


@contextmanager
def plane_process(home: Path, services: int, incidents: int, tick: float) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "healops.seeded", "--home", str(home), "--services",
                             str(services), "--incidents", str(incidents), "--tick", str(tick)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def signature(app: HealopsApp) -> tuple[Any, ...]:
    """What a key visibly changes: the screen, the focused table's cursor, the sort, the tab."""
    screen = app.screen
    table = screen.focused if isinstance(screen.focused, DataTable | Grid) else None
    tabs = screen.query(TabbedContent)
    return (app.current_mode, type(screen).__name__, table.cursor_row if table is not None else None,
            screen.sort if isinstance(screen, OverviewScreen) else None, tabs.first().active if tabs else None)


async def press(app: HealopsApp, key: str) -> float:
    """Send ``key`` as the terminal would; milliseconds until its effect shows in the app."""
    before = signature(app)
    char = key if len(key) == 1 else None
    t0 = time.perf_counter()
    driver = app._driver
    assert driver is not None
    driver.send_message(events.Key(key, char))
    while signature(app) == before:
        if time.perf_counter() - t0 > KEY_TIMEOUT_S:
            raise RuntimeError(f"key {key!r} had no visible effect in {KEY_TIMEOUT_S}s ({before})")
        await asyncio.sleep(0.0005)
    return (time.perf_counter() - t0) * 1000


async def settle(app: HealopsApp, ready: Callable[[], bool]) -> None:
    for _ in range(600):
        if ready():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the TUI never got its first data")


def no_stream() -> None:
    """Stands in for the app's incident-stream worker in the baseline run."""


async def drive(conn: dict[str, str], rounds: int, poll_s: float, stream: bool) -> list[tuple[str, float]]:
    app = HealopsApp(ControlPlaneClient(conn["url"], conn["token"]), poll_s=poll_s)
    if not stream:
        app.stream = no_stream  # type: ignore[method-assign,assignment]  # the baseline: no event stream
    times: list[tuple[str, float]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, lambda: app.polls >= 1 and bool(app.latest.overview.get("services")))
        for _ in range(rounds):
            for key in SCRIPT:
                if key == "escape":  # the detail screen loads its own data first
                    await settle(app, lambda: isinstance(app.screen, IncidentScreen) and bool(app.screen.detail))
                times.append((key, await press(app, key)))
                await pilot.pause(0.05)  # an engineer's key rate is not a fuzzer's
    return times


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--services", type=int, default=50)
    p.add_argument("--incidents", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--tick", type=float, default=0.25, help="seconds between streamed updates")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="tui-bench-") as tmp:
        with plane_process(Path(tmp) / "still", args.services, args.incidents, 0.0) as conn:
            still = asyncio.run(drive(conn, args.rounds, poll_s=3600.0, stream=False))
        with plane_process(Path(tmp) / "streaming", args.services, args.incidents, args.tick) as conn:
            t0 = time.monotonic()
            streamed = asyncio.run(drive(conn, args.rounds, poll_s=1.0, stream=True))
            elapsed = time.monotonic() - t0
    baseline, loaded = [ms for _, ms in still], [ms for _, ms in streamed]
    by_key: dict[str, list[float]] = {}
    for key, ms in streamed:
        by_key.setdefault(key, []).append(ms)
    still_by_key: dict[str, list[float]] = {}
    for key, ms in still:
        still_by_key.setdefault(key, []).append(ms)
    print(json.dumps({
        "bench": "tui_keys", "services": args.services, "incidents": args.incidents, "keys": len(loaded),
        "stream": {"clock_ticks_per_s": round(1 / args.tick, 1) if args.tick else 0,
                   "timeline_events_per_s": round(args.incidents / args.tick, 1) if args.tick else 0,
                   "poll_s": 1.0, "seconds": round(elapsed, 1)},
        "baseline_ms": {"p50": pct(baseline, 0.5), "p99": pct(baseline, 0.99), "max": pct(baseline, 1.0)},
        "streaming_ms": {"p50": pct(loaded, 0.5), "p95": pct(loaded, 0.95), "p99": pct(loaded, 0.99),
                         "max": pct(loaded, 1.0)},
        "p99_ratio_to_baseline": round(pct(loaded, 0.99) / max(pct(baseline, 0.99), 0.1), 2),
        "within_screen_ms": {"keys": list(MOVES), "p99": pct([ms for k, ms in streamed if k in MOVES], 0.99)},
        "screen_switch_ms": {"p50": pct([ms for k, ms in streamed if k not in MOVES], 0.5),
                             "p99": pct([ms for k, ms in streamed if k not in MOVES], 0.99)},
        "max_ms_by_key": {k: [round(max(still_by_key[k]), 1), round(max(v), 1)] for k, v in sorted(by_key.items())},
        "mean_ms": round(statistics.fmean(loaded), 1), "bar_p99_ms": 100, "meets_bar": pct(loaded, 0.99) < 100}))


if __name__ == "__main__":
    main()
