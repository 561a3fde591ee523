"""Desired state kept in git: one manifest per service under ``services/``.

The runtime applies HEAD; healops changes desired state only by commits whose author and message say
who and why. A revision is applied whole or not at all: one bad manifest refuses the revision and
the runtime keeps the last good one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from healops.documents import parse_yaml_model
from healops.errors import DocumentError, Problem, RuntimeStateError
from healops.gitrepo import SYSTEM_AUTHOR, Author, GitRepo
from workloads.catalog import SERVICES
from workloads.manifest import RESTARTED_AT, ServiceManifest, default_manifest

FOLDER = "services"


def manifest_path(name: str) -> str:
    return f"{FOLDER}/{name}.yaml"


def dump_manifest(manifest: ServiceManifest) -> str:
    data = manifest.model_dump(by_alias=True, exclude_none=True, mode="json")
    return yaml.safe_dump(data, sort_keys=False)


@dataclass(frozen=True)
class DesiredState:
    revision: str
    services: Mapping[str, ServiceManifest]


class DesiredStateRepo:
    def __init__(self, path: Path) -> None:
        self.git = GitRepo(path)

    @property
    def path(self) -> Path:
        return self.git.path

    def ensure(self, replicas: int, services: list[str] | None = None) -> str:
        """Create the repository with a default manifest per service, on first start only."""
        if self.git.exists() and self.git.head():
            head = self.git.head()
            assert head is not None
            return head
        self.git.init()
        names = services if services is not None else list(SERVICES)
        files = {manifest_path(n): dump_manifest(default_manifest(n, replicas)) for n in names}
        return self.git.commit_files(files, "Initial desired state\n\nCreated by healops on first start.")

    def load(self, rev: str = "HEAD") -> DesiredState:
        """Validate every manifest at ``rev``; raise :class:`DocumentError` listing all problems."""
        sha = self.git.head() if rev == "HEAD" else rev
        if sha is None:
            raise RuntimeStateError(f"desired-state repository {self.path} has no commits")
        services: dict[str, ServiceManifest] = {}
        problems: list[Problem] = []
        for rel in self.git.ls_tree(sha, FOLDER):
            if not rel.endswith((".yaml", ".yml")):
                continue
            source = f"{self.path.name}/{rel}@{sha[:8]}"
            try:
                manifest = parse_yaml_model(self.git.show(sha, rel), ServiceManifest, source)
            except DocumentError as exc:
                problems.extend(exc.problems)
                continue
            stem = Path(rel).stem
            if manifest.name != stem:
                problems.append(Problem(source, None, "metadata.name",
                                        f"{manifest.name!r} does not match the file name {stem!r}"))
                continue
            services[manifest.name] = manifest
        if problems:
            raise DocumentError(problems)
        return DesiredState(sha, services)

    def update(self, name: str, change: Callable[[ServiceManifest], ServiceManifest], message: str,
               author: Author = SYSTEM_AUTHOR) -> str:
        """Apply ``change`` to one manifest at HEAD, validate, and commit; return the new sha."""
        current = self.load().services.get(name)
        if current is None:
            raise RuntimeStateError(f"service {name!r} is not in the desired state")
        updated = ServiceManifest.model_validate(change(current).model_dump(by_alias=True))
        return self.git.commit_files({manifest_path(name): dump_manifest(updated)}, message, author)

    def _set_spec(self, name: str, message: str, author: Author, **spec: object) -> str:
        def change(m: ServiceManifest) -> ServiceManifest:
            return m.model_copy(update={"spec": m.spec.model_copy(update=spec)})

        return self.update(name, change, message, author)

    def set_replicas(self, name: str, replicas: int, reason: str, author: Author = SYSTEM_AUTHOR) -> str:
        return self._set_spec(name, f"Scale {name} to {replicas} replicas\n\n{reason}", author, replicas=replicas)

    def set_version(self, name: str, version: str, reason: str, author: Author = SYSTEM_AUTHOR) -> str:
        return self._set_spec(name, f"Deploy {name} {version}\n\n{reason}", author, version=version)

    def restart(self, name: str, reason: str, at: str, author: Author = SYSTEM_AUTHOR) -> str:
        """Roll every replica of ``name`` by committing a new restart annotation (Kubernetes-style)."""

        def change(m: ServiceManifest) -> ServiceManifest:
            notes = {**m.metadata.annotations, RESTARTED_AT: at}
            return m.model_copy(update={"metadata": m.metadata.model_copy(update={"annotations": notes})})

        return self.update(name, change, f"Restart {name}\n\n{reason}", author)
