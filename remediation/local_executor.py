"""The local runtime's executor: every change is a commit to the desired-state repository (see
:mod:`remediation.gitops`), which the runtime's reconciler applies within a second; what runs now
comes from the snapshot the runtime publishes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from remediation.changes import Applied, Change, Intent, ServiceView
from remediation.gitops import GitOps
from workloads.desired_state import DesiredStateRepo


class LocalExecutor:
    name = "local"

    def __init__(self, repo: DesiredStateRepo, snapshot_file: Path) -> None:
        self.gitops, self.snapshot_file = GitOps(repo), snapshot_file

    def _runtime(self, service: str) -> dict[str, Any]:
        try:
            snap = json.loads(self.snapshot_file.read_text())
        except (OSError, ValueError):
            return {}
        found: dict[str, Any] = snap.get("services", {}).get(service, {})
        return found

    def view(self, service: str) -> ServiceView:
        manifest = self.gitops.manifest(service)
        replicas = self._runtime(service).get("replicas", [])
        previous, changed_at = self.gitops.previous_version(service, manifest.spec.version)
        return ServiceView(
            name=service, desired_replicas=manifest.spec.replicas,
            ready_replicas=sum(1 for r in replicas if r.get("state") == "ready"),
            unhealthy=tuple(r["instance"] for r in replicas if r.get("state") in ("crashed", "unresponsive")),
            version=manifest.spec.version, previous_version=previous, version_changed_at=changed_at,
            flags=dict(manifest.spec.feature_flags))

    def apply(self, intent: Intent, change: Change, dry_run: bool) -> Applied:
        return self.gitops.commit(intent, change, dry_run)

    def revert(self, intent: Intent, applied: Applied, dry_run: bool) -> Applied:
        return self.gitops.revert(intent, applied, dry_run)

    def find(self, action_id: str) -> Applied | None:
        return self.gitops.find(action_id)

    def record(self, ref: str, text: str) -> None:
        self.gitops.record(ref, text)

    def recover(self) -> list[str]:
        return self.gitops.recover()
