"""healops: observability-driven self-healing for a platform of services.

Data flows one way: ``workloads`` emit telemetry -> ``collectors`` -> ``detectors`` ->
``remediation``/``runbooks`` -> back to the workloads. This package is the shared core.
"""

__version__ = "0.1.0"
