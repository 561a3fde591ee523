"""A bounded sample of recent traces, keeping error and slow traces first, so an incident can show
example traces.

Span batches are buffered whole (no per-span work on the hot path) in two generations. When the
older one is retired, its traces are judged: any error span or a span slower than ``slow_ms`` keeps
the trace, and ordinary traces are kept when the trace id's first byte falls under a threshold (one
in ``keep_one_in``), a choice every service's spans agree on. A kept trace gathers its spans from both
generations.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

# Row as the pipeline extracts it: name, kind, status code, start_ns, end_ns, trace_id, span_id, parent_span_id
Row = tuple[str, int, int, int, int, bytes, bytes, bytes]
# A kept span: service, name, kind, start_ns, end_ns, status code, span_id, parent_span_id
SpanRow = tuple[str, str, int, int, int, int, bytes, bytes]
Kept = tuple[bytes, list[SpanRow]]


@dataclass
class TraceSample:
    slow_ms: float = 250.0
    keep_one_in: int = 100
    max_kept: int = 300
    generation_spans: int = 100_000
    errors: deque[Kept] = field(default_factory=deque)
    slow: deque[Kept] = field(default_factory=deque)
    normal: deque[Kept] = field(default_factory=deque)
    _new: list[tuple[str, list[Row]]] = field(default_factory=list)
    _old: list[tuple[str, list[Row]]] = field(default_factory=list)
    _new_spans: int = 0

    def add_batch(self, service: str, rows: list[Row]) -> None:
        self._new.append((service, rows))
        self._new_spans += len(rows)
        if self._new_spans >= self.generation_spans:
            self.rotate()  # bounded memory whatever the rate: at most two generations of spans

    def rotate(self) -> None:
        slow_ns = self.slow_ms * 1e6
        cut = max(1, 256 // self.keep_one_in)
        err: set[bytes] = set()
        slow: set[bytes] = set()
        normal: set[bytes] = set()
        for _, rows in self._old:
            err.update(r[5] for r in rows if r[2] == 2)
            slow.update(r[5] for r in rows if r[4] - r[3] >= slow_ns)
            normal.update(r[5] for r in rows if r[5][0] < cut)
        slow -= err
        normal -= err | slow
        wanted = err | slow | normal
        if wanted:
            traces: dict[bytes, list[SpanRow]] = {tid: [] for tid in wanted}
            for service, rows in (*self._old, *self._new):
                for r in rows:
                    if r[5] in wanted:
                        traces[r[5]].append((service, r[0], r[1], r[3], r[4], r[2], r[6], r[7]))
            for tid, spans in traces.items():
                self._keep(self.errors if tid in err else self.slow if tid in slow else self.normal, tid, spans)
        self._old, self._new, self._new_spans = self._new, [], 0

    def _keep(self, bucket: deque[Kept], tid: bytes, rows: list[SpanRow]) -> None:
        bucket.append((tid, rows))
        while len(self.errors) + len(self.slow) + len(self.normal) > self.max_kept:
            (self.normal or self.slow or self.errors).popleft()  # evict ordinary traces first

    def find(self, trace_id: bytes) -> list[SpanRow] | None:
        for bucket in (self.errors, self.slow, self.normal):
            for tid, rows in bucket:
                if tid == trace_id:
                    return rows
        return None

    def recent(self, service: str | None = None, limit: int = 20) -> list[Kept]:
        """Errors first, then slow, then ordinary; newest first in each; optionally touching ``service``."""
        out: list[Kept] = []
        for bucket in (self.errors, self.slow, self.normal):
            for tid, rows in reversed(bucket):
                if service is None or any(r[0] == service for r in rows):
                    out.append((tid, rows))
                    if len(out) >= limit:
                        return out
        return out
