"""OTLP log records indexed by trace id, so an incident can show the log lines of its traces.

Bounded twice: at most ``per_trace`` lines a trace and ``max_traces`` traces (least recently written
evicted first)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from collectors.names import UNKNOWN_SERVICE
from collectors.otlp_common import service_of


@dataclass(frozen=True)
class LogLine:
    time_ns: int
    service: str
    severity: str
    body: str
    span_id: str


@dataclass
class LogIndex:
    per_trace: int = 50
    max_traces: int = 20_000
    without_trace: int = 0
    _by_trace: OrderedDict[bytes, list[LogLine]] = field(default_factory=OrderedDict)

    def ingest(self, req: ExportLogsServiceRequest) -> tuple[int, int]:
        """Returns (accepted, rejected); a record with a malformed trace id is rejected."""
        accepted = rejected = 0
        for rl in req.resource_logs:
            service = service_of(rl.resource) or UNKNOWN_SERVICE
            for sl in rl.scope_logs:
                for rec in sl.log_records:
                    tid = rec.trace_id
                    if tid and len(tid) != 16:
                        rejected += 1
                        continue
                    accepted += 1
                    if not tid:
                        self.without_trace += 1
                        continue
                    body = rec.body.string_value if rec.body.HasField("string_value") else str(rec.body)
                    line = LogLine(rec.time_unix_nano or rec.observed_time_unix_nano, service,
                                   rec.severity_text or str(rec.severity_number), body, rec.span_id.hex())
                    self._add(tid, line)
        return accepted, rejected

    def _add(self, tid: bytes, line: LogLine) -> None:
        lines = self._by_trace.get(tid)
        if lines is None:
            lines = self._by_trace[tid] = []
            while len(self._by_trace) > self.max_traces:
                self._by_trace.popitem(last=False)
        else:
            self._by_trace.move_to_end(tid)
        if len(lines) < self.per_trace:
            lines.append(line)

    def for_trace(self, trace_id: bytes) -> list[LogLine]:
        return list(self._by_trace.get(trace_id, []))
