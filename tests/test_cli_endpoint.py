"""Every CLI command that talks to the control plane finds it the same way: the option, else
``HEALOPS_URL`` / ``HEALOPS_TOKEN``, else the home's config and ``tokens.json``."""

from __future__ import annotations

from pathlib import Path

import pytest

from healops.config import control_endpoint, load_config, load_or_create_tokens


def test_option_beats_environment_beats_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config({"HEALOPS_HOME": str(tmp_path), "HEALOPS_CONTROL_PORT": "17999"})
    stored = load_or_create_tokens(tmp_path).api
    monkeypatch.delenv("HEALOPS_URL", raising=False)
    monkeypatch.delenv("HEALOPS_TOKEN", raising=False)
    assert control_endpoint(cfg) == ("http://127.0.0.1:17999", stored)
    monkeypatch.setenv("HEALOPS_URL", "http://127.0.0.1:18000/")
    monkeypatch.setenv("HEALOPS_TOKEN", "from-env")
    assert control_endpoint(cfg) == ("http://127.0.0.1:18000", "from-env")
    assert control_endpoint(cfg, "http://[::1]:18001", "from-option") == ("http://[::1]:18001", "from-option")
