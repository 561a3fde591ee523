"""Experiment and game-day files: the shipped ones are valid for the stock Chaos Toolkit and for
healops; a broken one is refused naming file, line and field, before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chaos.gameday_model import DEFAULT_DIR, load_gameday
from chaos.validate import experiment_problems
from healops.errors import DocumentError

EXPERIMENTS = sorted((Path(__file__).resolve().parents[1] / "chaos" / "experiments").glob("*.json"))
FAULTS = ("crash", "hang", "memory-leak", "saturation", "bad-deploy", "latency", "error-rate", "cpu-burn",
          "dependency-failure")


def test_one_shipped_experiment_per_fault_kind() -> None:
    assert sorted(f.stem for f in EXPERIMENTS) == sorted(FAULTS)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiment_is_valid(path: Path) -> None:
    assert experiment_problems(path) == []
    doc = json.loads(path.read_text())
    assert doc["rollbacks"], "every experiment must restore the platform, whatever happened"
    assert doc["steady-state-hypothesis"]["probes"], "every experiment states its steady state"


def test_stock_chaos_validate_accepts_a_shipped_experiment(tmp_path: Path) -> None:
    chaos = Path(sys.executable).parent / "chaos"
    cmd = [str(chaos)] if chaos.exists() else [sys.executable, "-m", "chaostoolkit"]
    done = subprocess.run([*cmd, "--no-version-check", "--no-log-file", "validate", str(EXPERIMENTS[0])],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_shipped_game_day_loads_every_experiment() -> None:
    loaded = load_gameday(DEFAULT_DIR / "every-fault-kind.yaml")
    assert {p.stem for p in loaded.experiments} == set(FAULTS)
    assert loaded.gameday.spec.schedule is not None


def _write(tmp_path: Path, doc: object, name: str = "exp.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    return path


def _crash_experiment(**argument_overrides: object) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXPERIMENTS[0].parent / "crash.json").read_text())
    doc["method"][0]["provider"]["arguments"].update(argument_overrides)
    return doc


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "title": "x",\n  "description": "y",\n  "method": [,]\n}\n')
    [problem] = experiment_problems(path)
    assert problem.file == str(path) and problem.line == 4 and "not valid JSON" in problem.reason


def test_unknown_fault_kind_names_the_field_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _crash_experiment(kind="teleport"))
    [problem] = experiment_problems(path)
    assert problem.field == "method[0].provider.arguments.kind"
    assert "teleport" in problem.reason and problem.line is not None
    assert '"kind": "teleport"' in path.read_text().splitlines()[problem.line - 1]


def test_bad_fault_parameter_names_the_parameter(tmp_path: Path) -> None:
    path = _write(tmp_path, _crash_experiment(parameters={"exit_code": 999}))
    [problem] = experiment_problems(path)
    assert problem.field == "method[0].provider.arguments.parameters.exit_code"


def test_argument_not_in_the_signature_is_refused_by_chaoslib(tmp_path: Path) -> None:
    path = _write(tmp_path, _crash_experiment(blast_radius=3))
    [problem] = experiment_problems(path)
    assert problem.field == "method[0]" and "blast_radius" in problem.reason


def test_unknown_service_and_missing_title(tmp_path: Path) -> None:
    doc = _crash_experiment(service="billing")
    del doc["title"]
    problems = experiment_problems(_write(tmp_path, doc))
    assert {p.field for p in problems} == {"title", "method[0].provider.arguments.service"}


def test_game_day_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "gd.yaml"
    path.write_text(
        "apiVersion: healops.dev/v1\nkind: GameDay\nmetadata: {name: broken}\nspec:\n"
        "  schedule: every tuesday\n  experiments:\n    - experiment: nowhere.json\n      target: notification\n")
    with pytest.raises(DocumentError) as err:
        load_gameday(path)
    assert [(p.line, p.field) for p in err.value.problems] == [(5, "spec.schedule")]
    path.write_text(path.read_text().replace("every tuesday", "0 3 * * 2"))
    with pytest.raises(DocumentError) as err:
        load_gameday(path)
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 7, "spec.experiments[0].experiment")


def test_game_day_refuses_a_bad_experiment_it_names(tmp_path: Path) -> None:
    _write(tmp_path, _crash_experiment(kind="teleport"))
    path = tmp_path / "gd.yaml"
    path.write_text("apiVersion: healops.dev/v1\nkind: GameDay\nmetadata: {name: bad-exp}\nspec:\n"
                    "  experiments:\n    - {experiment: exp.json, target: notification}\n")
    with pytest.raises(DocumentError) as err:
        load_gameday(path)
    assert [p.field for p in err.value.problems] == ["method[0].provider.arguments.kind"]
    assert err.value.problems[0].file.endswith("exp.json")


def test_cli_validate_exits_1_naming_the_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, _crash_experiment(kind="teleport"))
    done = subprocess.run([sys.executable, "-m", "healops.cli", "chaos", "validate", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert f"{path}:" in done.stderr and "method[0].provider.arguments.kind" in done.stderr
