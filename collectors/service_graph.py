"""The service graph, as the OpenTelemetry Collector's servicegraph connector derives it.

A client span and the server span whose parent it is form one edge ``client -> server``. Halves wait
in a two-generation store: every ``ttl_s`` the older generation is dropped whole (O(1), no per-item
timers). A client half that expires unpaired but names its peer (``peer.service``) still counts as an
edge to that peer, as the connector's virtual nodes do, so a call to a dead service is not lost.
Pairing is per batch: set intersections and dict updates run in C, and completed pairs are
aggregated per edge with numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from collectors.names import GRAPH_SECONDS_BUCKETS

# A half: (service, duration_ns, failed, end_ns, peer or "")
Half = tuple[str, int, bool, int, str]
BOUNDS_NS = np.array([b * 1e9 for b in GRAPH_SECONDS_BUCKETS])
# edge keys by id, then per completed pair: edge id, client duration (ns), failed, end time (ns)
EdgeListener = Callable[[list[tuple[str, str]], npt.NDArray[np.int64], npt.NDArray[np.int64],
                         npt.NDArray[np.bool_], npt.NDArray[np.int64]], None]
_NO_SERVER: Half = ("", -1, False, 0, "")


def _or(server: str, peer: str) -> str:
    """The server's own name, or for a virtual edge the peer the client named."""
    return server or peer


@dataclass(frozen=True)
class EdgeCell:
    """Cumulative totals of one edge (a read-only view for exposition)."""

    requests: int
    failed: int
    server_buckets: npt.NDArray[np.int64]
    server_sum_s: float
    client_buckets: npt.NDArray[np.int64]
    client_sum_s: float


def _zeros(rows: int, cols: int = 0) -> npt.NDArray[np.float64]:
    return np.zeros((rows, cols) if cols else rows, np.float64)


