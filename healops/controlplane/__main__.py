"""``python -m healops.controlplane``: serve the control-plane API (started by ``healops up``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from healops.config import load_config, load_or_create_tokens
from healops.controlplane.app import create_app
from healops.processes import exit_when_parent_dies


def main() -> None:
    p = argparse.ArgumentParser(prog="healops.controlplane")
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7070)
    p.add_argument("--parent-pid", type=int, default=None)
    args = p.parse_args()
    if args.parent_pid:
        exit_when_parent_dies(args.parent_pid)
    config = load_config().with_(home=args.home.resolve(), host=args.host, control_port=args.port)
    tokens = load_or_create_tokens(config.home)
    uvicorn.run(create_app(config, tokens.api), host=args.host, port=args.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
