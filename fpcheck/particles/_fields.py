r"""Kernels of the exact fields of Gaussian-mixture data under an affine process.

For data :math:`\sum_k w_k \mathcal{N}(m_k, S_k)` and the kernel :math:`(a_t, c_t, s_t^2)`,
:math:`q_t = \sum_k w_k \mathcal{N}(\mu_k, \Sigma_k)` with :math:`\mu_k = a_t m_k + c_t`,
:math:`\Sigma_k = a_t^2 S_k + s_t^2 I = L_k L_k^T` (MATH.md section 2).  The tables built in NumPy by
:func:`fpcheck.particles.fields.build_tables` hold, per evaluation time :math:`t_j`,

* ``lognorm[j, k]`` :math:`= \log w_k - \log\det L_k - \tfrac d2 \log 2\pi`,
* ``mean[j, k]`` :math:`= \mu_k`, ``linv[j, k]`` :math:`= L_k^{-1}` (lower triangular),
* ``rate[j]`` :math:`= \lambda`, ``shift[j]`` :math:`= \kappa` (d,), ``g2[j]`` :math:`= g^2`,

and the kernels evaluate, for each point of a block with :math:`z_k = L_k^{-1}(x - \mu_k)`,

.. math::
    \ell_k = \text{lognorm}_k - \tfrac12 |z_k|^2, \qquad
    r_k = \operatorname{softmax}_k \ell, \qquad
    \nabla\log q_t(x) = -\sum_k r_k\, L_k^{-T} z_k,

(the softmax subtracts :math:`\max_k \ell_k`, so no exponential overflows) and the drifts built
from the score (MATH.md section 3):

.. math::
    F_\alpha(x, t) = -\lambda x + \kappa - \alpha\, g^2\, \nabla\log q_t(x),

with :math:`\alpha = \tfrac12` the probability-flow velocity and :math:`\alpha = 1` the reverse-SDE
drift.  The block functions work on blocks of up to 256 particles held as structures of arrays
(``y[e, r]``: component ``e`` of particle ``r``), with scratch the caller allocates once per
block, so the integrator kernels (:mod:`._reverse`, :mod:`._flow`) allocate nothing per step and
every inner loop runs over the particles of a block, where the compiler can vectorise it.
:func:`score_block` and :func:`drift_block` are called once per block and stage (not inlined: the
call costs little against 256 evaluations and keeps compilation short).  Their NumPy reference is
:class:`fpcheck.analytic.ExactMarginals`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "score_block",
    "drift_block",
    "block_scratch",
    "load_block",
    "store_block",
    "exact_field",
    "exact_field_serial",
    "BLOCK",
]

#: Particles per parallel block of every particle kernel.
BLOCK = 256


@njit(cache=True)
def score_block(y, lognorm, mean, linv, j, out, z, ell, top, total):
    r"""The score :math:`\nabla\log q_{t_j}` of each column of ``y`` (d, B) into ``out`` (d, B).

    Scratch: ``z`` (K, d, B), ``ell`` (K, B), ``top`` and ``total`` (B,).  Every innermost loop
    runs over the B points of the block (structure of arrays), so the compiler can vectorise
    them; the exponentials, :math:`K` per point, are the only calls.  Cost per point:
    :math:`K d (d + 3)/2` multiply-adds and :math:`K` exponentials.
    """
    K = lognorm.shape[1]
    d, B = y.shape
    for r in range(B):
        top[r] = -np.inf
    for k in range(K):
        for r in range(B):
            ell[k, r] = lognorm[j, k]
        for i in range(d):
            # z_i = sum_{m <= i} L^{-1}[i, m] (y_m - mu_m)
            for r in range(B):
                z[k, i, r] = 0.0
            for m in range(i + 1):
                c = linv[j, k, i, m]
                mu = mean[j, k, m]
                for r in range(B):
                    z[k, i, r] += c * (y[m, r] - mu)
            for r in range(B):
                ell[k, r] -= 0.5 * z[k, i, r] * z[k, i, r]
        for r in range(B):
            top[r] = max(top[r], ell[k, r])
    for r in range(B):
        total[r] = 0.0
    for e in range(d):
        for r in range(B):
            out[e, r] = 0.0
    for k in range(K):
        for r in range(B):
            ell[k, r] = math.exp(ell[k, r] - top[r])  # unnormalised responsibilities
            total[r] += ell[k, r]
        # out -= w_k L^{-T} z_k: (L^{-T} z)_e = sum_{i >= e} L^{-1}[i, e] z_i
        for i in range(d):
            for e in range(i + 1):
                c = linv[j, k, i, e]
                for r in range(B):
                    out[e, r] -= c * ell[k, r] * z[k, i, r]
    for e in range(d):
        for r in range(B):
            out[e, r] /= total[r]


@njit(cache=True)
def drift_block(y, tab, j, alpha, out, z, ell, top, total):
    r""":math:`F_\alpha(y, t_j) = -\lambda_j y + \kappa_j - \alpha g^2_j \nabla\log q_{t_j}(y)` for the columns of ``y`` (d, B)."""
    lognorm, mean, linv, rate, shift, g2 = tab
    score_block(y, lognorm, mean, linv, j, out, z, ell, top, total)
    c = alpha * g2[j]
    lam = rate[j]
    d, B = y.shape
    for e in range(d):
        kap = shift[j, e]
        for r in range(B):
            out[e, r] = -lam * y[e, r] + kap - c * out[e, r]


@njit(cache=True, inline="always")
def block_scratch(tab, d, B):
    """Scratch for :func:`score_block` / :func:`drift_block`: ``(z, ell, top, total)``."""
    K = tab[0].shape[1]
    return np.empty((K, d, B)), np.empty((K, B)), np.empty(B), np.empty(B)


@njit(cache=True, inline="always")
def load_block(x, lo, y):
    """``y[e, r] = x[lo + r, e]``: rows of ``x`` (n, d) into the columns of the block ``y`` (d, B)."""
    d, B = y.shape
    for r in range(B):
        for e in range(d):
            y[e, r] = x[lo + r, e]


@njit(cache=True, inline="always")
def store_block(y, out, lo):
    """``out[lo + r, e] = y[e, r]``: the inverse of :func:`load_block`."""
    d, B = y.shape
    for r in range(B):
        for e in range(d):
            out[lo + r, e] = y[e, r]


@njit(cache=True, inline="always")
def _field_block(x, tab, j, alpha, score_only, out, b):
    """Block ``b`` (rows ``256 b ..``) of :func:`exact_field`."""
    n, d = x.shape
    lo = b * BLOCK
    nb = min(n, lo + BLOCK) - lo
    y = np.empty((d, nb))
    o = np.empty((d, nb))
    z, ell, top, total = block_scratch(tab, d, nb)
    load_block(x, lo, y)
    if score_only:
        score_block(y, tab[0], tab[1], tab[2], j, o, z, ell, top, total)
    else:
        drift_block(y, tab, j, alpha, o, z, ell, top, total)
    store_block(o, out, lo)


@njit(cache=True, parallel=True)
def exact_field(x, tab, j, alpha, score_only):
    r"""The score (``score_only``) or :math:`F_\alpha` at :math:`t_j` of every row of ``x`` (n, d), blocks in parallel."""
    out = np.empty(x.shape)
    for b in prange((x.shape[0] + BLOCK - 1) // BLOCK):
        _field_block(x, tab, j, alpha, score_only, out, b)
    return out


@njit(cache=True)
def exact_field_serial(x, tab, j, alpha, score_only):
    """:func:`exact_field` on one thread: for small batches, where starting threads costs more than it saves."""
    out = np.empty(x.shape)
    for b in range((x.shape[0] + BLOCK - 1) // BLOCK):
        _field_block(x, tab, j, alpha, score_only, out, b)
    return out
