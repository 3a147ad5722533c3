"""Run the registered cases, time them, show progress, and hand the records to the writers."""

from __future__ import annotations

import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .registry import Case, cases

__all__ = ["CaseRecord", "run_report"]


@dataclass
class CaseRecord:
    """A case's outcome as written to the report (figures already saved)."""

    id: str
    section: str
    title: str
    status: str  # "pass", "fail" or "error"
    summary: str
    wall_time_s: float
    metrics: dict[str, Any] = field(default_factory=dict)
    table: tuple[list[str], list[list[Any]]] | None = None
    figures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _run_one(case: Case, quick: bool, figure_dir: Path) -> CaseRecord:
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:  # shown in the report, not on the console
        warnings.simplefilter("always")
        try:
            result = case.run(quick)
        except Exception as exc:  # a crashing case is reported as an error, not a crashed report
            plt.close("all")
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return CaseRecord(case.id, case.section, case.title, "error", f"raised {tb}", time.perf_counter() - start)
    seen = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    names = []
    for stem, fig in result.figures:
        name = f"{case.id.replace('/', '--')}--{stem}.png"
        fig.savefig(figure_dir / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        names.append(name)
    status = "pass" if result.passed else "fail"
    return CaseRecord(
        case.id, case.section, case.title, status, result.summary,
        time.perf_counter() - start, result.metrics, result.table, names, seen,
    )


def run_report(
    out: str | Path = "reports/latest",
    *,
    quick: bool = False,
    select: Callable[[Case], bool] | None = None,
    stream: TextIO | None = sys.stdout,
) -> tuple[list[CaseRecord], Path]:
    """Run every registered case (or those ``select`` keeps) and write the report into ``out``.

    Returns the records and the output directory.  Progress goes to ``stream``, a line per case.
    """
    import matplotlib

    matplotlib.use("Agg")
    from .writers import write_all

    out = Path(out)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    for old in figure_dir.glob("*.png"):
        old.unlink()
    todo = [c for c in cases() if select is None or select(c)]
    records, start = [], time.perf_counter()
    for i, case in enumerate(todo, 1):
        if stream is not None:
            print(f"[{i:>3}/{len(todo)}] {case.title} ...", end="", file=stream, flush=True)
        record = _run_one(case, quick, figure_dir)
        records.append(record)
        if stream is not None:
            print(f" {record.status} ({record.wall_time_s:.1f} s)", file=stream, flush=True)
    write_all(records, out, quick=quick, wall_time_s=time.perf_counter() - start)
    return records, out
