"""The ``healops`` command. Heavy libraries are imported inside commands, so ``--help`` stays fast."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from healops.cli_gameday import chaos_app, gameday_app
from healops.cli_observe import dashboards_app, rules_app
from healops.cli_slo import slo_app
from healops.config import HealopsConfig, control_endpoint, load_config, load_or_create_tokens
from healops.errors import HealopsError

app = typer.Typer(help="Observability-driven self-healing for a platform of services.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
fault_app = typer.Typer(help="Inject and clear faults in the running platform's services.")
desired_app = typer.Typer(help="The desired state kept in git.")
runbook_app = typer.Typer(help="Runbooks: the remediation documents kept in git.")
remediation_app = typer.Typer(help="The remediation engine: what it did, approvals, the kill switch.")
app.add_typer(fault_app, name="fault")
app.add_typer(desired_app, name="desired")
app.add_typer(runbook_app, name="runbook")
app.add_typer(remediation_app, name="remediation")
app.add_typer(gameday_app, name="gameday")
app.add_typer(chaos_app, name="chaos")
app.add_typer(rules_app, name="rules")
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(slo_app, name="slo")
UrlOpt = Annotated[str | None, typer.Option(help="control-plane URL")]
TokenOpt = Annotated[str | None, typer.Option(help="control-plane token")]

HomeOpt = Annotated[Path | None, typer.Option(help="state directory (default $HEALOPS_HOME or ./.healops)")]


def _config(home: Path | None) -> HealopsConfig:
    cfg = load_config()
    return cfg.with_(home=home.resolve()) if home is not None else cfg


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg="red", err=True)
    return typer.Exit(code=2)


@app.command()
def up(
    headless: Annotated[bool, typer.Option(help="run without the TUI until SIGTERM/Ctrl-C")] = False,
    rps: Annotated[float | None, typer.Option(help="load generator arrival rate (0: no load)")] = None,
    replicas: Annotated[int | None, typer.Option(help="replicas per service on first start")] = None,
    home: HomeOpt = None,
) -> None:
    """Start the runtime, every service, the load generator and the control plane."""
    import asyncio

    from healops.up import run_up

    cfg = _config(home)
    if rps is not None:
        cfg = cfg.with_(load_rps=rps)
    if replicas is not None:
        cfg = cfg.with_(default_replicas=replicas)

    def announce(runtime: Any) -> None:
        lines = [
            f"gateway        {cfg.gateway_url}",
            f"control plane  {cfg.control_url}  (token in {cfg.home / 'tokens.json'})",
            f"OTLP/HTTP      {cfg.otlp_endpoint}/v1/{{traces,metrics,logs}}",
            f"Prometheus     http://{cfg.host}:{cfg.otlp_port}/metrics (derived series, for scraping)",
            f"desired state  {cfg.desired_state_dir}  (git log is the audit trail)",
            f"logs           {cfg.log_dir}",
            f"load           {cfg.load_rps} requests/s, open loop",
            "incidents      healops incidents  (API: /v1/incidents, /v1/incidents/stream)",
        ]
        typer.echo("\n".join(["healops is up:", *("  " + line for line in lines)]), err=True)

    watch = None
    if not headless and sys.stdout.isatty():
        from tui.launch import tui_watch

        watch = tui_watch(cfg.control_url, load_or_create_tokens(cfg.home).api)
    elif not headless:  # no terminal to draw a TUI in (a pipe, a CI log): the plain table instead
        from healops.live import live_status

        watch = live_status
    try:
        raise typer.Exit(asyncio.run(run_up(cfg, on_ready=announce, watch=watch)))
    except HealopsError as exc:
        raise _fail(exc) from exc


@app.command()
def tui(url: UrlOpt = None, token: TokenOpt = None, home: HomeOpt = None) -> None:
    """The on-call terminal UI, attached to a running control plane (local or remote)."""
    from tui.launch import run_tui

    cfg = _config(home)
    run_tui(*control_endpoint(cfg, url, token))


def _api(cfg: HealopsConfig, url: str | None, token: str | None, path: str, body: dict[str, Any] | None = None) -> Any:
    """GET ``path`` from the control plane (POST ``body`` when given); exit 2 with the reason on failure."""
    import httpx

    base, tok = control_endpoint(cfg, url, token)
    headers = {"Authorization": f"Bearer {tok}"}
    try:
        if body is None:
            resp = httpx.get(f"{base}{path}", headers=headers, timeout=5)
        else:
            resp = httpx.post(f"{base}{path}", json=body, headers=headers, timeout=5)
    except httpx.HTTPError as exc:
        raise _fail(HealopsError(f"cannot reach the control plane at {base}: {exc}")) from exc
    if resp.status_code != 200:
        raise _fail(HealopsError(f"control plane answered {resp.status_code}: {resp.text[:200]}"))
    return resp.json()


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    url: Annotated[str | None, typer.Option(help="control-plane URL")] = None,
    token: Annotated[str | None, typer.Option(help="control-plane token")] = None,
    home: HomeOpt = None,
) -> None:
    """Print every service with its desired and live replicas and their health."""
    snap = _api(_config(home), url, token, "/v1/status")
    if as_json:
        typer.echo(json.dumps(snap, indent=2))
        return
    from rich.console import Console

    from healops.status_view import status_table

    Console().print(status_table(snap))


def _commit_desired(home: Path | None, change: Callable[[Any, Any], str]) -> str:
    """Run ``change(repo, author)`` on the desired-state repository as the logged-in operator."""
    from healops.gitrepo import Author
    from workloads.desired_state import DesiredStateRepo

    user = os.environ.get("USER", "operator")
    try:
        return change(DesiredStateRepo(_config(home).desired_state_dir), Author(user, f"{user}@localhost"))
    except HealopsError as exc:
        raise _fail(exc) from exc
    except ValueError as exc:  # pydantic validation of the changed manifest
        raise _fail(HealopsError(str(exc))) from exc


@app.command()
def scale(
    service: str,
    replicas: int,
    reason: Annotated[str, typer.Option(help="why; goes into the commit message")] = "manual scale",
    home: HomeOpt = None,
) -> None:
    """Change a service's replicas by a commit to the desired-state repository."""
    sha = _commit_desired(home, lambda repo, author: repo.set_replicas(service, replicas, reason, author))
    typer.echo(f"committed {sha[:8]}: {service} -> {replicas} replicas")


