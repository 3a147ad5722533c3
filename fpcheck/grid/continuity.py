r"""The continuity equation :math:`\partial_t q = -\nabla\cdot(q\,v)` on a grid, for any velocity field.

:func:`solve_continuity` transports cell averages with a given velocity :math:`v(x, t)`: a learned
probability-flow velocity, or the exact one of :class:`~fpcheck.analytic.ExactMarginals`, which
carries :math:`q_0` to :math:`q_t` (MATH.md section 3).  The scheme is a method of lines:

* **space**: finite volumes with upwind Jiang-Shu WENO5 face values and the Zhang-Shu positivity
  limiter, axis by axis (:mod:`fpcheck.grid._continuity`); zero flux through the walls of the box;
* **time**: the three-stage strong-stability-preserving Runge-Kutta method of Shu and Osher,
  with a step set by the CFL number of the velocity at the start of each step.

Fifth order in :math:`h` where the solution is smooth and resolved (less near its smooth extrema,
where the Jiang-Shu weights lose up to two orders locally), third order in :math:`\Delta t`; mass is
conserved to round-off and the cell averages stay non-negative.
"""

from __future__ import annotations

import math
import time as _time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import _validation as val
from ..distributions import Distribution
from ..errors import GridWarning, InputError
from .density import GridDensity
from .grids import Grid
from .projection import cell_averages
from .solver import BOUNDARY_MASS_WARNING, FokkerPlanckSolution, _check_boundary, _restrict

__all__ = ["ContinuitySolution", "solve_continuity", "ESTIMATE_ORDER", "MAX_CFL", "DEFAULT_MAX_STEPS"]

#: The order :math:`p` assumed by the error estimate :math:`\|\mathcal R q_h - q_{2h}\|_1 / (2^p - 1)`
#: (see :func:`solve_continuity`).
ESTIMATE_ORDER = 4

#: Largest CFL number accepted.  SSP-RK3 with fifth-order upwind differences is linearly stable up to
#: about 1.43; positivity needs :data:`~fpcheck.grid._continuity.POSITIVITY_CFL` = 1/6 (steps that
#: lose it are redone there).
MAX_CFL = 1.0

#: Default limit on the number of Runge-Kutta steps per grid level.
DEFAULT_MAX_STEPS = 1_000_000

#: Cell averages below ``VACUUM`` times the largest initial one are vacuum: they do not shorten the
#: step (see :func:`solve_continuity`), and a stage value in ``(-VACUUM max q_0, 0)`` is set to 0.
#: Anything more negative makes the step be redone with a smaller step.
VACUUM = 1e-30

# Redone steps use this fraction of the positivity bound 1/6, a margin for the stage velocities
# (evaluated at later times than the one that set dt) and for rounding.
_POSITIVITY_MARGIN = 0.9

# A step takes at most this fraction of the longest forward Euler step that keeps the current state
# non-negative (unless the proven bound allows more): a cell drained by a fraction kappa in the
# first stage ends the step at about (1 - kappa) of its value, so the later stages keep it positive.
_DRAIN_FRACTION = 0.5

# A step whose later stages see a velocity that makes dt sum_k(max|v_k|/h_k) exceed this multiple of
# cfl (the velocity grew within the step) is redone with the step that velocity allows.
_STAGE_SLACK = 1.25


@dataclass(frozen=True)
class ContinuitySolution(FokkerPlanckSolution):
    """A :class:`~fpcheck.grid.solver.FokkerPlanckSolution` with the step counts of the continuity solve.

    Attributes
    ----------
    steps : array of int (m,)
        Runge-Kutta steps taken on ``grid`` from t = 0 to each output time.
    redone_steps : int
        Steps on ``grid`` redone with a smaller step, because a stage lost positivity or because the
        velocity of a later stage broke the CFL bound.
    coarse_steps : array of int (m,)
        The same as ``steps`` on the coarse grid of the error estimate (zeros without it).
    """

    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    redone_steps: int = 0
    coarse_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


