"""Build the ASGI app of one service from its catalog entry.

A request does real work: it burns its CPU share on the event loop (as synchronous Python code
does), awaits its I/O, and calls its downstreams over HTTP through the client-side balancer. Faults
and release defects act here; the gateway adds rate limits and circuit breakers from the desired state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from workloads.admin import admin_router
from workloads.balancer import Balancer, NoEndpoints
from workloads.catalog import GATEWAY, Call, Endpoint, ServiceSpec
from workloads.discovery import DiscoveryWatcher
from workloads.downstream import CallFailed, Downstream
from workloads.faults import FAULT_ADAPTER, FaultState, run_cpu_burner
from workloads.gateway_policy import Breakers, RateLimiter

# An overloaded replica answers with "Connection: close" (Envoy's overload manager does the same):
# clients reconnect, and a kept-alive connection no longer pins them to a replica that is queueing
# when others, just added, have room.
OVERLOADED = {"Connection": "close"}


class DownstreamError(Exception):
    def __init__(self, service: str, status: int, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service, self.status, self.reason = service, status, reason


@dataclass
class ServiceContext:
    spec: ServiceSpec
    version: str
    instance: str
    admin_token: str
    watcher: DiscoveryWatcher
    faults: FaultState = field(default_factory=FaultState)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("healops.service"))
    call_timeout_s: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    breakers: Breakers = field(default_factory=Breakers)

    @property
    def flags(self) -> dict[str, bool]:
        route = self.watcher.cluster.services.get(self.spec.name)
        return route.flags if route else {}


def burn_cpu(ms: float) -> None:
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        pass


async def _call(ctx: ServiceContext, client: Downstream, balancer: Balancer, call: Call,
                params: dict[str, str]) -> dict[str, str]:
    """Call one downstream; return who answered (service, version, instance)."""
    mode = ctx.faults.dependency_failure(call.service)
    try:
        if mode is not None:
            await client.cut_off(call.service, call.method, mode, ctx.call_timeout_s)
        try:
            endpoint = balancer.pick(call.service)
        except NoEndpoints:
            raise DownstreamError(call.service, 503, "no live replica") from None
        answer = await client.request(call.service, call.method, endpoint.url + call.path.format(**params),
                                      ctx.call_timeout_s)
    except CallFailed as exc:
        raise DownstreamError(call.service, 504 if exc.timed_out else 503, exc.reason) from None
    if answer.status >= 500:
        raise DownstreamError(call.service, 502, f"answered {answer.status}")
    return {"service": call.service, "version": endpoint.version, "instance": endpoint.instance}


def _handler(ctx: ServiceContext, ep: Endpoint, client: Downstream,
             balancer: Balancer) -> Callable[[Request], Awaitable[JSONResponse]]:
    is_gateway = ctx.spec.name == GATEWAY

    async def handle(request: Request) -> JSONResponse:
        if is_gateway:
            policy = ctx.watcher.cluster.gateway
            wait = ctx.limiter.check(ep.path, policy.rate_limits.get(ep.path) if policy else None)
            if wait > 0:
                return JSONResponse({"error": "rate limited", "route": ep.path}, status_code=429,
                                    headers={"Retry-After": str(max(1, round(wait)))})
        ctx.faults.arrivals.note()
        await ctx.faults.wait_while_hanging()
        queued = ctx.faults.saturation_wait_s()
        if queued is None:
            ctx.log.warning("request shed", extra={"fields": {"route": ep.path, "reason": "saturated"}})
            return JSONResponse({"error": "overloaded", "service": ctx.spec.name}, status_code=503,
                                headers={"Retry-After": "1", **OVERLOADED})
        if queued:
            await asyncio.sleep(queued)
            answer = await work(request)
            answer.headers.update(OVERLOADED)
            return answer
        return await work(request)

    async def work(request: Request) -> JSONResponse:
        delay = ctx.faults.extra_latency_s()
        if delay:
            await asyncio.sleep(delay)
        status = ctx.faults.error_status()
        if status is not None:
            ctx.log.error("request failed", extra={"fields": {"route": ep.path, "status": status}})
            return JSONResponse({"error": "internal error", "service": ctx.spec.name}, status_code=status)
        burn_cpu(ep.cpu_ms * ctx.rng.uniform(0.8, 1.2))
        if ep.io_ms:
            await asyncio.sleep(ep.io_ms / 1000.0 * ctx.rng.lognormvariate(0, 0.3))
        params = {k: str(v) for k, v in request.path_params.items()}
        flags = ctx.flags
        calls = [c for c in ep.calls if c.flag is None or flags.get(c.flag, True)]
        try:
            if ep.parallel:
                answered = await _gather(ctx, client, balancer, calls, params, is_gateway)
            else:
                answered = [await _guarded(ctx, client, balancer, c, params, is_gateway) for c in calls]
        except DownstreamError as exc:
            ctx.log.error("downstream failed", extra={"fields": {
                "route": ep.path, "downstream": exc.service, "reason": exc.reason}})
            headers = {"Retry-After": "5"} if exc.reason == "circuit open" else None
            return JSONResponse({"error": str(exc), "service": ctx.spec.name},
                                status_code=exc.status, headers=headers)
        return JSONResponse({"service": ctx.spec.name, "version": ctx.version, "instance": ctx.instance,
                             "calls": answered})

    return handle


async def _gather(ctx: ServiceContext, client: Downstream, balancer: Balancer, calls: list[Call],
                  params: dict[str, str], guarded: bool) -> list[dict[str, str]]:
    results = await asyncio.gather(*(_guarded(ctx, client, balancer, c, params, guarded) for c in calls),
                                   return_exceptions=True)
    answered = []
    for r in results:
        if isinstance(r, BaseException):
            raise r
        answered.append(r)
    return answered


async def _guarded(ctx: ServiceContext, client: Downstream, balancer: Balancer, call: Call,
                   params: dict[str, str], use_breaker: bool) -> dict[str, str]:
    """A downstream call, through the gateway's circuit breaker for that downstream when there is one."""
    breaker = None
    if use_breaker:
        gateway = ctx.watcher.cluster.gateway
        breaker = ctx.breakers.get(call.service, gateway.circuit_breakers.get(call.service) if gateway else None)
    if breaker is not None and not breaker.allow():
        raise DownstreamError(call.service, 503, "circuit open")
    try:
        answered = await _call(ctx, client, balancer, call, params)
    except DownstreamError:
        if breaker is not None:
            breaker.record(False)
        raise
    if breaker is not None:
        breaker.record(True)
    return answered


