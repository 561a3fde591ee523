"""The Numenta Anomaly Benchmark corpus as data: series, label windows, profiles.

NAB's own quirks are kept (see PITFALLS.md): rows stay in file order even where timestamps repeat or
go backwards, CRLF endings are accepted, and a window is located by timestamp, first occurrence.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "nab"


@dataclass(frozen=True)
class Profile:
    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


@dataclass(frozen=True)
class NabFile:
    key: str  # "category/name.csv", as in the label files
    timestamps: list[datetime]
    values: list[float]
    windows: list[tuple[datetime, datetime]]

    @property
    def category(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split("/", 1)[1]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def read_series(path: Path) -> tuple[list[datetime], list[float]]:
    timestamps, values = [], []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            timestamps.append(parse_time(row["timestamp"]))
            values.append(float(row["value"]))
    return timestamps, values


@dataclass(frozen=True)
class NabCorpus:
    root: Path
    files: list[NabFile]
    profiles: dict[str, Profile]

    @classmethod
    def load(cls, root: Path = DEFAULT_ROOT) -> NabCorpus:
        windows = json.loads((root / "labels" / "combined_windows.json").read_text())
        files = []
        for key in sorted(windows):
            timestamps, values = read_series(root / "data" / key)
            files.append(NabFile(key, timestamps, values,
                                 [(parse_time(a), parse_time(b)) for a, b in windows[key]]))
        raw = json.loads((root / "config" / "profiles.json").read_text())
        profiles = {name: Profile(name, p["CostMatrix"]["tpWeight"], p["CostMatrix"]["fpWeight"],
                                  p["CostMatrix"]["fnWeight"]) for name, p in raw.items()}
        return cls(root, files, profiles)

    @property
    def window_count(self) -> int:
        return sum(len(f.windows) for f in self.files)
