r"""Kernels of the Gaussian-bump bases, optionally times a three-term-recurrence polynomial in time.

One kernel serves :class:`~fpcheck.learned.bases.RBF`, :class:`~fpcheck.learned.bases.ScaledRBF`
and their :class:`~fpcheck.learned.bases.Tensor` products with
:class:`~fpcheck.learned.bases.Chebyshev` or :class:`~fpcheck.learned.bases.Legendre`.  For the
point :math:`x_r` (row ``r`` of ``x``), bump :math:`a` and polynomial :math:`b` it evaluates

.. math::
    q_{ra} = \text{inv\_w2}_a\, \text{scale}_r\, |x_r - c_a|^2, \qquad
    \phi_{ra} = e^{-q_{ra}/2}, \qquad
    \psi_{r, aK+b} = \phi_{ra}\, P_b(u_r),

with :math:`\text{inv\_w2}_a = 1/w_a^2`, :math:`\text{scale}_r = 1/\sigma(t_r)^2` (ones for a plain
RBF) and the polynomials from the recurrence

.. math::
    P_0 = 1, \qquad P_1 = (A_0 u + B_0), \qquad P_{k+1} = (A_k u + B_k) P_k - C_k P_{k-1},

differentiated term by term for :math:`P'_k = dP_k/du`:
:math:`P'_{k+1} = A_k P_k + (A_k u + B_k) P'_k - C_k P'_{k-1}`.  With :math:`s = \text{inv\_w2}_a
\text{scale}_r` the derivatives written out are

.. math::
    \nabla_x \psi = -s (x_r - c_a)\, \phi P_b, \qquad
    \Delta_x \psi = s (q - d)\, \phi P_b, \qquad
    \partial_t \psi = \text{rate}_r\, q\, \phi P_b + \phi\, P'_b(u_r)\, \frac{du}{dt},

where :math:`\text{rate}_r = \sigma'(t_r)/\sigma(t_r)` (zeros for a plain RBF), since
:math:`\partial_t q = -2 q \sigma'/\sigma`.  ``K = len(ra) + 1`` polynomials; ``ra`` empty gives the
bumps alone (:math:`P_0 = 1`).

Which outputs are filled is told by their shapes: an output with zero rows is skipped, so one
compiled signature serves every request.  Points run in blocks of :data:`BLOCK`, in parallel
(:func:`features`) or on one thread (:func:`features_serial`); both give bitwise the same result.
Cost per point: :math:`m (3d + 1)` flops and :math:`m` exponentials, plus :math:`m K` products per
output.  The NumPy reference is :meth:`fpcheck.learned.bases.Basis.reference`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["features", "features_serial", "BLOCK"]

#: Points per parallel block.
BLOCK = 128


@njit(cache=True, inline="always")
def _block(x, centres, inv_w2, scale, rate, u, du, ra, rb, rc, out_v, out_g, out_l, out_t, blk):
    """Rows ``BLOCK * blk ..`` of :func:`features`."""
    n, d = x.shape
    m = centres.shape[0]
    K = ra.shape[0] + 1
    want_v = out_v.shape[0] > 0
    want_g = out_g.shape[0] > 0
    want_l = out_l.shape[0] > 0
    want_t = out_t.shape[0] > 0
    lo = blk * BLOCK
    hi = min(n, lo + BLOCK)
    p = np.empty(K)
    dp = np.empty(K)
    diff = np.empty(d)
    for r in range(lo, hi):
        # the polynomials and their u-derivatives at u_r
        ur = u[r]
        p[0] = 1.0
        dp[0] = 0.0
        if K > 1:
            p[1] = ra[0] * ur + rb[0]
            dp[1] = ra[0]
        for k in range(1, K - 1):
            f = ra[k] * ur + rb[k]
            p[k + 1] = f * p[k] - rc[k] * p[k - 1]
            dp[k + 1] = ra[k] * p[k] + f * dp[k] - rc[k] * dp[k - 1]
        for b in range(K):
            dp[b] *= du[r]
        sr = scale[r]
        for a in range(m):
            r2 = 0.0
            for e in range(d):
                diff[e] = x[r, e] - centres[a, e]
                r2 += diff[e] * diff[e]
            s = inv_w2[a] * sr
            q = s * r2
            phi = math.exp(-0.5 * q)
            j0 = a * K
            if want_v:
                for b in range(K):
                    out_v[r, j0 + b] = phi * p[b]
            if want_g:
                for e in range(d):
                    g = -s * diff[e] * phi
                    for b in range(K):
                        out_g[r, j0 + b, e] = g * p[b]
            if want_l:
                lap = s * (q - d) * phi
                for b in range(K):
                    out_l[r, j0 + b] = lap * p[b]
            if want_t:
                dt = rate[r] * q * phi
                for b in range(K):
                    out_t[r, j0 + b] = dt * p[b] + phi * dp[b]


@njit(cache=True, parallel=True)
def features(x, centres, inv_w2, scale, rate, u, du, ra, rb, rc, out_v, out_g, out_l, out_t):
    r"""Fill the requested outputs (see the module docstring) for every row of ``x`` (n, d), blocks in parallel.

    Parameters
    ----------
    x : (n, d); centres : (m, d); inv_w2 : (m,) :math:`1/w_a^2`;
    scale : (n,) :math:`1/\sigma(t_r)^2`; rate : (n,) :math:`\sigma'(t_r)/\sigma(t_r)`;
    u : (n,) mapped times; du : (n,) :math:`du/dt` at each point; ra, rb, rc : (K - 1,) recurrence coefficients;
    out_v, out_l, out_t : (n, m K) or (0, 0); out_g : (n, m K, d) or (0, 0, 0).
    """
    for blk in prange((x.shape[0] + BLOCK - 1) // BLOCK):
        _block(x, centres, inv_w2, scale, rate, u, du, ra, rb, rc, out_v, out_g, out_l, out_t, blk)


@njit(cache=True)
def features_serial(x, centres, inv_w2, scale, rate, u, du, ra, rb, rc, out_v, out_g, out_l, out_t):
    """:func:`features` on one thread: for small batches, where starting threads costs more than it saves."""
    for blk in range((x.shape[0] + BLOCK - 1) // BLOCK):
        _block(x, centres, inv_w2, scale, rate, u, du, ra, rb, rc, out_v, out_g, out_l, out_t, blk)