# ------------------------------------------------------------------------------------ helpers


class _Level:
    """One grid level: face points per axis and the semi-discrete rate :math:`-\\sum_k \\partial_k(q v_k)`."""

    def __init__(self, grid: Grid, velocity: Callable, eps: float):
        from ._continuity import flux_divergence_lines

        self.grid, self.velocity, self.eps = grid, velocity, eps
        self._kernel = flux_divergence_lines
        self.points, self.lines, self.faces = [], [], []
        centres = [grid.centres(j) for j in range(grid.ndim)]
        for k in range(grid.ndim):
            coords = list(centres)
            coords[k] = grid.edges(k)[1:-1]  # interior faces only: the walls carry no flux
            mesh = np.meshgrid(*coords, indexing="ij")
            self.points.append(np.stack([m.ravel() for m in mesh], axis=1))
            shape = grid.shape
            lines = (math.prod(shape[:k]), shape[k], math.prod(shape[k + 1 :]))
            self.lines.append(lines)
            self.faces.append((lines[0], lines[1] + 1, lines[2]))
        self.inv_h = [1.0 / h for h in grid.h]
        self.evaluations = 0

    def face_velocity(self, k: int, t: float) -> np.ndarray:
        """Velocity component ``k`` on the faces of axis ``k`` at time ``t``, outer faces zero, shape ``(m, n + 1, p)``."""
        pts = self.points[k]
        d = self.grid.ndim
        try:
            raw = self.velocity(pts, t)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"velocity(x, t) raised {type(exc).__name__} at t = {t:.17g}: {exc}") from exc
        try:
            v = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"velocity(x, t) must return a float array of shape (n, {d}); got {type(raw).__name__} at t = {t:.17g}") from None
        if v.shape != (pts.shape[0], d):
            raise InputError(
                f"velocity(x, t) returned shape {v.shape} for x of shape {pts.shape} at t = {t:.17g}; "
                f"it must return one {d}-vector per point, shape (n, {d})"
            )
        comp = v[:, k]
        if not np.all(np.isfinite(comp)):
            bad = np.flatnonzero(~np.isfinite(comp))
            raise InputError(
                f"velocity(x, t) returned {bad.size} NaN or inf value(s) in component {k} at t = {t:.17g}, "
                f"first at x = {pts[bad[0]].tolist()}; the continuity solver needs a finite velocity on every cell face"
            )
        self.evaluations += 1
        m, n, p = self.lines[k]
        u = np.zeros(self.faces[k])
        u[:, 1:-1, :] = comp.reshape(m, n - 1, p)
        return u

    def rate(self, q: np.ndarray, t: float) -> tuple[np.ndarray, float]:
        r"""The rate :math:`-\sum_k \partial_k(q v_k)` and :math:`\sum_k \max|v_k|/h_k` (the CFL rate) at ``t``."""
        out = np.empty(q.shape)
        total = None
        speed = 0.0
        for k in range(self.grid.ndim):
            u = self.face_velocity(k, t)
            speed += float(np.abs(u).max(initial=0.0)) * self.inv_h[k]
            self._kernel(q.reshape(self.lines[k]), u, self.inv_h[k], self.eps, out.reshape(self.lines[k]))
            total = -out if total is None else total - out
        return total, speed


def _clean(q: np.ndarray, vacuum: float) -> bool:
    """Set negative values above ``-vacuum`` to 0; False if a more negative value remains."""
    lo = q.min()
    if lo >= 0.0:
        return True
    if lo <= -vacuum:
        return False
    q[q < 0.0] = 0.0
    return True


def _step(q: np.ndarray, r0: np.ndarray, c0: float, cfl: float, safe: float, vacuum: float) -> float:
    r"""The step: :math:`\min(\mathrm{cfl}, \max(\mathrm{safe}, \kappa\,c_0\,\Delta t_+)) / c_0`.

    :math:`\Delta t_+ = \min_{r_i < 0} \bar q_i / (-r_i)` is the longest forward Euler step that keeps
    this state non-negative (vacuum cells left out); the proven bound ``safe / c0``
    never exceeds it, so this only shortens steps that would drain a cell, and never below ``safe``.
    """
    if c0 <= 0.0:
        return math.inf
    drain = (r0 < 0.0) & (q > vacuum)
    longest = float(np.min(q[drain] / -r0[drain])) if drain.any() else math.inf
    return min(cfl, max(safe, _DRAIN_FRACTION * c0 * longest)) / c0


