"""Manifests are refused with file, line, field and reason; good ones round-trip."""

from __future__ import annotations

import pytest

from healops.documents import parse_yaml_model
from healops.errors import DocumentError
from workloads.desired_state import dump_manifest
from workloads.manifest import ServiceManifest, default_manifest, memory_bytes

GOOD = """\
apiVersion: healops.dev/v1
kind: Service
metadata:
  name: healthcare
spec:
  replicas: 2
  version: 1.1.0
  resources:
    limits:
      memory: 256Mi
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(DocumentError) as exc:
        parse_yaml_model(text, ServiceManifest, "services/healthcare.yaml")
    assert all(p.file == "services/healthcare.yaml" for p in exc.value.problems)
    return [(p.line, p.field, p.reason) for p in exc.value.problems]


def test_good_manifest_parses_and_round_trips() -> None:
    m = parse_yaml_model(GOOD, ServiceManifest, "x.yaml")
    assert m.spec.replicas == 2 and m.memory_limit_bytes == 256 * 2**20
    again = parse_yaml_model(dump_manifest(m), ServiceManifest, "x.yaml")
    assert again == m


def test_negative_replicas_names_line_and_field() -> None:
    [(line, field, reason)] = problems(GOOD.replace("replicas: 2", "replicas: -1"))
    assert (line, field) == (6, "spec.replicas")
    assert "greater than or equal to 0" in reason


def test_bad_memory_quantity_points_at_its_line() -> None:
    [(line, field, reason)] = problems(GOOD.replace("256Mi", "lots"))
    assert (line, field) == (10, "spec.resources.limits.memory")
    assert "memory quantity" in reason


def test_unknown_field_is_refused() -> None:
    [(line, field, _)] = problems(GOOD.replace("  replicas: 2", "  replicas: 2\n  replica: 3"))
    assert (line, field) == (7, "spec.replica")


def test_unknown_version_is_refused() -> None:
    [(_, _, reason)] = problems(GOOD.replace("1.1.0", "9.9.9"))
    assert "not a release of healthcare" in reason


def test_yaml_syntax_error_names_a_line() -> None:
    [(line, field, reason)] = problems(GOOD.replace("  replicas: 2", "  replicas: [2"))
    assert line is not None and field == "" and "not valid YAML" in reason


def test_gateway_policy_validates_routes_and_downstreams() -> None:
    gw = dump_manifest(default_manifest("api-gateway", 1))
    assert parse_yaml_model(gw, ServiceManifest, "gw.yaml").spec.gateway is not None
    bad = gw.replace("/api/login:", "/api/nope:")
    with pytest.raises(DocumentError, match="unknown route '/api/nope'"):
        parse_yaml_model(bad, ServiceManifest, "gw.yaml")


@pytest.mark.parametrize(("text", "expected"), [("512Mi", 512 * 2**20), ("1G", 10**9), ("100", 100)])
def test_memory_quantities(text: str, expected: int) -> None:
    assert memory_bytes(text) == expected