@app.command()
def detect(
    file: Path,
    detector: Annotated[str, typer.Option(help="a registered detector")] = "default",
    column: Annotated[list[str] | None, typer.Option(help="column to score (default: all but timestamp)")] = None,
    out: Annotated[Path | None, typer.Option(help="output CSV (default: FILE.scores.csv)")] = None,
) -> None:
    """Score a recorded series (one or more columns of a CSV) offline; scores go beside the values."""
    from detectors.offline import CsvError, score_csv

    target = out or file.with_suffix(".scores.csv")
    try:
        summary = score_csv(file, target, detector, column)
    except (CsvError, KeyError, OSError) as exc:
        raise _fail(HealopsError(str(exc))) from exc
    typer.echo(f"wrote {target}: {json.dumps(summary)}")


@app.command()
def rca(
    metrics: Annotated[Path, typer.Option(help="folder with one CSV of metrics per service (SERVICE.csv)")],
    graph: Annotated[Path, typer.Option(help="call graph: 'caller -> callee' lines or JSON pairs")],
    at: Annotated[str, typer.Option(help="when the trouble started: unix seconds or ISO 8601")],
    baseline: Annotated[float, typer.Option(help="seconds before --at taken as normal")] = 600.0,
) -> None:
    """Rank the likely root-cause services of recorded trouble (post-mortems); prints JSON."""
    from detectors.rca import rank
    from detectors.rca_offline import load_graph, load_metrics, parse_time

    try:
        start = parse_time(at)
        ranking = rank(load_metrics(metrics), load_graph(graph), start, baseline_s=baseline)
    except (HealopsError, ValueError, OSError) as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps({"at": start, "ranking": [r.to_json() for r in ranking]}, indent=2))


