"""Chaos Toolkit extension, experiments and game days that score the self-healing loop."""
