"""Figures of grid solutions: densities per time (1D lines, 2D images, 3D x-y marginals)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_solution"]


def plot_solution(solution, truth=None):
    """A matplotlib figure of every density of a :class:`~fpcheck.grid.solver.FokkerPlanckSolution`.

    In 1D the exact density (``truth``, an :class:`~fpcheck.analytic.ExactMarginals`) is drawn
    dashed over each grid density; in 2D and 3D each time gets an image (3D: the x-y marginal).
    """
    import matplotlib.pyplot as plt

    grid = solution.grid
    if grid.ndim == 1:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        x = grid.centres(0)
        for t, dens in zip(solution.times, solution.densities):
            line = ax.plot(x, dens.values, label=f"grid, t = {t:g}")[0]
            if truth is not None:
                ax.plot(x, truth.pdf(x[:, None], float(t)), "--", color=line.get_color(), lw=1)
        ax.set(xlabel="x", ylabel="q_t(x)", title="grid solution" + (" (dashed: exact)" if truth else ""))
        ax.legend(fontsize=7)
        return fig
    m = len(solution.times)
    fig, axs = plt.subplots(1, m, figsize=(3.3 * m, 3.5), squeeze=False, constrained_layout=True)
    (x0, x1), (y0, y1) = grid.bounds[0], grid.bounds[1]
    for ax, t, dens in zip(axs[0], solution.times, solution.densities):
        values = dens.values if grid.ndim == 2 else dens.marginal([0, 1]).values
        ax.imshow(np.asarray(values).T, origin="lower", extent=(x0, x1, y0, y1), cmap="viridis")
        ax.set(title=f"t = {t:g}", xlabel="x1", ylabel="x2")
    return fig
