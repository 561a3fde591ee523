"""``healops dashboards push`` through grafana-client. Grafana cannot run here, so a recording
server on loopback answers with the shapes of Grafana's HTTP API (folders: ``GET
/api/folders/{uid}`` 404 when missing, ``POST /api/folders``; dashboards: ``POST
/api/dashboards/db`` answering id, uid, url, status, version; 401 on a bad token); the test
checks what grafana-client sent, real HTTP in between."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dashboards.grafana import all_dashboards, to_json
from detectors.openslo import DEFAULT_DIR, load_slos

TOKEN = "glsa_test_token"


class FakeGrafana(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.folders: set[str] = set()
        self.versions: dict[str, int] = {}


class Handler(BaseHTTPRequestHandler):
    server: FakeGrafana

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length)) if length else {}
        self.server.requests.append((method, self.path, dict(self.headers), body))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"message": "invalid API key"})
        elif method == "GET" and self.path.startswith("/api/folders/"):
            uid = self.path.rsplit("/", 1)[1]
            if uid in self.server.folders:
                self._reply(200, {"uid": uid, "title": uid, "id": 7})
            else:
                self._reply(404, {"message": "folder not found", "status": "not-found"})
        elif method == "POST" and self.path == "/api/folders":
            self.server.folders.add(body["uid"])
            self._reply(200, {"uid": body["uid"], "title": body["title"], "id": 7})
        elif method == "POST" and self.path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            self.server.versions[uid] = self.server.versions.get(uid, 0) + 1
            self._reply(200, {"id": len(self.server.versions), "uid": uid, "url": f"/d/{uid}/x", "status": "success",
                              "version": self.server.versions[uid], "slug": "x"})
        else:
            self._reply(404, {"message": "not found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafana()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def push(grafana: FakeGrafana, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    url = f"http://127.0.0.1:{grafana.server_address[1]}"
    return subprocess.run([sys.executable, "-m", "healops.cli", "dashboards", "push", "--url", url, "--token", token],
                          capture_output=True, text=True, timeout=120, check=False, cwd=Path(__file__).parents[1])


def test_push_creates_the_folder_then_saves_every_dashboard_overwriting(grafana: FakeGrafana) -> None:
    done = push(grafana)
    assert done.returncode == 0, done.stderr
    calls = [(m, p) for m, p, _, _ in grafana.requests]
    assert calls[:2] == [("GET", "/api/folders/healops"), ("POST", "/api/folders")]
    saves = [body for m, p, _, body in grafana.requests if p == "/api/dashboards/db"]
    expected = {uid: to_json(d) for uid, d in
                ((f"healops-{n}", d) for n, d in all_dashboards(load_slos([DEFAULT_DIR])).items())}
    assert {s["dashboard"]["uid"] for s in saves} == set(expected)
    for save in saves:
        assert save["folderUid"] == "healops" and save["overwrite"] is True
        assert save["dashboard"] == expected[save["dashboard"]["uid"]], "the built JSON, unchanged"
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h, _ in grafana.requests)
    assert "pushed healops-overview (version 1)" in done.stdout
    again = push(grafana)  # the folder exists now: not created twice; versions move on
    assert again.returncode == 0 and [p for _, p, _, _ in grafana.requests].count("/api/folders") == 1
    assert "pushed healops-overview (version 2)" in again.stdout


def test_a_bad_token_fails_clearly(grafana: FakeGrafana) -> None:
    done = push(grafana, token="wrong")
    assert done.returncode == 2
    assert "refused the token (401)" in done.stderr, done.stderr
    assert not [p for _, p, _, _ in grafana.requests if p == "/api/dashboards/db"], "nothing saved"


def test_an_unreachable_grafana_fails_clearly(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "healops.cli", "dashboards", "push", "--url", "http://127.0.0.1:9",
                           "--token", TOKEN], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Grafana" in done.stderr, done.stderr
