"""Every fault kind, injected over the admin endpoint into a running replica process, acts and then
clears by expiry. Real processes, real HTTP on loopback."""

from __future__ import annotations

import asyncio
import time

import httpx
import psutil
import pytest

from healops.harness import PlatformProcess, wait_until


def inject(plat: PlatformProcess, service: str, **body: object) -> dict[str, object]:
    resp = httpx.post(f"{plat.replica_url(service)}/admin/faults", json=body, headers=plat.admin_headers)
    assert resp.status_code == 201, resp.text
    data: dict[str, object] = resp.json()
    return data


def pid_of(plat: PlatformProcess, service: str) -> int:
    return int(next(r["pid"] for r in plat.replicas_of(service) if r["state"] == "ready"))


def test_latency_fault_slows_answers_then_expires(platform: PlatformProcess) -> None:
    url = platform.replica_url("realtime")
    inject(platform, "realtime", kind="latency", ms=300, ttl_s=2)
    t0 = time.perf_counter()
    assert httpx.get(f"{url}/presence").status_code == 200
    assert time.perf_counter() - t0 >= 0.3
    time.sleep(2.1)
    t0 = time.perf_counter()
    assert httpx.get(f"{url}/presence").status_code == 200
    assert time.perf_counter() - t0 < 0.2


def test_error_rate_fault_fails_requests_and_propagates_through_the_gateway(platform: PlatformProcess) -> None:
    inject(platform, "workflow", kind="error_rate", rate=1.0, status=503, ttl_s=2)
    assert httpx.post(f"{platform.replica_url('workflow')}/workflows").status_code == 503
    assert httpx.post(f"{platform.gateway_url}/api/workflows").status_code == 502
    time.sleep(2.1)
    assert httpx.post(f"{platform.gateway_url}/api/workflows").status_code == 200


def test_dependency_failure_fails_only_calls_to_that_downstream(platform: PlatformProcess) -> None:
    url = platform.replica_url("healthcare")
    inject(platform, "healthcare", kind="dependency_failure", target="identity", ttl_s=2)
    resp = httpx.get(f"{url}/patients/7")
    assert resp.status_code == 503 and "identity" in resp.json()["error"]
    assert httpx.get(f"{platform.replica_url('identity')}/verify").status_code == 200, "identity itself is fine"
    time.sleep(2.1)
    assert httpx.get(f"{url}/patients/7").status_code == 200


def test_hang_accepts_but_never_answers_and_the_runtime_notices(platform: PlatformProcess) -> None:
    url = platform.replica_url("analytics")
    inject(platform, "analytics", kind="hang", ttl_s=6)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{url}/reports", timeout=0.5)
    wait_until(lambda: platform.replicas_of("analytics")[0]["state"] == "unresponsive", 6, what="unresponsive")
    wait_until(lambda: platform.replicas_of("analytics")[0]["state"] == "ready", 8, what="ready again")
    assert httpx.get(f"{url}/reports", timeout=2).status_code == 200


def test_saturation_queues_past_capacity_then_sheds_then_expires(platform: PlatformProcess) -> None:
    url = platform.replica_url("notification")
    fault = inject(platform, "notification", kind="saturation", capacity_rps=4, burst_s=0.5, max_queue_s=1.0,
                   ttl_s=4)
    assert fault["capacity_rps"] == 4

    async def burst() -> list[tuple[int, float]]:
        async with httpx.AsyncClient(timeout=5) as client:
            async def one() -> tuple[int, float]:
                t0 = time.perf_counter()
                resp = await client.post(f"{url}/send")
                return resp.status_code, time.perf_counter() - t0
            return await asyncio.gather(*(one() for _ in range(12)))

    answers = asyncio.run(burst())
    served = sorted(t for code, t in answers if code == 200)
    assert len(served) >= 5 and served[-1] > 0.6, f"the line must queue past capacity: {answers}"
    assert any(code == 503 for code, _ in answers), f"past max_queue_s requests are shed: {answers}"
    time.sleep(4.5)
    t0 = time.perf_counter()
    assert httpx.post(f"{url}/send").status_code == 200
    assert time.perf_counter() - t0 < 0.3