def _integrate(level: _Level, q0: np.ndarray, times: np.ndarray, cfl: float, max_steps: int, vacuum: float):
    """SSP-RK3 from 0 through the output times; returns the states at ``times``, steps per time, redone steps."""
    from ._continuity import POSITIVITY_CFL

    safe = _POSITIVITY_MARGIN * POSITIVITY_CFL
    q, t = q0.copy(), 0.0
    states, steps_at = [], []
    steps = redone = 0
    for t_out in times:
        while t < t_out:
            r0, c0 = level.rate(q, t)
            remaining = t_out - t
            dt = _step(q, r0, c0, cfl, safe, vacuum)
            if dt >= remaining:
                dt = remaining
            elif 2.0 * dt > remaining:
                dt = 0.5 * remaining  # two equal steps rather than a full one and a sliver
            while True:
                if steps + redone >= max_steps:
                    raise InputError(
                        f"solve_continuity reached max_steps = {max_steps} Runge-Kutta steps on a grid of shape "
                        f"{level.grid.shape} at t = {t:.6g} of {float(times[-1]):g}, with steps of dt = {dt:.3g} "
                        f"(the CFL bound cfl / sum_k(max|v_k| / h_k) = {cfl:g} / {c0:.3g}). "
                        "Raise max_steps, use fewer cells, or check that the velocity is not larger than intended"
                    )
                # Shu-Osher SSP-RK3: three forward Euler stages combined convexly
                q1 = q + dt * r0
                ok = _clean(q1, vacuum)
                cmax = c0
                if ok:
                    r1, c1 = level.rate(q1, t + dt)
                    cmax = max(cmax, c1)
                    q2 = 0.75 * q + 0.25 * (q1 + dt * r1)
                    ok = _clean(q2, vacuum)
                if ok:
                    r2, c2 = level.rate(q2, t + 0.5 * dt)
                    cmax = max(cmax, c2)
                    q3 = q / 3.0 + (2.0 / 3.0) * (q2 + dt * r2)
                    ok = _clean(q3, vacuum)
                if ok and dt * cmax <= _STAGE_SLACK * cfl:
                    break
                redone += 1
                if ok:  # positive, but a later stage's velocity broke the CFL bound: its own step
                    new = cfl / cmax
                else:  # a stage lost positivity: half the step, at most the proven bound
                    new = min(0.5 * dt, safe / cmax) if cmax > 0.0 else 0.5 * dt
                if not new > 0.0:
                    raise InputError(f"the step size underflowed at t = {t:.17g}; check the velocity there")
                dt = new
            steps += 1
            q = q3
            t = float(t_out) if t + dt >= t_out else t + dt
        states.append(q.copy())
        steps_at.append(steps)
    return states, np.array(steps_at, dtype=int), redone


def _times(times) -> np.ndarray:
    t = val.finite_array(times, "times")
    t = np.atleast_1d(t)
    if t.ndim != 1 or t.size == 0:
        raise InputError(f"times must be a non-empty 1D sequence of output times, got shape {np.shape(times)}")
    if np.any(t < 0):
        raise InputError(f"times must be >= 0 (the solve starts from the initial density at t = 0), got min {t.min():g}")
    if np.any(np.diff(t) < 0):
        i = int(np.flatnonzero(np.diff(t) < 0)[0])
        raise InputError(f"times must be non-decreasing; times[{i}] = {t[i]:g} > times[{i + 1}] = {t[i + 1]:g}")
    return t


# ------------------------------------------------------------------------------------- public


