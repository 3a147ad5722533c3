r"""Kernels of the time-stepping path: finite-volume operators at many times, and one SDIRK step on many lines.

The semi-discrete equation along one axis is :math:`\dot q = L(t)\,q` with :math:`L(t)` the
finite-volume operator for the face drift :math:`f(t)` and the diffusion :math:`D(t)`, with
Scharfetter-Gummel (:mod:`fpcheck.grid.operators`) or central face fluxes.  One step of size
:math:`\Delta t` of the five-stage, stiffly accurate, L-stable SDIRK method of order 4 (Hairer &
Wanner, *Solving Ordinary Differential Equations II*, sec. IV.6, eq. (6.16); :math:`\gamma = 1/4`) is

.. math::
    (I - \gamma\,\Delta t\,L_i)\,Y_i = q_n + \Delta t \sum_{j<i} a_{ij} K_j, \qquad K_i = L_i Y_i,
    \qquad L_i = L(t_n + c_i \Delta t),

:math:`q_{n+1} = Y_5` (the last row of :math:`A` is :math:`b`).

With fitted fluxes (and with central ones where the cell Peclet number :math:`|f|h/D` is at most
2), every :math:`I - \gamma\Delta t L_i` has a positive diagonal, non-positive off-diagonals and
columns that sum to one: it is a column diagonally dominant M-matrix, so the Thomas algorithm
needs no pivoting and no pivot falls below one.  Its factorisation depends only on the stage, so it is
computed once per stage and shared by every line.

Each kernel is a module-level ``@njit(cache=True)`` function with a plain NumPy/SciPy reference
(``*_reference``) that the tests hold it to.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "SDIRK_A",
    "SDIRK_C",
    "SDIRK_GAMMA",
    "flux_coefficients",
    "sdirk_step_lines",
    "sdirk_doubling_lines",
    "sdirk_step_lines_each",
    "flux_coefficients_reference",
    "dense_operator",
    "sdirk_step_dense",
    "sdirk_step_reference",
]

SDIRK_GAMMA = 0.25
#: Butcher matrix of SDIRK4 (Hairer-Wanner IV.6.16); stiffly accurate: the last row is b.
SDIRK_A = np.array(
    [
        [1 / 4, 0, 0, 0, 0],
        [1 / 2, 1 / 4, 0, 0, 0],
        [17 / 50, -1 / 25, 1 / 4, 0, 0],
        [371 / 1360, -137 / 2720, 15 / 544, 1 / 4, 0],
        [25 / 24, -49 / 48, 125 / 16, -85 / 12, 1 / 4],
    ]
)
#: Stage times (the row sums of A, exactly).
SDIRK_C = np.array([1 / 4, 3 / 4, 11 / 20, 1 / 2, 1.0])


@njit(cache=True)
def _bernoulli(z):
    # B(z) = z / (e^z - 1).  For |z| < 0.1 the series (Bernoulli numbers) to z^8: the next term
    # is below 2e-18; otherwise one exponential, 1 - e^{-|z|} losing at most u/|z| < 10u.
    a = abs(z)
    if a < 0.1:
        z2 = z * z
        return 1.0 - 0.5 * z + z2 * (1.0 / 12.0 - z2 * (1.0 / 720.0 - z2 * (1.0 / 30240.0 - z2 / 1209600.0)))
    e = math.exp(-a)
    b = a * e / (1.0 - e)  # B(|z|)
    return b if z > 0.0 else b + a


@njit(cache=True)
def flux_coefficients(face_drift, diffusion, h, fitted, periodic=False):
    r"""The finite-volume operators :math:`L(t_i)` for ``m`` times at once.

    With :math:`P = f h/D` at a face, the flux weights are :math:`\mathcal{B}(\pm P)` (fitted,
    :mod:`fpcheck.grid.operators`) or their linearisation :math:`1 \mp P/2` (central):

    .. math::
        L[k, k+1] = \frac{D}{h^2}\,w(P_{k+1/2}), \qquad L[k+1, k] = \frac{D}{h^2}\,w(-P_{k+1/2}),

    with :math:`w = \mathcal{B}` or :math:`w(P) = 1 - P/2`, i.e. :math:`D/h^2 \mp f/(2h)`, which needs
    no :math:`D > 0`.

    Parameters
    ----------
    face_drift : float64 array (m, n - 1)
        Drift at the interior faces at each time.
    diffusion : float64 array (m,)
        :math:`D(t_i)`; > 0 when ``fitted``.
    h : float
        Cell width.
    fitted : bool
        Scharfetter-Gummel weights, or central ones.
    periodic : bool
        The line is a circle of ``n`` cells and ``face_drift`` has ``n`` faces, the last between
        cell ``n - 1`` and cell 0.

    Returns
    -------
    lower, diag, upper : arrays (m, n - 1), (m, n), (m, n - 1)
        ``lower[i, k] = L_i[k+1, k]``, ``upper[i, k] = L_i[k, k+1]``; columns sum to zero.  On a
        periodic line ``lower`` and ``upper`` have ``n`` entries, the last the wrap face's
        (``L[0, n-1]`` and ``L[n-1, 0]``).
    """
    m, nf = face_drift.shape
    n = nf if periodic else nf + 1
    lower = np.empty((m, nf))
    upper = np.empty((m, nf))
    diag = np.zeros((m, n))
    for i in range(m):
        D = diffusion[i]
        k = D / (h * h)
        for j in range(nf):
            if fitted:
                P = face_drift[i, j] * h / D
                bp = _bernoulli(P)
                up = k * bp
                lo = k * (bp + P)  # B(-P) = B(P) + P
            else:
                a = 0.5 * face_drift[i, j] / h
                up = k - a
                lo = k + a
            upper[i, j] = up
            lower[i, j] = lo
            diag[i, j] -= lo
            diag[i, (j + 1) % n] -= up
    return lower, diag, upper


@njit(cache=True)
def _factor_stages(lower, diag, upper, i0, s, g, cmod, inv, sm):
    # Thomas factors of I - g L_i for stages i0 .. i0 + s - 1: modified upper diagonal, inverse
    # pivots.  On a periodic line (lower and upper carry the wrap face as entry n - 1) the cyclic
    # matrix is T + u v^T (Sherman-Morrison, as in Numerical Recipes' cyclic): the factors are
    # T's, and sm[i] holds z = T^{-1} u, beta/gamma and 1 / (1 + v^T z).
    n = diag.shape[1]
    periodic = lower.shape[1] == n
    for i in range(i0, i0 + s):
        first = 1.0 - g * diag[i, 0]
        last = 1.0 - g * diag[i, n - 1]
        if periodic:
            alpha = -g * upper[i, n - 1]  # M[n-1, 0]
            beta = -g * lower[i, n - 1]  # M[0, n-1]
            gamma = -first
            first -= gamma
            last -= alpha * beta / gamma
        piv = first
        inv[i, 0] = 1.0 / piv
        for k in range(1, n):
            cmod[i, k - 1] = -g * upper[i, k - 1] * inv[i, k - 1]
            b = last if k == n - 1 else 1.0 - g * diag[i, k]
            piv = b + g * lower[i, k - 1] * cmod[i, k - 1]
            inv[i, k] = 1.0 / piv
        if periodic:
            z = sm[i]
            for k in range(n):
                z[k] = 0.0
            z[0] = gamma
            z[n - 1] = alpha
            _thomas(lower, cmod, inv, g, i, z[:n])
            sm[i, n] = beta / gamma
            sm[i, n + 1] = 1.0 / (1.0 + z[0] + sm[i, n] * z[n - 1])


@njit(cache=True)
def _thomas(lower, cmod, inv, g, st, y):
    n = y.size
    y[0] = y[0] * inv[st, 0]
    for k in range(1, n):
        y[k] = (y[k] + g * lower[st, k - 1] * y[k - 1]) * inv[st, k]
    for k in range(n - 2, -1, -1):
        y[k] -= cmod[st, k] * y[k + 1]


@njit(cache=True)
def _advance(q, out, lower, diag, upper, i0, dt, A, cmod, inv, sm, K, y):
    # one SDIRK step of the line q into out, with the stage operators i0 .. i0 + s - 1
    s = A.shape[0]
    n = q.size
    periodic = lower.shape[1] == n
    g = A[0, 0] * dt
    for i in range(s):
        st = i0 + i
        # right-hand side q + dt sum_j a_ij K_j, then (I - g L_i)^{-1}
        for k in range(n):
            acc = q[k]
            for j in range(i):
                acc += dt * A[i, j] * K[j, k]
            y[k] = acc
        _thomas(lower, cmod, inv, g, st, y)
        if periodic:
            fact = (y[0] + sm[st, n] * y[n - 1]) * sm[st, n + 1]
            for k in range(n):
                y[k] -= fact * sm[st, k]
        if i < s - 1:  # K_i = L_i Y_i
            if n == 1:
                K[i, 0] = diag[st, 0] * y[0]
                continue
            K[i, 0] = diag[st, 0] * y[0] + upper[st, 0] * y[1]
            for k in range(1, n - 1):
                K[i, k] = lower[st, k - 1] * y[k - 1] + diag[st, k] * y[k] + upper[st, k] * y[k + 1]
            K[i, n - 1] = lower[st, n - 2] * y[n - 2] + diag[st, n - 1] * y[n - 1]
            if periodic:  # the wrap face: L[0, n-1] = lower[n-1], L[n-1, 0] = upper[n-1]
                K[i, 0] += lower[st, n - 1] * y[n - 1]
                K[i, n - 1] += upper[st, n - 1] * y[0]
    for k in range(n):
        out[k] = y[k]


@njit(cache=True)
def sdirk_step_lines(lower, diag, upper, q, dt, A):
    r"""One SDIRK step of every line of ``q`` (rows), with the operators of the stages.

    Parameters
    ----------
    lower, diag, upper : arrays (s, n - 1), (s, n), (s, n - 1)
        :math:`L_i` at the ``s`` stage times.
    q : float64 array (m, n)
        The lines at :math:`t_n`.
    dt : float
        Step size.
    A : float64 array (s, s)
        Butcher matrix (lower triangular, constant diagonal :math:`\gamma`, last row :math:`b`).

    Returns
    -------
    array (m, n)
        :math:`Y_s`, the lines at :math:`t_n + \Delta t`.
    """
    s = A.shape[0]
    m, n = q.shape
    cmod = np.empty((s, n))
    inv = np.empty((s, n))
    sm = np.empty((s, n + 2))
    _factor_stages(lower, diag, upper, 0, s, A[0, 0] * dt, cmod, inv, sm)
    out = np.empty((m, n))
    K = np.empty((s, n))
    y = np.empty(n)
    for r in range(m):
        _advance(q[r], out[r], lower, diag, upper, 0, dt, A, cmod, inv, sm, K, y)
    return out


@njit(cache=True)
def sdirk_step_lines_each(lower, diag, upper, q, dt, A):
    r"""One SDIRK step of every line of ``q``, each line with operators of its own.

    As :func:`sdirk_step_lines`, with ``lower, diag, upper`` of shapes ``(s, m, n - 1)``,
    ``(s, m, n)``, ``(s, m, n - 1)``: the stage operators of line ``r`` are ``[:, r, :]`` (a drift
    that depends on the coordinates across the lines).
    """
    s = A.shape[0]
    m, n = q.shape
    cmod = np.empty((s, n))
    inv = np.empty((s, n))
    sm = np.empty((s, n + 2))
    out = np.empty((m, n))
    K = np.empty((s, n))
    y = np.empty(n)
    for r in range(m):
        lo, di, up = lower[:, r, :], diag[:, r, :], upper[:, r, :]
        _factor_stages(lo, di, up, 0, s, A[0, 0] * dt, cmod, inv, sm)
        _advance(q[r], out[r], lo, di, up, 0, dt, A, cmod, inv, sm, K, y)
    return out


@njit(cache=True)
def sdirk_doubling_lines(lower, diag, upper, q, dt, A):
    r"""A step of ``dt`` and two of ``dt/2`` from every line of ``q``; the second result and their L1 gap.

    The stage operators come in three blocks of ``s``: those of the whole step
    (:math:`t + c_i\,\Delta t`), of the first half (:math:`t + c_i\,\Delta t/2`) and of the second
    (:math:`t + (1 + c_i)\,\Delta t/2`).

    Returns
    -------
    half : array (m, n)
        The lines after the two half steps.
    gap : float
        :math:`\sum |y_{1/2,1/2} - y_1|` over all lines and cells.
    """
    s = A.shape[0]
    m, n = q.shape
    cmod = np.empty((3 * s, n))
    inv = np.empty((3 * s, n))
    sm = np.empty((3 * s, n + 2))
    _factor_stages(lower, diag, upper, 0, s, A[0, 0] * dt, cmod, inv, sm)
    _factor_stages(lower, diag, upper, s, 2 * s, 0.5 * A[0, 0] * dt, cmod, inv, sm)
    out = np.empty((m, n))
    K = np.empty((s, n))
    y = np.empty(n)
    whole = np.empty(n)
    mid = np.empty(n)
    gap = 0.0
    for r in range(m):
        _advance(q[r], whole, lower, diag, upper, 0, dt, A, cmod, inv, sm, K, y)
        _advance(q[r], mid, lower, diag, upper, s, 0.5 * dt, A, cmod, inv, sm, K, y)
        _advance(mid, out[r], lower, diag, upper, 2 * s, 0.5 * dt, A, cmod, inv, sm, K, y)
        for k in range(n):
            gap += abs(out[r, k] - whole[k])
    return out, gap


def flux_coefficients_reference(face_drift, diffusion, h, fitted, periodic=False):
    """:func:`flux_coefficients` in NumPy (fitted: by :func:`fpcheck.grid.operators.fitted_operator`)."""
    from .operators import bernoulli, fitted_operator

    face_drift, diffusion = np.atleast_2d(face_drift), np.atleast_1d(diffusion)
    if periodic:
        k = (diffusion / h**2)[:, None]
        P = face_drift * h / diffusion[:, None] if fitted else None
        upper = k * bernoulli(P) if fitted else k - face_drift / (2 * h)
        lower = k * bernoulli(-P) if fitted else k + face_drift / (2 * h)
        return lower, -lower - np.roll(upper, 1, axis=1), upper
    if fitted:
        ops = [fitted_operator(f, D, h) for f, D in zip(face_drift, diffusion)]
        return tuple(np.array([getattr(op, name) for op in ops]) for name in ("lower", "diag", "upper"))
    k = (diffusion / h**2)[:, None]
    lower, upper = k + face_drift / (2 * h), k - face_drift / (2 * h)
    diag = np.zeros((face_drift.shape[0], face_drift.shape[1] + 1))
    diag[:, :-1] -= lower
    diag[:, 1:] -= upper
    return lower, diag, upper


def dense_operator(lower, diag, upper) -> np.ndarray:
    """One stage's :math:`L` as a dense matrix (with the wrap face on a periodic line)."""
    n = diag.size
    L = np.diag(diag) + np.diag(upper[: n - 1], 1) + np.diag(lower[: n - 1], -1)
    if lower.size == n:
        L[0, n - 1] += lower[n - 1]
        L[n - 1, 0] += upper[n - 1]
    return L