@app.command()
def incidents(
    state: Annotated[str, typer.Option(help="active, open, mitigating, resolved or all")] = "active",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    url: Annotated[str | None, typer.Option(help="control-plane URL")] = None,
    token: Annotated[str | None, typer.Option(help="control-plane token")] = None,
    home: HomeOpt = None,
) -> None:
    """List incidents with their likely root cause."""
    query = "" if state == "all" else f"?state={state}"
    found = _api(_config(home), url, token, f"/v1/incidents{query}")
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    import time

    for inc in found:
        top = inc["ranking"][0] if inc["ranking"] else None
        opened = time.strftime("%H:%M:%S", time.localtime(inc["opened_at"]))
        typer.echo(f"{inc['id']}  {inc['state']:<10} {inc['severity']:<8} opened {opened}  {inc['title']}")
        if top:
            typer.echo(f"    root cause? {top['service']} ({top['score']:.2f}): {top['reason']}")
    if not found:
        typer.echo(f"no {state} incidents")


@desired_app.command("log")
def desired_log(limit: int = 20, home: HomeOpt = None) -> None:
    """Who changed the desired state, what and why."""
    from healops.gitrepo import GitRepo

    for c in GitRepo(_config(home).desired_state_dir).log(limit=limit):
        typer.echo(f"{c.sha[:8]}  {c.author:<12} {c.subject}")


@desired_app.command("deploy")
def desired_deploy(
    service: str,
    version: str,
    reason: Annotated[str, typer.Option(help="why; goes into the commit message")] = "manual deploy",
    home: HomeOpt = None,
) -> None:
    """Roll SERVICE to VERSION by a commit (the runtime rolls replicas: new first, then old)."""
    sha = _commit_desired(home, lambda repo, author: repo.set_version(service, version, reason, author))
    typer.echo(f"committed {sha[:8]}: {service} -> {version}")


@runbook_app.command("validate")
def runbook_validate(paths: Annotated[list[Path], typer.Argument(help="runbook files or folders")]) -> None:
    """Check runbooks: exit 1 listing file, line and field of every problem."""
    from runbooks.loader import load_runbooks

    try:
        loaded = load_runbooks(paths)
    except HealopsError as exc:
        from healops.errors import DocumentError

        for problem in exc.problems if isinstance(exc, DocumentError) else [exc]:
            typer.secho(str(problem), fg="red", err=True)
        raise typer.Exit(code=1) from exc
    for lr in loaded:
        rb = lr.runbook
        steps = " -> ".join(f"{s.name} ({s.action})" for s in rb.spec.steps)
        typer.echo(f"ok  {rb.name:<36} {steps}{'  [approval]' if rb.spec.approval else ''}")


@remediation_app.command("status")
def remediation_status(url: UrlOpt = None, token: TokenOpt = None, home: HomeOpt = None) -> None:
    """Mode, kill switch and the remediations in progress."""
    typer.echo(json.dumps(_api(_config(home), url, token, "/v1/remediation"), indent=2))


@remediation_app.command("journal")
def remediation_journal(
    incident: Annotated[str | None, typer.Option(help="one incident only")] = None,
    limit: int = 50, url: UrlOpt = None, token: TokenOpt = None, home: HomeOpt = None,
) -> None:
    """Every decision: matched, skipped and why, executed, verified, reverted, escalated."""
    import time

    query = f"?limit={limit}" + (f"&incident={incident}" if incident else "")
    for d in _api(_config(home), url, token, f"/v1/remediation/journal{query}"):
        at = time.strftime("%H:%M:%S", time.localtime(d["at"]))
        typer.echo(f"{at}  {d['kind']:<16} {d['incident_id'] or '-':<32} {d['runbook'] or '-':<28} {d['reason']}")


