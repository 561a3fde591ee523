"""Entry point of one replica process: ``python -m workloads.serve --service NAME ...``.

The runtime binds the listening socket(s) and passes them as inherited file descriptors, so there
is no race for a port; the gateway also gets a share of the public port (``SO_REUSEPORT``).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

import uvicorn

from healops import eventloop
from healops.processes import exit_when_parent_dies
from workloads import telemetry
from workloads.catalog import spec
from workloads.discovery import DiscoveryWatcher
from workloads.service_app import ServiceContext, create_app

EXCLUDED_URLS = "healthz,info,admin"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="workloads.serve")
    p.add_argument("--service", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--instance", required=True)
    p.add_argument("--fd", type=int, required=True, help="inherited listening socket")
    p.add_argument("--public-fd", type=int, default=None, help="inherited shared public socket")
    p.add_argument("--discovery", type=Path, required=True)
    p.add_argument("--otlp-endpoint", default="http://127.0.0.1:4318")
    p.add_argument("--parent-pid", type=int, default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # The exporters' threads (protobuf, gzip) hold the GIL for the default 5 ms switch interval each
    # time the event loop gives it up for a socket call; 0.5 ms keeps that wait out of request latency.
    sys.setswitchinterval(0.0005)
    if args.parent_pid:
        exit_when_parent_dies(args.parent_pid)
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    tel = telemetry.setup(args.service, args.version, args.instance, args.otlp_endpoint)
    telemetry.instrument_process_metrics()
    ctx = ServiceContext(
        spec=spec(args.service), version=args.version, instance=args.instance,
        admin_token=os.environ["HEALOPS_ADMIN_TOKEN"], watcher=DiscoveryWatcher(args.discovery),
    )

    telemetry.instrument_capacity_queue(tel.meter_provider, ctx.faults)
    app = create_app(ctx)
    # No internal spans for each ASGI send/receive: they doubled the spans a request costs (CPU in the
    # service, the exporter and the collector) and say nothing the server span does not.
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tel.tracer_provider,
                                       meter_provider=tel.meter_provider, excluded_urls=EXCLUDED_URLS,
                                       exclude_spans=["receive", "send"])
    sockets = [socket.socket(fileno=args.fd)]
    if args.public_fd is not None:
        sockets.append(socket.socket(fileno=args.public_fd))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2, timeout_keep_alive=30)
    server = uvicorn.Server(config)
    try:
        eventloop.run(server.serve(sockets=sockets))
    finally:
        tel.shutdown()


if __name__ == "__main__":
    main()
