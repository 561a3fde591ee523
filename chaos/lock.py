"""Never two game days at once on one platform: an exclusive lock file in the state directory,
held by whoever runs one (the CLI or the control plane's scheduler). The kernel drops the lock when
its holder dies, so a killed run never leaves the platform locked."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class LockHeld(RuntimeError):
    """Another game day is running on this platform."""


class GamedayLock:
    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "gameday.lock"
        self._fd: int | None = None

    def __enter__(self) -> GamedayLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(f"another game day is running on this platform (pid {holder}, lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    @property
    def held_elsewhere(self) -> bool:
        """True when some process holds the lock now (checked without taking it for long)."""
        try:
            with GamedayLock(self.path.parent):
                return False
        except LockHeld:
            return True
