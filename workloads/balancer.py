"""Client-side balancing across a service's live replicas, honouring the canary weight."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Iterator

from workloads.discovery import DiscoveryWatcher, Endpoint


class NoEndpoints(Exception):
    """The service has no live replica to call."""


class Balancer:
    def __init__(self, watcher: DiscoveryWatcher, rng: random.Random | None = None) -> None:
        self.watcher = watcher
        self.rng = rng or random.Random()
        self._counters: dict[tuple[str, str], Iterator[int]] = defaultdict(itertools.count)

    def pick(self, service: str) -> Endpoint:
        route = self.watcher.cluster.services.get(service)
        if route is None or not route.endpoints:
            raise NoEndpoints(service)
        canary = [e for e in route.endpoints if e.track == "canary"]
        stable = [e for e in route.endpoints if e.track == "stable"]
        use_canary = bool(canary) and (not stable or self.rng.random() * 100 < route.canary_weight)
        group = canary if use_canary else stable
        key = (service, "canary" if use_canary else "stable")
        return group[next(self._counters[key]) % len(group)]
