"""OTLP/HTTP receiver (``POST /v1/traces``, ``/v1/metrics``, ``/v1/logs``) as a plain ASGI app.

Follows the OTLP/HTTP spec: protobuf or JSON, gzip or deflate, the reply in the request's format,
partial success for rejected items, 400 malformed, 413 past the size limit (before and after
decompression), 415 unknown media type, 503 with ``Retry-After`` when the queue is full. The queue is
bounded in spans and checked before a body is parsed, so refusing is cheap under overload; anything
accepted is processed (nothing accepted is dropped). Also serves ``/metrics`` and the read API.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from collectors import otlp_decode
from collectors.api import read_api
from collectors.collector import Collector
from collectors.exposition import make_registry, render
from collectors.otlp_decode import OtlpError
from collectors.traces import Batch

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class ReceiverSettings:
    max_body_bytes: int = otlp_decode.DEFAULT_MAX_BYTES
    max_queued_spans: int = 100_000
    retry_after_s: int = 1
    tick_interval_s: float = 0.25


@dataclass
class OtlpReceiver:
    collector: Collector
    settings: ReceiverSettings = field(default_factory=ReceiverSettings)
    _queue: asyncio.Queue[tuple[list[Batch], int]] | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.registry = make_registry(self.collector)
        self.api = read_api(self.collector)

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._worker()), asyncio.create_task(self._ticker())]

    async def stop(self) -> None:
        """Finish what was accepted, then stop."""
        if self._queue is not None:
            await self._queue.join()
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def _worker(self) -> None:
        assert self._queue is not None
        while True:
            batches, spans = await self._queue.get()
            t0 = time.thread_time()
            try:
                self.collector.traces.process(batches)
            finally:
                self.collector.cpu_seconds["process"] += time.thread_time() - t0
                self.collector.queued_spans -= spans
                self._queue.task_done()
            await asyncio.sleep(0)  # let requests in between batches

    async def _ticker(self) -> None:
        while True:
            self.collector.tick()
            await asyncio.sleep(self.settings.tick_interval_s)

    # -- ASGI --------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path in ("/v1/traces", "/v1/metrics", "/v1/logs"):
            if method != "POST":
                await _reply(send, 405, b'{"error":"use POST"}', "application/json", {"allow": "POST"})
                return
            await self._export(path, scope, receive, send)
        elif path == "/metrics" and method == "GET":
            await _reply(send, 200, render(self.registry), "text/plain; version=0.0.4; charset=utf-8")
        elif path == "/healthz":  # cheap, unlike /metrics: what load tests poll
            body = b'{"status":"ok","queued_spans":%d}' % self.collector.queued_spans
            await _reply(send, 200, body, "application/json")
        else:
            await self.api(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _export(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
        signal = path.rsplit("/", 1)[1]
        fmt: otlp_decode.Format = "protobuf"
        try:
            fmt = otlp_decode.media_format(headers.get("content-type", ""))
            if signal == "traces" and self.collector.queued_spans >= self.settings.max_queued_spans:
                await _drain(receive)
                self.collector.counts[f"{signal}.refused_requests"] += 1
                await _error(send, 503, "receiver queue full", fmt,
                             {"retry-after": str(self.settings.retry_after_s)})
                return
            declared = int(headers.get("content-length", "0") or 0)
            if declared > self.settings.max_body_bytes:
                await _drain(receive)
                raise OtlpError(413, f"body of {declared} bytes exceeds {self.settings.max_body_bytes}")
            body = await _read(receive, self.settings.max_body_bytes)
            body = otlp_decode.decompress(body, headers.get("content-encoding", ""), self.settings.max_body_bytes)
            reply = self._ingest(signal, body, fmt)
        except OtlpError as exc:
            self.collector.counts[f"{signal}.malformed_requests"] += 1
            await _error(send, exc.status, str(exc), fmt)
            return
        await _reply(send, 200, otlp_decode.encode(reply, fmt), _ctype(fmt))

    def _ingest(self, signal: str, body: bytes, fmt: otlp_decode.Format) -> Any:
        c = self.collector
        if signal == "traces":
            t0 = time.thread_time()
            req = otlp_decode.parse(ExportTraceServiceRequest, body, fmt)
            assert isinstance(req, ExportTraceServiceRequest)
            t1 = time.thread_time()
            batches, result = c.traces.extract(req)
            c.cpu_seconds["parse"] += t1 - t0
            c.cpu_seconds["extract"] += time.thread_time() - t1
            if result.accepted:
                assert self._queue is not None
                self.collector.queued_spans += result.accepted
                self._queue.put_nowait((batches, result.accepted))
            c.counts["traces.accepted"] += result.accepted
            c.counts["traces.rejected"] += result.rejected
            trace_reply = ExportTraceServiceResponse()
            if result.rejected or result.message:
                trace_reply.partial_success.rejected_spans = result.rejected
                trace_reply.partial_success.error_message = result.message
            return trace_reply
        if signal == "metrics":
            mreq = otlp_decode.parse(ExportMetricsServiceRequest, body, fmt)
            assert isinstance(mreq, ExportMetricsServiceRequest)
            accepted, rejected = c.metrics.ingest(mreq)
            c.counts["metrics.accepted"] += accepted
            c.counts["metrics.rejected"] += rejected
            metric_reply = ExportMetricsServiceResponse()
            if rejected:
                metric_reply.partial_success.rejected_data_points = rejected
                metric_reply.partial_success.error_message = f"{rejected} data points of unsupported types"
            return metric_reply
        lreq = otlp_decode.parse(ExportLogsServiceRequest, body, fmt)
        assert isinstance(lreq, ExportLogsServiceRequest)
        accepted, rejected = c.logs.ingest(lreq)
        c.counts["logs.accepted"] += accepted
        c.counts["logs.rejected"] += rejected
        log_reply = ExportLogsServiceResponse()
        if rejected:
            log_reply.partial_success.rejected_log_records = rejected
            log_reply.partial_success.error_message = f"{rejected} log records with a malformed trace_id"
        return log_reply


def _ctype(fmt: otlp_decode.Format) -> str:
    return "application/x-protobuf" if fmt == "protobuf" else "application/json"


async def _read(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _drain(receive, message)
            raise OtlpError(413, f"body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _drain(receive: Receive, last: dict[str, Any] | None = None) -> None:
    """Read and discard the rest of the body, so the connection stays usable."""
    message = last or {"more_body": True}
    while message.get("more_body", False) and message.get("type") != "http.disconnect":
        message = await receive()


async def _error(send: Send, status: int, message: str, fmt: otlp_decode.Format,
                 headers: dict[str, str] | None = None) -> None:
    """Errors carry a google.rpc.Status as the spec asks (JSON or protobuf)."""
    from google.rpc.status_pb2 import Status

    status_msg = Status(code=3 if status == 400 else 8 if status in (429, 503) else 2, message=message)
    await _reply(send, status, otlp_decode.encode(status_msg, fmt), _ctype(fmt), headers)


async def _reply(send: Send, status: int, body: bytes, content_type: str,
                 headers: dict[str, str] | None = None) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