def test_cpu_burn_uses_cpu_then_stops(platform: PlatformProcess) -> None:
    proc = psutil.Process(pid_of(platform, "ml"))
    proc.cpu_percent(None)
    inject(platform, "ml", kind="cpu_burn", utilization=0.9, ttl_s=2.5)
    time.sleep(0.2)
    busy = proc.cpu_percent(interval=1.5)
    time.sleep(1.5)
    idle = proc.cpu_percent(interval=1.5)
    assert busy > 50, f"burning at {busy}%"
    assert idle < 25, f"still {idle}% after expiry"


def test_memory_leak_grows_rss_then_is_freed_on_expiry(platform: PlatformProcess) -> None:
    url = platform.replica_url("identity")
    proc = psutil.Process(pid_of(platform, "identity"))
    before = proc.memory_info().rss
    inject(platform, "identity", kind="memory_leak", mb_per_s=100, max_mb=150, ttl_s=2.5)
    wait_until(lambda: proc.memory_info().rss - before > 100 * 2**20, 5, what="rss to grow 100 MiB")
    wait_until(lambda: httpx.get(f"{url}/info").json()["leaked_mb"] == 0, 5, what="leak released")
    wait_until(lambda: proc.memory_info().rss - before < 50 * 2**20, 5, what="rss to fall back")


def test_crash_exits_the_process_and_the_runtime_does_not_hide_it(platform: PlatformProcess) -> None:
    pid = pid_of(platform, "notification")
    inject(platform, "notification", kind="crash", exit_code=137, ttl_s=30)
    wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
               5, what="process exit")
    [r] = wait_until(lambda: [r for r in platform.replicas_of("notification") if r["state"] == "crashed"],
                     5, what="crashed state")
    assert r["last_exit_code"] == 137
    time.sleep(3)
    assert [x["state"] for x in platform.replicas_of("notification")] == ["crashed"], \
        "restartPolicy Never: the runtime must not restart it behind the operators' back"
    assert platform.status()["services"]["notification"]["health"] == "down"
    # Healing is a commit: a restart annotation rolls the service.
    platform.repo.restart("notification", "test: recover from crash", at=str(time.time()))
    wait_until(lambda: [x["state"] for x in platform.replicas_of("notification")] == ["ready"], 20,
               what="notification restarted by commit")
    assert httpx.get(f"{platform.replica_url('notification')}/admin/faults",
                     headers=platform.admin_headers).json()["faults"] == []


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({}, {"kind": "hang", "ttl_s": 1}, 401),
    ({"Authorization": "Bearer wrong"}, {"kind": "hang", "ttl_s": 1}, 401),
    (None, {"kind": "teleport", "ttl_s": 1}, 400),
    (None, {"kind": "error_rate", "rate": 2, "ttl_s": 1}, 400),
    (None, {"kind": "latency", "ms": 5}, 400),
])
def test_admin_endpoint_refuses_bad_requests(platform: PlatformProcess, headers: dict[str, str] | None,
                                             body: dict[str, object], status: int) -> None:
    resp = httpx.post(f"{platform.replica_url('realtime')}/admin/faults", json=body,
                      headers=platform.admin_headers if headers is None else headers)
    assert resp.status_code == status, resp.text
    listing = httpx.get(f"{platform.replica_url('realtime')}/admin/faults", headers=platform.admin_headers)
    assert all(f["kind"] != body["kind"] for f in listing.json()["faults"])


def test_non_json_fault_body_is_a_400(platform: PlatformProcess) -> None:
    resp = httpx.post(f"{platform.replica_url('realtime')}/admin/faults", content=b"{nope",
                      headers=platform.admin_headers)
    assert resp.status_code == 400


def test_faults_can_be_listed_and_cleared_before_expiry(platform: PlatformProcess) -> None:
    url = platform.replica_url("realtime")
    fault = inject(platform, "realtime", kind="error_rate", rate=1.0, ttl_s=60)
    assert httpx.get(f"{url}/presence").status_code == 500
    listed = httpx.get(f"{url}/admin/faults", headers=platform.admin_headers).json()["faults"]
    assert [f["id"] for f in listed] == [fault["id"]]
    assert httpx.delete(f"{url}/admin/faults/{fault['id']}", headers=platform.admin_headers).status_code == 200
    assert httpx.get(f"{url}/presence").status_code == 200
