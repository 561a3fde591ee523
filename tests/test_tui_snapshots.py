"""SVG snapshots (pytest-textual-snapshot) pin the main screens, drawn from a real control plane over
a seeded state on a fixed clock (healops.seeded), so every run draws the same screen. After an
intended change of layout: ``pytest tests/test_tui_snapshots.py --snapshot-update`` and review the
SVGs in ``tests/__snapshots__``."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from healops.seeded import SeededPlane
from tui.app import HealopsApp
from tui.client import ControlPlaneClient
from tui.incident_detail import IncidentScreen

SnapCompare = Callable[..., bool]


def app_on(plane: SeededPlane) -> HealopsApp:
    # a long poll period: the screen is drawn from the first answers, not mid-refresh
    return HealopsApp(ControlPlaneClient(plane.url, plane.token, operator="alice"), poll_s=3600, label="seeded")


async def loaded(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, HealopsApp)
    for _ in range(200):
        if app.polls >= 1:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


def test_overview_80x24(plane: SeededPlane, snap_compare: SnapCompare) -> None:
    assert snap_compare(app_on(plane), terminal_size=(80, 24), run_before=loaded)


def test_overview_wide(plane: SeededPlane, snap_compare: SnapCompare) -> None:
    assert snap_compare(app_on(plane), terminal_size=(160, 30), run_before=loaded)


def test_incidents_80x24(plane: SeededPlane, snap_compare: SnapCompare) -> None:
    async def go(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("i")
        await pilot.pause(0.2)

    assert snap_compare(app_on(plane), terminal_size=(80, 24), run_before=go)


def test_incident_detail_100x40(plane: SeededPlane, snap_compare: SnapCompare) -> None:
    async def go(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        app = pilot.app
        assert isinstance(app, HealopsApp)
        app.open_incident("inc-seeded-0")
        for _ in range(200):
            if isinstance(app.screen, IncidentScreen) and app.screen.detail:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)

    assert snap_compare(app_on(plane), terminal_size=(100, 40), run_before=go)
