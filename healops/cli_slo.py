"""``healops slo check``: the CI SLO gate. Exit 0 when every SLO held over the window, 1 when one was
violated (named in the table, the JUnit XML and the JSON summary), 2 when the gate could not judge."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from healops.cli_gameday import report_problems
from healops.config import control_endpoint, load_config
from healops.errors import DocumentError, HealopsError

if TYPE_CHECKING:
    from dashboards.slo_gate import GateResult, Judging

slo_app = typer.Typer(help="SLOs: the CI gate.")


def _print(result: GateResult) -> None:
    from rich.console import Console
    from rich.table import Table

    from dashboards.slo_gate import table_rows

    console = Console(soft_wrap=True)
    if not console.is_terminal:  # a CI log: room for the SLO names rather than 80 columns
        console = Console(soft_wrap=True, width=140)
    console.print(f"[bold]SLO gate[/bold]: {result.source}, window {result.ended_at - result.started_at:.0f}s")
    rows = table_rows(result)
    table = Table(*rows[0])
    for row, verdict in zip(rows[1:], result.verdicts, strict=True):
        table.add_row(*row, style=None if verdict.passed else "red")
    if result.verdicts:
        console.print(table)
    for v in result.verdicts:
        for why in v.violations:
            console.print(f"[red]{v.window.slo}[/red]: {why}", highlight=False)
        for note in v.notes:
            console.print(f"{v.window.slo}: {note}", highlight=False)
    for note in result.notes:
        console.print(note)
    if result.error:
        console.print(f"[red]error: {result.error}[/red]")
    failed = [v.window.slo for v in result.verdicts if not v.passed]
    outcome = ("PASS: every SLO held" if result.passed else
               f"FAIL: {', '.join(failed)}" if failed else "ERROR: the gate could not judge")
    console.print(f"[{'green' if result.passed else 'red'}]{outcome}[/]")


def _write(result: GateResult, junit: Path | None, json_out: Path | None) -> None:
    import json

    from dashboards.slo_gate import junit_xml, summary

    for path, text in ((junit, junit_xml(result)), (json_out, json.dumps(summary(result), indent=1) + "\n")):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def _from_prometheus(url: str, slo: list[Path] | None, time_scale: float, window_s: float, end: float | None,
                     judging: Judging) -> GateResult:
    from dashboards.prometheus_rules import check_mappable, prom_duration
    from dashboards.slo_gate import GateResult, judge
    from dashboards.slo_gate_prometheus import PrometheusMeter
    from detectors.openslo import DEFAULT_DIR, load_slos

    paths = list(slo or [DEFAULT_DIR])
    slos = load_slos(paths, time_scale)
    check_mappable(slos, ", ".join(map(str, paths)))
    stop = end if end is not None else time.time()
    start = stop - window_s
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stop))
    source = f"Prometheus {url}, the {prom_duration(window_s)} before {at}"
    try:
        meter = PrometheusMeter(url)
        windows = [meter.measure(s, start, stop) for s in slos]
    except HealopsError as exc:
        return GateResult(source, start, stop, error=str(exc))
    return GateResult(source, start, stop, [judge(w, judging) for w in windows])


@slo_app.command("check")
def slo_check(
    slo: Annotated[list[Path] | None, typer.Option(help="OpenSLO files or folders (default: the shipped ones)")] = None,
    prometheus: Annotated[str | None, typer.Option(
        help="judge the window before --end from this Prometheus (else: run the platform here)")] = None,
    window: Annotated[str, typer.Option(help="with --prometheus: the window, like 30m or 1h")] = "1h",
    end: Annotated[float | None, typer.Option(help="with --prometheus: the window's end, Unix seconds (now)")] = None,
    url: Annotated[str | None, typer.Option(help="judge a running control plane (its own SLOs) instead of "
                                                 "bringing one up")] = None,
    token: Annotated[str | None, typer.Option(help="with --url: the control-plane token", envvar="HEALOPS_TOKEN")
                     ] = None,
    admin_token: Annotated[str | None, typer.Option(help="with --url and --experiment: the services' admin token",
                                                    envvar="HEALOPS_ADMIN_TOKEN")] = None,
    duration: Annotated[float, typer.Option(help="seconds of load to judge (platform modes)", min=5)] = 120.0,
    rps: Annotated[float, typer.Option(help="load on the platform brought up, requests per second")] = 20.0,
    replicas: Annotated[int, typer.Option(help="replicas per service of the platform brought up", min=1)] = 1,
    healing: Annotated[str, typer.Option(help="self-healing of the platform brought up: on, off or dry-run")] = "on",
    warmup: Annotated[float, typer.Option(help="the SLO start-up grace of the platform brought up; with --url, "
                                                "how long to wait for every SLO to count", min=0)] = 60.0,
    experiment: Annotated[Path | None, typer.Option(help="a Chaos Toolkit experiment to run in the window")] = None,
    target: Annotated[str | None, typer.Option(help="the service the experiment targets")] = None,
    home: Annotated[Path | None, typer.Option(help="state folder of the platform brought up (default: a new "
                                                   "temporary one)")] = None,
    time_scale: Annotated[float | None, typer.Option(
        help="divide every SLO window by this (default: 1 with --prometheus, the config's on a platform)")] = None,
    fail_on: Annotated[str, typer.Option(help="burn-rate rules that fail the gate: page, ticket or none")] = "page",
    allow_no_data: Annotated[bool, typer.Option(help="an SLO without traffic passes instead of failing")] = False,
    confidence: Annotated[float, typer.Option(
        help="a miss of an objective fails only when significant at this confidence (binomial test; 0: any miss)",
        min=0.0, max=0.999999)] = 0.95,
    junit: Annotated[Path | None, typer.Option(help="write JUnit XML here (one test case per SLO)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON summary here")] = None,
) -> None:
    """Judge the SLOs over a window: exit 0 if every one held, 1 naming the violated ones, 2 if it cannot judge.

    Three sources: --prometheus URL (a window that already happened), --url URL (a running
    healops, watched for --duration), or neither: bring the platform up here, drive --rps of load
    (and the --experiment) for --duration, judge, and bring it down.
    """
    from dashboards.slo_gate import FAILING_SEVERITIES, Judging
    from detectors.openslo import duration_s

    if fail_on not in FAILING_SEVERITIES:
        raise typer.BadParameter(f"--fail-on must be one of {', '.join(FAILING_SEVERITIES)}")
    if healing not in ("on", "off", "dry-run"):
        raise typer.BadParameter("--healing must be on, off or dry-run")
    if (experiment is None) != (target is None):
        raise typer.BadParameter("--experiment and --target go together")
    if prometheus is not None and (experiment is not None or url is not None):
        raise typer.BadParameter("--prometheus judges a past window: it takes no --experiment or --url")
    judging = Judging(fail_on, allow_no_data, confidence)  # type: ignore[arg-type]  # fail_on checked above
    try:
        if prometheus is not None:
            try:
                window_s = duration_s(window)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--window") from exc
            result = _from_prometheus(prometheus, slo, time_scale or 1.0, window_s, end, judging)
        else:
            result = _on_platform(slo, url, token, admin_token, duration, rps, replicas, healing, warmup,
                                  experiment, target, home, time_scale, judging, junit, json_out)
    except DocumentError as exc:
        raise report_problems(exc) from exc
    _print(result)
    _write(result, junit, json_out)
    raise typer.Exit(code=result.exit_code)


def _on_platform(slo: list[Path] | None, url: str | None, token: str | None, admin_token: str | None,
                 duration: float, rps: float, replicas: int, healing: str, warmup: float,
                 experiment: Path | None, target: str | None, home: Path | None, time_scale: float | None,
                 judging: Judging, junit: Path | None, json_out: Path | None) -> GateResult:
    from chaos.control import ChaosSetupError, ControlPlane, connect
    from chaos.validate import experiment_problems
    from dashboards.slo_gate_platform import Experiment, PlatformRun, check_running, run_platform_check
    from detectors.openslo import DEFAULT_DIR, load_slos

    load_slos(list(slo or [DEFAULT_DIR]), time_scale or 1.0)  # a bad SLO file fails here, naming file and field
    out_dir = (json_out or junit or Path("slo-check")).parent / "slo-check-journals"
    chaos = None
    if experiment is not None and target is not None:
        problems = experiment_problems(experiment)
        if problems:
            raise DocumentError(problems)
        chaos = Experiment(experiment, target, out_dir)
    if url is not None:
        if slo:
            raise typer.BadParameter("--url judges the control plane's own SLOs: it takes no --slo")
        if chaos is None:  # watching needs the API token only (the option, HEALOPS_TOKEN or this home's)
            cp = ControlPlane(*control_endpoint(load_config(), url, token), admin_token or "")
        else:  # the experiment also needs the services' admin token
            conf = {k: v for k, v in {"healops_url": url, "healops_token": token,
                                      "healops_admin_token": admin_token}.items() if v}
            try:
                cp = connect(conf)
            except ChaosSetupError as exc:
                raise typer.BadParameter(str(exc), param_hint="--admin-token") from exc
        return check_running(cp, duration, warmup, f"healops at {url}, watched {duration:g}s", chaos, home, judging)
    run = PlatformRun(duration, rps, replicas, healing, warmup, tuple(slo or ()), time_scale, home)
    return run_platform_check(run, chaos, judging, tell=lambda what: typer.echo(what, err=True))
