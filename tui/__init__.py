"""The on-call terminal UI (textual); reads the control-plane API only."""
