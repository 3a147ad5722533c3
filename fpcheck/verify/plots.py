"""Figures of a verdict: the bias of each statistic against the step count, or a field's error against time."""

from __future__ import annotations

import numpy as np

from .result import Z95, SamplerVerdict

__all__ = ["plot_verdict"]


def plot_verdict(verdict: SamplerVerdict, *, panels: int = 6):
    """The convergence plot of a sampler (up to ``panels`` statistics), or the error-vs-time plot of a field.

    Sampler: bias with its 95% interval per rung against the step count (log axis), the fitted
    one-term curve :math:`b_\\infty + C K^{-p}` and the floor; the statistics with a floor first, then
    those with the largest signal.  Score / velocity: the relative error per time with its 95%
    interval and the tolerance.  Model: the z-score of every statistic.
    """
    import matplotlib.pyplot as plt

    if verdict.kind in ("score", "velocity"):
        ex = verdict.extra
        key = "relative_fisher_divergence" if verdict.kind == "score" else "relative_velocity_error"
        t, e, s = np.array(ex["times"]), np.array(ex[key]), np.array(ex[f"{key}_se"])
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        ax.errorbar(t, np.maximum(e, 1e-300), yerr=Z95 * s, fmt="o-", capsize=3, label=key.replace("_", " "))
        ax.axhline(ex["tolerance"], color="k", ls="--", lw=1, label=f"tolerance {ex['tolerance']:g}")
        ax.set(xscale="log", yscale="log", xlabel="t", ylabel="relative error", title=f"{verdict.kind} {verdict.target}: {verdict.verdict}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig
    if len(verdict.steps) == 1:
        names = [s.name for s in verdict.statistics]
        z = [s.bias[-1] / s.se[-1] for s in verdict.statistics]
        fig, ax = plt.subplots(figsize=(max(5.0, 0.35 * len(names)), 3.4))
        ax.bar(range(len(names)), z, color=["C3" if s.rejected else "C0" for s in verdict.statistics])
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax.axhline(0, color="k", lw=0.8)
        ax.set(ylabel="bias / se", title=f"{verdict.kind} {verdict.target}: {verdict.verdict}")
        fig.tight_layout()
        return fig
    order = sorted(verdict.statistics, key=lambda s: (not s.rejected, -float(np.sum((s.bias / s.se) ** 2))))[:panels]
    cols = min(3, len(order))
    rows = int(np.ceil(len(order) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    K = np.array(verdict.steps, dtype=float)
    fine = np.geomspace(K[0], K[-1], 100)
    for ax, s in zip(axes.flat, order):
        ax.errorbar(K, s.bias, yerr=Z95 * s.se, fmt="o", capsize=3, color="C3" if s.rejected else "C0")
        ax.plot(fine, s.fit.curve(fine), "-", lw=1, color="0.4", label=f"fit, p = {s.fit.curve_order:.2f}")
        ax.axhline(0.0, color="k", lw=0.8)
        if s.rejected:
            ax.axhline(s.fit.floor, color="C3", ls="--", lw=1, label="floor")
        ax.set_xscale("log")
        ax.set_title(s.name + ("  FLOOR" if s.rejected else ""), fontsize=9)
        ax.set_xlabel("steps", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(order):]:
        ax.set_visible(False)
    fig.suptitle(f"{verdict.target}: {verdict.verdict} (bias +- 95% vs steps)", fontsize=10)
    fig.tight_layout()
    return fig
