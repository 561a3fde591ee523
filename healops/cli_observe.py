"""``healops rules`` and ``healops dashboards``: what teams load into the Prometheus and Grafana
they already run, generated from the OpenSLO files and the collectors' metric names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from healops.cli_gameday import report_problems
from healops.errors import DocumentError, HealopsError

if TYPE_CHECKING:
    from detectors.openslo import CompiledSlo

rules_app = typer.Typer(help="Prometheus recording and burn-rate alerting rules from the OpenSLO files.")
dashboards_app = typer.Typer(help="Grafana dashboards as code, with file-provisioning documents.")
SloOpt = Annotated[list[Path] | None, typer.Option(help="OpenSLO files or folders (default: the shipped ones)")]
ScaleOpt = Annotated[float, typer.Option(help="divide every SLO window by this (120 on a local platform)")]


def _slos(slo: list[Path] | None, time_scale: float) -> list[CompiledSlo]:
    from detectors.openslo import DEFAULT_DIR, load_slos

    try:
        return load_slos(list(slo or [DEFAULT_DIR]), time_scale)
    except DocumentError as exc:
        raise report_problems(exc) from exc


@rules_app.command("build")
def rules_build(
    out: Annotated[Path, typer.Option(help="folder for healops-slo-rules.yaml")] = Path("prometheus-rules"),
    slo: SloOpt = None, time_scale: ScaleOpt = 1.0,
) -> None:
    """Write the rule file; check it with `promtool check rules`. Exit 1 naming file and field on a bad SLO."""
    from dashboards.prometheus_rules import build_rules
    from detectors.openslo import DEFAULT_DIR

    try:
        path = build_rules(list(slo or [DEFAULT_DIR]), out, time_scale)
    except DocumentError as exc:
        raise report_problems(exc) from exc
    except (HealopsError, ValueError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"wrote {path}")


@dashboards_app.command("build")
def dashboards_build(
    out: Annotated[Path, typer.Option(help="folder for dashboards/*.json and provisioning/")] = Path("grafana"),
    prometheus_url: Annotated[str, typer.Option(help="the provisioned data source's URL")] = "http://127.0.0.1:9090",
    slo: SloOpt = None, time_scale: ScaleOpt = 1.0,
) -> None:
    """Write the four dashboards and Grafana's provisioning files (data source, dashboard provider)."""
    from dashboards.grafana import build_dashboards

    slos = _slos(slo, time_scale)
    for path in build_dashboards(slos, out, prometheus_url):
        typer.echo(f"wrote {path}")


@dashboards_app.command("push")
def dashboards_push(
    url: Annotated[str, typer.Option(help="Grafana URL", envvar="GRAFANA_URL")],
    token: Annotated[str, typer.Option(help="Grafana service-account token", envvar="GRAFANA_TOKEN")],
    folder: Annotated[str, typer.Option(help="folder uid (created when missing)")] = "healops",
    slo: SloOpt = None, time_scale: ScaleOpt = 1.0,
) -> None:
    """Upload the four dashboards into a Grafana (grafana-client), overwriting older versions."""
    from dashboards.push import push_dashboards

    try:
        pushed = push_dashboards(url, token, _slos(slo, time_scale), folder_uid=folder, folder_title=folder)
    except HealopsError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    for p in pushed:
        typer.echo(f"pushed {p.uid} (version {p.version}) {p.url}")
