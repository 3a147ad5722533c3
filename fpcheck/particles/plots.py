"""Figures of particle runs: histograms over the analytic and grid densities (1D), 2D histograms beside them."""

from __future__ import annotations

import numpy as np

from ..analytic import ExactMarginals
from ..distributions import Distribution
from ..errors import NotAffineError
from ..processes import Process
from .solution import ParticleSolution

__all__ = ["plot_histograms"]


def plot_histograms(sol: ParticleSolution, process: Process, data: Distribution, grid_solution=None, bins: int = 120):
    """One panel per output time: the particles' histogram over the exact density and, if given, the grid density.

    1D: density histograms with the analytic :math:`q_t` (line) and the grid's cell averages (steps).
    2D: the particles' 2D histogram beside the analytic (or grid) density on the same axes.
    Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    try:
        truth = ExactMarginals(process, data)
    except NotAffineError:
        truth = None
    m, _, d = sol.samples.shape
    if d == 1:
        fig, axs = plt.subplots(1, m, figsize=(3.6 * m, 3.2), squeeze=False, constrained_layout=True)
        for j, t in enumerate(sol.times):
            x = sol.samples[j, :, 0]
            ax = axs[0, j]
            lo, hi = np.quantile(x, [1e-4, 1 - 1e-4])
            pad = 0.1 * (hi - lo)
            ax.hist(x, bins=bins, range=(lo - pad, hi + pad), density=True, color="0.75", label="particles")
            grid_x = np.linspace(lo - pad, hi + pad, 600)
            if truth is not None:
                ax.plot(grid_x, truth.pdf(grid_x[:, None], float(t)), "k-", lw=1.2, label="analytic")
            if grid_solution is not None:
                dens = grid_solution.densities[j]
                ax.stairs(dens.values, dens.grid.edges(0), color="tab:red", lw=0.9, label="grid")
                ax.set_xlim(lo - pad, hi + pad)
            ax.set(title=f"{sol.method}, t = {t:g}", xlabel="x")
            ax.legend(fontsize=7)
        return fig
    panels = (["analytic"] if truth is not None and d == 2 else []) + (["grid"] if grid_solution is not None else [])
    rows = 1 + len(panels)
    fig, axs = plt.subplots(rows, m, figsize=(3.3 * m, 3.2 * rows), squeeze=False, constrained_layout=True)
    for j, t in enumerate(sol.times):
        x = sol.samples[j]
        lo, hi = np.quantile(x[:, :2], [1e-3, 1 - 1e-3], axis=0)
        extent = (lo[0], hi[0], lo[1], hi[1])
        axs[0, j].hist2d(x[:, 0], x[:, 1], bins=bins // 2, range=[[lo[0], hi[0]], [lo[1], hi[1]]], density=True, cmap="viridis")
        axs[0, j].set(title=f"{sol.method}, t = {t:g}" + (" (axes 0, 1)" if d > 2 else ""))
        for row, kind in enumerate(panels, start=1):
            ax = axs[row, j]
            if kind == "analytic":
                gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
                pdf = truth.pdf(np.column_stack([gx.ravel(), gy.ravel()]), float(t)).reshape(gx.shape)
                ax.imshow(pdf, origin="lower", extent=extent, aspect="auto", cmap="viridis")
            else:
                dens = grid_solution.densities[j]
                vals = dens.values if d == 2 else dens.marginal([0, 1]).values
                g = dens.grid
                ax.imshow(vals.T, origin="lower", extent=(*g.bounds[0], *g.bounds[1]), aspect="auto", cmap="viridis")
                ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
            ax.set(title=kind)
    return fig