def _grow(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.concatenate([a, np.zeros_like(a)])


@dataclass
class ServiceGraph:
    ttl_s: float = 10.0
    max_pending: int = 200_000
    max_edges: int = 10_000
    expired: int = 0
    dropped: int = 0
    listener: EdgeListener | None = None
    _clients: dict[bytes, Half] = field(default_factory=dict)
    _servers: dict[bytes, Half] = field(default_factory=dict)
    _old_clients: dict[bytes, Half] = field(default_factory=dict)
    _old_servers: dict[bytes, Half] = field(default_factory=dict)
    _ids: dict[tuple[str, str], int] = field(default_factory=dict)
    _keys: list[tuple[str, str]] = field(default_factory=list)
    # per edge id: requests, failed, client and server time sums (s), and two histograms
    _requests: npt.NDArray[np.float64] = field(default_factory=lambda: _zeros(16))
    _failed: npt.NDArray[np.float64] = field(default_factory=lambda: _zeros(16))
    _client_sum: npt.NDArray[np.float64] = field(default_factory=lambda: _zeros(16))
    _server_sum: npt.NDArray[np.float64] = field(default_factory=lambda: _zeros(16))
    _client_hist: npt.NDArray[np.float64] = field(default_factory=lambda: _zeros(16, len(BOUNDS_NS) + 1))
    _server_hist: npt.NDArray[np.float64] = field(default_factory=lambda: _zeros(16, len(BOUNDS_NS) + 1))

    @property
    def edges(self) -> dict[tuple[str, str], EdgeCell]:
        return {key: EdgeCell(int(self._requests[i]), int(self._failed[i]), self._server_hist[i].astype(np.int64),
                              float(self._server_sum[i]), self._client_hist[i].astype(np.int64),
                              float(self._client_sum[i]))
                for i, key in enumerate(self._keys)}

    def edge_keys(self) -> list[tuple[str, str]]:
        """Every (client, server) edge seen so far, cheaply (no histogram copies)."""
        return list(self._keys)

    def _edge_id(self, key: tuple[str, str]) -> int:
        gid = self._ids.get(key)
        if gid is not None:
            return gid
        if len(self._keys) >= self.max_edges:
            return -1
        gid = self._ids[key] = len(self._keys)
        self._keys.append(key)
        if gid >= len(self._requests):
            self._requests, self._failed = _grow(self._requests), _grow(self._failed)
            self._client_sum, self._server_sum = _grow(self._client_sum), _grow(self._server_sum)
            self._client_hist, self._server_hist = _grow(self._client_hist), _grow(self._server_hist)
        return gid

    def pending(self) -> int:
        return len(self._clients) + len(self._servers) + len(self._old_clients) + len(self._old_servers)

    def add_batch(self, clients: dict[bytes, Half], servers: dict[bytes, Half]) -> None:
        """Pair a batch's halves (keyed trace id + client span id) with the waiting ones; the dicts are
        consumed."""
        if clients:
            self._pair(clients, (self._servers, self._old_servers), self._clients, client_first=True)
        if servers:
            self._pair(servers, (self._clients, self._old_clients), self._servers, client_first=False)

    def _pair(self, incoming: dict[bytes, Half], others: tuple[dict[bytes, Half], dict[bytes, Half]],
              own: dict[bytes, Half], client_first: bool) -> None:
        done: list[tuple[Half, Half]] = []
        for store in others:
            if store:
                matched = store.keys() & incoming.keys()
                if client_first:
                    done.extend((incoming.pop(k), store.pop(k)) for k in matched)
                else:
                    done.extend((store.pop(k), incoming.pop(k)) for k in matched)
        if done:
            self._record(done)
        room = max(0, self.max_pending - self.pending())
        if len(incoming) > room:
            self.dropped += len(incoming) - room
            incoming = dict(list(incoming.items())[:room])
        own.update(incoming)

    def _record(self, pairs: list[tuple[Half, Half]]) -> None:
        """Aggregate completed (client, server) pairs with one set of numpy calls per batch; a server
        duration of -1 marks a virtual edge (the server never reported; the client named its peer)."""
        clients, servers = zip(*pairs, strict=True)
        c_service, c_ns, c_failed, c_end, c_peer = zip(*clients, strict=True)
        s_service, s_ns, s_failed, s_end, _ = zip(*servers, strict=True)
        n = len(pairs)
        keys = list(zip(c_service, map(_or, s_service, c_peer), strict=True))
        gids: list[int | None] = list(map(self._ids.get, keys))
        if None in gids:
            gids = [g if g is not None else self._edge_id(k) for g, k in zip(gids, keys, strict=True)]
        eids = np.fromiter(gids, np.int64, n)
        client_ns = np.fromiter(c_ns, np.int64, n)
        server_ns = np.fromiter(s_ns, np.int64, n)
        failed = np.fromiter(c_failed, np.bool_, n) | np.fromiter(s_failed, np.bool_, n)
        s_end_a = np.fromiter(s_end, np.int64, n)
        ends = np.where(s_end_a > 0, s_end_a, np.fromiter(c_end, np.int64, n))
        keep = eids >= 0
        if not keep.all():
            self.dropped += int((~keep).sum())
            eids, client_ns, server_ns, ends = eids[keep], client_ns[keep], server_ns[keep], ends[keep]
            failed = failed[keep]
        np.add.at(self._requests, eids, 1)
        np.add.at(self._failed, eids, failed)
        np.add.at(self._client_sum, eids, client_ns / 1e9)
        np.add.at(self._client_hist, (eids, np.searchsorted(BOUNDS_NS, client_ns)), 1)
        real = server_ns >= 0
        np.add.at(self._server_sum, eids[real], server_ns[real] / 1e9)
        np.add.at(self._server_hist, (eids[real], np.searchsorted(BOUNDS_NS, server_ns[real])), 1)
        if self.listener is not None:
            self.listener(self._keys, eids, client_ns, failed, ends)

    def rotate(self) -> None:
        """Retire the older generation (call every ``ttl_s``); unpaired clients naming a peer count."""
        virtual = [(half, _NO_SERVER) for half in self._old_clients.values() if half[4]]
        self.expired += len(self._old_clients) - len(virtual) + len(self._old_servers)
        if virtual:
            self._record(virtual)
        self._old_clients, self._clients = self._clients, {}
        self._old_servers, self._servers = self._servers, {}
