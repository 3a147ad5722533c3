"""A verdict as a report case: its table, figure and summary, written in the format of ``fpcheck report``."""

from __future__ import annotations

from pathlib import Path

from ..report.registry import Case, CaseResult
from .result import SamplerVerdict

__all__ = ["verdict_case", "write_verdict_report"]

SECTION = "Verification"


def verdict_case(verdict: SamplerVerdict, *, figure: bool = True) -> CaseResult:
    """The verdict as a :class:`~fpcheck.report.registry.CaseResult`: one table row per statistic, and its figure."""
    if verdict.kind in ("score", "velocity"):
        key = "relative_fisher_divergence" if verdict.kind == "score" else "relative_velocity_error"
        columns = ["t", key.replace("_", " "), "se", "within tolerance"]
        ex = verdict.extra
        rows = [[t, e, s, "yes" if e - s <= ex["tolerance"] else "check"] for t, e, s in
                zip(ex["times"], ex[key], ex[f"{key}_se"])]
    else:
        columns = ["statistic", "truth", "bias at top", "se at top", "order", "floor", "floor se", "Holm p", "floor?"]
        rows = [[s.name, s.truth, float(s.bias[-1]), float(s.se[-1]), s.fit.order, s.fit.floor, s.fit.floor_se,
                 s.adjusted_pvalue, "FLOOR" if s.rejected else "no"] for s in verdict.statistics]
    figures = []
    if figure:
        from .plots import plot_verdict

        figures.append((verdict.kind, plot_verdict(verdict)))
    summary = f"{verdict.kind} {verdict.target} on {verdict.truth}: {verdict.verdict.upper()}. " + "; ".join(verdict.diagnosis)
    return CaseResult(verdict.passed, summary, metrics=verdict.to_dict(), table=(columns, rows), figures=figures)


def write_verdict_report(verdict: SamplerVerdict, out: str | Path) -> Path:
    """Write ``out/report.md``, ``out/index.html``, ``out/results.json`` and ``out/figures/`` for one verdict."""
    import time

    import matplotlib

    matplotlib.use("Agg")
    from ..report.runner import _run_one
    from ..report.writers import write_all

    out = Path(out)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = verdict_case(verdict)
    case = Case(f"verify/{verdict.kind}/{verdict.target}", SECTION, f"{verdict.kind} {verdict.target} on {verdict.truth}",
                lambda quick: result)
    record = _run_one(case, False, figure_dir)
    write_all([record], out, quick=False, wall_time_s=time.perf_counter() - start)
    return out
