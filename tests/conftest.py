"""Shared fixtures. ``platform`` is one real ``healops up --headless`` (1 replica each, no load) for
the whole session, exporting to a real OTLP endpoint in this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from healops.harness import PlatformProcess
from tests.otlp_sink import OtlpSink


@pytest.fixture(scope="session")
def otlp_sink() -> Iterator[OtlpSink]:
    sink = OtlpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, otlp_sink: OtlpSink) -> Iterator[PlatformProcess]:
    home: Path = tmp_path_factory.mktemp("platform")
    plat = PlatformProcess(home, rps=0, replicas=1, otlp_endpoint=otlp_sink.endpoint).start()
    yield plat
    code = plat.stop()
    assert code == 0, f"healops up exited with {code}; see {home / 'up.out'}"
