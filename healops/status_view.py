"""Render a runtime snapshot as a table (``healops status`` and the live view of ``healops up``)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

HEALTH_COLOURS = {"healthy": "green", "progressing": "yellow", "degraded": "red", "down": "bold red"}


def status_table(snapshot: dict[str, Any]) -> Table:
    rev = (snapshot.get("revision") or "")[:8]
    table = Table(title=f"healops platform  (desired state {rev or '-'})", expand=False)
    for col in ("service", "version", "desired", "live", "health", "replicas"):
        table.add_column(col)
    for name, svc in snapshot.get("services", {}).items():
        health = svc.get("health", "?")
        replicas = ", ".join(
            f"{r['instance'].rsplit('-', 1)[-1]}:{r['state']}"
            + (f"(x{r['restarts']})" if r.get("restarts") else "")
            for r in svc.get("replicas", []))
        version = svc.get("version") or "-"
        if svc.get("canary"):
            version += f" +canary {svc['canary']['version']} ({svc['canary']['weight']}%)"
        table.add_row(name, version, str(svc.get("desired_replicas", 0)), str(svc.get("live_replicas", 0)),
                      f"[{HEALTH_COLOURS.get(health, 'white')}]{health}[/]", replicas)
    if snapshot.get("desired_error"):
        table.caption = f"[red]{snapshot['desired_error']}[/]"
    load = snapshot.get("load")
    if load:
        lat = load.get("latency_ms", {})
        extra = (f"load: {load.get('achieved_rps')} rps sent, error ratio {load.get('error_ratio')}, "
                 f"p99 {lat.get('p99')} ms")
        table.caption = f"{table.caption}\n{extra}" if table.caption else extra
    return table
