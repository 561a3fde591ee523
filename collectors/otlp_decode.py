"""Decode OTLP/HTTP request bodies: content type, content encoding, size limits, hex ids in JSON.

Every failure is an :class:`OtlpError` carrying the HTTP status the spec asks for: 400 malformed,
413 too large (checked after decompression too, in bounded chunks, so a gzip bomb cannot expand
in memory), 415 unsupported media type or encoding.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any, Literal

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

Format = Literal["protobuf", "json"]
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_ID_FIELDS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


class OtlpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def media_format(content_type: str) -> Format:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/x-protobuf":
        return "protobuf"
    if media == "application/json":
        return "json"
    raise OtlpError(415, f"unsupported content type {content_type or '(none)'!r}; "
                         "use application/x-protobuf or application/json")


def decompress(body: bytes, encoding: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise OtlpError(415, f"unsupported content encoding {encoding!r}; use gzip, deflate or none")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise OtlpError(400, f"body is not valid {encoding}: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise OtlpError(413, f"decompressed body exceeds {max_bytes} bytes")
    if not inflater.eof:
        raise OtlpError(400, f"truncated {encoding} body")
    return out


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON carries ids as hex; protobuf's JSON parser expects base64 for bytes (PITFALLS.md)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                try:
                    out[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError as exc:
                    raise OtlpError(400, f"{key} {value!r} is not hex") from exc
            else:
                out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def parse(message: type[Message], body: bytes, fmt: Format) -> Message:
    if fmt == "protobuf":
        try:
            return message.FromString(body)
        except DecodeError as exc:
            raise OtlpError(400, f"malformed protobuf: {exc}") from exc
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OtlpError(400, f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise OtlpError(400, "JSON body must be an object")
    try:
        return json_format.ParseDict(_hex_ids_to_base64(data), message(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise OtlpError(400, f"JSON does not match {message.DESCRIPTOR.name}: {exc}") from exc


def encode(response: Message, fmt: Format) -> bytes:
    if fmt == "protobuf":
        return bytes(response.SerializeToString())
    return str(json_format.MessageToJson(response, indent=None)).encode()
