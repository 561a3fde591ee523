"""``python -m healops.controlplane``: the control-plane API and the OTLP collector, one process
(started by ``healops up``). Detection and the API read the collector's store in memory; incidents
and the remediation journal are kept in SQLite under the state directory."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import uvicorn

from collectors.collector import Collector, CollectorSettings, tune_gc_for_ingest
from collectors.prometheus_source import PrometheusSource
from collectors.receiver import OtlpReceiver
from detectors.openslo import DEFAULT_DIR, CompiledSlo, load_slos
from healops import eventloop
from healops.config import HealopsConfig, load_config, load_or_create_tokens
from healops.controlplane.app import create_app
from healops.controlplane.detection import DetectionEngine
from healops.controlplane.gamedays import GamedayScheduler
from healops.controlplane.loop_metrics import LoopExposition
from healops.controlplane.remediation_loop import make_engine, run_remediation
from healops.incident_store import IncidentStore
from healops.processes import exit_when_parent_dies
from healops.serving import serve_all


def main() -> None:
    p = argparse.ArgumentParser(prog="healops.controlplane")
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7070)
    p.add_argument("--otlp-port", type=int, default=4318)
    p.add_argument("--parent-pid", type=int, default=None)
    args = p.parse_args()
    if args.parent_pid:
        exit_when_parent_dies(args.parent_pid)
    config = load_config().with_(home=args.home.resolve(), host=args.host, control_port=args.port)
    tokens = load_or_create_tokens(config.home)
    tune_gc_for_ingest()
    slos = load_slos(list(config.slo_paths) or [DEFAULT_DIR], config.slo_time_scale)  # refuse bad files at start
    collector = Collector(CollectorSettings(lateness_s=config.red_lateness_s))
    receiver = OtlpReceiver(collector)
    eventloop.run(_serve(config, tokens.api, collector, receiver, slos, args))


async def _serve(config: HealopsConfig, token: str, collector: Collector, receiver: OtlpReceiver,
                 slos: list[CompiledSlo], args: argparse.Namespace) -> None:
    store = IncidentStore(config.incident_db)
    engine = DetectionEngine(collector, store, slos, config.snapshot_file,
                             startup_grace_s=config.slo_startup_grace_s)
    tasks = [asyncio.create_task(engine.run())]
    remediation = None
    if config.remediation != "off":
        remediation, session, capacity = make_engine(config, engine)
        tasks.append(asyncio.create_task(run_remediation(remediation, session, capacity)))
    receiver.registry.register(LoopExposition(store, remediation))  # healops itself, on the same /metrics
    gamedays = GamedayScheduler(config, engine.burn.status)
    tasks.append(asyncio.create_task(gamedays.run()))
    if config.source == "prometheus":
        tasks.append(asyncio.create_task(PrometheusSource(config.prometheus_url).run(collector.store)))
    await serve_all([
        uvicorn.Config(create_app(config, token, collector, engine, remediation, gamedays), host=args.host,
                       port=args.port, log_level="warning", access_log=False, timeout_graceful_shutdown=3),
        uvicorn.Config(receiver, host=args.host, port=args.otlp_port, lifespan="on", backlog=4096,
                       log_level="warning", access_log=False, timeout_graceful_shutdown=3),
    ])
    for task in tasks:
        task.cancel()
    store.close()
    gamedays.close()
    if remediation is not None:
        remediation.journal.close()


if __name__ == "__main__":
    main()
