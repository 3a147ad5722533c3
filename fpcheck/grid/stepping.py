r"""Adaptive implicit time stepping of the fitted finite-volume equation along one axis.

For processes whose generator is not :math:`\rho(t)\,L_0` with a fixed :math:`L_0` (sub-VP, whose
drift and diffusion scale differently in time), the semi-discrete equation
:math:`\dot q = L(t)\,q` is integrated in time.  With a separable drift and a diffusion that
depends on time only, :math:`L(t) = \sum_k L^{(k)}(t)` with :math:`L^{(k)}(t)` acting on axis
:math:`k` alone; operators on different axes commute at all times, so the propagator is the
product of the per-axis propagators and each axis is integrated on its own, over all of its
lines at once, without splitting error.

**Integrator.** SDIRK4 (:mod:`fpcheck.grid._stepping`): L-stable, stiffly accurate, fourth order,
five tridiagonal solves per step.
L-stability damps the stiff modes (:math:`\Delta t\,\|L\| \sim \Delta t\,D/h^2 \gg 1`) instead of
letting them ring, as Crank-Nicolson would; fourth order keeps the number of steps small at the
tolerances the grid truth needs.

**Error control** by step doubling: each step of size :math:`\Delta t` is also taken as two
steps of :math:`\Delta t/2`; the two results :math:`y_1, y_2` differ by :math:`(2^4 - 1)` times
the local error of :math:`y_2` up to higher order, so :math:`\epsilon = \|y_2 - y_1\|_1/15` estimates
the local L1 error of the kept :math:`y_2` itself (the embedded third-order pair of SDIRK4 costs
less per step but overestimates the error of the fourth-order solution by two to three decades
here, which would force hundreds of needless steps).  The exact propagator of a Markov generator
is a contraction in L1, so the global L1 error is at most the sum of the local ones.  A step is
accepted when :math:`\epsilon \le` ``tol`` :math:`\Delta t` (error per unit step), so that the time
error up to :math:`t` is at most about ``tol`` :math:`(t - t_0)`; the sum of the accepted
:math:`\epsilon` is returned as the estimate of the time error.  The next step is
:math:`\Delta t \min\big(4, \max(0.2, 0.9\,(\mathrm{tol}\,\Delta t/\epsilon)^{1/4})\big)`, since
:math:`\epsilon/\Delta t = O(\Delta t^4)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["StepStats", "integrate_lines", "integrate_split", "DEFAULT_TIME_TOL"]

#: Default L1 error per unit time of the time integration.  The global time error it allows
#: (:math:`10^{-9}` up to t = 1) sits well below the spatial error of every benchmark grid.
DEFAULT_TIME_TOL = 1e-9
_SAFETY, _GROW, _SHRINK = 0.9, 4.0, 0.2
#: Local errors below this fraction of the mass are rounding (64 u) and always accepted.
_ROUNDING = 64 * np.finfo(float).eps


@dataclass
class StepStats:
    """Work and error bookkeeping of one time integration.

    Attributes
    ----------
    accepted, rejected : int
        Step counts.
    error_bound : list of float
        Sum of the accepted local L1 error estimates up to each output time.
    next_step : float
        The step size the controller proposes next (to continue an integration).
    """

    accepted: int = 0
    rejected: int = 0
    error_bound: list = None
    next_step: float = 0.0

    def __post_init__(self):
        if self.error_bound is None:
            self.error_bound = []


def integrate_lines(
    coefficients: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    h: float,
    q: np.ndarray,
    t0: float,
    times: Sequence[float],
    *,
    weight: float,
    tol: float = DEFAULT_TIME_TOL,
    max_steps: int = 100_000,
    first_step: float | None = None,
    fitted: bool = True,
    periodic: bool = False,
) -> tuple[list[np.ndarray], StepStats]:
    r"""Integrate :math:`\dot q = L(t)\,q` for every row of ``q`` from ``t0`` to each of ``times``.

    Parameters
    ----------
    coefficients : callable
        ``coefficients(ts) -> (face_drift (m, n - 1), diffusion (m,))`` at the ``m`` times ``ts``.
    h : float
        Cell width along the lines.
    q : array (lines, n)
        Cell averages at ``t0``, one line per row.
    t0 : float
    times : sequence of float
        Non-decreasing output times, all ``>= t0``.
    weight : float
        Volume of one cell: the L1 norm of an array of cell averages is ``weight * sum(|.|)``.
    tol : float
        Accepted L1 error per unit time (see the module notes).
    max_steps : int
        Raise :class:`~fpcheck.errors.InputError` past this many steps.
    first_step : float, optional
        Initial step size; by default a thousandth of the interval, which the controller grows.
    fitted : bool
        Scharfetter-Gummel face fluxes, or central ones (:func:`~fpcheck.grid._stepping.flux_coefficients`).
    periodic : bool
        The lines are circles: ``coefficients`` gives ``n`` faces, the last joining cell ``n - 1``
        to cell 0.

    Returns
    -------
    states : list of arrays (lines, n)
        The lines at each output time.
    stats : StepStats
    """
    from ._stepping import SDIRK_A, SDIRK_C, flux_coefficients, sdirk_doubling_lines

    stage_offsets = np.concatenate([SDIRK_C, 0.5 * SDIRK_C, 0.5 + 0.5 * SDIRK_C])

    def doubled(q, t, step):
        drift, diffusion = coefficients(t + stage_offsets * step)
        lo, di, up = flux_coefficients(
            np.ascontiguousarray(drift, dtype=float),
            np.ascontiguousarray(diffusion, dtype=float),
            h,
            fitted,
            periodic,
        )
        return sdirk_doubling_lines(lo, di, up, q, step, SDIRK_A)

    return _adaptive(doubled, 4, q, t0, times, weight, tol, max_steps, first_step)


def _adaptive(doubled, order, q, t0, times, weight, tol, max_steps, first_step):
    """The step-doubling controller: ``doubled(q, t, dt) -> (two half steps, sum |halves - whole|)``."""
    times = np.asarray(times, dtype=float)
    if np.any(np.diff(times) < 0) or (times.size and times[0] < t0):
        raise InputError("output times must be non-decreasing and not before the start time")
    if not tol > 0:
        raise InputError(f"tol must be positive, got {tol!r}")
    span = float(times[-1] - t0) if times.size else 0.0
    dt = first_step if first_step else 1e-3 * span
    stats = StepStats()
    states, t, bound = [], float(t0), 0.0
    q = np.ascontiguousarray(q, dtype=float)
    floor = _ROUNDING * np.abs(q).sum() * weight
    richardson = 2.0**order - 1.0
    for t_out in times:
        while t < t_out:
            if stats.accepted + stats.rejected >= max_steps:
                raise InputError(
                    f"time integration needed more than {max_steps} steps to reach t = {t_out:g} "
                    f"(at t = {t:g}, step {dt:.3g}); raise max_steps or the tolerance tol = {tol:g}"
                )
            step = min(dt, t_out - t)
            last = step >= t_out - t
            half, gap = doubled(q, t, step)
            err = gap * weight / richardson
            # below ~u ||q|| the difference is rounding, not truncation: never ask for less
            ok = err <= tol * step + floor
            if ok:
                # every stage conserves the mass exactly in exact arithmetic: keep rounding from
                # accumulating over the steps, as the exact path does (a relative change ~u)
                before, after = q.sum(), half.sum()
                q = half * (before / after) if after != 0 else half
                bound += err
                t = float(t_out) if last else t + step
                stats.accepted += 1
            else:
                stats.rejected += 1
            if np.isfinite(err):
                factor = _SAFETY * ((tol * step + floor) / err) ** (1.0 / order) if err > 0 else _GROW
                factor = min(_GROW, max(_SHRINK, factor))
            else:
                factor = _SHRINK
            if not (ok and last and step < dt):  # a step cut short to land on t_out keeps dt
                dt = step * factor
        states.append(q.copy())
        stats.error_bound.append(bound)
    stats.next_step = dt
    return states, stats


def integrate_split(
    coefficients: Sequence[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]],
    h: Sequence[float],
    q: np.ndarray,
    t0: float,
    times: Sequence[float],
    *,
    weight: float,
    tol: float = DEFAULT_TIME_TOL,
    max_steps: int = 100_000,
    first_step: float | None = None,
    fitted: bool = True,
    periodic: Sequence[bool] | None = None,
) -> tuple[list[np.ndarray], StepStats]:
    r"""Integrate :math:`\dot q = \sum_k L_k(t)\,q` on a 1-3D array whose axes do not decouple.

    For a drift that is not separable, :math:`L_k(t)` (the fitted operator along axis :math:`k`)
    varies from line to line and the :math:`L_k` do not commute.  One step is Strang's symmetric
    splitting, each sub-flow one SDIRK4 step of :func:`~fpcheck.grid._stepping.sdirk_step_lines_each`
    on its own time interval:

    .. math::
        q \leftarrow \Phi_1^{[t, t + \Delta t/2]} \cdots \Phi_d^{[t, t + \Delta t]} \cdots
        \Phi_1^{[t + \Delta t/2, t + \Delta t]}\, q,

    second order (the splitting error, :math:`O(\Delta t^3)` per step with the commutators of the
    :math:`L_k`, dominates the :math:`O(\Delta t^5)` of each sub-step); in 1D it is one SDIRK4 step.
    Error control is the same step doubling as :func:`integrate_lines`, with
    :math:`\epsilon = \|y_2 - y_1\|_1/(2^p - 1)`, :math:`p = 2` (4 in 1D).

    Parameters
    ----------
    coefficients : sequence of callables, one per axis
        ``coefficients[k](ts) -> (face_drift (m, lines, n_k - 1), diffusion (m,))``, the lines of
        axis ``k`` ordered as the rows of ``np.moveaxis(q, k, -1).reshape(-1, n_k)``.
    h : sequence of float
        Cell widths per axis.
    q : array
        Cell averages at ``t0``.
    t0, times, weight, tol, max_steps, first_step, fitted
        As in :func:`integrate_lines`.
    periodic : sequence of bool, optional
        Per axis, whether it is a circle (its coefficients then give ``n_k`` faces).

    Returns
    -------
    states : list of arrays shaped like ``q``
    stats : StepStats
    """
    from ._stepping import SDIRK_A, SDIRK_C, flux_coefficients, sdirk_step_lines_each

    ndim = q.ndim
    periodic = (False,) * ndim if periodic is None else tuple(periodic)
    if len(coefficients) != ndim or len(h) != ndim or len(periodic) != ndim:
        raise InputError(f"need one coefficient function, cell width and periodic flag per axis ({ndim})")

    def flow(q, k, t, dt):
        lines = np.moveaxis(q, k, -1)
        shape = lines.shape
        flat = np.ascontiguousarray(lines.reshape(-1, shape[-1]))
        drift, diffusion = coefficients[k](t + SDIRK_C * dt)
        drift, diffusion = np.asarray(drift, dtype=float), np.asarray(diffusion, dtype=float)
        s, m, nf = drift.shape
        # coefficients that do not change in time (a broadcast drift, one diffusion): assemble once
        frozen = drift.strides[0] == 0 and np.all(diffusion == diffusion[0])
        rows = 1 if frozen else s
        lo, di, up = flux_coefficients(
            np.ascontiguousarray(drift[:rows]).reshape(rows * m, nf),
            np.repeat(diffusion[:rows], m),
            h[k],
            fitted,
            periodic[k],
        )
        lo, di, up = (np.broadcast_to(a.reshape(rows, m, -1), (s, m, a.shape[-1])) for a in (lo, di, up))
        out = sdirk_step_lines_each(lo, di, up, flat, dt, SDIRK_A)
        return np.moveaxis(out.reshape(shape), -1, k)

    def strang(q, t, dt):
        for k in range(ndim - 1):
            q = flow(q, k, t, 0.5 * dt)
        q = flow(q, ndim - 1, t, dt)
        for k in range(ndim - 2, -1, -1):
            q = flow(q, k, t + 0.5 * dt, 0.5 * dt)
        return q

    def doubled(q, t, dt):
        whole = strang(q, t, dt)
        half = strang(strang(q, t, 0.5 * dt), t + 0.5 * dt, 0.5 * dt)
        return half, float(np.abs(half - whole).sum())

    return _adaptive(doubled, 4 if ndim == 1 else 2, q, t0, times, weight, tol, max_steps, first_step)
