"""OpenTelemetry for one replica: traces, metrics and logs over OTLP/HTTP, plus JSON log lines.

The SDK objects live here, at the edge; the rest of the service only sees a tracer and a logger.
Exporters send gzip protobuf to ``endpoint`` (the healops collector by default) and cap a request
at 20 MiB, the size the OTLP spec recommends and the receiver enforces.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

MAX_REQUEST_BYTES = 20 * 1024 * 1024
SPAN_EXPORT_DELAY_MS = 500
LOGGER_NAME = "healops.service"

if TYPE_CHECKING:
    from workloads.faults import FaultState


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider

    def shutdown(self) -> None:
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            provider.shutdown()


class JsonFormatter(logging.Formatter):
    """One JSON object a line, carrying the active trace and span ids."""

    def __init__(self, service: str, instance: str) -> None:
        super().__init__()
        self.service, self.instance = service, instance

    def format(self, record: logging.LogRecord) -> str:
        ctx = trace.get_current_span().get_span_context()
        doc: dict[str, object] = {
            "ts": round(record.created, 6), "level": record.levelname.lower(),
            "service": self.service, "instance": self.instance, "msg": record.getMessage(),
        }
        if ctx.is_valid:
            doc["trace_id"] = format(ctx.trace_id, "032x")
            doc["span_id"] = format(ctx.span_id, "016x")
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            doc.update(extra)
        return json.dumps(doc, separators=(",", ":"))


def setup(service: str, version: str, instance: str, endpoint: str,
          metric_interval_ms: int = 2000) -> Telemetry:
    resource = Resource.create({
        "service.name": service, "service.version": version, "service.instance.id": instance,
        "service.namespace": "healops-platform", "deployment.environment": "local",
    })
    base = endpoint.rstrip("/")
    gzip = Compression.Gzip
    tracer_provider = TracerProvider(resource=resource)
    # Export every 0.5 s (the SDK default is 5 s): detection can be no faster than telemetry arrives,
    # and the collector closes a RED step a couple of seconds after it ends.
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
        endpoint=f"{base}/v1/traces", compression=gzip, timeout=5, max_request_size=MAX_REQUEST_BYTES),
        schedule_delay_millis=SPAN_EXPORT_DELAY_MS))
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{base}/v1/metrics", compression=gzip, timeout=5),
        export_interval_millis=metric_interval_ms)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(
        OTLPLogExporter(endpoint=f"{base}/v1/logs", compression=gzip, timeout=5),
        schedule_delay_millis=SPAN_EXPORT_DELAY_MS))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)

    log = logging.getLogger(LOGGER_NAME)
    log.setLevel(logging.INFO)
    log.propagate = False
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter(service, instance))
    log.addHandler(stream)
    log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
    # The exporters' own complaints (collector down) go to the replica's log file, not into OTLP.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return Telemetry(tracer_provider, meter_provider, logger_provider)


def instrument_process_metrics() -> None:
    """Process CPU and memory as OTel metrics (the official system-metrics instrumentation)."""
    from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor

    SystemMetricsInstrumentor(config={
        "process.cpu.time": ["user", "system"], "process.cpu.utilization": None,
        "process.memory.usage": None, "process.memory.virtual": None, "process.thread.count": None,
    }).instrument()



def instrument_capacity_queue(meter_provider: MeterProvider, faults: FaultState) -> None:
    """The replica's capacity line as counters: seconds waited (its rate is the mean queue length,
    by Little's law) and requests shed. They are zero on a replica with room to spare, as a
    container's CPU-throttled time is: the saturation signal the detectors watch."""
    meter = meter_provider.get_meter("healops.workloads")
    meter.create_observable_counter(
        "replica.queue.wait_time", unit="s", description="Time requests waited for the replica's capacity",
        callbacks=[lambda _options: [Observation(faults.queued_s)]])
    meter.create_observable_counter(
        "replica.queue.shed", unit="{request}", description="Requests refused because the line was too long",
        callbacks=[lambda _options: [Observation(faults.shed)]])
