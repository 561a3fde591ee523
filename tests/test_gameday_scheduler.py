"""The control plane's game-day scheduler: cron times, the error-budget gate, never two at once,
and a real child process started and reaped. Real SQLite, a real lock file, an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chaos.gameday_model import DEFAULT_DIR
from chaos.lock import GamedayLock, LockHeld
from healops.config import load_config
from healops.controlplane.gamedays import Busy, GamedayScheduler, budget_remaining, library
from healops.harness import wait_until

GAMEDAY = DEFAULT_DIR / "every-fault-kind.yaml"  # "0 10 * * 3": Wednesdays 10:00 UTC


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC).timestamp()  # a Tuesday

    def __call__(self) -> float:
        return self.now


def slo(bad: float, total: float, counted_s: float, period_s: float = 21600.0) -> dict[str, Any]:
    return {"slo": "x", "service": "x", "objective": 0.99, "bad_events": bad, "total_events": total,
            "counted_s": counted_s, "period_s": period_s}


def test_budget_remaining_is_average_burn_times_the_share_of_the_period_counted() -> None:
    assert budget_remaining([]) == 1.0
    assert budget_remaining([slo(0, 1000, 3600)]) == 1.0
    # 2 % bad against a 1 % budget is a 2x burn; over a quarter of the period that spends half of it
    assert budget_remaining([slo(20, 1000, 5400)]) == pytest.approx(0.5)
    assert budget_remaining([slo(20, 1000, 5400), slo(50, 1000, 50000)]) == 0.0, "the worst SLO decides"


@pytest.fixture
def scheduler(tmp_path: Path) -> tuple[GamedayScheduler, Clock, list[list[dict[str, Any]]]]:
    clock = Clock()
    status: list[list[dict[str, Any]]] = [[slo(0, 1000, 600)]]
    config = load_config({}).with_(home=tmp_path, control_port=1)  # port 1: nothing answers there
    sched = GamedayScheduler(config, lambda: status[0], clock)
    return sched, clock, status


def test_next_run_follows_the_cron_expression_and_survives_a_restart(scheduler: Any) -> None:
    sched, clock, _ = scheduler
    added = sched.add(GAMEDAY)
    assert added.next_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC).timestamp()
    again = GamedayScheduler(sched.config, lambda: [], clock)
    assert [s.name for s in again.schedules()] == ["every-fault-kind"]


def test_not_due_does_nothing_and_low_budget_skips_with_the_reason(scheduler: Any) -> None:
    sched, clock, status = scheduler
    sched.add(GAMEDAY)
    sched.tick()
    assert sched.runs() == []
    clock.now += 86400 + 3600  # Wednesday 10:00
    status[0] = [slo(80, 1000, 21600)]  # 8x burn over a whole period: nothing left
    sched.tick()
    [run] = sched.runs()
    assert run["outcome"] == "skipped" and "error budget left 0% < 50%" in run["reason"]
    assert sched.schedules()[0].next_at == datetime(2026, 12, 2, 10, 0, tzinfo=UTC).timestamp()


def test_never_two_at_once(scheduler: Any) -> None:
    sched, clock, _ = scheduler
    sched.add(GAMEDAY)
    clock.now += 86400 + 3600
    with GamedayLock(sched.config.run_dir):  # a game day run from the CLI holds the lock
        sched.tick()
    [run] = sched.runs()
    assert (run["outcome"], run["reason"]) == ("skipped", "another game day is running")
    with GamedayLock(sched.config.run_dir), pytest.raises(LockHeld):
        GamedayLock(sched.config.run_dir).__enter__()


def test_a_due_game_day_runs_as_a_child_process_and_its_outcome_is_kept(scheduler: Any) -> None:
    sched, clock, _ = scheduler
    sched.add(GAMEDAY)
    clock.now += 86400 + 3600
    sched.tick()
    [run] = sched.runs()
    assert run["outcome"] == "running" and Path(run["report"]).is_dir()
    # this state directory has no platform (no tokens): the child fails before injecting anything
    wait_until(lambda: (sched.tick(), sched.runs()[0]["outcome"] != "running")[1], 120, 0.5, "the child to end")
    [run] = sched.runs()
    assert run["outcome"] == "error" and run["reason"] == "exit code 2"
    log = (Path(run["report"]) / "run.log").read_text()
    assert "no healops tokens" in log, log
    sched.close()


def test_an_operator_starts_one_library_experiment_with_the_library_expectations(scheduler: Any) -> None:
    sched, _clock, _ = scheduler
    run_id = sched.run_now(experiment="crash", target="notification")
    run = sched.run_detail(run_id)
    assert run is not None and run["name"] == "crash-notification" and run["outcome"] == "running"
    written = (Path(run["report"]) / "gameday.yaml").read_text()
    assert "target: notification" in written and "recoverWithinSeconds" in written, written
    with pytest.raises(Busy):
        sched.run_now(gameday="every-fault-kind")
    wait_until(lambda: (sched.tick(), sched.runs()[0]["outcome"] != "running")[1], 120, 0.5, "the child to end")
    with pytest.raises(LookupError, match="no experiment 'billing-outage'"):
        sched.run_now(experiment="billing-outage", target="notification")
    with pytest.raises(LookupError, match="no game day 'nightly'"):
        sched.run_now(gameday="nightly")
    with pytest.raises(ValueError, match="name a game day"):
        sched.run_now(experiment="crash")
    sched.close()


def test_the_library_lists_every_shipped_experiment_and_game_day() -> None:
    shipped = library()
    assert len(shipped["experiments"]) == len(list((DEFAULT_DIR.parent / "experiments").glob("*.json")))
    assert {"crash", "latency", "saturation"} <= {e["name"] for e in shipped["experiments"]}
    assert all(e["title"] and e["kind"] for e in shipped["experiments"])
    assert [g["name"] for g in shipped["gamedays"]] == ["every-fault-kind"]
