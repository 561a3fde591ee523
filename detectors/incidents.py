"""Group signals into incidents and move each through open -> (mitigating) -> resolved.

A signal joins an active incident when it is related in time (the incident changed within
``join_window_s``) and along the service graph (its service is at most ``max_hops`` calls from one
of the incident's services, either direction): one fault that makes five series of four services
fire is one incident. Only signals marked as able to open (``labels['opens'] == 'true'``) open one;
evidence-only signals (traffic drops, ticket-level burns, edges) attach to a related incident, and
are remembered for ``join_window_s`` in case one opens.

Flapping is held down twice: an incident resolves only after every opening signal has been quiet for
``hold_down_s``, and the same signal (same series or rule) of the service ranked first firing again
within ``reopen_window_s`` of resolution reopens that incident instead of opening a new one (a
caller's symptom firing again is a new fault's as likely as the old one's).
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from healops.events import SEVERITY_ORDER, Incident, Signal, TimelineEntry

Change = tuple[Incident, list[TimelineEntry]]


def opens(signal: Signal) -> bool:
    return signal.labels.get("opens", "true") == "true"


def hops(graph: Iterable[tuple[str, str]], source: str, limit: int) -> set[str]:
    """Services within ``limit`` calls of ``source``, following edges either way."""
    adjacent: dict[str, set[str]] = {}
    for a, b in graph:
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)
    seen, frontier = {source}, {source}
    for _ in range(limit):
        frontier = {n for s in frontier for n in adjacent.get(s, ())} - seen
        seen |= frontier
    return seen


@dataclass
class IncidentManager:
    graph: Callable[[], Iterable[tuple[str, str]]] = lambda: ()
    join_window_s: float = 60.0
    hold_down_s: float = 30.0
    reopen_window_s: float = 120.0
    max_hops: int = 2
    clock: Callable[[], float] = time.time
    new_id: Callable[[], str] = field(default_factory=lambda: _ids())
    active: dict[str, Incident] = field(default_factory=dict)
    recently_resolved: dict[str, Incident] = field(default_factory=dict)
    _loose: deque[Signal] = field(default_factory=deque)  # evidence seen with no incident to join

    def restore(self, incidents: Iterable[Incident]) -> None:
        """Take back incidents loaded from the store after a restart."""
        for inc in incidents:
            if inc.state in ("open", "mitigating"):
                self.active[inc.id] = inc

    def _related(self, signal: Signal, pool: Iterable[Incident], since: float) -> Incident | None:
        near = hops(self.graph(), signal.service, self.max_hops)
        for inc in sorted(pool, key=lambda i: -i.updated_at):
            if inc.updated_at >= since and (signal.service in inc.services or near & set(inc.services)):
                return inc
        return None

    def ingest(self, signal: Signal) -> list[Change]:
        now = self.clock()
        if not signal.firing:
            return self._cleared(signal, now)
        inc = self._related(signal, self.active.values(), now - self.join_window_s)
        if inc is not None:
            return [(inc, self._add(inc, signal, now))]
        if not opens(signal):
            self._loose.append(signal)
            while self._loose and self._loose[0].at < now - self.join_window_s:
                self._loose.popleft()
            return []
        old = next((i for i in self.recently_resolved.values()
                    if signal.key in i.evidence and i.ranking[:1] and i.ranking[0].service == signal.service), None)
        if old is not None:  # the culprit's own condition again soon after: flapping, not a new incident
            del self.recently_resolved[old.id]
            old.state, old.resolved_at, old.quiet_since, old.reopened_at = "open", None, None, now
            self.active[old.id] = old
            entries = [TimelineEntry(now, "reopened", {"by": signal.key, "summary": signal.summary})]
            return [(old, entries + self._add(old, signal, now))]
        inc = Incident(self.new_id(), "open", signal.severity, now, now, title=signal.summary)
        self.active[inc.id] = inc
        entries = [TimelineEntry(now, "opened", {"by": signal.key, "summary": signal.summary})]
        entries += self._add(inc, signal, now)
        near = hops(self.graph(), signal.service, self.max_hops)
        for loose in list(self._loose):  # evidence that came first (a silent service, a slow burn)
            if loose.service in near:
                entries += self._add(inc, loose, now)
                self._loose.remove(loose)
        return [(inc, entries)]

    def _add(self, inc: Incident, signal: Signal, now: float) -> list[TimelineEntry]:
        inc.evidence[signal.key] = signal
        inc.active[signal.key] = signal
        if signal.service and signal.service not in inc.services:
            inc.services.append(signal.service)
        if opens(signal):
            inc.quiet_since = None
            if SEVERITY_ORDER[signal.severity] > SEVERITY_ORDER[inc.severity]:
                inc.severity = signal.severity
        inc.updated_at = now
        return [TimelineEntry(now, "signal", signal.to_json())]

    def _cleared(self, signal: Signal, now: float) -> list[Change]:
        out: list[Change] = []
        for inc in self.active.values():
            if inc.active.pop(signal.key, None) is None:
                continue
            inc.evidence[signal.key] = signal
            inc.updated_at = now
            entries = [TimelineEntry(now, "signal_cleared", signal.to_json())]
            if not any(opens(s) for s in inc.active.values()) and inc.quiet_since is None:
                inc.quiet_since = now
                entries.append(TimelineEntry(now, "quiet", {"hold_down_s": self.hold_down_s}))
            out.append((inc, entries))
        return out

    def tick(self) -> list[Change]:
        """Resolve incidents quiet for the hold-down; forget resolved ones past the reopen window."""
        now = self.clock()
        out: list[Change] = []
        for inc in list(self.active.values()):
            if inc.quiet_since is not None and now - inc.quiet_since >= self.hold_down_s:
                inc.state, inc.resolved_at, inc.updated_at = "resolved", now, now
                del self.active[inc.id]
                self.recently_resolved[inc.id] = inc
                out.append((inc, [TimelineEntry(now, "state", {"state": "resolved",
                                                               "quiet_for_s": now - inc.quiet_since})]))
        for inc_id, inc in list(self.recently_resolved.items()):
            if inc.resolved_at is not None and now - inc.resolved_at > self.reopen_window_s:
                del self.recently_resolved[inc_id]
        return out

    def set_state(self, incident_id: str, state: str, why: str) -> Change | None:
        """Mark an active incident mitigating (remediation under way) or back to open."""
        inc = self.active.get(incident_id)
        if inc is None or state not in ("open", "mitigating"):
            return None
        inc.state = state  # type: ignore[assignment]
        inc.updated_at = self.clock()
        return inc, [TimelineEntry(inc.updated_at, "state", {"state": state, "why": why})]


def _ids() -> Callable[[], str]:
    """Incident ids that sort by time and stay unique across restarts: inc-YYYYmmdd-HHMMSS-n-xxxx
    (a counter within the process, random hex across processes)."""
    counter = itertools.count(1)

    def make() -> str:
        return time.strftime("inc-%Y%m%d-%H%M%S-", time.gmtime()) + f"{next(counter)}-{secrets.token_hex(2)}"

    return make
