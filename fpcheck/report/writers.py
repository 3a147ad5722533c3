"""Write a report: ``report.md``, a self-contained ``index.html`` (figures inlined), ``results.json``."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from .runner import CaseRecord

__all__ = ["write_all", "summary_counts"]

_MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}


def summary_counts(records: Sequence[CaseRecord]) -> dict[str, int]:
    """How many cases passed, failed and raised."""
    return {s: sum(r.status == s for r in records) for s in ("pass", "fail", "error")}


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.3g}" if (abs(value) < 1e-3 or abs(value) >= 1e4) and value != 0 else f"{value:.4g}"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _sections(records: Sequence[CaseRecord]) -> dict[str, list[CaseRecord]]:
    out: dict[str, list[CaseRecord]] = {}
    for r in records:
        out.setdefault(r.section, []).append(r)
    return out


def _markdown(records, header: dict) -> str:
    counts = summary_counts(records)
    lines = [
        "# fpcheck validation report",
        "",
        f"fpcheck {header['fpcheck_version']}, {header['created']}, "
        f"{'quick' if header['quick'] else 'full'} run, {header['wall_time_s']:.1f} s.",
        "",
        f"**{counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors.**",
        "",
    ]
    for section, recs in _sections(records).items():
        lines += [f"## {section}", ""]
        for r in recs:
            lines += [f"### {_MARK[r.status]}: {r.title}", "", f"`{r.id}`, {r.wall_time_s:.1f} s. {r.summary}", ""]
            lines += [f"> warning: {w}" for w in r.warnings] + ([""] if r.warnings else [])
            if r.table:
                cols, rows = r.table
                lines.append("| " + " | ".join(cols) + " |")
                lines.append("|" + "---|" * len(cols))
                lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
                lines.append("")
            lines += [f"![{name}](figures/{name})" for name in r.figures]
            if r.figures:
                lines.append("")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.case{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.pass{border-left:6px solid #2a9d3f}.fail{border-left:6px solid #d62828}.error{border-left:6px solid #f77f00}
.badge{font-weight:bold;padding:.1em .5em;border-radius:4px;color:#fff;font-size:.85em}
.badge.pass{background:#2a9d3f}.badge.fail{background:#d62828}.badge.error{background:#f77f00}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}th{background:#f4f4f4}
img{max-width:100%;margin:.4em 0}.meta{color:#666;font-size:.9em}.warn{color:#9a5b00;font-size:.85em}
"""


def _html(records, header: dict, figure_dir: Path) -> str:
    counts = summary_counts(records)
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>fpcheck report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>fpcheck validation report</h1>",
        f"<p class='meta'>fpcheck {esc(header['fpcheck_version'])}, {esc(header['created'])}, "
        f"{'quick' if header['quick'] else 'full'} run, {header['wall_time_s']:.1f} s</p>",
        f"<p><b>{counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors.</b></p>",
    ]
    for section, recs in _sections(records).items():
        parts.append(f"<h2>{esc(section)}</h2>")
        for r in recs:
            parts.append(f"<div class='case {r.status}'>")
            parts.append(f"<h3><span class='badge {r.status}'>{_MARK[r.status]}</span> {esc(r.title)}</h3>")
            parts.append(f"<p class='meta'>{esc(r.id)}, {r.wall_time_s:.1f} s</p><p>{esc(r.summary)}</p>")
            parts += [f"<p class='warn'>warning: {esc(w)}</p>" for w in r.warnings]
            if r.table:
                cols, rows = r.table
                parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>")
                for row in rows:
                    parts.append("<tr>" + "".join(f"<td>{esc(_fmt(v))}</td>" for v in row) + "</tr>")
                parts.append("</table>")
            for name in r.figures:
                data = base64.b64encode((figure_dir / name).read_bytes()).decode("ascii")
                parts.append(f"<img alt='{esc(name)}' src='data:image/png;base64,{data}'>")
            parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_all(records: Sequence[CaseRecord], out: Path, *, quick: bool, wall_time_s: float) -> None:
    """Write ``report.md``, ``index.html`` and ``results.json`` into ``out`` (figures are already there)."""
    header = {
        "fpcheck_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "wall_time_s": wall_time_s,
    }
    payload = {
        **header,
        "summary": summary_counts(records),
        "cases": [
            {
                "id": r.id,
                "section": r.section,
                "title": r.title,
                "status": r.status,
                "summary": r.summary,
                "wall_time_s": r.wall_time_s,
                "metrics": r.metrics,
                "table": None if r.table is None else {"columns": r.table[0], "rows": r.table[1]},
                "figures": [f"figures/{name}" for name in r.figures],
                "warnings": r.warnings,
            }
            for r in records
        ],
    }
    (out / "results.json").write_text(json.dumps(_jsonable(payload), indent=2) + "\n")
    (out / "report.md").write_text(_markdown(records, header) + "\n")
    (out / "index.html").write_text(_html(records, header, out / "figures"))
