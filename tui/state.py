"""What the TUI last heard from the control plane, and whether it can hear it now.

The TUI keeps no state of its own beyond this cache: every screen draws from the latest answers,
and when the control plane is lost the last answers stay on screen, marked stale by the banner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Latest:
    overview: dict[str, Any] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    remediation: dict[str, Any] = field(default_factory=dict)
    last_ok: float | None = None  # local monotonic time of the last good poll
    error: str | None = None  # why the last poll failed
    error_since: float | None = None  # local monotonic time the control plane was lost
    event_seq: int = -1  # the last incident stream event seen (resumes the stream after a reconnect)

    @property
    def server_now(self) -> float:
        """The control plane's clock at its last answer: ages are shown against it, not ours."""
        return float(self.overview.get("at") or 0.0)

    @property
    def healing_paused(self) -> bool:
        return bool(self.remediation.get("kill_switch"))

    def active_incidents(self) -> list[dict[str, Any]]:
        return [i for i in self.incidents if i.get("state") != "resolved"]

    def awaiting_approval(self) -> list[dict[str, Any]]:
        return [r for r in self.remediation.get("active", []) if r.get("state") == "awaiting_approval"]