def create_app(ctx: ServiceContext) -> FastAPI:
    """The service's app: its endpoints, health, info and the admin (fault) routes."""
    client = Downstream()
    balancer = Balancer(ctx.watcher, ctx.rng)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.watcher.refresh()
        await client.open()
        stop = threading.Event()
        burner = threading.Thread(target=run_cpu_burner, args=(ctx.faults, stop), daemon=True)
        burner.start()
        tasks = [asyncio.create_task(ctx.watcher.run()), asyncio.create_task(_leak_loop(ctx.faults))]
        ctx.log.info("started", extra={"fields": {"version": ctx.version, "pid": os.getpid()}})
        try:
            yield
        finally:
            stop.set()
            for t in tasks:
                t.cancel()
            await client.close()

    app = FastAPI(title=ctx.spec.name, version=ctx.version, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    defect = ctx.spec.defects.get(ctx.version)
    if defect is not None:
        # A release defect never expires while the version runs; ttl_s is required by the model only.
        ctx.faults.add(FAULT_ADAPTER.validate_python({"kind": defect.kind, "ttl_s": 1, **defect.params}),
                       source="release")
    for ep in ctx.spec.endpoints:
        app.add_api_route(ep.path, _handler(ctx, ep, client, balancer), methods=[ep.method],
                          name=f"{ep.method} {ep.path}")

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        await ctx.faults.wait_while_hanging()
        return JSONResponse({"status": "ok", "service": ctx.spec.name, "instance": ctx.instance})

    @app.get("/info")
    async def info() -> JSONResponse:
        return JSONResponse({
            "service": ctx.spec.name, "version": ctx.version, "instance": ctx.instance, "pid": os.getpid(),
            "flags": ctx.flags, "revision": ctx.watcher.cluster.revision,
            "breakers": ctx.breakers.states(), "leaked_mb": round(ctx.faults.leaked_mb(), 1),
        })

    app.include_router(admin_router(ctx.faults, ctx.admin_token))
    return app


async def _leak_loop(faults: FaultState, dt_s: float = 0.2) -> None:
    while True:
        faults.leak_step(dt_s)
        await asyncio.sleep(dt_s)
