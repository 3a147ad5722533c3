r"""The grid truth: Fokker-Planck densities on a grid, exact in time, with Richardson extrapolation.

For the processes whose generator is :math:`L(t) = \rho(t)\,L_0` with a fixed, separable
:math:`L_0 = \sum_k L_0^{(k)}` (VP, VE, OU, Langevin in a separable potential), the density is

.. math::
    q(t) = \exp\big(\tau(t)\,L_0\big)\,q_0 = \prod_k \exp\big(\tau(t)\,L_0^{(k)}\big)\,q_0,
    \qquad \tau(t) = \int_0^t \rho(s)\,ds,

with :math:`L_0^{(k)}` the exponentially fitted finite-volume operator along axis :math:`k`
(:mod:`fpcheck.grid.operators`): the factors commute, so each is applied along its own axis at
cost :math:`O(N^d)`.  Each factor is a rational approximation of the exponential on the
symmetrised operator (:mod:`fpcheck.grid._tridiag`), accurate to about :math:`10^{-14}`, so the only
error left is the spatial one, :math:`O(h^2)`:

* VP: :math:`\rho = \beta_t`, :math:`L_0` for drift :math:`-x/2` and diffusion :math:`1/2`, :math:`\tau = B(t)`;
* VE: :math:`\rho = d\sigma^2/dt`, :math:`L_0 = \frac12\Delta`, :math:`\tau = \sigma^2(t) - \sigma^2(0)`;
* OU: :math:`\rho = 1`, drift :math:`-\gamma(x - \mu)`, diffusion :math:`\beta/2`;
* Langevin: :math:`\rho = 1`, face drift :math:`-(U_{i+1} - U_i)/h`, diffusion :math:`kT`.

**Richardson.** The same problem is solved on the grid, on its refinement (:math:`h/2`) and on its
coarsening (:math:`2h`), each from exact cell averages of the data.  Since the error expands in
even powers of :math:`h`, :math:`R_h = (4\,\mathcal{R}q_{h/2} - q_h)/3` (:math:`\mathcal{R}`: average
over child cells) is fourth order, and the difference between :math:`R_h` and its coarse twin
:math:`R_{2h}` estimates its L1 error: :math:`\|\mathcal{R}R_h - R_{2h}\|_1 / 15`.
"""

from __future__ import annotations

import time as _time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..distributions import BoxMixture, Distribution
from ..errors import GridWarning, InputError
from ..processes import OU, VE, VP, AffineProcess, DoubleWell, Langevin, Process
from .density import GridDensity
from .grids import Grid
from .operators import AxisOperator, CirculantOperator, fitted_operator
from .projection import cell_averages
from .stepping import DEFAULT_TIME_TOL, integrate_lines, integrate_split

__all__ = ["FokkerPlanckSolution", "solve_fokker_planck", "propagator_axes", "stepping_axes", "split_axes", "METHODS"]

#: Time integration paths of :func:`solve_fokker_planck`.
METHODS = ("auto", "exact", "stepping")
#: Face fluxes of the time-stepping path.
FLUXES = ("auto", "fitted", "central")

#: Default mass in the outermost layer of cells above which the boundary is said to be reached.
#: The zero-flux boundary changes the solution by about the mass that would have crossed it, so
#: this bounds its L1 effect; it sits below the benchmarks' finest L1 targets.
BOUNDARY_MASS_WARNING = 1e-10


@dataclass(frozen=True)
class FokkerPlanckSolution:
    """Densities of a Fokker-Planck solve.

    Attributes
    ----------
    times : array (m,)
    densities : list of GridDensity
        One per time, on the requested grid (Richardson-extrapolated when ``extrapolate``).
    error_estimate : array (m,)
        Estimated L1 error of each density: the spatial (Richardson) estimate, plus the time
        error's where the time is stepped, plus the mass the walls hold back (:func:`_boundary_tail`).
    grid : Grid
    method : str
    wall_time_s : float
    time_error : array (m,) or None
        The part of ``error_estimate`` that comes from the time integration, where it is estimated
        apart (``None`` when the solution is exact in time, or when the estimate covers space and
        time together, as the continuity solver's coarse-grid estimate does).
    """

    times: np.ndarray
    densities: list
    error_estimate: np.ndarray
    grid: Grid
    method: str
    wall_time_s: float
    time_error: np.ndarray | None = None

    def values(self) -> np.ndarray:
        """The cell averages stacked, shape ``(m, *grid.shape)``."""
        return np.stack([d.values for d in self.densities])