def solve_continuity(
    velocity: Callable[[np.ndarray, float], np.ndarray],
    initial: Distribution | GridDensity,
    grid: Grid,
    times: Sequence[float],
    *,
    cfl: float = 0.4,
    estimate_error: bool = True,
    boundary_tol: float = BOUNDARY_MASS_WARNING,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> ContinuitySolution:
    r"""Solve :math:`\partial_t q = -\nabla\cdot(q\,v)` on ``grid`` from :math:`q_0` = ``initial``, with zero-flux walls.

    **Space.**  Finite volumes on the cell averages :math:`\bar q_i`:

    .. math::
        \frac{d\bar q_i}{dt} = \mathcal L(\bar q, t)_i = -\sum_{k=1}^{d} \frac{F^k_{i+e_k/2} - F^k_{i-e_k/2}}{h_k},
        \qquad F^k = u^+\,q^- + u^-\,q^+,

    with the face velocity :math:`u = v_k(x, t)` at the face centre (coordinate :math:`k` on the face,
    the others at cell centres) and upwind Jiang-Shu WENO5 face values :math:`q^\mp`, limited by the
    Zhang-Shu scaling so that they are non-negative (formulas in :mod:`fpcheck.grid._continuity`).
    The flux through the walls is zero, so :math:`\sum_i \bar q_i |C_i|` is conserved to round-off.

    **Time.**  Shu and Osher's SSP-RK3,

    .. math::
        q^{(1)} &= q^n + \Delta t\,\mathcal L(q^n, t_n), \\
        q^{(2)} &= \tfrac34 q^n + \tfrac14\big(q^{(1)} + \Delta t\,\mathcal L(q^{(1)}, t_n + \Delta t)\big), \\
        q^{n+1} &= \tfrac13 q^n + \tfrac23\big(q^{(2)} + \Delta t\,\mathcal L(q^{(2)}, t_n + \tfrac12\Delta t)\big),

    a convex combination of forward Euler steps (third order in :math:`\Delta t`).  Each step takes

    .. math::
        \Delta t = \mathrm{cfl} \Big/ \sum_k \frac{\max_{\text{faces}} |v_k(\cdot, t_n)|}{h_k},

    recomputed from the velocity at the start of the step, and shortened to land exactly on each
    output time (split in two equal steps rather than leave a sliver).  Linear stability allows
    :math:`\mathrm{cfl}` up to about 1.4; positivity is proven for :math:`\mathrm{cfl} \le 1/6`
    (the Zhang-Shu bound for Simpson's weight; module notes of :mod:`fpcheck.grid._continuity`).
    Above that bound, positivity is kept by three rules:

    * *drain bound*: the step is also at most half of :math:`\Delta t_+ = \min_{r_i < 0}\bar q_i/(-r_i)`,
      the longest forward Euler step that keeps the current state non-negative (:math:`r` the first
      stage's rate; cells below :data:`VACUUM` times :math:`\max q_0` left out), but never below
      0.9 of the proven bound.  Smooth solutions in the interior are not limited by it; cells that
      empty fast (a density pulled away from a wall, the edge of a box) are;
    * *redone steps*: a step with a stage value below :math:`-\mathrm{VACUUM}\max q_0` is redone
      with half the step, at most 0.9 of the proven bound for the largest velocity of its stages;
      stage values in :math:`(-\mathrm{VACUUM}\max q_0, 0)`, far below rounding of the mass, are set to 0;
    * *stage velocities*: a step whose later stages see a velocity with
      :math:`\Delta t\sum_k\max|v_k|/h_k > 1.25\,\mathrm{cfl}` (the velocity grew within the step,
      e.g. from zero at :math:`t_n`) is redone with the step that velocity allows.

    So every output is non-negative whatever ``cfl``; ``redone_steps`` counts the redone steps (in
    the tests' smooth problems only the first steps of the probability flow of ``vp-linear``, whose
    velocity grows fastest near :math:`t = 0`, are redone, by the third rule).  The velocity is called once per axis per stage
    on all interior face centres of that axis at once, ``velocity(x, t)`` with ``x`` of shape ``(n, d)``.

    **Error estimate.**  With ``estimate_error``, the same problem is solved on ``grid.coarsen()``
    (from the restriction of the initial averages, which is exact) and

    .. math::
        \widehat{E} = \frac{\|\mathcal R\,q_h - q_{2h}\|_1}{2^p - 1}, \qquad p = 4,

    (:math:`\mathcal R`: mean over the :math:`2^d` children of a coarse cell) estimates the L1 error
    of :math:`q_h`: if :math:`\|q_h - q\| \approx C h^r`, then :math:`\|\mathcal R q_h - q_{2h}\| \approx
    (2^r - 1) C h^r`, and the estimate is :math:`(2^r - 1)/(2^p - 1)` times the error.  The observed
    order :math:`r` lies between 3 (SSP-RK3 with :math:`\Delta t \propto h`, which dominates on
    fine grids) and 5 (WENO5 in space): measured 4.4-4.9 for a Gaussian carried by a constant
    velocity (128 to 512 cells), 4.5-4.6 and 4.7 for linear velocities in 1D and 2D, 4.4-4.8 for the
    exact probability-flow velocity of ``vp-linear`` x ``gmm1d-bimodal`` from 256 to 1024 cells and
    2.9-4.1 from 1024 to 4096, where the time error takes over (halving ``cfl`` at 2048 cells
    lowers the error 2-4 times) (:file:`tests/test_grid_continuity.py`,
    :file:`benchmarks/bench_continuity.py`).  :math:`p = 4` keeps the ratio in
    :math:`[7/15, 31/15] = [0.47, 2.07]` for :math:`3 \le r \le 5`: within a factor 3 of the true
    error, which the tests check (measured 1.3-1.9 up to 1024 cells, 0.44-0.52 at 4096).  It assumes a smooth, resolved solution: for discontinuous data
    (order about 1) it underestimates by up to 15 times.  No Richardson extrapolation is offered:
    the nonlinear WENO weights give no asymptotic expansion of the error in powers of :math:`h`.

    Parameters
    ----------
    velocity : callable
        ``velocity(x, t) -> (n, d)`` for points ``x`` of shape ``(n, d)`` and a float ``t``; finite.
    initial : Distribution or GridDensity
        :math:`q_0`: a distribution is projected with :func:`~fpcheck.grid.projection.cell_averages`
        (exact for mixtures) on each grid level; a :class:`GridDensity` must live on ``grid`` and be
        non-negative.
    grid : Grid
        Non-periodic; even cell counts (at least 8 per axis) when ``estimate_error``.
    times : sequence of float
        Non-decreasing output times, :math:`\ge 0`; the solve starts at :math:`t = 0`.  (For a
        backward-in-time flow, pass :math:`\tilde v(x, s) = -v(x, T - s)`.)
    cfl : float
        :math:`\Delta t\sum_k \max|v_k|/h_k`, in :math:`(0, 1]`.
    estimate_error : bool
        Solve on the coarse grid too and return :math:`\widehat E` (about 1/4 more work in 1D,
        :math:`2^{-(d+1)}` in :math:`d` dimensions); otherwise ``error_estimate`` is NaN.
    boundary_tol : float
        Warn (:class:`~fpcheck.errors.GridWarning`) when the mass in the outermost cells at an output
        time exceeds it.
    max_steps : int
        Largest number of Runge-Kutta steps (redone ones included) per grid level.

    Returns
    -------
    ContinuitySolution
        A :class:`~fpcheck.grid.solver.FokkerPlanckSolution` (times, densities, error_estimate, grid,
        method, wall_time_s) with ``steps``, ``redone_steps`` and ``coarse_steps``.

    Raises
    ------
    InputError
        For a grid that is not a :class:`Grid` or is periodic, odd or too small for the coarse
        level, an initial density of the wrong dimension or with negative values, bad times or
        ``cfl``, a velocity that raises, returns the wrong shape or a NaN / inf (the message names
        the time), and when ``max_steps`` is reached (the message says what to change).

    Warns
    -----
    GridWarning
        From the projection of ``initial`` on ``grid``, and when mass reaches the walls.

    Examples
    --------
    >>> from fpcheck import problems
    >>> from fpcheck.analytic import ExactMarginals
    >>> truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    >>> sol = solve_continuity(truth.velocity, truth.data, Grid([(-8, 8)], [256]), [0.2])  # doctest: +SKIP
    """
    start = _time.perf_counter()
    if not callable(velocity):
        raise InputError(f"velocity must be a callable velocity(x, t) -> (n, d), got {type(velocity).__name__}")
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a fpcheck.grid.Grid, got {type(grid).__name__}")
    if any(grid.periodic):
        raise InputError(f"solve_continuity has zero-flux walls; periodic axes {grid.periodic} are not supported, use a grid with periodic=False")
    t = _times(times)
    cfl = val.positive(cfl, "cfl")
    if cfl > MAX_CFL:
        raise InputError(f"cfl = {cfl:g} is above {MAX_CFL:g}; SSP-RK3 with WENO5 needs a CFL number of at most about 1.4 (0.4 is the default)")
    boundary_tol = val.positive(boundary_tol, "boundary_tol", allow_zero=True)
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise InputError(f"max_steps must be a positive integer, got {max_steps!r}")
    if isinstance(initial, GridDensity):
        if initial.grid != grid:
            raise InputError(f"the initial GridDensity lives on {initial.grid!r}, not on {grid!r}")
    elif isinstance(initial, Distribution):
        if initial.dim != grid.ndim:
            raise InputError(f"initial data are {initial.dim}-dimensional but the grid is {grid.ndim}-dimensional")
    else:
        raise InputError(f"initial must be a fpcheck Distribution or a GridDensity, got {type(initial).__name__}")
    coarse = grid.coarsen() if estimate_error else None  # refuses odd or too small grids, with the reason
    d = grid.ndim
    grid.check_memory(d * d + d + 10, what="solve_continuity")

    q0 = cell_averages(initial, grid).values
    if q0.min() < 0:
        raise InputError(f"the initial density has negative cell averages (min {q0.min():.3g}); the positivity-preserving scheme needs q_0 >= 0")
    from ._continuity import weno_epsilon

    scale = float(q0.max())
    eps, vacuum = weno_epsilon(scale), VACUUM * scale
    states, steps, redone = _integrate(_Level(grid, velocity, eps), q0, t, cfl, int(max_steps), vacuum)

    errors = np.full(t.size, np.nan)
    coarse_steps = np.zeros(t.size, dtype=int)
    if coarse is not None:
        if isinstance(initial, GridDensity):
            qc = _restrict(q0)
        else:
            with warnings.catch_warnings():  # resolution and tails are judged on the requested grid
                warnings.simplefilter("ignore", GridWarning)
                qc = cell_averages(initial, coarse).values
        coarse_states, coarse_steps, _ = _integrate(_Level(coarse, velocity, eps), qc, t, cfl, int(max_steps), vacuum)
        factor = 2.0**ESTIMATE_ORDER - 1.0
        errors = np.array(
            [np.abs(_restrict(f) - c).sum() * coarse.cell_volume / factor for f, c in zip(states, coarse_states)]
        )

    densities = []
    for ti, values in zip(t, states):
        _check_boundary(values, grid, float(ti), boundary_tol)
        densities.append(GridDensity(grid, values))
    method = f"WENO5-JS + Zhang-Shu limiter, SSP-RK3 (cfl {cfl:g}, {int(steps[-1])} steps)"
    if coarse is not None:
        method += f" + coarse-grid error estimate (order {ESTIMATE_ORDER})"
    return ContinuitySolution(
        times=t,
        densities=densities,
        error_estimate=errors,
        grid=grid,
        method=method,
        wall_time_s=_time.perf_counter() - start,
        steps=steps,
        redone_steps=int(redone),
        coarse_steps=coarse_steps,
    )