def _operator() -> str:
    return os.environ.get("USER") or "operator"


@remediation_app.command("approve")
def remediation_approve(remediation_id: str, url: UrlOpt = None, token: TokenOpt = None, home: HomeOpt = None) -> None:
    """Let a remediation waiting for approval take its step."""
    _api(_config(home), url, token, f"/v1/remediation/{remediation_id}/approve", {"by": _operator()})
    typer.echo(f"approved {remediation_id}")


@remediation_app.command("reject")
def remediation_reject(remediation_id: str, url: UrlOpt = None, token: TokenOpt = None, home: HomeOpt = None) -> None:
    """Refuse a remediation waiting for approval (the incident stays with you)."""
    _api(_config(home), url, token, f"/v1/remediation/{remediation_id}/reject", {"by": _operator()})
    typer.echo(f"rejected {remediation_id}")


@remediation_app.command("kill-switch")
def remediation_kill_switch(
    state: Annotated[str, typer.Argument(help="on (stop every change) or off")],
    url: UrlOpt = None, token: TokenOpt = None, home: HomeOpt = None,
) -> None:
    """Stop (on) or allow (off) every automated change, at once."""
    if state not in ("on", "off"):
        raise _fail(HealopsError("say on or off"))
    out = _api(_config(home), url, token, "/v1/remediation/kill-switch", {"on": state == "on", "by": _operator()})
    typer.echo(f"kill switch {'on' if out['kill_switch'] else 'off'}")


def _replica_urls(cfg: HealopsConfig, service: str, instance: str | None) -> list[str]:
    snap = _api(cfg, None, None, "/v1/status")
    svc = snap.get("services", {}).get(service)
    if svc is None:
        raise _fail(HealopsError(f"no service {service!r} in the running platform"))
    urls = [f"http://{cfg.host}:{r['port']}" for r in svc["replicas"]
            if r["state"] != "crashed" and (instance is None or r["instance"] == instance)]
    if not urls:
        raise _fail(HealopsError(f"no live replica of {service} matches"))
    return urls


@fault_app.command("inject")
def fault_inject(
    service: str,
    kind: str,
    ttl: Annotated[float, typer.Option(help="seconds until the fault clears itself")] = 60.0,
    param: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, e.g. rate=0.5")] = None,
    instance: Annotated[str | None, typer.Option(help="one replica only")] = None,
    home: HomeOpt = None,
) -> None:
    """Inject a fault into every replica of SERVICE (or one instance)."""
    import httpx

    cfg = _config(home)
    body: dict[str, Any] = {"kind": kind, "ttl_s": ttl}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise _fail(HealopsError(f"--param {item!r} is not KEY=VALUE"))
        try:
            body[key] = json.loads(value)
        except ValueError:
            body[key] = value
    admin = load_or_create_tokens(cfg.home).admin
    for url in _replica_urls(cfg, service, instance):
        resp = httpx.post(f"{url}/admin/faults", json=body, headers={"Authorization": f"Bearer {admin}"})
        typer.echo(f"{url}: {resp.status_code} {resp.text}")


@fault_app.command("clear")
def fault_clear(service: str, instance: str | None = None, home: HomeOpt = None) -> None:
    """Clear every injected fault of SERVICE (or one instance)."""
    import httpx

    cfg = _config(home)
    admin = load_or_create_tokens(cfg.home).admin
    for url in _replica_urls(cfg, service, instance):
        resp = httpx.delete(f"{url}/admin/faults", headers={"Authorization": f"Bearer {admin}"})
        typer.echo(f"{url}: {resp.status_code} {resp.text}")


if __name__ == "__main__":
    app()