def _separable_potential_1d(process: Langevin, dim: int):
    pot = process.potential
    if isinstance(pot, DoubleWell):
        return lambda x: pot.height * (x * x - 1.0) ** 2
    if dim == 1:
        return lambda x: pot(x[:, None])
    raise NotImplementedError(
        f"the exact-in-time grid path needs a separable potential in {dim}D (DoubleWell); "
        f"{pot!r} is not known to be separable"
    )


def _check_periodic(process: Process, grid: Grid) -> None:
    if any(grid.periodic) and isinstance(process, AffineProcess) and not isinstance(process, VE):
        raise InputError(
            f"periodic axes {grid.periodic} need a drift that is periodic on the box; the affine drift of "
            f"{type(process).__name__} is not (VE, Langevin in a periodic potential and processes of your own "
            "with a periodic drift are): use periodic=False"
        )


def propagator_axes(process: Process, grid: Grid) -> list[AxisOperator]:
    r"""The per-axis operators :math:`L_0^{(k)}` of ``process`` on ``grid``.

    Raises ``NotImplementedError`` for processes whose generator is not :math:`\rho(t) L_0`.
    """
    _check_periodic(process, grid)
    ops = []
    for k in range(grid.ndim):
        x = grid.centres(k)
        h = grid.h[k]
        faces = _faces(grid, k)  # interior faces: the periodic axes take the branch below
        if grid.periodic[k]:
            if not isinstance(process, VE):
                raise InputError("the exact path takes periodic axes for the drift-free VE only; use method='stepping'")
            ops.append(CirculantOperator(0.5, h, grid.shape[k]))
        elif isinstance(process, VP):
            ops.append(fitted_operator(-0.5 * faces, 0.5, h))
        elif isinstance(process, VE):
            ops.append(fitted_operator(np.zeros_like(faces), 0.5, h))
        elif isinstance(process, OU):
            if process.beta == 0:
                raise InputError("OU with beta = 0 has no diffusion; the grid solver needs beta > 0")
            mu = float(np.broadcast_to(process.mu, (grid.ndim,))[k])
            ops.append(fitted_operator(-process.gamma * (faces - mu), 0.5 * process.beta, h))
        elif isinstance(process, Langevin):
            U = _separable_potential_1d(process, grid.ndim)
            ops.append(fitted_operator(-np.diff(U(x)) / h, process.kT, h))
        else:
            raise NotImplementedError(
                f"{type(process).__name__}'s generator is not rho(t) L0 with a fixed L0; use method='stepping'"
            )
    return ops


def stepping_axes(process: Process, grid: Grid) -> list:
    r"""Per-axis coefficients of :math:`L(t)` for the time-stepping path.

    Returns one callable per axis, ``coefficients(ts) -> (face_drift (m, n - 1), diffusion (m,))``,
    for affine processes (drift :math:`-\lambda(t)\,x + \kappa(t)`, diffusion :math:`g^2(t)/2`) and
    Langevin dynamics in a separable potential; drift and diffusion of each axis then depend on
    that axis's coordinate and on time only, so the axes evolve independently.
    """
    axes = []
    for k in range(grid.ndim):
        x = grid.centres(k)
        h = grid.h[k]
        faces = _faces(grid, k)
        if isinstance(process, AffineProcess):

            def coefficients(ts, faces=faces, k=k):
                rate, kappa, g2 = process.coefficients(ts)
                kappa = np.asarray(kappa, dtype=float)
                kappa = kappa[:, k] if kappa.ndim == 2 else kappa
                return -np.multiply.outer(rate, faces) + kappa[:, None], 0.5 * g2

        elif isinstance(process, Langevin):
            U = _separable_potential_1d(process, grid.ndim)
            if grid.periodic[k]:
                _check_periodic_values(U(np.array(grid.bounds[k])), f"the potential along axis {k}")
            face_drift = -_face_difference(U(x), 0, grid.periodic[k]) / h

            def coefficients(ts, face_drift=face_drift):
                return np.broadcast_to(face_drift, (ts.size, face_drift.size)), np.full(ts.size, process.kT)

        else:
            raise NotImplementedError(
                f"no grid path for {type(process).__name__}: the solver needs an affine process or "
                "Langevin dynamics in a separable potential"
            )
        axes.append(coefficients)
    if isinstance(process, AffineProcess) and float(np.min(process.g2(np.array([process.T])))) <= 0:
        raise InputError(f"{process!r} has no diffusion; the grid solver needs g^2 > 0")
    return axes


