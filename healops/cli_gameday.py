"""``healops gameday`` and ``healops chaos``: run, schedule and check game days and experiments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from healops.config import control_endpoint, load_config
from healops.errors import DocumentError, HealopsError

gameday_app = typer.Typer(help="Game days: Chaos Toolkit experiments against the platform, scored.")
chaos_app = typer.Typer(help="Chaos Toolkit experiments shipped with healops.")
UrlOpt = Annotated[str | None, typer.Option(help="control-plane URL (default $HEALOPS_URL or the config's)")]
TokenOpt = Annotated[str | None, typer.Option(help="control-plane token (default from HEALOPS_HOME)")]
AdminOpt = Annotated[str | None, typer.Option(help="services' admin token (default from HEALOPS_HOME)")]


def report_problems(exc: HealopsError) -> typer.Exit:
    for problem in exc.problems if isinstance(exc, DocumentError) else [exc]:
        typer.secho(str(problem), fg="red", err=True)
    return typer.Exit(code=1)


@chaos_app.command("validate")
def chaos_validate(paths: Annotated[list[Path], typer.Argument(help="experiment files or folders")]) -> None:
    """Check experiments as Chaos Toolkit would, and healops' arguments: exit 1 naming file, line, field."""
    from chaos.validate import experiment_problems

    files = [f for p in paths for f in (sorted(p.glob("*.json")) if p.is_dir() else [p])]
    bad = 0
    for f in files:
        problems = experiment_problems(f)
        bad += bool(problems)
        for problem in problems:
            typer.secho(str(problem), fg="red", err=True)
        if not problems:
            typer.echo(f"ok  {f}")
    if bad or not files:
        raise typer.Exit(code=1)


@gameday_app.command("validate")
def gameday_validate(file: Path) -> None:
    """Check a game-day file and every experiment it names."""
    from chaos.gameday_model import load_gameday

    try:
        loaded = load_gameday(file)
    except HealopsError as exc:
        raise report_problems(exc) from exc
    spec = loaded.gameday.spec
    typer.echo(f"ok  {loaded.name}: {len(spec.experiments)} experiments, schedule {spec.schedule or 'none'}")


@gameday_app.command("run")
def gameday_run(
    file: Path,
    report: Annotated[Path, typer.Option(help="folder for report.md, report.html, junit.xml, scorecard.json")] = Path(
        "gameday-report"),
    url: UrlOpt = None, token: TokenOpt = None, admin_token: AdminOpt = None,
) -> None:
    """Run a game day now, with a progress bar; exit 1 when any experiment fails."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from chaos.control import ChaosSetupError, connect
    from chaos.gameday import run_gameday
    from chaos.gameday_model import load_gameday
    from chaos.lock import GamedayLock, LockHeld
    from chaos.report import write_progress, write_report

    try:
        loaded = load_gameday(file)
    except HealopsError as exc:
        raise report_problems(exc) from exc
    conf = {k: v for k, v in {"healops_url": url, "healops_token": token, "healops_admin_token": admin_token}.items()
            if v}
    cfg = load_config()
    try:
        cp = connect(conf)
        with GamedayLock(cfg.run_dir), Progress(TextColumn("[bold]{task.fields[name]}"), BarColumn(),
                                                 TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                                 TextColumn("{task.description}")) as bar:
            task = bar.add_task("starting", total=len(loaded.experiments), name=loaded.name)
            total = len(loaded.experiments)

            def progress(done: int, what: str) -> None:
                bar.update(task, completed=done, description=what)
                write_progress(report, done, total, what)  # what the TUI's chaos screen shows

            result = run_gameday(loaded, cp, report, env={"HEALOPS_HOME": str(cfg.home)}, progress=progress,
                                 checkpoint=lambda so_far: write_progress(report, len(so_far.experiments), total,
                                                                          "", so_far))
    except LockHeld as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    except ChaosSetupError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    files = write_report(result, report)
    typer.echo(files["markdown"].read_text(encoding="utf-8"))
    typer.echo(f"report: {', '.join(str(p) for p in files.values())}", err=True)
    raise typer.Exit(code=0 if result.passed else 1)


@gameday_app.command("schedule")
def gameday_schedule(file: Path, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Hand a game day to the control plane, which runs it on its cron schedule when enough error
    budget remains and no other game day runs."""
    import httpx

    from chaos.gameday_model import load_gameday

    try:
        loaded = load_gameday(file)
    except HealopsError as exc:
        raise report_problems(exc) from exc
    if loaded.gameday.spec.schedule is None:
        typer.secho(f"{file}: spec.schedule: a scheduled game day needs a cron expression", fg="red", err=True)
        raise typer.Exit(code=1)
    base, tok = control_endpoint(load_config(), url, token)
    try:
        resp = httpx.post(f"{base}/v1/gamedays", json={"file": str(file.resolve())},
                          headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    except httpx.HTTPError as exc:
        typer.secho(f"error: cannot reach the control plane at {base}: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    if resp.status_code != 200:
        typer.secho(f"error: control plane answered {resp.status_code}: {resp.text[:300]}", fg="red", err=True)
        raise typer.Exit(code=2)
    data = resp.json()
    typer.echo(f"scheduled {data['name']} ({data['schedule']}); next run {data['next_run']}")
