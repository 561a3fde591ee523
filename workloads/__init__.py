"""The platform's services and the local runtime that runs them.

A workload never imports detectors, remediation or the TUI: a service knows nothing of who
watches or heals it.
"""