def _faces(grid: Grid, k: int) -> np.ndarray:
    """The faces of axis ``k`` that carry a flux: the interior ones, and the wrap face if periodic."""
    x = grid.centres(k)
    mid = 0.5 * (x[1:] + x[:-1])
    return np.append(mid, grid.bounds[k][1]) if grid.periodic[k] else mid


def _face_difference(U: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    """``U[i+1] - U[i]`` across every flux face of ``axis`` (with the wrap face if periodic)."""
    return np.roll(U, -1, axis=axis) - U if periodic else np.diff(U, axis=axis)


def _axis_points(grid: Grid, k: int, coords: np.ndarray) -> np.ndarray:
    """Points with coordinate ``k`` in ``coords`` and the others at cell centres, lines of axis ``k`` last."""
    axes = [grid.centres(j) for j in range(grid.ndim)]
    axes[k] = coords
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([np.moveaxis(m, k, -1).ravel() for m in mesh], axis=1)


def _check_periodic_values(ends: np.ndarray, what: str) -> None:
    """``ends[0]``, ``ends[1]``: values at the lower and upper end of a periodic axis; they must agree."""
    lo, hi = np.asarray(ends[0], dtype=float), np.asarray(ends[1], dtype=float)
    gap = float(np.abs(lo - hi).max())
    if gap > 1e-8 * (1.0 + max(float(np.abs(lo).max()), float(np.abs(hi).max()))):
        raise InputError(
            f"{what} differs at the two ends of a periodic axis (by up to {gap:.3g}): it is not periodic "
            "on the box; choose bounds one period apart or periodic=False"
        )


def split_axes(process: Process, grid: Grid) -> list:
    r"""Per-axis, per-line coefficients of :math:`L(t)` for a drift that does not separate.

    Returns one callable per axis, ``coefficients(ts) -> (face_drift (m, lines, n_k - 1),
    diffusion (m,))`` (lines in the order of ``np.moveaxis(q, k, -1).reshape(-1, n_k)``).  Langevin
    dynamics take the face drift :math:`-(U_{i+1} - U_i)/h` from the potential at the cell centres,
    so that the discrete Boltzmann density stays stationary; any other process gives its drift
    component at the face centres (coordinate :math:`k` on the face, the others at cell centres)
    and :math:`g^2(t)/2`.
    """
    axes = []
    if isinstance(process, Langevin):
        U = np.asarray(process.potential(grid.points()), dtype=float).reshape(grid.shape)
        for k in range(grid.ndim):
            if grid.periodic[k]:
                ends = [_axis_points(grid, k, np.array([end])) for end in grid.bounds[k]]
                _check_periodic_values(np.stack([process.potential(p) for p in ends]), f"the potential along axis {k}")
            face_drift = np.moveaxis(-_face_difference(U, k, grid.periodic[k]) / grid.h[k], k, -1)
            face_drift = face_drift.reshape(-1, face_drift.shape[-1])

            def coefficients(ts, face_drift=face_drift):
                return np.broadcast_to(face_drift, (ts.size,) + face_drift.shape), np.full(ts.size, process.kT)

            axes.append(coefficients)
        return axes
    for k in range(grid.ndim):
        faces = _faces(grid, k)
        if grid.periodic[k]:
            faces = faces.copy()
            faces[-1] = grid.bounds[k][0]  # the wrap face, where the drift is evaluated (= upper end)
            ends = [_axis_points(grid, k, np.array([end])) for end in grid.bounds[k]]
            _check_periodic_values(np.stack([process.drift(p, 0.0)[:, k] for p in ends]), f"the drift along axis {k}")
        points = _axis_points(grid, k, faces)
        lines = points.shape[0] // faces.size

        def coefficients(ts, points=points, k=k, lines=lines):
            drift = np.stack([np.asarray(process.drift(points, float(t)))[:, k] for t in ts])
            return drift.reshape(ts.size, lines, -1), 0.5 * np.asarray(process.g2(ts), dtype=float)

        axes.append(coefficients)
    return axes


def _march_split(axes: list, grid: Grid, q0: np.ndarray, t: np.ndarray, tol: float, fitted: bool) -> tuple:
    """Strang-split stepping through the sorted output times; densities in the order of ``t``."""
    order = np.argsort(t, kind="stable")
    states, stats = integrate_split(
        axes,
        grid.h,
        q0,
        0.0,
        t[order],
        weight=grid.cell_volume,
        tol=tol,
        fitted=fitted,
        periodic=grid.periodic,
        max_steps=1_000_000,
    )
    values, errs = [None] * t.size, np.zeros(t.size)
    for j, i in enumerate(order):
        values[i], errs[i] = states[j], stats.error_bound[j]
    return values, errs


def _separable(process: Process, ndim: int) -> bool:
    """Whether each axis's drift depends on that axis's coordinate and time only (see :func:`stepping_axes`)."""
    if isinstance(process, AffineProcess):
        return True
    return isinstance(process, Langevin) and (ndim == 1 or isinstance(process.potential, DoubleWell))


def _step(axes: list, grid: Grid, q: np.ndarray, t0: float, t1: float, tol: float, steps: list, fitted: bool) -> tuple:
    """Advance ``q`` from ``t0`` to ``t1`` axis by axis; returns the new array and its time-error estimate."""
    err = 0.0
    for k, coefficients in enumerate(axes):
        lines = np.moveaxis(q, k, -1)
        shape = lines.shape
        states, stats = integrate_lines(
            coefficients,
            grid.h[k],
            lines.reshape(-1, shape[-1]),
            t0,
            [t1],
            weight=grid.cell_volume,
            tol=tol,
            first_step=steps[k],
            fitted=fitted,
            periodic=grid.periodic[k],
        )
        steps[k] = stats.next_step
        err += stats.error_bound[-1]
        q = np.moveaxis(states[0].reshape(shape), -1, k)
    return q, err


def _tau(process: Process, t: np.ndarray) -> np.ndarray:
    if isinstance(process, (VP, VE)):
        return process.schedule.integral(t)
    return np.asarray(t, dtype=float)


def _propagate(ops: list[AxisOperator], q0: np.ndarray, tau: float) -> np.ndarray:
    from ._tridiag import expm_tridiag

    q = q0
    for k, op in enumerate(ops):
        if isinstance(op, CirculantOperator):
            q = op.expm_apply(q, tau, axis=k)
            continue
        shape = [1] * q.ndim
        shape[k] = -1
        half = (0.5 * op.log_pi).reshape(shape)
        before = q.sum(axis=k, keepdims=True)
        w = _scaled(q, -half)
        if not np.all(np.isfinite(w)):
            raise InputError(
                "the exact path's scaling by the discrete equilibrium overflows (the equilibrium is "
                "negligible on part of the grid): narrow the bounds, or use method='stepping'"
            )
        with np.errstate(under="ignore"):
            q = expm_tridiag(op.diag, op.sym_offdiag, tau, w, axis=k) * np.exp(half)
        # exp(tau L_k) conserves the mass of every line along axis k exactly; the rounding of the
        # shifted solves (~u tau |L_k|) does not, so restore it (a relative change of that size)
        after = q.sum(axis=k, keepdims=True)
        q = q * np.divide(before, after, out=np.ones_like(after), where=after != 0)
    return q


def _restrict(values: np.ndarray) -> np.ndarray:
    """Average over the 2^d children of each coarse cell."""
    shape = []
    for n in values.shape:
        shape += [n // 2, 2]
    return values.reshape(shape).mean(axis=tuple(range(1, 2 * values.ndim, 2)))


def _check_box_faces(initial: Distribution, grid: Grid) -> None:
    """Warn when a noise-free box's faces do not lie on faces of the coarsest grid.

    Richardson's even-power expansion of the error assumes smooth data or discontinuities on cell
    faces at every level; otherwise the error also depends on where each face cuts its cell, and
    both the order and the error estimate degrade (observed order 1.6-3 instead of 4).
    """
    if not isinstance(initial, BoxMixture) or initial.noise_var > 0:
        return
    for k in range(grid.ndim):
        lo, h = grid.bounds[k][0], grid.h[k]
        cuts = np.concatenate([initial.lower[:, k], initial.upper[:, k]])
        offset = (cuts - lo) / h
        if np.any(np.abs(offset - np.round(offset)) > 1e-9):
            warnings.warn(
                f"box faces along axis {k} do not fall on faces of the {grid.shape[k]}-cell grid "
                f"(cell width {h:g}); the extrapolation and its error estimate assume they do. "
                "Choose bounds and shape so that every box face is a cell face",
                GridWarning,
                stacklevel=3,
            )
            return


def _boundary_tail(values: np.ndarray, grid: Grid) -> float:
    r"""The mass the free-space density would hold beyond the zero-flux walls, from the outermost cells.

    The walls keep in the mass that would have crossed them, so the walled solution differs from
    the free-space one by about the mass that lies beyond them.  With the outermost cell average
    :math:`q_0` and its neighbour :math:`q_1`, the tail decays like :math:`e^{-s x}` with
    :math:`s = \log(q_1/q_0)/h`, and holds :math:`q_0/s` per unit of wall (:math:`q_0 h` where it
    does not decay).  Measured against the exact solutions of B1, B2 and B5, this accounts for the
    boundary error within 10-50%.
    """
    total = 0.0
    for k in range(values.ndim):
        if grid.periodic[k]:
            continue
        wall = grid.cell_volume / grid.h[k]
        for outer, inner in ((0, 1), (-1, -2)):
            q0 = np.clip(np.take(values, outer, axis=k), 0.0, None)
            q1 = np.take(values, inner, axis=k)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                rate = np.log(q1 / q0) / grid.h[k]
            decays = (q0 > 0) & (rate > 0)
            length = np.where(decays, 1.0 / np.where(decays, rate, 1.0), grid.h[k])
            total += float(np.sum(q0 * length)) * wall
    return total


def _check_boundary(values: np.ndarray, grid: Grid, t: float, tol: float) -> None:
    for k in range(values.ndim):
        if grid.periodic[k]:
            continue
        edge = np.take(values, [0, -1], axis=k)
        outer = float(np.abs(edge).sum()) * grid.cell_volume
        if outer > tol:
            warnings.warn(
                f"mass {outer:.2g} in the outermost cells along axis {k} at t = {t:g}: the density "
                "reaches the zero-flux boundary, so the result differs from the free-space solution; "
                "widen the bounds",
                GridWarning,
                stacklevel=3,
            )


def solve_fokker_planck(
    process: Process,
    initial: Distribution,
    grid: Grid,
    times: Sequence[float],
    *,
    extrapolate: bool = True,
    method: str = "auto",
    flux: str = "auto",
    time_tol: float = DEFAULT_TIME_TOL,
    boundary_tol: float = BOUNDARY_MASS_WARNING,
) -> FokkerPlanckSolution:
    r"""Solve :math:`\partial_t q = -\nabla\cdot(f q) + \frac12 g^2\Delta q` on ``grid`` from ``q_0 = initial``.

    Parameters
    ----------
    process : Process
        An affine process (VP, sub-VP, VE, OU) or Langevin dynamics in a separable potential.
    initial : Distribution
        The data at t = 0, projected as exact cell averages on each grid level.
    grid : Grid
        The output grid (even cell counts when ``extrapolate``).
    times : sequence of float
        Output times in ``[0, T]``.
    extrapolate : bool
        Richardson over ``h/2``, ``h`` and ``2h`` (fourth order, with an error estimate); otherwise
        the plain second-order solution with the estimate :math:`\|\mathcal{R} q_h - q_{2h}\|_1/3`.
    method : {"auto", "exact", "stepping"}
        ``"exact"``: exponential of :math:`\tau(t) L_0` (VP, VE, OU, Langevin), no time error;
        ``"stepping"``: adaptive SDIRK4 (:mod:`fpcheck.grid.stepping`), any supported process;
        ``"auto"``: exact where the process allows, stepping otherwise (sub-VP).
    flux : {"auto", "fitted", "central"}
        Face fluxes of the stepping path (the exact path is always fitted).  ``"auto"`` is central:
        the fitted flux's error expands as :math:`h^2 f^2/(12 D)` and more, which is not small where
        the diffusion vanishes (sub-VP near t = 0), so the error is not :math:`C h^2 + O(h^4)` and
        Richardson fails (B5 at N = 512: L1 5e-5 fitted, 4e-7 central).  Central fluxes have an
        even expansion in :math:`h` whatever :math:`D`, but keep densities non-negative only where
        :math:`|f| h/D \le 2` or the data are resolved; a :class:`~fpcheck.errors.GridWarning` says
        when they went negative.
    time_tol : float
        L1 error per unit time allowed to the time stepping; its estimate is added to the error
        estimate (and reported as ``time_error``).  That estimate is a bound (a sum of local
        errors, measured 3-20 times the actual time error), so keep ``time_tol`` below the spatial
        error per unit time for a sharp total estimate.
    boundary_tol : float
        Warn (:class:`~fpcheck.errors.GridWarning`) when the mass in the outermost cells exceeds it.

    Returns
    -------
    FokkerPlanckSolution
    """
    start = _time.perf_counter()
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a fpcheck.grid.Grid, got {type(grid).__name__}")
    if not isinstance(initial, Distribution):
        raise InputError(f"initial must be a fpcheck Distribution, got {type(initial).__name__}")
    if initial.dim != grid.ndim:
        raise InputError(f"initial data are {initial.dim}-dimensional but the grid is {grid.ndim}-dimensional")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if flux not in FLUXES:
        raise InputError(f"unknown flux {flux!r}; choose one of {', '.join(FLUXES)}")
    t = process.check_time(np.atleast_1d(np.asarray(times, dtype=float)))
    if t.ndim != 1 or t.size == 0:
        raise InputError("times must be a non-empty sequence of floats")
    if any(n % 2 for n in grid.shape):
        raise InputError(f"grid shape {grid.shape} needs even cell counts (for the coarse grid 2h)")
    _check_box_faces(initial, grid.coarsen())
    levels = [grid.coarsen(), grid] + ([grid.refine()] if extrapolate else [])
    q0s = []
    for g in levels:
        with warnings.catch_warnings():
            if g is not grid:  # resolution is judged on the requested grid; Richardson covers the others
                warnings.simplefilter("ignore", GridWarning)
            q0s.append(cell_averages(initial, g).values)
    _check_periodic(process, grid)
    exact = method == "exact" or (method == "auto" and _exact_in_time(process, grid))
    if exact and flux == "central":
        raise InputError("the exact-in-time path uses fitted fluxes; flux='central' needs method='stepping'")
    if exact:
        ops = [propagator_axes(process, g) for g in levels]
        from ._tridiag import MAX_ABS_V

        largest = max(_scaled_max(o, q0) for o, q0 in zip(ops, q0s))
        if not largest <= MAX_ABS_V:
            if method == "exact":
                raise InputError(
                    "the exact path works on Pi^(-1/2) q, which overflows here (the discrete "
                    "equilibrium Pi is negligible where the data have mass): narrow the bounds, or "
                    "use method='stepping'"
                )
            exact = False
    fitted = flux == "fitted" or (flux == "auto" and not _diffusion_vanishes(process))
    solutions, time_errors = [], []
    for i, (g, q0) in enumerate(zip(levels, q0s)):
        if exact:
            solutions.append([_propagate(ops[i], q0, float(s)) for s in _tau(process, t)])
            time_errors.append(np.zeros(t.size))
        else:
            if _separable(process, g.ndim):
                values, errs = _march(stepping_axes(process, g), g, q0, t, time_tol, fitted)
            else:
                values, errs = _march_split(split_axes(process, g), g, q0, t, time_tol, fitted)
            solutions.append(values)
            time_errors.append(errs)

    if not exact and not fitted:
        _check_central_positivity(solutions[1], grid)
    densities, errors, time_error = [], [], []
    for i, ti in enumerate(t):
        q_c, q_u = solutions[0][i], solutions[1][i]
        if extrapolate:
            r_u = (4.0 * _restrict(solutions[2][i]) - q_u) / 3.0
            r_c = (4.0 * _restrict(q_u) - q_c) / 3.0
            values, err = r_u, np.abs(_restrict(r_u) - r_c).sum() * levels[0].cell_volume / 15.0
            e_time = (4.0 * time_errors[2][i] + time_errors[1][i]) / 3.0
        else:
            values, err = q_u, np.abs(_restrict(q_u) - q_c).sum() * levels[0].cell_volume / 3.0
            e_time = time_errors[1][i]
        _check_boundary(values, grid, float(ti), boundary_tol)
        densities.append(GridDensity(grid, values))
        errors.append(err + e_time + _boundary_tail(values, grid))
        time_error.append(e_time)
    split = "" if exact or _separable(process, grid.ndim) or grid.ndim == 1 else ", Strang-split axes"
    name = (
        "exact-time fitted FV"
        if exact
        else f"{'fitted' if fitted else 'central'} FV + adaptive SDIRK4{split} (time_tol {time_tol:g})"
    )
    method_name = name + (" + Richardson (h/2, h, 2h)" if extrapolate else "")
    return FokkerPlanckSolution(
        t,
        densities,
        np.array(errors),
        grid,
        method_name,
        _time.perf_counter() - start,
        None if exact else np.array(time_error),
    )


def _check_central_positivity(values: list, grid: Grid) -> None:
    low = min(float(v.min()) for v in values)
    top = max(float(v.max()) for v in values)
    if low < -1e-12 * top:
        warnings.warn(
            f"the central flux gave negative densities (min {low:.2g}, max {top:.2g}): the data are "
            "under-resolved where the diffusion is small; use more cells or flux='fitted'",
            GridWarning,
            stacklevel=3,
        )


def _diffusion_vanishes(process: Process) -> bool:
    """Whether g^2(0) = 0 (sub-VP), where fitted fluxes lose their even expansion in h."""
    return float(np.asarray(process.g2(np.array([0.0])))[0]) == 0.0


def _scaled_max(ops: list[AxisOperator], q0: np.ndarray) -> float:
    r"""The largest :math:`|\Pi^{-1/2} q_0|` along any axis (``inf`` where it overflows)."""
    worst = 0.0
    for k, op in enumerate(ops):
        shape = [1] * q0.ndim
        shape[k] = -1
        w = _scaled(np.abs(q0), -(0.5 * op.log_pi).reshape(shape))
        worst = max(worst, float(w.max()) if np.all(np.isfinite(w)) else np.inf)
    return worst


def _scaled(q: np.ndarray, log_scale: np.ndarray) -> np.ndarray:
    """``q * exp(log_scale)`` with zeros kept zero where the scale overflows."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return np.where(q == 0, 0.0, q * np.exp(log_scale))


def _exact_in_time(process: Process, grid: Grid) -> bool:
    """Whether the generator is rho(t) L0 with a fixed, separable L0 (see :func:`propagator_axes`)."""
    ndim = grid.ndim
    if any(grid.periodic):
        return isinstance(process, VE)
    if isinstance(process, (VP, VE, OU)):
        return True
    if isinstance(process, Langevin):
        return ndim == 1 or isinstance(process.potential, DoubleWell)
    return False


def _march(axes: list, grid: Grid, q0: np.ndarray, t: np.ndarray, tol: float, fitted: bool) -> tuple[list, np.ndarray]:
    """Time-step from 0 through the sorted output times; densities in the order of ``t``."""
    order = np.argsort(t, kind="stable")
    values, errs = [None] * t.size, np.zeros(t.size)
    steps = [0.0] * grid.ndim
    q, t_prev, total = q0, 0.0, 0.0
    for i in order:
        if t[i] > t_prev:
            q, e = _step(axes, grid, q, t_prev, float(t[i]), tol, steps, fitted)
            total += e
            t_prev = float(t[i])
        values[i], errs[i] = q, total
    return values, errs
