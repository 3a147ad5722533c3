r"""Particles against the analytic and grid truths, by the calibrated test family of :mod:`fpcheck.stats`.

At each output time :math:`t` the particles are tested against :math:`q_t`:

* **analytic** (affine process, closed-form data): a Gaussian-mixture :math:`q_t` gets
  :func:`~fpcheck.stats.family.compare_to_mixture` (1D: mean, variance, Anderson-Darling and
  Kolmogorov-Smirnov on the exact cdf; 2D-3D: per-axis means and Anderson-Darling on exact 1D
  projections); 1D box data gets AD and KS on its exact cdf;
* **grid** (1D-3D; the only truth for Langevin dynamics): the grid solver's :math:`q_t` on a grid
  of ``grid_cells`` cells per axis, as cell probabilities for the binned :math:`\chi^2` test (with
  the solver's error estimate as the reference's L1 error), and in 1D its cdf for AD and KS when
  there is no analytic truth.

Every p-value of a time goes to Holm's method at :math:`\alpha / m` for :math:`m` output times
(Bonferroni across times), so the family-wise false-alarm rate of the whole run is at most
:math:`\alpha` for exact particles.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..analytic import ExactMarginals
from ..distributions import Distribution, GaussianMixture
from ..errors import FPCheckError, GridWarning, InputError, NotAffineError
from ..processes import Process
from ..stats.distance import Distance
from ..stats.family import FamilyResult, compare_to_mixture
from ..stats.gof import TestResult
from ..stats.multiple import holm

__all__ = ["TimeCheck", "check_against_truth", "grid_truth", "DEFAULT_GRID_CELLS"]

#: Cells per axis of the grid truth, by dimension (the binned test pools cells under 5 expected counts).
DEFAULT_GRID_CELLS = {1: 512, 2: 128, 3: 48}


@dataclass(frozen=True)
class TimeCheck:
    """The tests of the particles at one time.

    Attributes
    ----------
    t : float
    family : FamilyResult
        Tests, Holm decisions at ``alpha / m``, the cdf distance with its standard error.
    truths : tuple of str
        Which truths entered (``"analytic"``, ``"grid"``).
    note : str
        Why a truth was left out, if one was.
    """

    t: float
    family: FamilyResult
    truths: tuple[str, ...]
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.family.passed


def grid_truth(process: Process, data: Distribution, times: Sequence[float], cells: int | None = None):
    """The grid solver's :math:`q_t` at ``times`` on default bounds, ``cells`` per axis; ``(solution, "")`` or ``(None, why not)``."""
    from ..grid import Grid, solve_fokker_planck
    from ..grid.bounds import default_bounds

    d = data.dim
    n = cells or DEFAULT_GRID_CELLS.get(d)
    if n is None:
        return None, f"no grid truth in {d} dimensions"
    try:
        bounds = default_bounds(process, data, [t for t in times if t > 0] or [0.0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GridWarning)
            return solve_fokker_planck(process, data, Grid(bounds, [n + n % 2] * d), times), ""
    except (FPCheckError, NotImplementedError) as exc:
        return None, f"no grid truth: {exc}"


def _binned_family(x, tests: list[TestResult], alpha: float, distance: Distance, n: int, d: int) -> FamilyResult:
    h = holm([t.pvalue for t in tests], alpha)
    return FamilyResult(tuple(tests), h, not h.any_rejected, distance, n, d)


def check_against_truth(
    samples: np.ndarray,
    times: Sequence[float],
    process: Process,
    data: Distribution,
    *,
    alpha: float = 0.01,
    seed: int = 0,
    grid: bool = True,
    grid_cells: int | None = None,
    grid_solution=None,
) -> list[TimeCheck]:
    r"""Test ``samples[j]`` (n, d) against :math:`q_{t_j}` for each time, by the family of the module notes.

    Parameters
    ----------
    samples : array (m, n, d)
        Particles per time (``ParticleSolution.samples``).
    times : sequence of float (m,)
    process, data : the problem the particles claim to follow.
    alpha : float
        Family-wise level of the whole run (each time gets ``alpha / m``).
    seed : int
        Seeds the projection directions.
    grid : bool
        Add the grid truth's binned test (always on when there is no analytic truth).
    grid_cells : int, optional
        Cells per axis of the grid truth (default :data:`DEFAULT_GRID_CELLS`).
    grid_solution : FokkerPlanckSolution, optional
        A grid truth already solved at ``times`` (:func:`grid_truth`), used instead of solving again.

    Returns
    -------
    list of TimeCheck
    """
    from ..stats.binned import binned_test, grid_cells as cells_of
    from ..stats.distance import cdf_distance

    samples = np.asarray(samples, dtype=float)
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if samples.ndim != 3 or samples.shape[0] != t.size:
        raise InputError(f"samples must have shape (m, n, d) with m = {t.size} times, got {samples.shape}")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must lie in (0, 1), got {alpha!r}")
    m, n, d = samples.shape
    level = alpha / m
    try:
        truth = ExactMarginals(process, data)
    except NotAffineError:
        truth = None
    note = ""
    grid_sol = grid_solution
    if grid_sol is None and (grid or truth is None):
        grid_sol, note = grid_truth(process, data, t, grid_cells)
    if truth is None and grid_sol is None:
        raise InputError(f"no truth to compare with: {note}")
    checks = []
    for j, tj in enumerate(t):
        x = samples[j]
        used = []
        grid_arg = None
        if grid_sol is not None:
            dens = grid_sol.densities[j]
            probs, edges = cells_of(dens)
            grid_arg = (probs, edges, float(grid_sol.error_estimate[j]))
            used.append("grid")
        q = truth.at(float(tj)) if truth is not None else None
        if q is not None and (isinstance(q, GaussianMixture) or d == 1):
            family = compare_to_mixture(x, q, alpha=level, seed=seed, grid=grid_arg if isinstance(q, GaussianMixture) else None)
            used.insert(0, "analytic")
            if grid_arg is not None and not isinstance(q, GaussianMixture):
                tests = list(family.tests) + [binned_test(x, grid_arg[0], grid_arg[1], ref_l1=grid_arg[2])]
                family = _binned_family(x, tests, level, family.distance, n, d)
        elif d == 1 and grid_sol is not None:
            family = compare_to_mixture(x, grid_sol.densities[j], alpha=level, grid=grid_arg)
        elif grid_arg is not None:
            test = binned_test(x, grid_arg[0], grid_arg[1], ref_l1=grid_arg[2])
            u = np.asarray(grid_sol.densities[j].marginal(0).cdf(x[:, :1]), dtype=float).ravel()
            family = _binned_family(x, [test], level, cdf_distance(np.clip(u, 0.0, 1.0), name="cdf distance (axis 0)"), n, d)
        else:
            raise InputError(f"no truth at t = {tj:g} for {type(data).__name__} in {d} dimensions: {note}")
        checks.append(TimeCheck(float(tj), family, tuple(used), note))
    return checks
