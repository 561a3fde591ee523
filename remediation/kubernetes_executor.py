"""Apply changes to a Kubernetes cluster with the ``kubernetes`` client.

Capacity and restarts go straight to the API, as ``kubectl`` would: replicas through the scale
subresource, a rolling restart through the ``kubectl.kubernetes.io/restartedAt`` pod-template
annotation (RFC 3339, written here: chaostoolkit-kubernetes' helper writes a malformed one), one
bad pod by deleting it. Versions, flags and gateway policy are commits to the GitOps repository,
which Argo CD or Flux apply; a rollback reverts that commit. The action id goes into a Deployment
annotation (or the commit), so crash recovery can ask whether an action was applied. API dry runs
use the server's own ``dryRun=All``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from healops.errors import RuntimeStateError
from remediation.changes import Applied, Change, Intent, Restart, Scale, ServiceView, describe
from remediation.gitops import GitOps
from workloads.desired_state import DesiredStateRepo

LAST_ACTION = "healops.dev/last-action"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
APP_LABEL = "app.kubernetes.io/name"


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pod_healthy(pod: Any) -> bool:
    """Ready, and no container waiting in a crash loop (what ``kubectl get pods`` shows as trouble)."""
    if pod.metadata.deletion_timestamp is not None:
        return True  # already going away: not ours to restart
    conditions = {c.type: c.status for c in (pod.status.conditions or [])}
    waiting = [s.state.waiting.reason for s in (pod.status.container_statuses or [])
               if s.state is not None and s.state.waiting is not None]
    return conditions.get("Ready") == "True" and not any(r in ("CrashLoopBackOff", "Error") for r in waiting)


class KubernetesExecutor:
    name = "kubernetes"

    def __init__(self, apps: Any, core: Any, namespace: str, gitops: GitOps,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.apps, self.core, self.namespace, self.gitops, self.clock = apps, core, namespace, gitops, clock

    @classmethod
    def from_environment(cls, namespace: str, repo: DesiredStateRepo) -> KubernetesExecutor:
        """In-cluster service account if there is one, else the kubeconfig (as kubectl finds it)."""
        from kubernetes import client
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.incluster_config import load_incluster_config
        from kubernetes.config.kube_config import load_kube_config

        try:
            load_incluster_config()  # type: ignore[no-untyped-call]
        except ConfigException:
            load_kube_config()  # type: ignore[no-untyped-call]
        return cls(client.AppsV1Api(), client.CoreV1Api(), namespace, GitOps(repo))

    def _api(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return call(*args, **kwargs)
        except ApiException as exc:
            raise RuntimeStateError(f"Kubernetes API {exc.status} {exc.reason}: {str(exc.body)[:300]}") from exc

    def view(self, service: str) -> ServiceView:
        dep = self._api(self.apps.read_namespaced_deployment, service, self.namespace)
        pods = self._api(self.core.list_namespaced_pod, self.namespace, label_selector=f"{APP_LABEL}={service}")
        manifest = self.gitops.manifest(service)
        previous, changed_at = self.gitops.previous_version(service, manifest.spec.version)
        return ServiceView(
            name=service, desired_replicas=dep.spec.replicas or 0, ready_replicas=dep.status.ready_replicas or 0,
            unhealthy=tuple(p.metadata.name for p in pods.items if not _pod_healthy(p)),
            version=manifest.spec.version, previous_version=previous, version_changed_at=changed_at,
            flags=dict(manifest.spec.feature_flags))

    def _mark(self, service: str, action_id: str, extra: dict[str, Any] | None = None, dry_run: bool = False) -> str:
        """Patch the Deployment (strategic merge: a dict body) with the action id; return its resourceVersion."""
        body: dict[str, Any] = {"metadata": {"annotations": {LAST_ACTION: action_id}}, **(extra or {})}
        kwargs = {"dry_run": "All"} if dry_run else {}
        dep = self._api(self.apps.patch_namespaced_deployment, service, self.namespace, body, **kwargs)
        return str(dep.metadata.resource_version)

    def apply(self, intent: Intent, change: Change, dry_run: bool) -> Applied:
        summary = describe(change)
        label = f"[dry run] {summary}" if dry_run else summary
        dry = {"dry_run": "All"} if dry_run else {}
        match change:
            case Restart(service, ()):
                template = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: _rfc3339(self.clock())}}}}}
                ref = self._mark(service, intent.action_id, template, dry_run)
                return Applied(intent.action_id, label, ref, revertible=False, dry_run=dry_run)
            case Restart(service, pods):
                for pod in pods:
                    self._api(self.core.delete_namespaced_pod, pod, self.namespace, **dry)
                ref = self._mark(service, intent.action_id, dry_run=dry_run)
                return Applied(intent.action_id, label, ref, revertible=False, dry_run=dry_run)
            case Scale(service, replicas):
                before = self._api(self.apps.read_namespaced_deployment_scale, service, self.namespace)
                self._api(self.apps.patch_namespaced_deployment_scale, service, self.namespace,
                          {"spec": {"replicas": replicas}}, **dry)
                ref = self._mark(service, intent.action_id, dry_run=dry_run)
                return Applied(intent.action_id, label, ref, revertible=True, dry_run=dry_run,
                               before={"service": service, "replicas": before.spec.replicas})
        return self.gitops.commit(intent, change, dry_run)  # versions, flags, gateway policy: GitOps

    def revert(self, intent: Intent, applied: Applied, dry_run: bool) -> Applied:
        if "replicas" in applied.before:
            service, replicas = str(applied.before["service"]), int(str(applied.before["replicas"]))
            dry = {"dry_run": "All"} if dry_run else {}
            self._api(self.apps.patch_namespaced_deployment_scale, service, self.namespace,
                      {"spec": {"replicas": replicas}}, **dry)
            ref = self._mark(service, intent.action_id, dry_run=dry_run)
            return Applied(intent.action_id, f"Scale {service} back to {replicas} replicas", ref, False, dry_run)
        return self.gitops.revert(intent, applied, dry_run)

    def find(self, action_id: str) -> Applied | None:
        deps = self._api(self.apps.list_namespaced_deployment, self.namespace)
        for dep in deps.items:
            if (dep.metadata.annotations or {}).get(LAST_ACTION) == action_id:
                return Applied(action_id, f"annotated on {dep.metadata.name}", str(dep.metadata.resource_version),
                               revertible=False)
        return self.gitops.find(action_id)

    def record(self, ref: str, text: str) -> None:
        if len(ref) == 40:  # a commit; a resourceVersion has no history to annotate
            self.gitops.record(ref, text)

    def recover(self) -> list[str]:
        return self.gitops.recover()
