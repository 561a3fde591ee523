"""Client-side balancing with canary weights; the git wrapper's commits, log and revert."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from healops.errors import GitError
from healops.gitrepo import Author, GitRepo
from workloads.balancer import Balancer, NoEndpoints
from workloads.discovery import Cluster, DiscoveryWatcher, Endpoint, ServiceRoute


def watcher_with(tmp_path: Path, route: ServiceRoute) -> DiscoveryWatcher:
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(Cluster("r1", {"ml": route}).to_json()))
    w = DiscoveryWatcher(path)
    assert w.refresh()
    return w


def test_canary_weight_is_honoured_and_round_robin_within_a_track(tmp_path: Path) -> None:
    eps = (Endpoint("http://a", "a", "1.1.0", "stable"), Endpoint("http://b", "b", "1.1.0", "stable"),
           Endpoint("http://c", "c", "1.2.0", "canary"))
    b = Balancer(watcher_with(tmp_path, ServiceRoute(eps, canary_weight=20)), random.Random(5))
    picks = Counter(b.pick("ml").instance for _ in range(5000))
    assert 0.17 < picks["c"] / 5000 < 0.23
    assert abs(picks["a"] - picks["b"]) <= 1


def test_no_endpoints_is_an_error(tmp_path: Path) -> None:
    b = Balancer(watcher_with(tmp_path, ServiceRoute()))
    with pytest.raises(NoEndpoints):
        b.pick("ml")


def test_torn_discovery_file_keeps_the_last_good(tmp_path: Path) -> None:
    w = watcher_with(tmp_path, ServiceRoute((Endpoint("http://a", "a", "1", "stable"),)))
    w.path.write_text('{"services": {"ml": ')
    assert not w.refresh()
    assert w.cluster.services["ml"].endpoints[0].instance == "a"


def test_commit_log_revert(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.init()
    first = repo.commit_files({"a.yaml": "x: 1\n"}, "first")
    assert repo.commit_files({"a.yaml": "x: 1\n"}, "no change") == first
    second = repo.commit_files({"a.yaml": "x: 2\n"}, "Scale\n\nbecause", Author("oncall", "o@x"))
    log = repo.log()
    assert [c.subject for c in log] == ["Scale", "first"]
    assert (log[0].author, log[0].body) == ("oncall", "because")
    repo.revert(second, "Revert scale")
    assert repo.show("HEAD", "a.yaml") == "x: 1\n"


def test_git_errors_are_translated(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.init()
    with pytest.raises(GitError):
        repo.show("HEAD", "missing.yaml")
