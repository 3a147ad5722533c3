r"""Residuals of the Fokker-Planck and continuity equations, by finite differences.

Given a density :math:`q(x, t)` as a callable, these evaluate on a uniform grid

.. math::
    R_{FP} = \partial_t q + \nabla\cdot(f q) - \tfrac12 g(t)^2 \Delta q, \qquad
    R_{C}  = \partial_t q + \nabla\cdot(q v),

with spatial derivatives from findiff (central stencils of accuracy order ``acc``, one-sided at
the edges) and :math:`\partial_t q` from a five-point stencil (order 4).  A density that solves
the equation leaves a residual at the level of the truncation error, which falls like
:math:`h^{acc}`; a wrong sign or factor leaves a residual of the size of the terms themselves.
:func:`residual_order` measures that fall, so a check needs no hand-tuned tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import _validation as val
from .errors import InputError
from .processes import Process

__all__ = ["Residual", "fokker_planck_residual", "continuity_residual", "residual_order"]

# five-point first-derivative stencils of order 4: central, forward and backward
_STENCILS = {
    "central": (np.arange(-2, 3), np.array([1.0, -8.0, 0.0, 8.0, -1.0]) / 12.0),
    "forward": (np.arange(0, 5), np.array([-25.0, 48.0, -36.0, 16.0, -3.0]) / 12.0),
    "backward": (np.arange(-4, 1), np.array([3.0, -16.0, 36.0, -48.0, 25.0]) / 12.0),
}


@dataclass(frozen=True)
class Residual:
    """The size of a PDE residual on a grid.

    Attributes
    ----------
    max_abs : float
        :math:`\\max |R|` over the grid.
    scale : float
        The largest of :math:`\\max|\\cdot|` over the equation's individual terms.
    relative : float
        ``max_abs / scale``: about the truncation error for a solution, of order one for a non-solution.
    h : float
        The largest grid step.
    """

    max_abs: float
    scale: float
    relative: float
    h: float


def _mesh(axes: Sequence) -> tuple[list[np.ndarray], np.ndarray, list[float]]:
    arrays, steps = [], []
    for i, ax in enumerate(axes):
        a = val.finite_array(ax, f"axes[{i}]", ndim=1)
        if a.size < 9:
            raise InputError(f"axes[{i}] needs at least 9 points for the finite-difference stencils")
        d = np.diff(a)
        if np.any(d <= 0) or np.ptp(d) > 1e-9 * d.mean():
            raise InputError(f"axes[{i}] must be uniform and increasing")
        arrays.append(a)
        steps.append(float(d.mean()))
    mesh = np.meshgrid(*arrays, indexing="ij")
    return arrays, np.stack([m.ravel() for m in mesh], axis=1), steps


def _time_derivative(density: Callable, pts: np.ndarray, t: float, dt: float, T: float) -> np.ndarray:
    kind = "central" if t - 2 * dt >= 0 and t + 2 * dt <= T else ("forward" if t - 2 * dt < 0 else "backward")
    offsets, weights = _STENCILS[kind]
    return sum(w * density(pts, t + k * dt) for k, w in zip(offsets, weights) if w != 0.0) / dt


def _divergence(fields: np.ndarray, shape: tuple, steps: list[float], acc: int) -> np.ndarray:
    from findiff import Diff

    return sum(Diff(i, h, acc=acc)(fields[:, i].reshape(shape)) for i, h in enumerate(steps))


def _laplacian(q: np.ndarray, steps: list[float], acc: int) -> np.ndarray:
    from findiff import Diff

    return sum((Diff(i, h, acc=acc) ** 2)(q) for i, h in enumerate(steps))


def _residual(terms: list[np.ndarray], h: float) -> Residual:
    res = np.abs(sum(terms))
    scale = max(float(np.abs(term).max()) for term in terms)
    if scale == 0:
        raise InputError("every term of the equation vanishes on this grid; move the grid onto the density")
    return Residual(float(res.max()), scale, float(res.max()) / scale, h)


def fokker_planck_residual(
    process: Process, density: Callable, axes: Sequence, t: float, *, dt: float | None = None, acc: int = 6
) -> Residual:
    r"""Residual of :math:`\partial_t q = -\nabla\cdot(f q) + \frac12 g^2 \Delta q` for ``density(x, t)``.

    Parameters
    ----------
    process : Process
        Supplies :math:`f` and :math:`g^2`.
    density : callable
        ``density(x, t) -> (n,)`` for points ``x`` of shape ``(n, d)``.
    axes : sequence of d uniform 1-D arrays
        The grid (its tensor product).
    t : float
        Time inside ``[0, T]``.
    dt : float, optional
        Time step of the five-point stencil (default ``1e-5 T``: error :math:`O(dt^4)` against round-off :math:`O(\epsilon/dt)`).
    acc : int
        Accuracy order of the spatial stencils.
    """
    t = float(process.check_time(t))
    dt = 1e-5 * process.T if dt is None else val.positive(dt, "dt")
    arrays, pts, steps = _mesh(axes)
    shape = tuple(a.size for a in arrays)
    q = density(pts, t)
    dq_dt = _time_derivative(density, pts, t, dt, process.T).reshape(shape)
    flux_div = _divergence(process.drift(pts, t) * q[:, None], shape, steps, acc)
    diffusion = 0.5 * float(process.g2(t)) * _laplacian(q.reshape(shape), steps, acc)
    return _residual([dq_dt, flux_div, -diffusion], max(steps))


def continuity_residual(
    velocity: Callable, density: Callable, axes: Sequence, t: float, T: float, *, dt: float | None = None, acc: int = 6
) -> Residual:
    r"""Residual of :math:`\partial_t q = -\nabla\cdot(q v)` for ``density(x, t)`` and ``velocity(x, t) -> (n, d)``.

    ``T`` is the end of the time range (the time stencil stays inside ``[0, T]``); the other
    parameters are those of :func:`fokker_planck_residual`.
    """
    t, T = float(t), val.positive(T, "T")
    dt = 1e-5 * T if dt is None else val.positive(dt, "dt")
    arrays, pts, steps = _mesh(axes)
    shape = tuple(a.size for a in arrays)
    q = density(pts, t)
    dq_dt = _time_derivative(density, pts, t, dt, T).reshape(shape)
    flux_div = _divergence(np.asarray(velocity(pts, t)) * q[:, None], shape, steps, acc)
    return _residual([dq_dt, flux_div], max(steps))


def residual_order(fine: Residual, coarse: Residual) -> float:
    """The observed order of convergence :math:`\\log(R_{2h}/R_h)/\\log(h_{2h}/h_h)` of two residuals."""
    if fine.max_abs == 0:
        return float("inf")
    return float(np.log(coarse.max_abs / fine.max_abs) / np.log(coarse.h / fine.h))
