"""Process helpers shared by the runtime and the services: no orphans, ever.

A child started by ``healops up`` watches its parent and exits when the parent is gone, so even a
SIGKILLed supervisor leaves nothing running; the supervisor stops children with SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time


def exit_when_parent_dies(parent_pid: int, interval_s: float = 0.5) -> None:
    """Start a daemon thread that ends this process once ``parent_pid`` is no longer our parent."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> int | None:
    """SIGTERM, wait up to ``grace_s``, then SIGKILL; return the exit code."""
    if proc.poll() is not None:
        return proc.returncode
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return proc.wait(timeout=5)


def stop_all(procs: list[subprocess.Popen[bytes]], grace_s: float = 5.0) -> None:
    """Stop many processes in parallel: signal all first, then wait on each."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=5)
