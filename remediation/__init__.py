"""Remediation actions and their executors (local runtime via git, Kubernetes)."""
