"""A game day's scorecard, written four ways: ``scorecard.json`` (for tools), ``report.md`` (for the
post-mortem doc), ``report.html`` (with a plot of the target's SLO burn around each fault) and
``junit.xml`` (one test case per experiment, for CI)."""

from __future__ import annotations

import base64
import html
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.gameday import ExperimentResult, GameDayResult


def _fmt_s(value: object) -> str:
    return f"{float(value):.1f} s" if isinstance(value, int | float) else "—"


def row(e: ExperimentResult) -> dict[str, Any]:
    """The scorecard columns of one experiment."""
    s = e.score
    return {"experiment": e.name, "kind": e.kind, "target": e.target,
            "detected_s": s.get("detected_s"), "root_cause_first": bool(s.get("top1")),
            "ranking": (s.get("ranking") or [])[:3], "recovered_s": s.get("recovered_s"),
            "remediations": s.get("remediations") or [], "budget_spent": s.get("budget_spent"),
            "passed": e.passed, "reasons": e.reasons, "status": e.status, "journal": e.journal,
            "duration_s": e.duration_s, "attempts": e.attempts}


def scorecard(result: GameDayResult) -> dict[str, Any]:
    return {"gameday": result.name, "file": result.file, "passed": result.passed, "error": result.error,
            "started_at": result.started_at, "finished_at": result.finished_at,
            "duration_s": round(result.finished_at - result.started_at, 1),
            "experiments": [row(e) for e in result.experiments], "restored": result.restored}


