"""The Kubernetes executor, through the real ``kubernetes`` client, against recorded API shapes.

No Kubernetes API server can run here: ``tests/k8s_api.py`` answers over loopback HTTP with the
JSON a real one returns, and keeps every request, so these tests check what the client library
sends (paths, strategic-merge content type, dryRun) and that what it parses back drives the
executor. Versions, flags and gateway policy go to a real git repository (the GitOps side)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client

from healops.errors import RuntimeStateError
from remediation.changes import Intent, Restart, Scale, SetVersion
from remediation.gitops import GitOps
from remediation.kubernetes_executor import LAST_ACTION, RESTARTED_AT, KubernetesExecutor
from tests.k8s_api import FakeCluster, deployment, pod, serve
from workloads.desired_state import DesiredStateRepo

NS = "platform"
STRATEGIC = "application/strategic-merge-patch+json"


@pytest.fixture
def cluster() -> FakeCluster:
    c = FakeCluster(NS)
    c.deployments["healthcare"] = deployment("healthcare", NS, replicas=2, ready=1)
    c.pods["healthcare-7d9f-a"] = pod("healthcare-7d9f-a", NS, "healthcare", ready=True)
    c.pods["healthcare-7d9f-b"] = pod("healthcare-7d9f-b", NS, "healthcare", ready=False, waiting="CrashLoopBackOff")
    return c


@pytest.fixture
def executor(cluster: FakeCluster, tmp_path: Path) -> Iterator[KubernetesExecutor]:
    repo = DesiredStateRepo(tmp_path / "gitops")
    repo.ensure(2, ["api-gateway", "healthcare"])
    with serve(cluster) as url:
        api = client.ApiClient(client.Configuration(host=url))
        yield KubernetesExecutor(client.AppsV1Api(api), client.CoreV1Api(api), NS, GitOps(repo),
                                 clock=lambda: datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC))
        api.close()  # type: ignore[no-untyped-call]


def intent(n: int = 1) -> Intent:
    return Intent(f"act-{n}", "inc-1", "test-runbook", "step", "because the test says so")


def test_view_reads_replicas_and_finds_the_crash_looping_pod(executor: KubernetesExecutor) -> None:
    view = executor.view("healthcare")
    assert (view.desired_replicas, view.ready_replicas, view.unhealthy) == (2, 1, ("healthcare-7d9f-b",))
    assert view.version == "1.1.0"


def test_rolling_restart_patches_an_rfc3339_restarted_at_and_the_action_id(
        executor: KubernetesExecutor, cluster: FakeCluster) -> None:
    applied = executor.apply(intent(), Restart("healthcare"), dry_run=False)
    patch = [r for r in cluster.requests if r["method"] == "PATCH"][-1]
    assert patch["path"] == f"/apis/apps/v1/namespaces/{NS}/deployments/healthcare"
    assert patch["content_type"] == STRATEGIC  # a dict body: strategic merge, as kubectl rollout restart does
    stamp = patch["body"]["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
    assert stamp == "2026-11-27T03:04:05Z" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    assert cluster.deployments["healthcare"]["metadata"]["annotations"][LAST_ACTION] == "act-1"
    assert applied.ref == cluster.deployments["healthcare"]["metadata"]["resourceVersion"]
    assert not applied.revertible
    found = executor.find("act-1")
    assert found is not None and executor.find("act-unknown") is None


def test_replacing_a_bad_pod_deletes_only_that_pod(executor: KubernetesExecutor, cluster: FakeCluster) -> None:
    executor.apply(intent(), Restart("healthcare", ("healthcare-7d9f-b",)), dry_run=False)
    assert list(cluster.pods) == ["healthcare-7d9f-a"]
    deletes = [r for r in cluster.requests if r["method"] == "DELETE"]
    assert [d["path"] for d in deletes] == [f"/api/v1/namespaces/{NS}/pods/healthcare-7d9f-b"]


def test_scale_uses_the_scale_subresource_and_reverts_to_what_it_was(
        executor: KubernetesExecutor, cluster: FakeCluster) -> None:
    applied = executor.apply(intent(1), Scale("healthcare", 4), dry_run=False)
    assert cluster.deployments["healthcare"]["spec"]["replicas"] == 4
    scale_patch = next(r for r in cluster.requests if r["path"].endswith("/scale") and r["method"] == "PATCH")
    assert scale_patch["body"] == {"spec": {"replicas": 4}} and scale_patch["content_type"] == STRATEGIC
    assert applied.before == {"service": "healthcare", "replicas": 2}
    executor.revert(intent(2), applied, dry_run=False)
    assert cluster.deployments["healthcare"]["spec"]["replicas"] == 2


def test_dry_run_asks_the_api_server_and_changes_nothing(executor: KubernetesExecutor, cluster: FakeCluster) -> None:
    before = cluster.deployments["healthcare"]["metadata"]["resourceVersion"]
    applied = executor.apply(intent(), Scale("healthcare", 5), dry_run=True)
    assert applied.dry_run and applied.summary.startswith("[dry run]")
    writes = [r for r in cluster.requests if r["method"] != "GET"]
    assert writes and all(r["query"].get("dryRun") == ["All"] for r in writes)
    assert cluster.deployments["healthcare"]["spec"]["replicas"] == 2
    assert cluster.deployments["healthcare"]["metadata"]["resourceVersion"] == before


def test_rollback_is_a_gitops_commit_not_an_api_call(executor: KubernetesExecutor, cluster: FakeCluster) -> None:
    applied = executor.apply(intent(), SetVersion("healthcare", "1.0.0"), dry_run=False)
    assert not [r for r in cluster.requests if r["method"] != "GET"]
    head = executor.gitops.repo.git.log(limit=1)[0]
    assert head.sha == applied.ref and "Healops-Action: act-1" in head.body
    assert executor.gitops.manifest("healthcare").spec.version == "1.0.0"
    assert executor.find("act-1") is not None


def test_api_errors_are_translated_with_status_and_message(executor: KubernetesExecutor) -> None:
    with pytest.raises(RuntimeStateError, match=r"404 .*deployments.apps \\?\"ml\\?\" not found"):
        executor.view("ml")
