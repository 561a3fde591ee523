"""The OTLP/HTTP receiver over real HTTP on loopback: the spec's answers to good and bad input."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator

import httpx
import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from collectors.receiver import ReceiverSettings
from collectors.server import ThreadedCollector
from collectors.synthetic import SyntheticTraces
from healops.harness import free_port, wait_until

PB = {"content-type": "application/x-protobuf"}
LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def col() -> Iterator[ThreadedCollector]:
    c = ThreadedCollector.start(free_port(), receiver_settings=ReceiverSettings(max_body_bytes=LIMIT))
    yield c
    c.stop()


def body(spans: int = 64) -> bytes:
    return SyntheticTraces(seed=spans).requests(1, spans_per_request=spans)[0]


def processed(col: ThreadedCollector) -> int:
    return sum(int(hist.sum()) for _, hist, _ in col.collector.span_metrics.cells())


def test_protobuf_gzip_round_trip_and_processing(col: ThreadedCollector) -> None:
    before = processed(col)
    resp = httpx.post(f"{col.url}/v1/traces", content=gzip.compress(body()),
                      headers={**PB, "content-encoding": "gzip"})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/x-protobuf"
    reply = ExportTraceServiceResponse.FromString(resp.content)
    assert not reply.HasField("partial_success")
    wait_until(lambda: processed(col) == before + 64, 5, what="64 spans processed")


def test_json_with_hex_ids_is_decoded_as_hex(col: ThreadedCollector) -> None:
    req = ExportTraceServiceRequest.FromString(body(4))
    doc = json_format.MessageToDict(req)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:  # OTLP/JSON: ids are hex, not base64
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in sp:
                        sp[key] = base64.b64decode(sp[key]).hex()
    resp = httpx.post(f"{col.url}/v1/traces", content=json.dumps(doc), headers={"content-type": "application/json"})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    # Full success proves the ids were read as hex: base64-decoding the hex text gives 24-byte trace ids,
    # which the receiver rejects as malformed (PITFALLS.md).
    assert json.loads(resp.content) == {}


def test_partial_success_names_rejected_spans_and_missing_service(col: ThreadedCollector) -> None:
    req = ExportTraceServiceRequest.FromString(body(8))
    req.resource_spans[0].scope_spans[0].spans[0].trace_id = b"short"
    del req.resource_spans[0].resource.attributes[:]
    resp = httpx.post(f"{col.url}/v1/traces", content=req.SerializeToString(), headers=PB)
    assert resp.status_code == 200
    reply = ExportTraceServiceResponse.FromString(resp.content)
    assert reply.partial_success.rejected_spans == 1
    assert "trace_id must be 16 bytes" in reply.partial_success.error_message
    assert "without service.name" in reply.partial_success.error_message


@pytest.mark.parametrize(("content", "headers", "status"), [
    (b"\x0a\xff\xff\xff", PB, 400),                                     # truncated protobuf
    (b"{not json", {"content-type": "application/json"}, 400),          # invalid JSON
    (b'{"resourceSpans": 3}', {"content-type": "application/json"}, 400),  # JSON of the wrong shape
    (b"x", {"content-type": "text/plain"}, 415),                         # wrong content type
    (b"x", {}, 415),                                                     # no content type
    (b"x", {**PB, "content-encoding": "br"}, 415),                       # unknown encoding
    (b"not gzip", {**PB, "content-encoding": "gzip"}, 400),              # corrupt gzip
    (b"\x00" * (LIMIT + 1), PB, 413),                                    # oversized
])
def test_bad_requests_get_the_spec_status(col: ThreadedCollector, content: bytes, headers: dict[str, str],
                                          status: int) -> None:
    resp = httpx.post(f"{col.url}/v1/traces", content=content, headers=headers)
    assert resp.status_code == status, resp.text


def test_gzip_bomb_is_refused_without_inflating_it(col: ThreadedCollector) -> None:
    gz = gzip.compress(b"\x00" * (50 * LIMIT), 9)  # 50x the limit once inflated, ~50 KiB on the wire
    assert len(gz) < LIMIT / 10
    resp = httpx.post(f"{col.url}/v1/traces", content=gz, headers={**PB, "content-encoding": "gzip"})
    assert resp.status_code == 413
    assert httpx.get(f"{col.url}/healthz").status_code == 200


def test_wrong_method_and_unknown_path(col: ThreadedCollector) -> None:
    assert httpx.get(f"{col.url}/v1/traces").status_code == 405
    assert httpx.get(f"{col.url}/nowhere").status_code == 404


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), signal=st.sampled_from(["traces", "metrics", "logs"]),
       encoding=st.sampled_from(["", "gzip"]))
def test_random_bytes_never_crash_the_receiver(col: ThreadedCollector, data: bytes, signal: str,
                                               encoding: str) -> None:
    headers = {**PB, "content-encoding": encoding} if encoding else PB
    resp = httpx.post(f"{col.url}/v1/{signal}", content=data, headers=headers)
    assert resp.status_code in (200, 400), resp.status_code
    assert httpx.get(f"{col.url}/healthz").status_code == 200
