"""The TUI driven with textual's Pilot against a real control plane: ``create_app`` over HTTP on
loopback with its SQLite stores and git repository, seeded with two incidents and a remediation
awaiting approval (healops.seeded). Every action is checked on the control plane's side, not only
on screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from healops.seeded import SeededPlane, service_names
from tui.app import HealopsApp
from tui.base import Banner
from tui.client import ControlPlaneClient
from tui.grid import Grid
from tui.incident_detail import IncidentScreen
from tui.keybar import KeyBar


def make_app(plane: SeededPlane) -> HealopsApp:
    return HealopsApp(ControlPlaneClient(plane.url, plane.token, operator="alice"), poll_s=0.2)


def api(plane: SeededPlane, path: str) -> Any:
    resp = httpx.get(f"{plane.url}{path}", headers={"Authorization": f"Bearer {plane.token}"}, timeout=5)
    resp.raise_for_status()
    return resp.json()


async def until(pilot: Pilot[None], what: str, check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rows(app: HealopsApp, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(table_id)
    if isinstance(table, Grid):
        return table.row_texts()
    assert isinstance(table, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def incidents_listed(app: HealopsApp, pilot: Pilot[None]) -> list[str]:
    """Show the incidents screen once the first poll is in; the seeded incidents' ids, in screen order."""
    await until(pilot, "first poll", lambda: app.polls >= 1)
    await pilot.press("i")
    await until(pilot, "incident rows", lambda: len(rows(app, "#incidents")) == 2)
    return [r[0] for r in rows(app, "#incidents")]


def grid_rows(app: HealopsApp) -> list[list[str]]:
    return app.screen.query_one("#services", Grid).row_texts()


def trend_columns(app: HealopsApp) -> int:
    return sum(1 for c in app.screen.query_one("#services", Grid).columns if c.key.startswith("trend:"))


async def test_overview_lists_every_service_and_grows_trend_columns_with_the_terminal(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, "first poll", lambda: app.polls >= 1 and bool(grid_rows(app)))
        assert [r[0] for r in grid_rows(app)] == service_names(9)
        assert trend_columns(app) == 1
        degraded = grid_rows(app)[2]
        assert degraded[1] == "degraded" and degraded[2].startswith("1/2")
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "9 services" in summary and "2 active incident(s)" in summary and "1 awaiting approval" in summary
        await pilot.press("down", "down")
        assert app.screen.query_one("#services", Grid).cursor_key == service_names(9)[2]
        await pilot.press("enter")  # the degraded service's active incident
        await until(pilot, "its incident", lambda: isinstance(app.screen, IncidentScreen))
        assert isinstance(app.screen, IncidentScreen) and app.screen.incident_id == "inc-seeded-0"
        await pilot.press("escape", "o")
        await pilot.resize_terminal(180, 40)
        await until(pilot, "three trend columns", lambda: trend_columns(app) == 3)
        await pilot.press("s")  # sort by anomaly: every service still there, the cursor on the same one
        assert sorted(r[0] for r in grid_rows(app)) == sorted(service_names(9))
        assert app.screen.query_one("#services", Grid).cursor_key == service_names(9)[2]


async def test_incident_detail_acknowledges_and_approves_on_the_control_plane(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(100, 40)) as pilot:
        order = await incidents_listed(app, pilot)
        assert set(order) == {"inc-seeded-0", "inc-seeded-1"}
        app.screen.query_one("#incidents", Grid).cursor_row = order.index("inc-seeded-0")
        await pilot.press("enter")
        await until(pilot, "detail loaded", lambda: isinstance(app.screen, IncidentScreen) and bool(app.screen.detail))
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        ranking = rows(app, "#ranking")
        assert ranking[0][1] == service_names(9)[2] and "errors rose first" in ranking[0][3]
        assert rows(app, "#remediations")[0][4] == "awaiting_approval"
        assert "upstream refused" in str(screen.query_one("#traces", Static).render())
        assert len(screen.evidence["series"]) >= 2, "the signal's series and the top service's RED series"
        await pilot.press("a")
        await until(pilot, "acknowledged on the control plane",
                    lambda: api(plane, "/v1/incidents/inc-seeded-0").get("acknowledged_by") == "alice")
        timeline = api(plane, "/v1/incidents/inc-seeded-0")["timeline"]
        assert timeline[-1]["kind"] == "acknowledged" and timeline[-1]["detail"] == {"by": "alice"}
        await pilot.press("y")
        await until(pilot, "approval recorded", lambda: api(plane, "/v1/remediation/remediations")[0].get(
            "approval") == "approved by alice")
        await pilot.press("escape")
        assert not isinstance(app.screen, IncidentScreen)



