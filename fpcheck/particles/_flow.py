r"""Kernels of the probability-flow integrators: fixed-step Runge-Kutta and Dormand-Prince 5(4).

The ODE :math:`dx/dt = v(x, t)`, :math:`v = f - \tfrac12 g^2 \nabla\log q_t` (MATH.md section 3), on
nodes :math:`t_0, \dots, t_K` in either direction (signed steps :math:`h_k = t_{k+1} - t_k`):

========  ==========================================================================  ============
scheme    step                                                                        order
========  ==========================================================================  ============
euler     :math:`x + h\,v(x, t_k)`                                                    1
heun      explicit trapezoid: :math:`k_1 = v(x, t_k)`, :math:`k_2 = v(x + h k_1, t_{k+1})`,  2
          :math:`x + \tfrac h2 (k_1 + k_2)`
rk4       classical Runge-Kutta with stages at :math:`t_k, t_k + h/2, t_k + h/2, t_{k+1}`  4
========  ==========================================================================  ============

:func:`flow_fixed` runs the whole loop compiled with the exact field of :mod:`._fields`, its
stage tables at the stage times of :func:`stage_times` (``euler``, ``heun``: the nodes; ``rk4``:
the half-step grid :math:`t_0, t_{1/2}, t_1, \dots`).  :func:`flow_fixed_numpy` is the same steps
vectorised in NumPy over any velocity callable: the path for users' velocities, and with
:meth:`fpcheck.analytic.ExactMarginals.velocity` the reference the tests hold the kernel to.

:func:`dopri5` is Dormand-Prince 5(4) with FSAL and the standard step controller (Hairer, Nørsett
& Wanner, *Solving ODEs I*, section II.4), in NumPy over a whole batch of particles.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

from ..errors import InputError
from ._fields import BLOCK, block_scratch, drift_block, load_block
from ._march import guard_stages, march
from ._reverse import mark_escaped, save_block

__all__ = ["SCHEMES", "stage_times", "flow_fixed", "flow_fixed_numpy", "flow_fixed_reference", "dopri5"]

#: Fixed-step schemes and their codes in the kernels.
SCHEMES = {"euler": 0, "heun": 1, "rk4": 2}


def stage_times(nodes: np.ndarray, scheme: int) -> np.ndarray:
    """The times at which ``scheme`` evaluates the field: the nodes, or for rk4 the half-step grid."""
    if scheme != SCHEMES["rk4"]:
        return nodes
    out = np.empty(2 * nodes.size - 1)
    out[0::2] = nodes
    out[1::2] = 0.5 * (nodes[:-1] + nodes[1:])
    return out


@njit(cache=True, inline="always")
def _axpy(x, a, k, y):
    """``y = x + a k`` on (d, B) blocks."""
    d, B = x.shape
    for e in range(d):
        for r in range(B):
            y[e, r] = x[e, r] + a * k[e, r]


@njit(cache=True, parallel=True)
def flow_fixed(x0, tab, h, scheme, save_after, bound):
    """Fixed-step flow from ``x0`` (n, d) over ``K = h.size`` signed steps with the exact velocity (alpha = 1/2).

    ``tab``: the field tables at :func:`stage_times`; ``scheme``: 0 euler, 1 heun, 2 rk4;
    ``save_after`` (m,): the state after that many steps goes to ``out[j]``.  Returns
    ``(out (m, n, d), bad (n,))``: ``bad[r]`` is the first step after which particle ``r`` is
    outside ``|x| <= bound`` (or NaN), -1 if never.  Blocks of 256 particles run in parallel,
    each step by step, one stage at a time over the block.
    """
    n, d = x0.shape
    K = h.size
    m = save_after.size
    out = np.empty((m, n, d))
    bad = np.full(n, -1, dtype=np.int64)
    for c in prange((n + BLOCK - 1) // BLOCK):
        lo = c * BLOCK
        nb = min(n, lo + BLOCK) - lo
        x = np.empty((d, nb))
        y = np.empty((d, nb))
        k1 = np.empty((d, nb))
        k2 = np.empty((d, nb))
        k3 = np.empty((d, nb))
        k4 = np.empty((d, nb))
        zs, ell, top, total = block_scratch(tab, d, nb)
        load_block(x0, lo, x)
        j = 0
        while j < m and save_after[j] == 0:
            save_block(x, out, j, lo)
            j += 1
        for k in range(K):
            hk = h[k]
            if scheme == 0:
                drift_block(x, tab, k, 0.5, k1, zs, ell, top, total)
                _axpy(x, hk, k1, x)
            elif scheme == 1:
                drift_block(x, tab, k, 0.5, k1, zs, ell, top, total)
                _axpy(x, hk, k1, y)
                drift_block(y, tab, k + 1, 0.5, k2, zs, ell, top, total)
                for e in range(d):
                    for r in range(nb):
                        x[e, r] += 0.5 * hk * (k1[e, r] + k2[e, r])
            else:
                drift_block(x, tab, 2 * k, 0.5, k1, zs, ell, top, total)
                _axpy(x, 0.5 * hk, k1, y)
                drift_block(y, tab, 2 * k + 1, 0.5, k2, zs, ell, top, total)
                _axpy(x, 0.5 * hk, k2, y)
                drift_block(y, tab, 2 * k + 1, 0.5, k3, zs, ell, top, total)
                _axpy(x, hk, k3, y)
                drift_block(y, tab, 2 * k + 2, 0.5, k4, zs, ell, top, total)
                for e in range(d):
                    for r in range(nb):
                        x[e, r] += hk / 6.0 * (k1[e, r] + 2.0 * (k2[e, r] + k3[e, r]) + k4[e, r])
            mark_escaped(x, bound, k, bad, lo)
            while j < m and save_after[j] == k + 1:
                save_block(x, out, j, lo)
                j += 1
    return out, bad


def flow_fixed_numpy(
    x0: np.ndarray,
    velocity: Callable[[np.ndarray, int], np.ndarray],
    h: np.ndarray,
    scheme: int,
    save_after: np.ndarray,
    bound: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`flow_fixed` vectorised in NumPy: ``velocity(x, j)`` is :math:`v` at stage time ``j`` of :func:`stage_times`.

    One call of ``velocity`` per stage per step (1, 2 or 4).  Stops at the first step in which a
    particle escapes; returns ``(out, bad)`` as the kernel does.
    """
    velocity = guard_stages(velocity)

    def step(x, k):
        hk = h[k]
        if scheme == 0:
            return x + hk * velocity(x, k)
        if scheme == 1:
            k1 = velocity(x, k)
            return x + 0.5 * hk * (k1 + velocity(x + hk * k1, k + 1))
        k1 = velocity(x, 2 * k)
        k2 = velocity(x + 0.5 * hk * k1, 2 * k + 1)
        k3 = velocity(x + 0.5 * hk * k2, 2 * k + 1)
        k4 = velocity(x + hk * k3, 2 * k + 2)
        return x + hk / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)

    return march(x0, step, h.size, save_after, bound)


