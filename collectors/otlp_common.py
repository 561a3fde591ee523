"""Small helpers over OTLP protobuf resources."""

from __future__ import annotations

from opentelemetry.proto.resource.v1.resource_pb2 import Resource


def resource_attr(resource: Resource, key: str) -> str | None:
    for kv in resource.attributes:
        if kv.key == key:
            return str(kv.value.string_value)
    return None


def service_of(resource: Resource) -> str | None:
    return resource_attr(resource, "service.name")
