"""Runbooks kept in git: validated documents that map incidents to remediation steps."""
