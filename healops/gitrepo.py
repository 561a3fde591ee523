"""A small typed wrapper over the ``git`` command for the desired-state repository.

Every call passes an argument list (never a shell string), so no text from an alert, label or
manifest can become a command. Author and message of each commit say who changed what and why;
``git log`` is the audit trail.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from healops.errors import GitError


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    timestamp: int
    subject: str
    body: str


@dataclass(frozen=True)
class Author:
    name: str
    email: str


SYSTEM_AUTHOR = Author("healops", "healops@localhost")
_SEP = "\x1f"
_END = "\x1e"


class GitRepo:
    """One repository on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _run(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True, text=True, env=full_env, check=False, timeout=30,
        )
        if check and proc.returncode != 0:
            raise GitError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()}")
        return proc.stdout

    def exists(self) -> bool:
        return (self.path / ".git").is_dir()

    def init(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._run("init", "--quiet", "--initial-branch=main")

    def refs_fingerprint(self) -> tuple[int, ...]:
        """Modification times of the files a new commit or reset must touch: a cheap "did HEAD
        move?" test that avoids running git when nothing changed."""
        git_dir = self.path / ".git"
        stamps = []
        for rel in ("HEAD", "packed-refs", "refs/heads"):
            try:
                stamps.append((git_dir / rel).stat().st_mtime_ns)
            except FileNotFoundError:
                stamps.append(0)
        with contextlib.suppress(OSError):
            stamps.extend(p.stat().st_mtime_ns for p in (git_dir / "refs" / "heads").iterdir())
        return tuple(stamps)

    def head(self) -> str | None:
        out = self._run("rev-parse", "--verify", "--quiet", "HEAD", check=False).strip()
        return out or None

    def show(self, rev: str, relpath: str) -> str:
        return self._run("show", f"{rev}:{relpath}")

    def ls_tree(self, rev: str, folder: str) -> list[str]:
        out = self._run("ls-tree", "--name-only", f"{rev}:{folder}", check=False)
        return [f"{folder}/{name}" for name in out.splitlines() if name]

    def commit_files(self, files: dict[str, str], message: str, author: Author = SYSTEM_AUTHOR) -> str:
        """Write ``files`` (relative path -> text), stage and commit them; return the new sha.

        Returns the current HEAD unchanged when the files already have that content.
        """
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self._run("add", "--", *files)
        if not self._run("status", "--porcelain", "--", *files).strip():
            head = self.head()
            if head is None:
                raise GitError("nothing to commit in an empty repository")
            return head
        env = {
            "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": SYSTEM_AUTHOR.name, "GIT_COMMITTER_EMAIL": SYSTEM_AUTHOR.email,
        }
        # only these paths: whatever a killed writer left staged must not ride along
        self._run("commit", "--quiet", "--no-verify", "-m", message, "--", *files, env=env)
        head = self.head()
        assert head is not None
        return head

    def revert(self, sha: str, message: str, author: Author = SYSTEM_AUTHOR) -> str:
        """Undo one commit with a new commit (history is never rewritten)."""
        env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
               "GIT_COMMITTER_NAME": SYSTEM_AUTHOR.name, "GIT_COMMITTER_EMAIL": SYSTEM_AUTHOR.email}
        paths = self._run("diff-tree", "--no-commit-id", "--name-only", "-r", sha).split()
        self._run("reset", "--quiet")  # unstage what a killed writer may have left
        if paths:
            self._run("checkout", "--quiet", "HEAD", "--", *paths)
        self._run("revert", "--no-edit", "--no-commit", sha, env=env)
        self._run("commit", "--quiet", "--no-verify", "-m", message, env=env)
        head = self.head()
        assert head is not None
        return head

    def note(self, sha: str, text: str, ref: str = "healops") -> None:
        """Append ``text`` to the commit's note under ``refs/notes/<ref>``: outcomes join the history
        without changing the tree (``git log --notes=healops`` shows them)."""
        env = {"GIT_AUTHOR_NAME": SYSTEM_AUTHOR.name, "GIT_AUTHOR_EMAIL": SYSTEM_AUTHOR.email,
               "GIT_COMMITTER_NAME": SYSTEM_AUTHOR.name, "GIT_COMMITTER_EMAIL": SYSTEM_AUTHOR.email}
        self._run("notes", f"--ref={ref}", "append", "-m", text, sha, env=env)

    def notes(self, sha: str, ref: str = "healops") -> str:
        return self._run("notes", f"--ref={ref}", "show", sha, check=False).strip()

    def find(self, text: str, limit: int = 5) -> list[str]:
        """Commits whose message contains ``text`` (fixed string), newest first."""
        if self.head() is None:
            return []
        out = self._run("log", f"--max-count={limit}", "--fixed-strings", f"--grep={text}", "--format=%H")
        return out.split()

    def recover(self, stale_after_s: float = 30.0) -> list[str]:
        """Undo what a writer killed mid-command left: a stale ``index.lock`` (git refuses every
        later write while it exists) and a half-applied revert. Files written but never committed stay
        as they are: HEAD is the desired state, and commits take only the paths they name."""
        done: list[str] = []
        lock = self.path / ".git" / "index.lock"
        with contextlib.suppress(FileNotFoundError):
            if time.time() - lock.stat().st_mtime > stale_after_s:
                lock.unlink()
                done.append("removed a stale .git/index.lock")
        if (self.path / ".git" / "REVERT_HEAD").exists() or (self.path / ".git" / "MERGE_MSG").exists():
            self._run("revert", "--abort", check=False)
            self._run("reset", "--quiet", "--merge", check=False)
            done.append("aborted a revert left half done")
        return done

    def log(self, limit: int = 50, path: str | None = None, rev: str | None = None) -> list[Commit]:
        fmt = _SEP.join(["%H", "%an", "%ae", "%at", "%s", "%b"]) + _END
        args = ["log", f"--max-count={limit}", f"--format={fmt}"]
        if rev:
            args.append(rev)
        if path:
            args += ["--", path]
        if self.head() is None:
            return []
        commits = []
        for record in self._run(*args).split(_END):
            record = record.strip("\n")
            if not record:
                continue
            sha, author, email, ts, subject, body = record.split(_SEP)
            commits.append(Commit(sha, author, email, int(ts), subject, body.strip()))
        return commits
