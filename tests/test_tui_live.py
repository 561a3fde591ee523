"""The TUI on a running platform: against the session's real ``healops up`` (services, collector,
detection; remediation off), and ``healops up`` itself in a pseudo-terminal, where it opens the TUI
and quitting the TUI stops every process it started."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import psutil
import pytest
from textual.widgets import Static

from healops.config import load_or_create_tokens
from healops.harness import PlatformProcess, free_port, wait_until
from tui.app import HealopsApp
from tui.client import ControlPlaneClient
from tui.grid import Grid

pytestmark = pytest.mark.slow


async def test_overview_follows_the_live_platform_and_says_remediation_is_off(platform: PlatformProcess) -> None:
    app = HealopsApp(ControlPlaneClient(platform.control_url, load_or_create_tokens(platform.home).api), poll_s=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.screen.query_one("#services", Grid)
        for _ in range(200):
            if len(grid.keys) == 9:
                break
            await pilot.pause(0.1)
        assert sorted(grid.keys) == sorted(platform.status()["services"]), "every service of the platform"
        first_at = app.latest.overview["at"]
        polls = app.polls
        for _ in range(100):
            if app.polls >= polls + 2 and app.latest.overview["at"] > first_at:
                break
            await pilot.pause(0.1)
        assert app.latest.overview["at"] > first_at, "the overview refreshes on its own"
        assert app.latest.error is None
        await pilot.press("r")
        for _ in range(100):
            if "executor off" in str(app.screen.query_one("#summary", Static).render()):
                break
            await pilot.pause(0.1)
        assert "executor off" in str(app.screen.query_one("#summary", Static).render())
        await pilot.press("i")
        assert isinstance(app.screen.query_one("#incidents"), Grid)


def _read(fd: int, until: bytes, timeout_s: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout_s
    while until not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:  # the other side closed
                break
    return out


def test_healops_up_opens_the_tui_and_q_stops_everything(tmp_path: Path) -> None:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # an 80x24 terminal
    env = {**os.environ, "HEALOPS_HOME": str(tmp_path), "HEALOPS_GATEWAY_PORT": str(free_port()),
           "HEALOPS_CONTROL_PORT": str(free_port()), "HEALOPS_OTLP_PORT": str(free_port()),
           "HEALOPS_REMEDIATION": "off", "TERM": "xterm-256color"}
    env.pop("HEALOPS_OTLP_ENDPOINT", None)
    proc = subprocess.Popen([sys.executable, "-m", "healops.cli", "up", "--rps", "0", "--replicas", "1"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    plat = PlatformProcess(tmp_path)
    try:
        screen = _read(master, b"Incidents", 120)  # the footer's key for the incidents screen
        assert b"Incidents" in screen, screen[-2000:]
        wait_until(plat.all_ready, 120, 0.5, "every service to be ready")
        pids = plat.pids()
        assert len(pids) == 10, "9 replicas and the control plane"
        os.write(master, b"q")
        assert proc.wait(timeout=60) == 0
        wait_until(lambda: not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                                   for p in pids), 15, 0.5, "every process healops up started to exit")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
