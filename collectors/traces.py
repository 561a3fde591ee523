"""The span hot path, columnar: one comprehension pulls each span's fields out of protobuf (the part
no Python code can avoid), then span metrics, the service graph, the RED steps and the trace sample
each take the whole batch at once (numpy and C-level dict/set operations), not a call per span."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress, repeat

import numpy as np
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collectors.names import UNKNOWN_SERVICE
from collectors.red import RedAccumulator
from collectors.service_graph import ServiceGraph
from collectors.span_metrics import SpanMetrics
from collectors.trace_sample import Row, TraceSample

SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5
ERROR = 2


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: int = 0
    message: str = ""


Batch = tuple[str, list[Row], object]  # service, rows, the protobuf spans (for rare attribute look-ups)


@dataclass
class TracePipeline:
    span_metrics: SpanMetrics
    graph: ServiceGraph
    red: RedAccumulator
    sample: TraceSample

    @staticmethod
    def extract(req: ExportTraceServiceRequest) -> tuple[list[Batch], IngestResult]:
        """Pull each span's fields out of protobuf and validate ids: the part that decides partial
        success, done while the client waits; the rest is :meth:`process`."""
        result = IngestResult()
        batches: list[Batch] = []
        no_service = 0
        for rs in req.resource_spans:
            service = ""
            for kv in rs.resource.attributes:
                if kv.key == "service.name":
                    service = kv.value.string_value
                    break
            if not service:
                service = UNKNOWN_SERVICE
                no_service += 1
            for ss in rs.scope_spans:
                rows: list[Row] = [(s.name, s.kind, s.status.code, s.start_time_unix_nano, s.end_time_unix_nano,
                                    s.trace_id, s.span_id, s.parent_span_id) for s in ss.spans]
                good = [r for r in rows if len(r[5]) == 16 and len(r[6]) == 8]
                result.rejected += len(rows) - len(good)
                if good:
                    batches.append((service, good, ss.spans if len(good) == len(rows) else None))
                    result.accepted += len(good)
        messages = []
        if result.rejected:
            messages.append(f"{result.rejected} spans rejected: trace_id must be 16 bytes and span_id 8")
        if no_service:
            messages.append(f"{no_service} resources without service.name, recorded as {UNKNOWN_SERVICE}")
        result.message = "; ".join(messages)
        return batches, result

    def process(self, batches: list[Batch]) -> None:
        for service, rows, spans in batches:
            self._batch(service, rows, spans)

    def ingest(self, req: ExportTraceServiceRequest) -> IngestResult:
        batches, result = self.extract(req)
        self.process(batches)
        return result

    def _batch(self, service: str, rows: list[Row], spans: object) -> None:
        names, kinds, codes, starts, ends, tids, sids, parents = zip(*rows, strict=True)
        end_a = np.fromiter(ends, np.int64, len(rows))
        dur = np.maximum(end_a - np.fromiter(starts, np.int64, len(rows)), 0)
        self.span_metrics.observe_batch(service, names, kinds, codes, dur)
        kind_a = np.fromiter(kinds, np.int8, len(rows))
        failed = np.fromiter(codes, np.int8, len(rows)) == ERROR
        server = (kind_a == SERVER) | (kind_a == CONSUMER)
        client = (kind_a == CLIENT) | (kind_a == PRODUCER)
        self.red.add_server_batch(service, end_a[server], dur[server], failed[server])
        dur_l, failed_l = dur.tolist(), failed.tolist()
        has_parent = np.fromiter(map(len, parents), np.int64, len(rows)) > 0
        # Halves built with C-level zip/compress/map: no Python code runs per span here.
        sel = (server & has_parent).tolist()
        servers = dict(zip(map(bytes.__add__, compress(tids, sel), compress(parents, sel)),
                           zip(repeat(service), compress(dur_l, sel), compress(failed_l, sel), compress(ends, sel),
                               repeat("")), strict=False))
        sel = client.tolist()
        peers: list[str] | Iterable[str] = repeat("")
        if failed[client].any():
            peers = [_peer(spans, i) if failed_l[i] else "" for i in np.flatnonzero(client).tolist()]
        clients = dict(zip(map(bytes.__add__, compress(tids, sel), compress(sids, sel)),
                           zip(repeat(service), compress(dur_l, sel), compress(failed_l, sel), compress(ends, sel),
                               peers), strict=False))
        self.graph.add_batch(clients, servers)
        self.sample.add_batch(service, rows)


def _peer(spans: object, index: int) -> str:
    """``peer.service`` of a failed client span (looked up only for failures: attributes are costly)."""
    if spans is None:
        return ""
    for kv in spans[index].attributes:  # type: ignore[index]
        if kv.key == "peer.service":
            return str(kv.value.string_value)
    return ""
