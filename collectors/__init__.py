"""Collectors: the only way telemetry enters healops (OTLP in; RED series and a service graph out)."""
