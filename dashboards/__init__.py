"""Grafana dashboards and Prometheus rules generated as code."""
