"""The control-plane API: what the CLI, the TUI and scripts talk to (bearer token, loopback)."""
