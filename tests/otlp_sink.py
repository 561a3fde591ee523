"""A minimal real OTLP/HTTP endpoint for tests: it decodes what the services' SDK exporters send.

It uses the opentelemetry-proto classes, so a span only counts if the real exporter produced a
valid protobuf body (gzip included).
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class SeenSpan:
    service: str
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    attributes: dict[str, str]
    resource: dict[str, str]


class OtlpSink:
    def __init__(self) -> None:
        self.spans: list[SeenSpan] = []
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                with sink._lock:
                    sink.requests[self.path] = sink.requests.get(self.path, 0) + 1
                if self.path == "/v1/traces":
                    sink._take(body)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _take(self, body: bytes) -> None:
        req = ExportTraceServiceRequest()
        req.ParseFromString(body)
        out = []
        for rs in req.resource_spans:
            attrs = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    out.append(SeenSpan(
                        attrs.get("service.name", ""), s.trace_id.hex(), s.span_id.hex(),
                        s.parent_span_id.hex(), s.name, s.kind,
                        {kv.key: kv.value.string_value for kv in s.attributes}, attrs))
        with self._lock:
            self.spans.extend(out)

    def start(self) -> OtlpSink:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
