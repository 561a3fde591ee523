"""A loopback stand-in for the few Kubernetes API endpoints the executor calls.

No API server can run on these machines, so this answers with the JSON shapes the real one returns
(apps/v1 Deployment, autoscaling/v1 Scale, v1 PodList and Pod, v1 Status for errors, written after
the Kubernetes API reference and trimmed to the fields the client's models require), over real
HTTP on 127.0.0.1. The ``kubernetes``
client does its own serialisation, content types and deserialisation into its models on the way,
so the executor is tested against what the library produces and expects; every request is kept
for the test to inspect. Strategic merge patches are applied as the plain deep merge they reduce
to for the maps patched here.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

APP = "app.kubernetes.io/name"


def deployment(name: str, ns: str, replicas: int, ready: int) -> dict[str, Any]:
    labels = {APP: name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}", "resourceVersion": "1000", "generation": 1,
                     "labels": labels, "annotations": {"deployment.kubernetes.io/revision": "1"},
                     "creationTimestamp": "2026-11-01T00:00:00Z"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": name, "image": f"registry.local/{name}:1.1.0"}]}}},
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                   "updatedReplicas": replicas},
    }


def pod(name: str, ns: str, app: str, ready: bool, waiting: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = ({"waiting": {"reason": waiting, "message": "back-off 40s restarting failed container"}}
                             if waiting else {"running": {"startedAt": "2026-11-01T00:00:05Z"}})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}", "resourceVersion": "900",
                     "labels": {APP: app}},
        "spec": {"containers": [{"name": app, "image": f"registry.local/{app}:1.1.0"}]},
        "status": {"phase": "Running",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                   "containerStatuses": [{"name": app, "ready": ready, "restartCount": 0 if ready else 7,
                                          "image": f"registry.local/{app}:1.1.0",
                                          "imageID": "registry.local/sha256:0", "state": state}]},
    }


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = copy.deepcopy(v)


@dataclass
class FakeCluster:
    namespace: str = "platform"
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1000

    def _bump(self, obj: dict[str, Any]) -> None:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        dry = query.get("dryRun") == ["All"]
        ns = self.namespace
        if parts[:5] == ["apis", "apps", "v1", "namespaces", ns] and parts[5:6] == ["deployments"]:
            if len(parts) == 6:
                return 200, {"apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {"resourceVersion": "1"},
                             "items": list(self.deployments.values())}
            dep = self.deployments.get(parts[6])
            if dep is None:
                return 404, _status(404, "NotFound", f'deployments.apps "{parts[6]}" not found')
            if len(parts) == 8 and parts[7] == "scale":
                if method == "PATCH" and not dry:
                    dep["spec"]["replicas"] = body["spec"]["replicas"]
                    self._bump(dep)
                return 200, {"apiVersion": "autoscaling/v1", "kind": "Scale",
                             "metadata": {"name": parts[6], "namespace": ns,
                                          "resourceVersion": dep["metadata"]["resourceVersion"]},
                             "spec": {"replicas": dep["spec"]["replicas"]},
                             "status": {"replicas": dep["status"]["replicas"], "selector": f"{APP}={parts[6]}"}}
            if method == "PATCH":
                target = copy.deepcopy(dep) if dry else dep
                _merge(target, body)
                if not dry:
                    self._bump(dep)
                return 200, target
            return 200, dep
        if parts[:5] == ["api", "v1", "namespaces", ns, "pods"]:
            if len(parts) == 5:
                selector = query.get("labelSelector", [""])[0]
                key, _, value = selector.partition("=")
                items = [p for p in self.pods.values() if not selector or p["metadata"]["labels"].get(key) == value]
                return 200, {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"},
                             "items": items}
            found = self.pods.get(parts[5])
            if found is None:
                return 404, _status(404, "NotFound", f'pods "{parts[5]}" not found')
            if method == "DELETE" and not dry:
                del self.pods[parts[5]]
            return 200, found
        return 404, _status(404, "NotFound", f"no route {path}")


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


@contextmanager
def serve(cluster: FakeCluster) -> Iterator[str]:
    """Serve ``cluster`` on 127.0.0.1; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(url.query)
            cluster.requests.append({"method": self.command, "path": url.path, "query": query, "body": body,
                                     "content_type": self.headers.get("Content-Type")})
            code, doc = cluster.handle(self.command, url.path, query, body)
            data = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_DELETE = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
