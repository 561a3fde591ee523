"""Changes as commits to the desired-state repository (GitOps): the local runtime's reconciler
applies them within a second, Argo CD or Flux apply them to a cluster. Revert is ``git revert``;
each commit's trailers name the incident and the action, so ``git log`` is the audit trail and
crash recovery can tell whether an action was applied; outcomes are git notes on the commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import yaml

from healops.errors import GitError, RuntimeStateError
from healops.gitrepo import Author
from remediation.changes import (
    Applied,
    Change,
    Intent,
    Restart,
    Scale,
    SetBreaker,
    SetFlag,
    SetRateLimit,
    SetVersion,
    describe,
)
from workloads.catalog import GATEWAY
from workloads.desired_state import DesiredStateRepo, manifest_path
from workloads.manifest import REPLACE_INSTANCES, RESTARTED_AT, ServiceManifest

AUTHOR = Author("healops-remediation", "remediation@healops.localhost")
REFS_RECHECK_S = 5.0  # forget memoised answers this often even if no ref file changed
VERSION_HISTORY = 50  # commits of a manifest searched for the version that ran before


def _with(m: ServiceManifest, spec: dict[str, Any] | None = None,
          notes: dict[str, str] | None = None) -> ServiceManifest:
    meta = m.metadata.model_copy(update={"annotations": {**m.metadata.annotations, **(notes or {})}})
    return m.model_copy(update={"spec": m.spec.model_copy(update=spec or {}), "metadata": meta})


def edit(change: Change, m: ServiceManifest, now: str) -> ServiceManifest:
    """The manifest with ``change`` applied (pure: tested without git)."""
    match change:
        case Restart(_, ()):
            return _with(m, notes={RESTARTED_AT: now})
        case Restart(_, instances):
            return _with(m, notes={REPLACE_INSTANCES: ",".join(instances)})
        case Scale(_, replicas):
            return _with(m, {"replicas": replicas})
        case SetVersion(_, version):
            return _with(m, {"version": version})
        case SetFlag(_, flag, enabled):
            return _with(m, {"feature_flags": {**m.spec.feature_flags, flag: enabled}})
        case SetBreaker(downstream, force_open):
            gw = m.spec.gateway
            assert gw is not None
            breaker = gw.circuit_breakers[downstream].model_copy(update={"force_open": force_open})
            return _with(m, {"gateway": gw.model_copy(
                update={"circuit_breakers": {**gw.circuit_breakers, downstream: breaker}})})
        case SetRateLimit(route, rps):
            gw = m.spec.gateway
            assert gw is not None
            return _with(m, {"gateway": gw.model_copy(update={"rate_limits": {**gw.rate_limits, route: rps}})})
    raise AssertionError(change)


def service_of(change: Change) -> str:
    return GATEWAY if isinstance(change, SetBreaker | SetRateLimit) else change.service


class GitOps:
    """The desired-state repository as a change log both executors share."""

    def __init__(self, repo: DesiredStateRepo, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.repo, self.clock = repo, clock
        self._refs: tuple[int, ...] = ()
        self._refs_at = 0.0
        self._memo: dict[tuple[str, str], Any] = {}  # (what, service) -> answer while HEAD stays

    def _at_head(self, what: str, service: str, compute: Callable[[], Any]) -> Any:
        """Answers from the repository, remembered until HEAD moves (seen from the ref files' mtimes,
        re-checked every few seconds): a view costs a few ``stat`` calls instead of a dozen git
        processes, which matters every tick on two busy cores."""
        refs = self.repo.git.refs_fingerprint()
        if refs != self._refs or time.monotonic() - self._refs_at > REFS_RECHECK_S:
            self._refs, self._refs_at, self._memo = refs, time.monotonic(), {}
        key = (what, service)
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def manifest(self, service: str) -> ServiceManifest:
        def load() -> ServiceManifest | None:
            return self.repo.load().services.get(service)

        manifest: ServiceManifest | None = self._at_head("manifest", service, load)
        if manifest is None:
            raise RuntimeStateError(f"service {service!r} is not in the desired state")
        return manifest

    def previous_version(self, service: str, current: str) -> tuple[str | None, float | None]:
        """The version that ran before the current one, and when the current one arrived."""
        found: tuple[str | None, float | None] = self._at_head(
            "previous", service, lambda: self._walk_versions(service, current))
        return found

    def _walk_versions(self, service: str, current: str) -> tuple[str | None, float | None]:
        path = manifest_path(service)
        changed_at: float | None = None
        for commit in self.repo.git.log(limit=VERSION_HISTORY, path=path):
            try:
                version = yaml.safe_load(self.repo.git.show(commit.sha, path))["spec"]["version"]
            except (GitError, yaml.YAMLError, KeyError, TypeError):  # an unreadable old revision ends the search
                break
            if version != current:
                return str(version), changed_at
            changed_at = float(commit.timestamp)
        return None, changed_at

    def person_replicas(self, service: str) -> int:
        """Replicas in the last commit to the service's manifest that a person (not remediation) made:
        capacity never scales below it."""
        found: int = self._at_head("floor", service, lambda: self._walk_people(service))
        return found

    def _walk_people(self, service: str) -> int:
        path = manifest_path(service)
        for commit in self.repo.git.log(limit=VERSION_HISTORY, path=path):
            if commit.author != AUTHOR.name:
                return int(yaml.safe_load(self.repo.git.show(commit.sha, path))["spec"]["replicas"])
        return self.manifest(service).spec.replicas

    def commit(self, intent: Intent, change: Change, dry_run: bool) -> Applied:
        summary = describe(change)
        revertible = not isinstance(change, Restart)
        if dry_run:
            return Applied(intent.action_id, f"[dry run] {summary}", None, revertible, dry_run=True)
        stamp = self.clock().isoformat(timespec="seconds")
        sha = self.repo.update(service_of(change), lambda m: edit(change, m, stamp),
                               f"{summary}\n\n{intent.reason}\n\n{intent.trailers()}", AUTHOR)
        return Applied(intent.action_id, summary, sha, revertible)

    def revert(self, intent: Intent, applied: Applied, dry_run: bool) -> Applied:
        if not applied.revertible or applied.ref is None:
            raise RuntimeStateError(f"{applied.summary!r} cannot be reverted")
        summary = f"Revert \"{applied.summary}\""
        if dry_run:
            return Applied(intent.action_id, f"[dry run] {summary}", None, False, dry_run=True)
        sha = self.repo.git.revert(applied.ref, f"{summary}\n\n{intent.reason}\n\n{intent.trailers()}", AUTHOR)
        return Applied(intent.action_id, summary, sha, False)

    def find(self, action_id: str) -> Applied | None:
        shas = self.repo.git.find(f"Healops-Action: {action_id}")
        if not shas:
            return None
        commit = self.repo.git.log(limit=1, rev=shas[-1])[0]
        return Applied(action_id, commit.subject, commit.sha, not commit.subject.startswith("Restart"))

    def record(self, ref: str, text: str) -> None:
        self.repo.git.note(ref, text)

    def recover(self) -> list[str]:
        return self.repo.git.recover()
