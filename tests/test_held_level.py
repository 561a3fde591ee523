"""The held-level view: a span's mean far from every mean the series held lately is news once; a
burst, a dip the series makes every day and the warm-up are not."""

from __future__ import annotations

import math
import pickle
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.base import score_stream
from detectors.held_level import HeldLevelNovelty
from detectors.series_watch import live_detector
from detectors.sorted_recent import SortedRecent


def _dipping(n: int, rng: random.Random) -> list[float]:
    """A series at 100 that dips to 60 for one point in every 50: the gap view has seen 60 lately."""
    return [60.0 + rng.gauss(0, 0.3) if i % 50 == 25 else 100.0 + rng.gauss(0, 1) for i in range(n)]


def test_a_level_held_where_the_series_only_dipped_is_reported_once_where_the_gap_view_sees_nothing() -> None:
    rng = random.Random(1)
    usual = _dipping(3000, rng)
    held_low = [60.0 + rng.gauss(0, 0.3) for _ in range(300)]
    live = live_detector()  # the ensemble undamped: its score is the highest of its views'
    view = HeldLevelNovelty()
    score_stream(live, usual)
    score_stream(view, usual)
    held, gap = [], []
    for v in held_low:
        assert live.score(v) >= live.held.score(v)
        gap.append(live.gap.score(v))
        held.append(view.score(v))
        live.learn(v)
        view.learn(v)
    assert max(gap) == 0.0  # 60 is a value the series took every 50 points
    alarms = [i for i, s in enumerate(held) if s >= 0.6]
    assert len(alarms) == 1 and 5 < alarms[0] < 64  # once, before a span has passed


def test_a_burst_inside_the_range_and_the_warm_up_are_not_held_levels() -> None:
    rng = random.Random(2)
    view = HeldLevelNovelty()
    values = [1000.0 if i % 200 == 100 else 100.0 + rng.gauss(0, 1) for i in range(1500)]
    scores = score_stream(view, values[:999])
    assert max(scores) == 0.0  # warming up, although the first means were all new
    score_stream(view, values[999:])
    # a burst to the top of the range moves a 64-point mean by a sixty-fourth of the range's width
    assert view.score(1000.0) == 0.0 and view.score(100.5) == 0.0
    assert view.score(200.0) == 0.0


def test_live_watches_see_a_held_level_last_and_the_reporting_view_does_not_repeat_it() -> None:
    rng = random.Random(3)
    usual = _dipping(3000, rng)
    low = [60.0 + rng.gauss(0, 0.3) for _ in range(200)]
    reporting, live = HeldLevelNovelty(), HeldLevelNovelty(onset_window=0)
    score_stream(reporting, usual)
    score_stream(live, usual)
    once, lasting = score_stream(reporting, low), score_stream(live, low)
    assert sum(s >= 0.6 for s in once) == 1
    assert sum(s >= 0.6 for s in lasting) > 30
    assert live_detector().held.onset_window == 0


def test_the_mean_stays_exact_over_a_long_stream_and_the_memory_bounded() -> None:
    view = HeldLevelNovelty(span=8, memory=100, warmup=10)
    rng = random.Random(4)
    values = [1e9 + rng.random() * 1e3 if i % 2 else rng.random() for i in range(20_003)]
    for v in values:
        view.learn(v)
    expected = math.fsum([*values[-7:], 5.0]) / 8
    got = view._mean_with(5.0)
    assert got is not None and math.isclose(got, expected, rel_tol=1e-12)
    assert len(view._levels.ordered) == 100 and len(view._levels.recent) == 100
    assert pickle.loads(pickle.dumps(view)).score(7.0) == view.score(7.0)  # noqa: S301 - our own bytes


@given(st.lists(st.tuples(st.integers(-5, 5), st.booleans()), max_size=200), st.integers(-6, 6))
@settings(max_examples=150, deadline=None)
def test_sorted_recent_finds_the_nearest_kept_value_whether_or_not_each_was_looked_up_first(
    steps: list[tuple[int, bool]], probe: int,
) -> None:
    kept = SortedRecent(capacity=7)
    for value, looked_up in steps:
        if looked_up:
            kept.nearest(float(value))
        kept.push(float(value))
    window = [float(v) for v, _ in steps[-7:]]
    assert list(kept.ordered) == sorted(window) == sorted(kept.recent.oldest_first().tolist())
    expected = min((abs(probe - v) for v in window), default=math.inf)
    assert kept.nearest(float(probe)) == expected
