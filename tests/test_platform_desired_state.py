"""GitOps desired state drives the running platform: every change is a commit, applied within seconds,
and a bad commit is refused while the platform keeps its last good state."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import psutil
import pytest

from healops.harness import PlatformProcess, wait_until
from workloads.desired_state import manifest_path
from workloads.manifest import Canary, CircuitBreaker, ServiceManifest


def spec_change(**changes: object) -> Callable[[ServiceManifest], ServiceManifest]:
    def change(m: ServiceManifest) -> ServiceManifest:
        return m.model_copy(update={"spec": m.spec.model_copy(update=changes)})

    return change


def gateway_change(**changes: object) -> Callable[[ServiceManifest], ServiceManifest]:
    def change(m: ServiceManifest) -> ServiceManifest:
        assert m.spec.gateway is not None
        return m.model_copy(update={"spec": m.spec.model_copy(
            update={"gateway": m.spec.gateway.model_copy(update=changes)})})

    return change


def wait_applied(plat: PlatformProcess, sha: str) -> None:
    """Wait until the gateway itself reports the revision (discovery reached the services)."""
    wait_until(lambda: httpx.get(f"{plat.gateway_url}/info").json()["revision"] == sha, 5,
               what=f"revision {sha[:8]} to reach the gateway")


@pytest.fixture
def restore(platform: PlatformProcess) -> Iterator[None]:
    """Undo whatever a test committed, by a revert commit (history is never rewritten)."""
    head = platform.repo.git.head()
    yield
    for c in platform.repo.git.log(limit=20):
        if c.sha == head:
            break
        platform.repo.git.revert(c.sha, f"Revert test change {c.sha[:8]}")
    wait_until(platform.all_ready, 30, 0.2, "platform back to its desired state")


def ready_pids(plat: PlatformProcess, service: str) -> set[int]:
    return {r["pid"] for r in plat.replicas_of(service) if r["state"] == "ready"}


@pytest.mark.usefixtures("restore")
def test_replicas_follow_a_commit_within_five_seconds(platform: PlatformProcess) -> None:
    platform.repo.set_replicas("analytics", 3, "test: scale out")
    t0 = time.monotonic()
    wait_until(lambda: len(ready_pids(platform, "analytics")) == 3, 5, what="3 ready analytics replicas")
    scale_out_s = time.monotonic() - t0
    pids = ready_pids(platform, "analytics")
    platform.repo.set_replicas("analytics", 1, "test: scale in")
    wait_until(lambda: len(platform.replicas_of("analytics")) == 1, 5, what="scale in to 1")
    assert sum(psutil.pid_exists(p) for p in pids) == 1, "stopped replicas must be gone"
    assert scale_out_s < 5


@pytest.mark.usefixtures("restore")
def test_malformed_manifest_is_refused_and_the_last_good_state_kept(platform: PlatformProcess) -> None:
    before = ready_pids(platform, "ml")
    good = platform.repo.git.show("HEAD", manifest_path("ml"))
    bad = good.replace("replicas: 1", "replicas: -2")
    platform.repo.git.commit_files({manifest_path("ml"): bad}, "hand edit gone wrong")
    err = wait_until(lambda: platform.status()["desired_error"], 5, what="refusal to show")
    assert "services/ml.yaml" in err and "spec.replicas" in err and "greater than or equal to 0" in err
    time.sleep(1.5)
    assert ready_pids(platform, "ml") == before, "running replicas must be untouched"
    platform.repo.git.commit_files({manifest_path("ml"): good}, "fix hand edit")
    wait_until(lambda: platform.status()["desired_error"] == "", 5, what="error to clear")


@pytest.mark.usefixtures("restore")
def test_bad_release_is_a_real_bad_deploy_and_rollback_fixes_it(platform: PlatformProcess) -> None:
    def rolled_to(version: str) -> bool:  # new replica ready and the old one drained and gone
        return [(r["version"], r["state"]) for r in platform.replicas_of("healthcare")] == [(version, "ready")]

    bad = platform.repo.update("healthcare", spec_change(version="1.2.0"), "Deploy healthcare 1.2.0")
    wait_until(lambda: rolled_to("1.2.0"), 20, what="rollout of 1.2.0")
    wait_applied(platform, bad)
    codes = Counter(httpx.get(f"{platform.gateway_url}/api/patients/{i}").status_code for i in range(60))
    assert codes[502] >= 6, f"release 1.2.0 ships a 30% error defect: {codes}"
    platform.repo.git.revert(bad, "Roll back healthcare to 1.1.0")
    wait_until(lambda: rolled_to("1.1.0"), 20, what="rollback")

    # 1.2.0's errors may have tripped the gateway's breaker for healthcare (failure ratio 0.5 over
    # 20 requests: a 30 % defect gets there by chance now and then). It answers 503 "circuit open"
    # until its open period (5 s) ends and a probe succeeds: wait that out, and nothing else.
    def serving() -> bool:
        r = httpx.get(f"{platform.gateway_url}/api/patients/1")
        assert r.status_code == 200 or (r.status_code == 503 and "circuit open" in r.json()["error"]), r.text
        return r.status_code == 200

    wait_until(serving, 15, interval_s=0.5, what="the gateway's healthcare breaker to close")
    codes = Counter(httpx.get(f"{platform.gateway_url}/api/patients/{i}").status_code for i in range(40))
    assert codes == Counter({200: 40})


@pytest.mark.usefixtures("restore")
def test_gateway_rate_limit_comes_from_the_desired_state(platform: PlatformProcess) -> None:
    gw = platform.repo.load().services["api-gateway"].spec.gateway
    assert gw is not None
    sha = platform.repo.update("api-gateway", gateway_change(
        rate_limits={**gw.rate_limits, "/api/login": 2.0}), "Limit logins to 2/s")
    wait_applied(platform, sha)
    responses = [httpx.post(f"{platform.gateway_url}/api/login") for _ in range(10)]
    limited = [r for r in responses if r.status_code == 429]
    assert 5 <= len(limited) <= 8, [r.status_code for r in responses]
    assert all(int(r.headers["retry-after"]) >= 1 for r in limited)
    assert httpx.get(f"{platform.gateway_url}/api/reports").status_code == 200, "other routes unaffected"


@pytest.mark.usefixtures("restore")
def test_circuit_breaker_forced_open_by_commit(platform: PlatformProcess) -> None:
    gw = platform.repo.load().services["api-gateway"].spec.gateway
    assert gw is not None
    sha = platform.repo.update("api-gateway", gateway_change(circuit_breakers={
        **gw.circuit_breakers, "healthcare": CircuitBreaker(force_open=True)}), "Open healthcare breaker")
    wait_applied(platform, sha)
    resp = httpx.get(f"{platform.gateway_url}/api/patients/1")
    assert resp.status_code == 503 and "circuit open" in resp.json()["error"]
    assert resp.headers["retry-after"]
    assert httpx.get(f"{platform.gateway_url}/api/reports").status_code == 200


@pytest.mark.usefixtures("restore")
def test_canary_gets_its_weight_of_calls(platform: PlatformProcess) -> None:
    sha = platform.repo.update("realtime", spec_change(canary=Canary(version="1.0.0", replicas=1, weight=50)),
                               "Canary realtime 1.0.0 at 50%")
    wait_until(lambda: any(r["track"] == "canary" and r["state"] == "ready"
                           for r in platform.replicas_of("realtime")), 20, what="canary replica")
    wait_applied(platform, sha)
    time.sleep(0.5)  # discovery lists the canary once it is ready
    versions: Counter[str] = Counter()
    for _ in range(120):
        body = httpx.get(f"{platform.gateway_url}/api/home").json()
        versions.update(c["version"] for c in body["calls"] if c["service"] == "realtime")
    assert 0.35 < versions["1.0.0"] / 120 < 0.65, versions


@pytest.mark.usefixtures("restore")
def test_feature_flag_turns_off_an_optional_call(platform: PlatformProcess) -> None:
    def called() -> set[str]:
        return {c["service"] for c in httpx.get(f"{platform.replica_url('healthcare')}/patients/3").json()["calls"]}

    assert called() == {"identity", "analytics"}
    platform.repo.update("healthcare", spec_change(feature_flags={"analytics_events": False}),
                         "Stop sending analytics events from healthcare")
    wait_until(lambda: called() == {"identity"}, 5, what="flag to take effect without a restart")


@pytest.mark.usefixtures("restore")
def test_restart_policy_always_restarts_a_crashed_replica(platform: PlatformProcess) -> None:
    platform.repo.update("ml", spec_change(restart_policy="Always"), "ml restarts on crash")
    time.sleep(1.0)
    pid = ready_pids(platform, "ml").pop()
    resp = httpx.post(f"{platform.replica_url('ml')}/admin/faults", json={"kind": "crash", "ttl_s": 5},
                      headers=platform.admin_headers)
    assert resp.status_code == 201
    [r] = wait_until(lambda: [r for r in platform.replicas_of("ml") if r["restarts"] == 1 and
                              r["state"] == "ready"], 15, what="restart")
    assert r["pid"] != pid and r["last_exit_code"] == 137


@pytest.mark.usefixtures("restore")
def test_memory_limit_is_enforced_like_an_oom_kill(platform: PlatformProcess) -> None:
    def limit(m: ServiceManifest) -> ServiceManifest:
        res = m.spec.resources.model_copy(update={"limits": m.spec.resources.limits.model_copy(
            update={"memory": "200Mi"})})
        return m.model_copy(update={"spec": m.spec.model_copy(update={"resources": res})})

    platform.repo.update("realtime", limit, "Tight memory limit for realtime")
    time.sleep(1.0)
    httpx.post(f"{platform.replica_url('realtime')}/admin/faults", headers=platform.admin_headers,
               json={"kind": "memory_leak", "mb_per_s": 200, "max_mb": 400, "ttl_s": 10})
    [r] = wait_until(lambda: [r for r in platform.replicas_of("realtime") if r["state"] == "crashed"], 10,
                     what="OOM kill")
    assert r["last_exit_reason"].startswith("OOMKilled") and r["last_exit_code"] == -9
    time.sleep(1.5)
    assert platform.replicas_of("realtime")[0]["state"] == "crashed", "an OOM kill is not hidden either"
    platform.repo.restart("realtime", "recover from OOM", at=str(time.time()))
    wait_until(lambda: [x["state"] for x in platform.replicas_of("realtime")] == ["ready"], 20,
               what="restart after OOM kill")
