r"""Particles against the analytic and grid truths, by the calibrated test family of :mod:`fpcheck.stats`.

At each output time :math:`t` the particles are tested against :math:`q_t`:

* **analytic** (affine process, closed-form data): a Gaussian-mixture :math:`q_t` gets
  :func:`~fpcheck.stats.family.compare_to_mixture` (1D: mean, variance, Anderson-Darling and
  Kolmogorov-Smirnov on the exact cdf; 2D-3D: per-axis means and Anderson-Darling on exact 1D
  projections); 1D box data gets AD and KS on its exact cdf;
* **grid** (1D-3D; the only truth for Langevin dynamics): the grid solver's :math:`q_t`
  (:func:`grid_truth`), as cell probabilities merged to the sample size for the binned
  :math:`\chi^2` test, with :data:`ESTIMATE_FACTOR` times the solver's error estimate (plus any
  clipped undershoot) as the reference's L1 error bound, and in 1D its cdf for AD and KS when
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
from ..distributions import BoxMixture, Distribution, GaussianMixture
from ..errors import FPCheckError, GridWarning, InputError, NotAffineError
from ..processes import Process
from ..stats.distance import Distance
from ..stats.family import FamilyResult, compare_to_mixture
from ..stats.gof import TestResult
from ..stats.multiple import holm

__all__ = ["TimeCheck", "check_against_truth", "grid_truth", "DEFAULT_GRID_CELLS"]

#: Cells per axis of the grid truth, by dimension (the binned test pools cells under 5 expected counts);
#: raised to resolve the data where needed, up to :data:`MAX_GRID_CELLS`.
DEFAULT_GRID_CELLS = {1: 512, 2: 128, 3: 48}
#: The largest grid truth per axis, by dimension (a Richardson solve of 512^2 takes about 0.3 s).
MAX_GRID_CELLS = {1: 16384, 2: 512, 3: 96}
#: The fewest cells across the data's narrowest feature at the output spacing h for a grid truth.
MIN_CELLS_AT_H = 2.0
#: The grid's error estimate is within a factor 3 of its error where the truth is known (grid
#: issue's calibration, bench_grid): the binned test takes this multiple of it as the bound.
ESTIMATE_FACTOR = 3.0
#: Raised cell counts are multiples of this, so the binned test can merge blocks of 2^k cells.
_CELL_MULTIPLE = 32
#: The binned test merges blocks of grid cells until there are about n / PER_BIN bins.
PER_BIN = 20


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
    r"""The grid solver's :math:`q_t` at ``times`` on default bounds, ``cells`` per axis; ``(solution, "")`` or ``(None, why not)``.

    The cells per axis are raised (to :data:`MAX_GRID_CELLS` at most) until the coarsest
    Richardson level, :math:`2h`, holds 4 cells across the data's narrowest feature
    (:func:`~fpcheck.grid.projection.cells_needed`).  A grid with fewer than
    :data:`MIN_CELLS_AT_H` cells across that feature at :math:`h` is no truth (its error estimate
    is no longer sharp: B3 at 48^3, 1.1 cells per std, estimate/error 0.41; at 96^3, 2.2 cells,
    0.85-1.02): it is left out, and the reason says how many cells it needs.  Below 4 cells at
    :math:`2h` the solver's resolution warning is expected and silenced here.
    """
    from ..grid import Grid, solve_fokker_planck
    from ..grid.bounds import default_bounds
    from ..grid.projection import cells_needed

    d = data.dim
    n = cells or DEFAULT_GRID_CELLS.get(d)
    if n is None:
        return None, f"no grid truth in {d} dimensions"
    try:
        bounds = default_bounds(process, data, [t for t in times if t > 0] or [0.0])
        need = cells_needed(data, [hi - lo for lo, hi in bounds])
        shape = [n] * d if need is None else [min(max(n, 2 * int(k)), MAX_GRID_CELLS[d]) for k in need]
        shape = [k if k == n else -(-k // _CELL_MULTIPLE) * _CELL_MULTIPLE for k in shape]
        shape = [k + k % 2 for k in shape]
        if isinstance(data, BoxMixture):
            aligned = _box_aligned(data, bounds, shape)
            if aligned is None:
                return None, "grid truth left out: the box faces do not lie on a common lattice, so no grid has them all on cell faces"
            bounds, shape = aligned
        if need is not None and any(k * 4.0 < MIN_CELLS_AT_H * m for k, m in zip(shape, need)):
            want = "x".join(str(int(np.ceil(MIN_CELLS_AT_H * m / 4.0))) for m in need)
            return None, (
                f"grid truth left out: {'x'.join(map(str, shape))} cells put fewer than {MIN_CELLS_AT_H:g} cells across "
                f"the data's narrowest feature on the bounds {bounds}; it needs {want}"
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="the grid under-resolves", category=GridWarning)
            sol = solve_fokker_planck(process, data, Grid(bounds, shape), times)
    except (FPCheckError, NotImplementedError) as exc:
        return None, f"no grid truth: {exc}"
    return sol, ""


def _box_aligned(data, bounds, shape):
    """Bounds and shape with every box face on a face of the grid and of its 2h coarsening (or None).

    The solver's Richardson extrapolation and error estimate assume box faces on cell faces.  Per
    axis, the faces must lie on a lattice of spacing ``w`` (the smallest gap between them); the
    cell width is ``w / m`` with ``m`` even, at least as fine as ``shape`` asks, and the bounds
    are widened to multiples of ``2 w / m`` from a face, with a cell count that is a multiple of
    :data:`_CELL_MULTIPLE`.
    """
    new_bounds, new_shape = [], []
    for k, ((lo, hi), cells) in enumerate(zip(bounds, shape)):
        faces = np.unique(np.concatenate([data.lower[:, k], data.upper[:, k]]))
        gaps = np.diff(faces)
        w = float(gaps.min()) if gaps.size else float(hi - lo)
        steps = (faces - faces[0]) / w
        if np.any(np.abs(steps - np.round(steps)) > 1e-9):
            return None
        m = max(2, int(np.ceil(cells * w / (hi - lo))))
        h = w / (m + m % 2)
        coarse = 2.0 * h
        start = faces[0] - np.ceil((faces[0] - lo) / coarse - 1e-9) * coarse
        n = int(np.ceil((hi - start) / h - 1e-9))
        n = -(-n // _CELL_MULTIPLE) * _CELL_MULTIPLE
        new_bounds.append((float(start), float(start + n * h)))
        new_shape.append(n)
    return new_bounds, new_shape


def _unresolved_edges(process, data, t: float, grid_sol) -> str:
    r"""Why the grid is no truth at ``t`` for box data whose edges are still sharper than its cells ("" if it is).

    The edges of box data at :math:`t` are blurred by :math:`\sqrt{s_t^2 + a_t^2 \sigma_0^2}`; the
    grid's estimate assumes a smooth density, so below :data:`MIN_CELLS_AT_H` cells across that blur
    (VE at early times, or any process near t = 0) the grid is left out at that time.  At t = 0
    itself the grid holds the exact cell averages (faces on cell faces): it is the truth there.
    """
    if t == 0.0 or grid_sol is None or not isinstance(data, BoxMixture) or not process.is_affine:
        return ""  # at t = 0 the grid holds the exact cell averages of the data
    a, _, s2 = process.kernel(t)
    blur = float(np.sqrt(float(s2) + float(a) ** 2 * data.noise_var))
    h = float(max(grid_sol.densities[0].grid.h))
    if blur >= MIN_CELLS_AT_H * h:
        return ""
    return (
        f"grid truth left out at t = {t:g}: the box edges are blurred by {blur:.3g}, under "
        f"{MIN_CELLS_AT_H:g} cells of width {h:.3g}"
    )


def _merge_cells(probs: np.ndarray, edges: list, n: int) -> tuple[np.ndarray, list]:
    """Sum blocks of ``f^d`` cells (f a power of 2 dividing the shape) until about ``n / PER_BIN`` bins remain.

    The grid resolves the density; the test needs counts: merging keeps every bin's probability
    exact (a sum of cells) and the reference's L1 error bound (the L1 norm of sums is at most the sum).
    """
    d, f = probs.ndim, 1
    while probs.size / (2 * f) ** d >= max(n / PER_BIN, 1.0) and all(k % (2 * f) == 0 for k in probs.shape):
        f *= 2
    if f == 1:
        return probs, edges
    blocks = [v for k in probs.shape for v in (k // f, f)]
    return probs.reshape(blocks).sum(axis=tuple(range(1, 2 * d, 2))), [e[::f] for e in edges]


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
    analytic_serves = truth is not None and (d == 1 or isinstance(data, GaussianMixture))
    if grid_sol is None and (grid or not analytic_serves):
        grid_sol, note = grid_truth(process, data, t, grid_cells)
    elif grid_sol is not None and (len(grid_sol.times) != t.size or not np.allclose(grid_sol.times, t, rtol=0, atol=1e-12)):
        raise InputError(f"grid_solution is at times {list(map(float, grid_sol.times))}, the samples at {t.tolist()}")
    if truth is None and grid_sol is None:
        raise InputError(f"no truth to compare with: {note}")
    checks = []
    for j, tj in enumerate(t):
        x = samples[j]
        used = []
        grid_arg = None
        sharp = _unresolved_edges(process, data, float(tj), grid_sol)
        if grid_sol is not None and not sharp:
            dens = grid_sol.densities[j]
            probs, edges = cells_of(dens)
            # undershoots clipped to 0 and the rescaling that follows move at most twice their mass
            clipped = float(probs.sum() - dens.mass()) if np.any(dens.values < 0) else 0.0
            if probs.sum() > 1.0:
                probs = probs / probs.sum()
            probs, edges = _merge_cells(probs, edges, n)
            grid_arg = (probs, edges, ESTIMATE_FACTOR * float(grid_sol.error_estimate[j]) + 2.0 * clipped)
            used.append("grid")
        q = truth.at(float(tj)) if truth is not None else None
        if q is not None and (isinstance(q, GaussianMixture) or d == 1):
            family = compare_to_mixture(x, q, alpha=level, seed=seed, grid=grid_arg if isinstance(q, GaussianMixture) else None)
            used.insert(0, "analytic")
            if grid_arg is not None and not isinstance(q, GaussianMixture):
                tests = list(family.tests) + [binned_test(x, grid_arg[0], grid_arg[1], ref_l1=grid_arg[2])]
                family = _binned_family(x, tests, level, family.distance, n, d)
        elif d == 1 and grid_arg is not None:
            family = compare_to_mixture(x, grid_sol.densities[j], alpha=level, grid=grid_arg)
        elif grid_arg is not None:
            test = binned_test(x, grid_arg[0], grid_arg[1], ref_l1=grid_arg[2])
            u = np.asarray(grid_sol.densities[j].marginal(0).cdf(x[:, :1]), dtype=float).ravel()
            family = _binned_family(x, [test], level, cdf_distance(np.clip(u, 0.0, 1.0), name="cdf distance (axis 0)"), n, d)
        else:
            raise InputError(f"no truth at t = {tj:g} for {type(data).__name__} in {d} dimensions: {sharp or note}")
        checks.append(TimeCheck(float(tj), family, tuple(used), sharp or note))
    return checks
