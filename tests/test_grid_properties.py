"""Property tests of the grid solver: random affine processes, mixtures and times against the exact q_t.

Every draw is solved with Richardson extrapolation on a grid that resolves the narrowest
component at t = 0 and at t by at least 8 cells and holds all but 1e-13 of the mass per side
(``default_bounds``).  The checks are the solver's promises: the L1 error against exact cell
averages lies within a factor 3 of the solver's own estimate (plus a rounding floor), the mass is
that of the projected data, and the plain (non-extrapolated) densities are non-negative.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given

from fpcheck.analytic import ExactMarginals
from fpcheck.errors import GridWarning
from fpcheck.grid import Grid, cell_averages, solve_fokker_planck
from fpcheck.grid.bounds import default_bounds
from fpcheck.strategies import affine_processes, floats, gaussian_mixtures

#: Rounding floor of the L1 comparison: exact cell averages and the exponential carry ~1e-14
#: relative per cell; 1e-11 leaves room for ~1000 cells of it and for the rational approximation.
FLOOR = 1e-11


def _narrowest_std(dist) -> float:
    return float(np.sqrt(min(np.linalg.eigvalsh(c).min() for c in dist.covs)))


def _grid(process, data, t: float) -> Grid:
    (lo, hi), = default_bounds(process, data, [t])
    std = min(_narrowest_std(data), _narrowest_std(ExactMarginals(process, data).at(t)))
    n = int(np.ceil((hi - lo) / (std / 8.0) / 2.0)) * 2
    return Grid([(lo, hi)], [max(64, n)])


@given(
    process=affine_processes(dim=1, kinds=("vp", "subvp", "ou")),
    data=gaussian_mixtures(1, components=(1, 3), eig=(0.04, 1.0)),
    frac=floats(0.05, 1.0),
)
def test_grid_error_lies_within_its_estimate(process, data, frac):
    t = frac * process.T
    grid = _grid(process, data, t)
    truth = ExactMarginals(process, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # bounds hold 1e-13 per side: below the checks
        sol = solve_fokker_planck(process, data, grid, [t])
        plain = solve_fokker_planck(process, data, grid, [t], extrapolate=False)
        exact = cell_averages(truth.at(t), grid).values
        mass0 = cell_averages(data, grid).mass()
    err = float(np.abs(sol.densities[0].values - exact).sum() * grid.cell_volume)
    est = float(sol.error_estimate[0])
    assert err <= 3.0 * est + FLOOR, (grid, err, est, sol.method)
    assert abs(plain.densities[0].mass() - mass0) <= 1e-12
    # non-negative up to rounding: the exact path's is magnified by the equilibrium scaling
    # (about u |Pi^{-1/2} q|_2 max pi^{1/2}, measured up to 1.4e-12 of the maximum over these draws),
    # and the central fluxes of sub-VP warn below -1e-12 of it; FLOOR covers both
    assert plain.densities[0].values.min() >= -FLOOR * plain.densities[0].values.max()
