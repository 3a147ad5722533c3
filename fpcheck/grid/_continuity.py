r"""The flux divergence :math:`\partial_k(q v_k)` of cell averages along one axis: upwind WENO5 with a positivity limiter.

For the continuity equation :math:`\partial_t q = -\nabla\cdot(q v)` on a uniform grid, the
finite-volume rate of cell :math:`i` along axis :math:`k` is :math:`-(F_{i+1/2} - F_{i-1/2})/h_k`,
with the face flux :math:`F_{i+1/2} = u_{i+1/2}\,q_{i+1/2}` of the face velocity
:math:`u_{i+1/2} = v_k(x_{i+1/2})` and a face value :math:`q_{i+1/2}` reconstructed from the cell
averages on the upwind side:

.. math::
    F_{i+1/2} = \max(u_{i+1/2}, 0)\,q^-_{i+1/2} + \min(u_{i+1/2}, 0)\,q^+_{i+1/2},

:math:`q^-_{i+1/2}` being cell :math:`i`'s value at its right face and :math:`q^+_{i+1/2}` cell
:math:`i+1`'s value at its left face.  (The flux is linear in :math:`q`, so the exact Riemann
solver is this upwind choice.)

**WENO5 (Jiang & Shu, J. Comput. Phys. 126 (1996) 202-228).**  From the averages
:math:`(a, b, c, d, e) = (\bar q_{i-2}, \dots, \bar q_{i+2})` the value at :math:`x_{i+1/2}` is
:math:`q^- = \sum_r \omega_r p_r` over the three third-order candidates

.. math::
    p_0 = \tfrac16(2a - 7b + 11c), \quad p_1 = \tfrac16(-b + 5c + 2d), \quad p_2 = \tfrac16(2c + 5d - e),

with the nonlinear weights :math:`\omega_r = \alpha_r / \sum_s \alpha_s`,
:math:`\alpha_r = \gamma_r / (\varepsilon + \beta_r)^2`, linear weights
:math:`\gamma = (\tfrac1{10}, \tfrac6{10}, \tfrac3{10})` (which make :math:`\sum_r \gamma_r p_r`
fifth order) and smoothness indicators

.. math::
    \beta_0 &= \tfrac{13}{12}(a - 2b + c)^2 + \tfrac14(a - 4b + 3c)^2, \\
    \beta_1 &= \tfrac{13}{12}(b - 2c + d)^2 + \tfrac14(b - d)^2, \\
    \beta_2 &= \tfrac{13}{12}(c - 2d + e)^2 + \tfrac14(3c - 4d + e)^2.

Cell :math:`i`'s value at its left face, :math:`q^+_{i-1/2}`, is the same formula on the mirrored
stencil :math:`(e, d, c, b, a)`.  :math:`\varepsilon` carries the units of :math:`q^2`; the solver
passes :func:`weno_epsilon` of the initial density's maximum (:math:`10^{-6}\max q_0^2`, Jiang and
Shu's :math:`10^{-6}` for data of size one), so that scaling :math:`q_0` scales the solution.

**Positivity (Zhang & Shu, J. Comput. Phys. 229 (2010) 3091-3120, and Proc. R. Soc. A 467 (2011)
2752-2776, the finite-volume form).**  Let :math:`L = q^+_{i-1/2}`, :math:`R = q^-_{i+1/2}` be cell
:math:`i`'s two face values and :math:`\xi = \tfrac32\,(\bar q_i - \tfrac16 L - \tfrac16 R)` the
centre value of the quadratic with these end values and average :math:`\bar q_i`, so that
:math:`\bar q_i = \tfrac16 L + \tfrac23 \xi + \tfrac16 R` (Simpson's rule, exact for it).  With
:math:`m = \min(L, R, \xi)`, the limiter

.. math::
    \tilde L = \bar q_i + \theta (L - \bar q_i), \qquad \tilde R = \bar q_i + \theta (R - \bar q_i), \qquad
    \theta = \min\Big(1, \frac{\bar q_i}{\bar q_i - m}\Big)

leaves the average unchanged and makes :math:`\tilde L, \tilde R, \tilde\xi \ge 0` whenever
:math:`\bar q_i \ge 0` (:math:`\theta = 1`, no change, unless :math:`m < 0`).  It is evaluated as
:math:`\tilde L = \bar q_i (L - m)/(\bar q_i - m)`, a product and quotient of non-negative numbers,
so that a face value limited to zero is exactly zero rather than a rounding error of either sign
(which would draw mass out of an empty neighbour).  Writing the forward
Euler update with these values,

.. math::
    \bar q_i^{\,n+1} = \tfrac23\tilde\xi_i + (\tfrac16 - \lambda u^+_{i+1/2})\tilde R_i
    + (\tfrac16 + \lambda u^-_{i-1/2})\tilde L_i + \lambda u^+_{i-1/2}\tilde R_{i-1} - \lambda u^-_{i+1/2}\tilde L_{i+1},

(:math:`\lambda = \Delta t/h`, :math:`u^\pm` the positive and negative parts) is a sum of
non-negative terms when :math:`\lambda\max|u| \le \tfrac16`: the cell averages stay non-negative.
In :math:`d` dimensions, splitting :math:`\bar q_i` over the axes in proportion to
:math:`\lambda_k \max|u_k|` gives the bound :math:`\Delta t\sum_k \max|u_k|/h_k \le \tfrac16`
(:data:`POSITIVITY_CFL`), and SSP Runge-Kutta methods, convex combinations of Euler steps, keep
it.  Where the solution is smooth and positive, :math:`\xi` is the centre value up to
:math:`O(h^4)` and :math:`\theta = 1`: the limiter costs no accuracy (Zhang and Shu, sec. 2.4).
A cell with :math:`\bar q_i = 0` gets :math:`\tilde L = \tilde R = 0` (and one with
:math:`\bar q_i < 0`, which the solver never produces, :math:`\tilde L = \tilde R = \bar q_i`).

**Boundaries.**  The outer faces of the axis carry no flux whatever the velocity there (zero-flux
walls).  The stencils of the first and last two cells reach past the wall into ghost cells filled by
constant extrapolation (:math:`\bar q_{-2} = \bar q_{-1} = \bar q_0`, likewise on the right): the
reconstruction there is bounded and positive-limited as everywhere, only its order drops, which is
harmless where the density is negligible at the walls (the solver warns when it is not).

The kernels are module-level ``@njit(cache=True)`` functions on plain arrays;
:func:`flux_divergence_reference` is the plain NumPy operator that the tests hold
:func:`flux_divergence` to.  Numba is imported with this module, which :mod:`fpcheck` never imports
eagerly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..errors import InputError

__all__ = [
    "flux_divergence",
    "flux_divergence_lines",
    "flux_divergence_reference",
    "weno_epsilon",
    "POSITIVITY_CFL",
    "WENO_EPS",
]

#: Largest :math:`\Delta t \sum_k \max|u_k|/h_k` under which a forward Euler step, and hence an
#: SSP-RK3 step, keeps the cell averages non-negative (the weight of the end points in Simpson's rule).
POSITIVITY_CFL = 1.0 / 6.0

#: Jiang and Shu's :math:`\varepsilon` for data of size one; :func:`weno_epsilon` scales it by
#: the square of the data's size.
WENO_EPS = 1e-6

# Smallest data scale :func:`weno_epsilon` uses: keeps (eps + beta)^2 >= 1e-252 (no division by 0).
_MIN_SCALE = 1e-60


def weno_epsilon(scale: float) -> float:
    r"""The :math:`\varepsilon` of the WENO weights for data of size ``scale``: :math:`10^{-6}\,\mathrm{scale}^2`.

    The smoothness indicators :math:`\beta_r` are quadratic in :math:`q`; this :math:`\varepsilon`
    makes the weights, and so the scheme, invariant under :math:`q \to c\,q`.
    """
    s = max(abs(float(scale)), _MIN_SCALE)
    return WENO_EPS * s * s


# --------------------------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _weno5(a, b, c, d, e, eps):
    """Jiang-Shu WENO5 value at the right face of the middle cell of the averages ``a, b, c, d, e``."""
    p0 = (2.0 * a - 7.0 * b + 11.0 * c) / 6.0
    p1 = (-b + 5.0 * c + 2.0 * d) / 6.0
    p2 = (2.0 * c + 5.0 * d - e) / 6.0
    s0 = a - 2.0 * b + c
    t0 = a - 4.0 * b + 3.0 * c
    s1 = b - 2.0 * c + d
    t1 = b - d
    s2 = c - 2.0 * d + e
    t2 = 3.0 * c - 4.0 * d + e
    b0 = eps + (13.0 / 12.0 * (s0 * s0) + 0.25 * (t0 * t0))
    b1 = eps + (13.0 / 12.0 * (s1 * s1) + 0.25 * (t1 * t1))
    b2 = eps + (13.0 / 12.0 * (s2 * s2) + 0.25 * (t2 * t2))
    a0 = 0.1 / (b0 * b0)
    a1 = 0.6 / (b1 * b1)
    a2 = 0.3 / (b2 * b2)
    return (a0 * p0 + a1 * p1 + a2 * p2) / (a0 + a1 + a2)


@njit(cache=True)
def flux_divergence_lines(q, u, inv_h, eps, out):
    r"""Write :math:`(F_{i+1/2} - F_{i-1/2})/h` along axis 1 of ``q`` into ``out``.

    Parameters
    ----------
    q : float64 array (m, n, p)
        Cell averages; the axis of the operator is the middle one (``m`` and ``p`` collect the axes
        before and after it, so any C-ordered 1-3D array is viewed this way without a copy).
    u : float64 array (m, n + 1, p)
        Face velocities, including the two outer faces (ignored: they carry no flux).
    inv_h : float
        :math:`1/h`.
    eps : float
        The WENO :math:`\varepsilon` (absolute, :func:`weno_epsilon`).
    out : float64 array (m, n, p)
        Overwritten with the divergence.

    Upwind Jiang-Shu WENO5 face values, Zhang-Shu positivity limiter with Simpson weight 1/6,
    constant-extrapolation ghost cells (module notes).  No checks: :func:`flux_divergence` validates.
    """
    m, n, p = q.shape
    left = np.empty((n, p))
    right = np.empty((n, p))
    flux = np.empty(p)
    for a in range(m):
        for i in range(n):
            im2 = max(i - 2, 0)
            im1 = max(i - 1, 0)
            ip1 = min(i + 1, n - 1)
            ip2 = min(i + 2, n - 1)
            for k in range(p):
                qa = q[a, im2, k]
                qb = q[a, im1, k]
                qc = q[a, i, k]
                qd = q[a, ip1, k]
                qe = q[a, ip2, k]
                lv = _weno5(qe, qd, qc, qb, qa, eps)
                rv = _weno5(qa, qb, qc, qd, qe, eps)
                xi = 1.5 * (qc - (lv + rv) / 6.0)
                lo = min(lv, rv, xi)
                if lo < 0.0:
                    if qc > 0.0:
                        spread = qc - lo
                        lv = qc * (lv - lo) / spread
                        rv = qc * (rv - lo) / spread
                    else:
                        lv = qc
                        rv = qc
                left[i, k] = lv
                right[i, k] = rv
        for k in range(p):
            flux[k] = 0.0
        for i in range(n - 1):
            for k in range(p):
                w = u[a, i + 1, k]
                f = w * right[i, k] if w > 0.0 else w * left[i + 1, k]
                out[a, i, k] = (f - flux[k]) * inv_h
                flux[k] = f
        for k in range(p):
            out[a, n - 1, k] = (0.0 - flux[k]) * inv_h


# --------------------------------------------------------------------------------------------
# Public wrappers
# --------------------------------------------------------------------------------------------


def _lines_shape(shape: tuple[int, ...], axis: int) -> tuple[int, int, int]:
    return (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))


def _checked(q, u, h, axis, eps):
    q = np.ascontiguousarray(q, dtype=float)
    u = np.ascontiguousarray(u, dtype=float)
    if not 1 <= q.ndim <= 3:
        raise InputError(f"q must be a 1-3D array of cell averages, got shape {q.shape}")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -q.ndim <= axis < q.ndim:
        raise InputError(f"axis must be an integer in [0, {q.ndim}), got {axis!r}")
    axis = int(axis) % q.ndim
    want = q.shape[:axis] + (q.shape[axis] + 1,) + q.shape[axis + 1 :]
    if u.shape != want:
        raise InputError(f"face velocities along axis {axis} of a {q.shape} array need shape {want}, got {u.shape}")
    if not (np.isfinite(h) and h > 0):
        raise InputError(f"h must be a positive cell width, got {h!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise InputError(f"eps must be positive (see weno_epsilon), got {eps!r}")
    return q, u, axis


def flux_divergence(q, u, h: float, axis: int = 0, eps: float | None = None) -> np.ndarray:
    r"""The flux divergence :math:`(F_{i+1/2} - F_{i-1/2})/h` of ``q`` along ``axis`` (compiled kernel).

    Parameters
    ----------
    q : array, 1-3D
        Cell averages, non-negative for the positivity guarantee.
    u : array
        Face velocities along ``axis``: ``q``'s shape with that axis one longer; the two outer faces
        are ignored (zero flux).
    h : float
        Cell width along ``axis``.
    axis : int
    eps : float, optional
        WENO :math:`\varepsilon`; :func:`weno_epsilon` of ``max|q|`` by default.

    Returns
    -------
    array, shape of ``q``
        :math:`\partial_k(q v_k)` in the finite-volume sense, fifth order in :math:`h` where ``q`` is
        smooth and the limiter inactive; :math:`\sum_i (\cdot)_i\,h = 0` up to round-off.
    """
    if eps is None:
        eps = weno_epsilon(float(np.max(np.abs(q), initial=0.0)))
    q, u, axis = _checked(q, u, h, axis, eps)
    shape3 = _lines_shape(q.shape, axis)
    face3 = (shape3[0], shape3[1] + 1, shape3[2])
    out = np.empty(shape3)
    flux_divergence_lines(q.reshape(shape3), u.reshape(face3), 1.0 / float(h), float(eps), out)
    return out.reshape(q.shape)


# --------------------------------------------------------------------------------------------
# NumPy reference
# --------------------------------------------------------------------------------------------


def _weno5_reference(a, b, c, d, e, eps):
    p = [(2.0 * a - 7.0 * b + 11.0 * c) / 6.0, (-b + 5.0 * c + 2.0 * d) / 6.0, (2.0 * c + 5.0 * d - e) / 6.0]
    beta = [
        13.0 / 12.0 * (a - 2.0 * b + c) ** 2 + 0.25 * (a - 4.0 * b + 3.0 * c) ** 2,
        13.0 / 12.0 * (b - 2.0 * c + d) ** 2 + 0.25 * (b - d) ** 2,
        13.0 / 12.0 * (c - 2.0 * d + e) ** 2 + 0.25 * (3.0 * c - 4.0 * d + e) ** 2,
    ]
    alpha = [g / (eps + bt) ** 2 for g, bt in zip((0.1, 0.6, 0.3), beta)]
    return (alpha[0] * p[0] + alpha[1] * p[1] + alpha[2] * p[2]) / (alpha[0] + alpha[1] + alpha[2])


def flux_divergence_reference(q, u, h: float, axis: int = 0, eps: float | None = None) -> np.ndarray:
    """:func:`flux_divergence` in plain NumPy: padded arrays, whole-array formulas, ``np.where`` limiter."""
    if eps is None:
        eps = weno_epsilon(float(np.max(np.abs(q), initial=0.0)))
    q, u, axis = _checked(q, u, h, axis, eps)
    qm = np.moveaxis(q, axis, 0)
    um = np.moveaxis(u, axis, 0)
    n = qm.shape[0]
    pad = [(2, 2)] + [(0, 0)] * (qm.ndim - 1)
    g = np.pad(qm, pad, mode="edge")  # ghost cells: constant extrapolation
    a, b, c, d, e = (g[j : j + n] for j in range(5))
    left = _weno5_reference(e, d, c, b, a, eps)
    right = _weno5_reference(a, b, c, d, e, eps)
    xi = 1.5 * (c - (left + right) / 6.0)
    lo = np.minimum(np.minimum(left, right), xi)
    scaled = (lo < 0.0) & (c > 0.0)
    flat = (lo < 0.0) & ~scaled
    spread = np.where(scaled, c - lo, 1.0)
    left = np.where(scaled, c * (left - lo) / spread, np.where(flat, c, left))
    right = np.where(scaled, c * (right - lo) / spread, np.where(flat, c, right))
    w = um[1:-1]
    inner = np.where(w > 0.0, w * right[:-1], w * left[1:])
    zero = np.zeros((1,) + qm.shape[1:])
    flux = np.concatenate([zero, inner, zero])
    div = (flux[1:] - flux[:-1]) * (1.0 / float(h))
    return np.ascontiguousarray(np.moveaxis(div, 0, axis))
