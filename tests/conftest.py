"""Shared fixtures. ``platform`` is one real ``healops up --headless`` (1 replica each, no load) for
the whole session, with its own collector on a free loopback port; ``nab_corpus`` is the Numenta
Anomaly Benchmark beside the clone (``nab_root``, or ``HEALOPS_NAB_ROOT``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from detectors.nab_corpus import DEFAULT_ROOT, NabCorpus
from healops.harness import PlatformProcess
from healops.seeded import SeededPlane
from tests.remediation_world import World, make_world


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    home: Path = tmp_path_factory.mktemp("platform")
    plat = PlatformProcess(home, rps=0, replicas=1).start()
    yield plat
    code = plat.stop()
    assert code == 0, f"healops up exited with {code}; see {home / 'up.out'}"


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[SeededPlane]:
    """A real control plane over HTTP on a seeded state and a fixed clock (healops.seeded), for the TUI."""
    plane = SeededPlane(tmp_path / "home").start()
    yield plane
    plane.stop()


@pytest.fixture
def world(tmp_path: Path) -> World:
    """A desired-state repository, journal and executor for remediation tests (tests/remediation_world.py)."""
    return make_world(tmp_path)


@pytest.fixture(scope="session")
def nab_root() -> Path:
    return Path(os.environ.get("HEALOPS_NAB_ROOT", DEFAULT_ROOT))


@pytest.fixture(scope="session")
def nab_corpus(nab_root: Path) -> NabCorpus:
    """The NAB corpus; missing, it fails the run under CI and skips elsewhere."""
    if not (nab_root / "labels" / "combined_windows.json").exists():
        message = f"NAB corpus not found at {nab_root} (shared/benchmarks/nab beside the clone)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return NabCorpus.load(nab_root)