def write_progress(out_dir: Path, done: int, total: int, what: str, so_far: GameDayResult | None = None) -> None:
    """``progress.json`` (and, with ``so_far``, a ``scorecard.json`` of the experiments done), written
    atomically while a game day runs, so a reader never sees half a file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"progress.json": {"done": done, "total": total, "what": what}}
    if so_far is not None:
        files["scorecard.json"] = {**scorecard(so_far), "running": True}
    for name, doc in files.items():
        tmp = out_dir / f".{name}.tmp"
        tmp.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        tmp.replace(out_dir / name)


def markdown(result: GameDayResult) -> str:
    when = datetime.fromtimestamp(result.started_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [f"# Game day `{result.name}`: {verdict}", "",
             f"{when}, {result.finished_at - result.started_at:.0f} s, from `{result.file}`.", ""]
    if result.error:
        lines += [f"**Error:** {result.error}", ""]
    lines += ["| experiment | target | detected | root cause first | recovered | remediations | budget spent "
              "| result |", "|---|---|---|---|---|---|---|---|"]
    for e in result.experiments:
        r = row(e)
        spent = f"{r['budget_spent']:.2%}" if isinstance(r["budget_spent"], int | float) else "—"
        rem = "; ".join(r["remediations"]) or "none"
        verdict_cell = "pass" if e.passed else "**FAIL**: " + "; ".join(e.reasons)
        lines.append(f"| {e.name} | {e.target} | {_fmt_s(r['detected_s'])} | "
                     f"{'yes' if r['root_cause_first'] else 'no (' + ', '.join(r['ranking']) + ')'} | "
                     f"{_fmt_s(r['recovered_s'])} | {rem} | {spent} | {verdict_cell} |")
    lines += ["", "Definitions (shared with `bench/faults.py`): detected = fault start to incident open; "
              "root cause = the ranking 5 s after it opened; recovered = fault start until the target's SLOs "
              "burn below 1x with every replica ready and the fault gone, held 3 s, after a remediation "
              "commit naming the incident; budget = bad events over the SLO period's error budget.", ""]
    if result.restored:
        lines += ["Restored afterwards: " + json.dumps(result.restored), ""]
    journals = [f"`{Path(e.journal).name}`" for e in result.experiments if e.journal]
    lines += ["Chaos Toolkit journals: " + (", ".join(journals) or "none (no experiment ran)"), ""]
    return "\n".join(lines)


def plot_png(e: ExperimentResult) -> bytes | None:
    """The target's worst SLO burn (shortest window) and ready replicas, from the fault's start."""
    samples = e.score.get("samples") or []
    if len(samples) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s[0] for s in samples]
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=90)
    ax.plot(t, [s[1] for s in samples], color="tab:red", label="SLO burn (x)")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("seconds since the fault")
    ax.set_ylabel("burn rate")
    twin = ax.twinx()
    twin.step(t, [s[2] for s in samples], color="tab:blue", where="post", label="ready replicas")
    twin.set_ylabel("ready replicas")
    for key, colour, label in (("detected_s", "orange", "detected"), ("recovered_s", "green", "recovered")):
        at = e.score.get(key)
        if isinstance(at, int | float):
            ax.axvline(at, color=colour, linestyle="--", label=label)
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(f"{e.name} on {e.target}", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def html_report(result: GameDayResult) -> str:
    esc = html.escape
    verdict = "PASSED" if result.passed else "FAILED"
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>Game day {esc(result.name)}: {verdict}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px}.fail{color:#b00;font-weight:bold}"
             ".pass{color:#070}</style></head><body>",
             f"<h1>Game day <code>{esc(result.name)}</code>: "
             f"<span class='{'pass' if result.passed else 'fail'}'>{verdict}</span></h1>"]
    if result.error:
        parts.append(f"<p class='fail'>Error: {esc(result.error)}</p>")
    parts.append("<table><tr><th>experiment</th><th>target</th><th>detected</th><th>root cause first</th>"
                 "<th>recovered</th><th>remediations</th><th>budget spent</th><th>result</th></tr>")
    for e in result.experiments:
        r = row(e)
        spent = f"{r['budget_spent']:.2%}" if isinstance(r["budget_spent"], int | float) else "—"
        cell = "<span class='pass'>pass</span>" if e.passed else \
            f"<span class='fail'>FAIL</span>: {esc('; '.join(e.reasons))}"
        parts.append(f"<tr><td>{esc(e.name)}</td><td>{esc(e.target)}</td><td>{_fmt_s(r['detected_s'])}</td>"
                     f"<td>{'yes' if r['root_cause_first'] else 'no'}</td><td>{_fmt_s(r['recovered_s'])}</td>"
                     f"<td>{esc('; '.join(r['remediations']) or 'none')}</td><td>{spent}</td><td>{cell}</td></tr>")
    parts.append("</table>")
    for e in result.experiments:
        png = plot_png(e)
        if png is not None:
            parts.append(f"<h3>{esc(e.name)}</h3><img alt='SLO burn and ready replicas of {esc(e.target)}' "
                         f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def junit_xml(result: GameDayResult) -> str:
    suite = ET.Element("testsuite", name=f"gameday.{result.name}", tests=str(len(result.experiments)),
                       failures=str(sum(not e.passed for e in result.experiments)),
                       errors="1" if result.error else "0",
                       time=f"{result.finished_at - result.started_at:.1f}")
    for e in result.experiments:
        case = ET.SubElement(suite, "testcase", classname=f"gameday.{result.name}", name=f"{e.name} on {e.target}",
                             time=f"{e.duration_s:.1f}")
        if not e.passed:
            failure = ET.SubElement(case, "failure", message="; ".join(e.reasons))
            failure.text = json.dumps(row(e), indent=1)
        out = ET.SubElement(case, "system-out")
        out.text = json.dumps({k: v for k, v in e.score.items() if k != "samples"})
    if result.error:
        err = ET.SubElement(suite, "testcase", classname=f"gameday.{result.name}", name="game day")
        ET.SubElement(err, "error", message=result.error)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_report(result: GameDayResult, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"scorecard": out_dir / "scorecard.json", "markdown": out_dir / "report.md",
             "html": out_dir / "report.html", "junit": out_dir / "junit.xml"}
    files["scorecard"].write_text(json.dumps(scorecard(result), indent=1) + "\n", encoding="utf-8")
    files["markdown"].write_text(markdown(result), encoding="utf-8")
    files["html"].write_text(html_report(result), encoding="utf-8")
    files["junit"].write_text(junit_xml(result), encoding="utf-8")
    (out_dir / "result.json").write_text(json.dumps(asdict(result), indent=1) + "\n", encoding="utf-8")
    return files
