"""Service-to-service calls carry the trace context and leave a client span the collector can use.

Real parts: an aiohttp server on 127.0.0.1 answers the calls; spans go to the OpenTelemetry SDK's own
in-memory exporter (a real exporter the SDK ships for tests), through a real TracerProvider.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from workloads.downstream import Answer, CallFailed, Downstream


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def client_for(spans: InMemorySpanExporter) -> Downstream:
    """A provider of the test's own, not the process-wide one other tests may have set."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return Downstream(tracer_provider=provider)


async def call_once(spans: InMemorySpanExporter, peer: str, method: str, url: str) -> Answer:
    client = client_for(spans)
    await client.open()
    try:
        return await client.request(peer, method, url, timeout_s=2)
    finally:
        await client.close()


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[str]]]:
    seen_traceparents: list[str] = []

    async def ok(request: web.Request) -> web.Response:
        seen_traceparents.append(request.headers.get("traceparent", ""))
        return web.json_response({"ok": True})

    async def broken(_request: web.Request) -> web.Response:
        return web.json_response({"error": "boom"}, status=503)

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_post("/broken", broken)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", seen_traceparents
    await runner.cleanup()


async def test_a_call_sends_its_trace_context_and_records_a_client_span(
        spans: InMemorySpanExporter, server: tuple[str, list[str]]) -> None:
    url, traceparents = server
    answer = await call_once(spans, "identity", "GET", f"{url}/ok")
    assert answer.status == 200 and answer.body == b'{"ok": true}'
    [span] = spans.get_finished_spans()
    assert span.kind is SpanKind.CLIENT and span.name == "GET"
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes is not None
    assert span.attributes["peer.service"] == "identity"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["server.address"] == "127.0.0.1"
    assert span.attributes["url.full"] == f"{url}/ok"
    # The server saw this span as its parent: W3C traceparent = version-traceid-spanid-flags.
    ctx = span.context
    assert ctx is not None and ctx.trace_flags.sampled
    assert traceparents == [f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"]


async def test_a_5xx_answer_is_an_error_span_but_still_an_answer(
        spans: InMemorySpanExporter, server: tuple[str, list[str]]) -> None:
    url, _ = server
    answer = await call_once(spans, "healthcare", "POST", f"{url}/broken")
    assert answer.status == 503
    [span] = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "503"


async def test_timeouts_and_refused_connections_are_told_apart(
        spans: InMemorySpanExporter, server: tuple[str, list[str]]) -> None:
    url, _ = server
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x"
        client = client_for(spans)
        await client.open()
        try:
            with pytest.raises(CallFailed) as timed_out:
                await client.request("analytics", "GET", f"{url}/slow", timeout_s=0.2)
            with pytest.raises(CallFailed) as refused:
                await client.request("analytics", "GET", dead, timeout_s=1)
        finally:
            await client.close()
    assert timed_out.value.timed_out and timed_out.value.reason == "timed out"
    assert not refused.value.timed_out and refused.value.reason.startswith("transport error: ")
    slow_span, dead_span = spans.get_finished_spans()
    assert slow_span.status.status_code is StatusCode.ERROR and dead_span.status.status_code is StatusCode.ERROR
    assert slow_span.attributes is not None and slow_span.attributes["error.type"] == "timeout"
    assert dead_span.attributes is not None and dead_span.attributes["error.type"] != "timeout"


async def test_calling_before_open_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="open"):
        await Downstream().request("ml", "POST", "http://127.0.0.1:1/predict", timeout_s=1)


@pytest.mark.parametrize(("mode", "timed_out"), [("error", False), ("timeout", True)])
async def test_an_injected_dependency_failure_leaves_the_same_client_span_as_a_real_one(
        spans: InMemorySpanExporter, mode: str, timed_out: bool) -> None:
    client = client_for(spans)
    with pytest.raises(CallFailed) as failed:
        await client.cut_off("identity", "GET", mode, timeout_s=0.05)
    assert failed.value.timed_out is timed_out and failed.value.reason == f"dependency {mode}"
    [span] = spans.get_finished_spans()
    assert span.kind is SpanKind.CLIENT and span.name == "GET" and span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["peer.service"] == "identity"
    assert span.attributes["error.type"] == f"dependency_{mode}"
    if timed_out:
        assert span.end_time is not None and span.start_time is not None
        assert (span.end_time - span.start_time) / 1e9 >= 0.05, "a timeout holds the caller for the timeout"
