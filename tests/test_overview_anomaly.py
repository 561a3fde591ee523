"""The overview's anomaly column says what the loop does with a score, not how big it is: red while a
watch of the service fires, yellow from the watches' score gate, green below it. A big score on a
harmless move (within the practical floor) must not look like a page."""

from __future__ import annotations

import random
from typing import Any

from collectors import names
from collectors.series_store import SeriesStore
from detectors.live import LiveDetection
from healops.controlplane.overview import build_overview
from tui.format import anomaly_text

SVC = (("service", "healthcare"),)


def _feed(live: LiveDetection, start: int, values: list[float]) -> None:
    for t, v in enumerate(values, start):
        live.on_step(float(t), {(names.RED_P50, SVC): v, (names.RED_REQUESTS, SVC): 5.0})


def _row(live: LiveDetection) -> dict[str, Any]:
    overview = build_overview({"services": {"healthcare": {"health": "healthy"}}}, SeriesStore(), live, now=0.0)
    row: dict[str, Any] = overview["services"]["healthcare"]
    return row


def test_a_surprising_but_harmless_move_is_yellow_and_a_firing_watch_is_red() -> None:
    live = LiveDetection(clock=lambda: 0.0)
    rng = random.Random(5)
    _feed(live, 0, [rng.gauss(30.0, 1.0) for _ in range(200)])
    quiet = _row(live)
    assert quiet["firing"] == 0 and quiet["anomaly_gate"] == 0.6
    assert anomaly_text(quiet["anomaly"], quiet["anomaly_gate"], 0).style == "green"

    _feed(live, 200, [40.0])  # +10 ms on 30: ten sd, but under the watch's 20 ms / 2x floor
    harmless = _row(live)
    assert harmless["anomaly"] >= 0.9 and harmless["firing"] == 0
    assert anomaly_text(harmless["anomaly"], harmless["anomaly_gate"], 0).style == "yellow"

    _feed(live, 201, [250.0, 250.0])  # a real latency incident: the watch fires on its second step
    incident = _row(live)
    assert incident["firing"] == 1
    text = anomaly_text(incident["anomaly"], incident["anomaly_gate"], 1)
    assert text.style == "bold red"


def test_colour_follows_the_gate_and_the_firing_count_not_fixed_cuts() -> None:
    assert anomaly_text(0.3, 0.6, firing=2).style == "bold red"  # firing, though the latest point is calm
    assert anomaly_text(0.97, 0.6, firing=0).style == "yellow"
    assert anomaly_text(0.55, 0.6).style == "green"
    assert anomaly_text(0.55, 0.5).style == "yellow"  # a watch with a lower gate
    assert anomaly_text(0.65, None).style == "yellow"  # an older control plane: the default gate
    assert anomaly_text(None).plain == "—"
    assert anomaly_text(0.123, 0.6).plain == "0.12"
