r"""The grid section: the Fokker-Planck solver against the analytic truth.

* **convergence in h** (B1, ``vp-linear`` x ``gmm1d-bimodal`` on [-8, 8]): L1 error against exact cell
  averages of :math:`q_t` for the plain and the Richardson-extrapolated solution; the fitted orders
  must reach 1.9 and 3.8 and the solver's error estimate must lie within a factor 3 of the error.
* **2D densities** (B2, ``vp-linear`` x ``gmm2d-ring8`` on [-6, 6]^2): grid against analytic, with the
  error map; the error must lie within a factor 3 of the estimate.
* **Boltzmann** (``langevin-doublewell``): long-time density against the discrete Boltzmann density.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import problems
from ..analytic import ExactMarginals
from ..errors import GridWarning
from .registry import CaseResult, register

SECTION = "Grid truth"
_TIMES = (0.05, 0.2, 1.0)
_MIN_PLAIN, _MIN_RICH, _EST_FACTOR = 1.9, 3.8, 3.0


def _l1_against_truth(truth, sol, grid):
    from ..grid import cell_averages

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # exact averages need no resolution
        exact = [cell_averages(truth.at(float(t)), grid).values for t in sol.times]
    return np.array([np.abs(d.values - e).sum() * grid.cell_volume for d, e in zip(sol.densities, exact)])


@register(SECTION, "b1-convergence", "B1: convergence in h, plain and Richardson")
def b1_convergence(quick: bool) -> CaseResult:
    import matplotlib.pyplot as plt

    from ..grid import Grid, solve_fokker_planck

    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    sizes = (256, 512) if quick else (256, 512, 1024, 2048)
    plain, rich, est = [], [], []
    for n in sizes:
        grid = Grid([(-8.0, 8.0)], [n])
        for extrapolate, errs in ((False, plain), (True, rich)):
            sol = solve_fokker_planck(truth.process, truth.data, grid, _TIMES, extrapolate=extrapolate)
            errs.append(_l1_against_truth(truth, sol, grid))
            if extrapolate:
                est.append(sol.error_estimate)
    plain, rich, est = np.array(plain), np.array(rich), np.array(est)
    h = 16.0 / np.array(sizes)
    order = lambda e: np.polyfit(np.log(h), np.log(e), 1)[0]  # noqa: E731
    orders_plain = [order(plain[:, j]) for j in range(len(_TIMES))]
    orders_rich = [order(rich[:, j]) for j in range(len(_TIMES))]
    ratio = est / rich
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for j, t in enumerate(_TIMES):
        line = ax.loglog(h, plain[:, j], "o-", label=f"plain, t={t:g} (order {orders_plain[j]:.2f})")[0]
        ax.loglog(h, rich[:, j], "s--", color=line.get_color(), label=f"Richardson (order {orders_rich[j]:.2f})")
        ax.loglog(h, est[:, j], "x", color=line.get_color())
    ax.set(xlabel="h", ylabel="L1 error vs exact cell averages", title="B1: vp-linear x gmm1d-bimodal (x: estimate)")
    ax.legend(fontsize=6)
    rows = [[n, t, plain[i, j], rich[i, j], est[i, j]] for i, n in enumerate(sizes) for j, t in enumerate(_TIMES)]
    passed = (
        min(orders_plain) >= _MIN_PLAIN
        and min(orders_rich) >= _MIN_RICH
        and np.all((ratio > 1 / _EST_FACTOR) & (ratio < _EST_FACTOR))
    )
    return CaseResult(
        bool(passed),
        f"Fitted orders: plain {min(orders_plain):.2f}-{max(orders_plain):.2f} (need >= {_MIN_PLAIN}), Richardson "
        f"{min(orders_rich):.2f}-{max(orders_rich):.2f} (need >= {_MIN_RICH}); estimate/error in "
        f"[{ratio.min():.2f}, {ratio.max():.2f}] (need within a factor {_EST_FACTOR:g}).",
        metrics={"orders_plain": orders_plain, "orders_richardson": orders_rich, "estimate_ratio": ratio.tolist()},
        table=(["N", "t", "L1 plain", "L1 Richardson", "estimate"], rows),
        figures=[("convergence", fig)],
    )


@register(SECTION, "b2-densities", "B2: 2D densities, grid against analytic")
def b2_densities(quick: bool) -> CaseResult:
    import matplotlib.pyplot as plt

    from ..grid import Grid, solve_fokker_planck

    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm2d-ring8"))
    n = 128 if quick else 256
    grid = Grid([(-6.0, 6.0), (-6.0, 6.0)], [n, n])
    sol = solve_fokker_planck(truth.process, truth.data, grid, _TIMES)
    err = _l1_against_truth(truth, sol, grid)
    ratio = sol.error_estimate / err
    fig, axs = plt.subplots(2, len(_TIMES), figsize=(3.3 * len(_TIMES), 6.4), constrained_layout=True)
    from ..grid import cell_averages

    for j, (t, dens) in enumerate(zip(sol.times, sol.densities)):
        exact = cell_averages(truth.at(float(t)), grid).values
        axs[0, j].imshow(dens.values.T, origin="lower", extent=(-6, 6, -6, 6), cmap="viridis")
        axs[0, j].set(title=f"grid, t = {t:g}")
        im = axs[1, j].imshow((dens.values - exact).T, origin="lower", extent=(-6, 6, -6, 6), cmap="RdBu_r")
        axs[1, j].set(title=f"grid - exact (L1 {err[j]:.1e})")
        fig.colorbar(im, ax=axs[1, j], shrink=0.7)
    ok = np.all((ratio > 1 / _EST_FACTOR) & (ratio < _EST_FACTOR))
    return CaseResult(
        bool(ok),
        f"{n}x{n} cells, Richardson: L1 {', '.join(f'{e:.2e}' for e in err)} at t = {_TIMES}; "
        f"estimate/error in [{ratio.min():.2f}, {ratio.max():.2f}] (need within a factor {_EST_FACTOR:g}).",
        metrics={"l1_error": err.tolist(), "error_estimate": sol.error_estimate.tolist(), "wall_time_s": sol.wall_time_s},
        table=(["t", "L1 error", "estimate"], [[t, e, s] for t, e, s in zip(_TIMES, err, sol.error_estimate)]),
        figures=[("densities", fig)],
    )


@register(SECTION, "boltzmann", "Langevin double well: the long-time density is the discrete Boltzmann density")
def boltzmann(quick: bool) -> CaseResult:
    from ..distributions import GaussianMixture
    from ..grid import Grid, cell_averages
    from ..grid.solver import _propagate, propagator_axes

    process = problems.process("langevin-doublewell")
    grid = Grid([(-3.0, 3.0)], [256 if quick else 1024])
    ops = propagator_axes(process, grid)
    start = GaussianMixture.isotropic([1.0], [[-1.0]], 0.05)  # N(-1, 0.05^2): all mass in the left well
    q0 = cell_averages(start, grid).values
    # the slowest relaxation rate at kT = 0.25 is ~0.1 (Kramers), so tau = 1000 leaves ~e^{-100}
    q = _propagate(ops, q0, 1000.0)
    pi = np.exp(ops[0].log_pi) * q0.sum() * grid.h[0]
    dev = float(np.abs(q - pi).max() / pi.max())
    return CaseResult(
        dev <= 1e-12,
        f"max |q(tau = 1000) - pi| / max pi = {dev:.2e} on {grid.shape[0]} cells (tolerance 1e-12, the B4 target): the fitted "
        "scheme's stationary state is the discrete Boltzmann density exactly.",
        metrics={"relative_deviation": dev},
    )
