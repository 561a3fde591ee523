"""Read API over the collector's views (JSON): series, the service graph, sampled traces with logs.

Detectors and the control plane read the collector in-process; this API is for tools, tests and
remote readers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from collectors.collector import Collector
from collectors.trace_sample import SpanRow

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_TRACE = re.compile(r"^/api/traces/([0-9a-f]{32})$")


def span_json(row: SpanRow) -> dict[str, Any]:
    service, name, kind, start, end, code, sid, parent = row
    return {"service": service, "name": name, "kind": kind, "start_ns": start, "duration_ms": (end - start) / 1e6,
            "status_code": code, "span_id": sid.hex(), "parent_span_id": parent.hex()}


def read_api(collector: Collector) -> ASGIApp:
    def series(q: dict[str, str]) -> tuple[int, Any]:
        name = q.pop("name", None)
        if not name:
            return 400, {"error": "name is required"}
        since = float(q.pop("since", "300"))
        now = collector.clock()
        out = []
        for key_name, lbls in collector.store.keys(name):
            if all(dict(lbls).get(k) == v for k, v in q.items()):
                points = collector.store.range(key_name, lbls, now - since, now)
                out.append({"name": key_name, "labels": dict(lbls), "points": points})
        return 200, {"series": out}

    def graph(_: dict[str, str]) -> tuple[int, Any]:
        return 200, {"edges": [{"client": c, "server": s, "requests": e.requests, "failed": e.failed}
                               for (c, s), e in collector.graph.edges.items()]}

    def traces(q: dict[str, str]) -> tuple[int, Any]:
        found = collector.sample.recent(q.get("service"), int(q.get("limit", "20")))
        return 200, {"traces": [{"trace_id": tid.hex(), "spans": len(rows),
                                 "error": any(r[5] == 2 for r in rows),
                                 "services": sorted({r[0] for r in rows})} for tid, rows in found]}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        q = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        status: int
        body: Any
        if scope["method"] != "GET":
            status, body = 405, {"error": "use GET"}
        elif path == "/api/series":
            try:
                status, body = series(q)
            except ValueError as exc:
                status, body = 400, {"error": str(exc)}
        elif path == "/api/graph":
            status, body = graph(q)
        elif path == "/api/traces":
            status, body = traces(q)
        elif m := _TRACE.match(path):
            tid = bytes.fromhex(m.group(1))
            rows = collector.sample.find(tid)
            if rows is None:
                status, body = 404, {"error": "trace not in the sample"}
            else:
                status, body = 200, {"trace_id": m.group(1), "spans": [span_json(r) for r in rows],
                                     "logs": [vars(line) for line in collector.logs.for_trace(tid)]}
        else:
            status, body = 404, {"error": f"no route {path}"}
        payload = json.dumps(body, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    return app