def sdirk_step_dense(lower, diag, upper, q, dt, A):
    """:func:`sdirk_step_lines` with dense matrices and :func:`numpy.linalg.solve` (periodic lines too)."""
    s = A.shape[0]
    K = np.zeros((s,) + q.shape)
    Y = q
    for i in range(s):
        L = dense_operator(lower[i], diag[i], upper[i])
        rhs = q + dt * np.tensordot(A[i, :i], K[:i], axes=1)
        Y = np.linalg.solve(np.eye(diag.shape[1]) - A[i, i] * dt * L, rhs.T).T
        K[i] = Y @ L.T
    return Y


def sdirk_step_reference(lower, diag, upper, q, dt, A):
    """:func:`sdirk_step_lines` with the stage solves by :func:`scipy.linalg.solve_banded`."""
    from scipy.linalg import solve_banded

    s = A.shape[0]
    n = q.shape[1]
    K = np.zeros((s,) + q.shape)
    Y = q
    for i in range(s):
        ab = np.zeros((3, n))
        ab[0, 1:] = -A[i, i] * dt * upper[i]
        ab[1] = 1.0 - A[i, i] * dt * diag[i]
        ab[2, :-1] = -A[i, i] * dt * lower[i]
        rhs = q + dt * np.tensordot(A[i, :i], K[:i], axes=1)
        Y = solve_banded((1, 1), ab, rhs.T).T
        LY = diag[i] * Y
        LY[:, :-1] += upper[i] * Y[:, 1:]
        LY[:, 1:] += lower[i] * Y[:, :-1]
        K[i] = LY
    return Y