def flow_fixed_reference(x0, velocity, nodes, scheme, save_after):
    """The reference of :func:`flow_fixed`: NumPy steps on ``velocity(x, t)`` (e.g. ``ExactMarginals.velocity``)."""
    times = stage_times(np.asarray(nodes, dtype=float), scheme)
    out, _ = flow_fixed_numpy(x0, lambda x, j: velocity(x, float(times[j])), np.diff(nodes), scheme, save_after)
    return out


# ------------------------------------------------------------------------------ Dormand-Prince 5(4)

#: Dormand-Prince 5(4) tableau (Hairer, Nørsett & Wanner I, table II.5.2): nodes, stages, 5th-order weights.
_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0])
_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
]
_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
#: The 5th- minus the embedded 4th-order weights, over all 7 stages (the 7th is FSAL's f(x_new)).
_E = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])
_SAFETY, _FAC_MIN, _FAC_MAX = 0.9, 0.2, 10.0
_ERROR_EXPONENT = -1.0 / 5.0  # 1 / (q + 1), q = 4 the order of the embedded method


def _batch_norm(v: np.ndarray, scale: np.ndarray) -> float:
    """The max over particles (rows) of the RMS over components of ``v / scale``."""
    if v.size == 0:
        return 0.0
    return float(np.sqrt(np.mean((v / scale) ** 2, axis=1)).max())


def _initial_step(fun, t0, y0, f0, direction, span, rtol, atol) -> float:
    """Hairer, Nørsett & Wanner's starting step (I, section II.4) in the batch norm."""
    scale = atol + rtol * np.abs(y0)
    d0, d1 = _batch_norm(y0, scale), _batch_norm(f0, scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, span)
    f1 = fun(y0 + direction * h0 * f0, t0 + direction * h0)
    d2 = _batch_norm(f1 - f0, scale) / h0
    h1 = max(1e-6, 1e-3 * h0) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** (1.0 / 5.0)
    return min(100.0 * h0, h1, span)