async def test_one_incident_page_serves_each_incident_and_never_shows_the_last_ones_data(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(100, 40)) as pilot:
        order = await incidents_listed(app, pilot)
        grid = app.screen.query_one("#incidents", Grid)
        grid.cursor_row = order.index("inc-seeded-0")
        await pilot.press("enter")
        await until(pilot, "inc-seeded-0 loaded", lambda: isinstance(app.screen, IncidentScreen)
                    and app.screen.detail.get("id") == "inc-seeded-0")
        first = app.screen
        assert isinstance(first, IncidentScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, IncidentScreen) and first.is_mounted, "kept for the next incident"
        grid.cursor_row = order.index("inc-seeded-1")
        await pilot.press("enter")
        same_page = app.screen is first  # (kept out of the assert: mypy would narrow ``first`` by it)
        assert same_page and first.incident_id == "inc-seeded-1"
        assert first.detail.get("id") in (None, "inc-seeded-1"), "the last incident's data went at once"
        assert "inc-seeded-0" not in str(first.query_one("#headline", Static).render())
        await until(pilot, "inc-seeded-1 loaded", lambda: first.detail.get("id") == "inc-seeded-1")
        await pilot.pause(0.3)
        assert "inc-seeded-1" in str(first.query_one("#headline", Static).render())
        assert rows(app, "#ranking")[0][1] == first.detail["ranking"][0]["service"]


async def test_kill_switch_pauses_and_resumes_healing_after_a_confirmation(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, "first poll", lambda: app.polls >= 1)
        await pilot.press("k", "n")  # asked, declined: nothing changes
        await pilot.pause(0.3)
        assert api(plane, "/v1/remediation")["kill_switch"] is False
        await pilot.press("k", "y")
        await until(pilot, "paused", lambda: api(plane, "/v1/remediation")["kill_switch"] is True)
        await until(pilot, "PAUSED on screen", lambda: "PAUSED" in str(app.screen.query_one("#summary").render()))
        await pilot.press("k", "y")
        await until(pilot, "resumed", lambda: api(plane, "/v1/remediation")["kill_switch"] is False)


async def test_remediation_journal_and_git_history(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("r")
        await until(pilot, "journal rows", lambda: bool(rows(app, "#decisions")))
        assert any(r[4] == "matched" and r[1] == "inc-seeded-0" for r in rows(app, "#decisions"))
        await pilot.press("3")
        await until(pilot, "commits", lambda: len(rows(app, "#commits")) >= 2)
        restart = rows(app, "#commits")[0]
        assert restart[2] == "healops" and restart[3] == "inc-seeded-0"


async def test_chaos_screen_lists_the_library_and_starts_a_run(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, "first poll", lambda: app.polls >= 1)
        await pilot.press("c")
        await until(pilot, "experiments", lambda: len(rows(app, "#experiments")) >= 9)
        assert "crash" in [r[0] for r in rows(app, "#experiments")]
        assert "every-fault-kind" in [r[0] for r in rows(app, "#gamedays")]
        table = app.screen.query_one("#experiments", DataTable)
        table.move_cursor(row=[r[0] for r in rows(app, "#experiments")].index("crash"))
        table.focus()
        await pilot.press("x")
        await until(pilot, "target picker", lambda: app.screen.__class__.__name__ == "TargetPicker")
        await pilot.press("down", "down", "enter")  # the third service
        await until(pilot, "run recorded", lambda: bool(api(plane, "/v1/gamedays")["runs"]))
        run = api(plane, "/v1/gamedays")["runs"][0]
        assert run["name"] == f"crash-{service_names(9)[2]}"
        await until(pilot, "run on screen", lambda: bool(rows(app, "#runs")))


async def test_losing_the_control_plane_shows_a_banner_and_reconnects(plane: SeededPlane, tmp_path: Path) -> None:
    app = make_app(plane)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, "first poll", lambda: app.polls >= 1 and app.latest.error is None)
        banner = app.screen.query_one(Banner)
        assert not banner.display
        port = int(plane.url.rsplit(":", 1)[1])
        plane.stop()
        await until(pilot, "banner", lambda: banner.display)
        assert "unreachable" in str(banner.render()) and "stale" in str(banner.render())
        assert [r[0] for r in grid_rows(app)] == service_names(9), "last data stays on screen"
        again = SeededPlane(plane.home, port=port).start()  # same state, same address
        try:
            await until(pilot, "reconnected", lambda: not banner.display and app.latest.error is None, 15)
        finally:
            again.stop()


async def test_help_and_command_palette(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, "first poll", lambda: app.polls >= 1 and bool(app.latest.incidents))
        await pilot.press("question_mark")
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.press(*"open incident inc-seeded-1")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, "incident opened", lambda: isinstance(app.screen, IncidentScreen))
        assert isinstance(app.screen, IncidentScreen) and app.screen.incident_id == "inc-seeded-1"


async def test_the_footer_shows_the_keys_of_the_screen_on_top(plane: SeededPlane) -> None:
    app = make_app(plane)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, "first poll", lambda: app.polls >= 1)

        def keys() -> str:
            return str(app.screen.query_one(KeyBar).render())

        assert " s  Sort" in keys() and "^p  palette" in keys()
        await pilot.press("r")
        await until(pilot, "the journal's keys", lambda: " 2  Actions" in keys())
        assert " s  Sort" not in keys()