def dopri5(
    fun: Callable[[np.ndarray, float], np.ndarray],
    t0: float,
    y0: np.ndarray,
    targets: np.ndarray,
    rtol: float,
    atol: float,
    bound: float = np.inf,
    max_steps: int = 100_000,
) -> tuple[np.ndarray, int, int]:
    r"""Dormand-Prince 5(4) on a batch ``y0`` (n, d) from ``t0`` to each of ``targets`` (in the order of travel).

    The step is shared by the batch.  Its error estimate
    :math:`e = h \sum_i (b_i - \hat b_i) k_i` is measured as

    .. math::
        \|e\| = \max_{\text{particles}} \Big(\frac1d \sum_{c} \Big(\frac{e_c}{\text{atol} +
        \text{rtol} \max(|y_c|, |y^{new}_c|)}\Big)^2\Big)^{1/2},

    so every particle meets the tolerance (and the step sequence depends on the batch).  A step is
    accepted when :math:`\|e\| \le 1`; the next step is
    :math:`h \min(10, \max(0.2, 0.9\,\|e\|^{-1/5}))`, not increased right after a rejection; steps
    are shortened to land on each target.  The 5th-order solution is propagated (local
    extrapolation) and its last stage reused as the next step's first (FSAL): 6 evaluations per
    step.  Returns ``(out (m, n, d), accepted, rejected)``; raises
    :class:`~fpcheck.errors.InputError` when a particle escapes ``|x| <= bound``, the step
    underflows, or more than ``max_steps`` steps are needed.
    """
    targets = np.asarray(targets, dtype=float)
    y = np.array(y0, dtype=float)
    out = np.empty((targets.size,) + y.shape)
    direction = 1.0 if targets[-1] >= t0 else -1.0
    t, j = float(t0), 0
    while j < targets.size and targets[j] == t:
        out[j] = y
        j += 1
    accepted = rejected = 0
    if j == targets.size:
        return out, accepted, rejected
    f = fun(y, t)
    h_abs = _initial_step(fun, t, y, f, direction, abs(targets[-1] - t), rtol, atol)
    just_rejected = False
    stages = np.empty((7,) + y.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        while j < targets.size:
            target = float(targets[j])
            if h_abs >= abs(target - t):
                t_new = target
            else:
                t_new = t + direction * h_abs
            h = t_new - t
            if abs(h) <= 10.0 * np.spacing(max(abs(t), abs(t_new))):
                raise InputError(
                    f"rk45: the step size fell to {abs(h):.3g} at t = {t:.6g} after {accepted} steps; "
                    "the velocity is too stiff or not smooth there: loosen rtol/atol or use a fixed-step method"
                )
            stages[0] = f
            for s in range(1, 6):
                ys = y + h * np.tensordot(_A[s], stages[:s], axes=1)
                stages[s] = fun(ys, t_new if _C[s] == 1.0 else t + _C[s] * h)
            y_new = y + h * np.tensordot(_B, stages[:6], axes=1)
            f_new = fun(y_new, t_new)
            stages[6] = f_new
            scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
            err = _batch_norm(h * np.tensordot(_E, stages, axes=1), scale)
            if not np.isfinite(err):
                err = np.inf
            if err <= 1.0:
                if not np.all(np.abs(y_new) <= bound):
                    raise InputError(
                        f"rk45: particles blew up in step {accepted + 1} (t = {t:.6g} -> {t_new:.6g}): |x| went "
                        f"past {bound:.3g}; the flow leaves every bounded set there (check the velocity)"
                    )
                factor = _FAC_MAX if err == 0 else min(_FAC_MAX, _SAFETY * err**_ERROR_EXPONENT)
                if just_rejected:
                    factor = min(1.0, factor)
                h_abs = abs(h) * factor
                t, y, f = t_new, y_new, f_new
                accepted += 1
                just_rejected = False
                while j < targets.size and targets[j] == t:
                    out[j] = y
                    j += 1
            else:
                h_abs = abs(h) * max(_FAC_MIN, _SAFETY * err**_ERROR_EXPONENT)
                rejected += 1
                just_rejected = True
            if accepted + rejected > max_steps:
                raise InputError(
                    f"rk45: more than {max_steps} steps to reach t = {target:.6g} (now at t = {t:.6g}); "
                    "loosen rtol/atol or check the velocity"
                )
    return out, accepted, rejected
