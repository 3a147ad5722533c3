r"""The Rosenblatt transform of samples in :math:`\mathbb R^d` under an exact Gaussian mixture.

The Rosenblatt (1952) transform maps :math:`x \in \mathbb R^d` to :math:`u \in [0, 1]^d` by successive
conditional cdfs,

.. math::
    u_1 = F_1(x_1), \qquad u_j = F_{j\mid<j}(x_j \mid x_1, \dots, x_{j-1}), \quad j = 2, \dots, d.

When :math:`X` has the law :math:`F`, the coordinates :math:`U_1, \dots, U_d` are independent
:math:`U(0, 1)`; unlike the projections of :mod:`~fpcheck.stats.projections`, which see only
marginals, each :math:`U_j` with :math:`j \ge 2` sees the *dependence* of :math:`x_j` on the earlier
coordinates, so a sampler with the right marginals but a wrong correlation inside a component is caught.

For a Gaussian mixture every conditional law is again a Gaussian mixture (see :func:`rosenblatt`),
so the transform is exact and the per-column tests are fully specified.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg, special

from .. import _validation as val
from ..errors import InputError
from .gof import TestResult, _ad_sorted
from .projections import _check_mixture

__all__ = ["rosenblatt", "rosenblatt_tests"]

_LOG_SQRT_2PI = 0.5 * float(np.log(2.0 * np.pi))
_CHUNK = 1 << 16  # points per block, to bound the (n, K, d) temporaries


def rosenblatt(x, mixture, *, order: Sequence[int] | None = None) -> np.ndarray:
    r"""The Rosenblatt transform :math:`u = T(x)` of samples ``x`` under a Gaussian mixture.

    With :math:`\pi` = ``order`` (identity by default), column ``j`` of the result is the conditional cdf
    of axis :math:`\pi_j` given the axes :math:`\pi_{<j} = (\pi_0, \dots, \pi_{j-1})`:

    .. math::
        u_{ij} = F\big(x_{i\pi_j} \,\big|\, x_{i\pi_{<j}}\big)
               = \sum_k r_{kj}(x_i)\, \Phi\!\Big(\frac{x_{i\pi_j} - m_{kj}(x_i)}{s_{kj}}\Big),

    the conditional law of a mixture :math:`\sum_k w_k \mathcal N(\mu_k, \Sigma_k)` being the mixture of the
    conditioned components, with (writing :math:`a = \pi_{<j}`, :math:`b = \pi_j`)

    .. math::
        r_{kj} &\propto w_k\, \mathcal N(x_a;\ \mu_{ka}, \Sigma_{k,aa}), \qquad \textstyle\sum_k r_{kj} = 1, \\
        m_{kj} &= \mu_{kb} + \Sigma_{k,ba}\Sigma_{k,aa}^{-1}(x_a - \mu_{ka}), \\
        s_{kj}^2 &= \Sigma_{k,bb} - \Sigma_{k,ba}\Sigma_{k,aa}^{-1}\Sigma_{k,ab}
                   \quad\text{(a Schur complement)}.

    For ``j = 0`` the weights are :math:`w_k` and :math:`u_{i0}` is the marginal cdf of axis :math:`\pi_0`.
    Under the null (:math:`x_i` drawn from ``mixture``) the columns are independent :math:`U(0, 1)`.

    Parameters
    ----------
    x : array (n, d)
        Samples (a flat array is ``n`` points in 1D).
    mixture : fpcheck.distributions.GaussianMixture
        The exact law, of dimension ``d``.
    order : sequence of int, optional
        A permutation of ``range(d)``: the order in which the axes are conditioned.

    Returns
    -------
    array (n, d)
        In ``[0, 1]``; column ``j`` belongs to axis ``order[j]`` given ``order[:j]``.

    Notes
    -----
    All of it comes from one Cholesky factor per component, of the covariance permuted to ``order``,
    :math:`P\Sigma_k P^T = L_k L_k^T`, and the whitened residuals :math:`z_k = L_k^{-1} P(x - \mu_k)`
    (a triangular solve, no inverse).  Row ``j`` of :math:`L_k` is
    :math:`(\Sigma_{k,ba} L_{k,aa}^{-T},\ s_{kj})`, so

    .. math::
        \frac{x_b - m_{kj}}{s_{kj}} = z_{kj}, \qquad
        \log\big[w_k \mathcal N(x_a;\ \mu_{ka}, \Sigma_{k,aa})\big]
          = \log w_k - \sum_{l<j}\big(\tfrac12 z_{kl}^2 + \log L_{k,ll} + \tfrac12\log 2\pi\big),

    and :math:`r_{kj}` is the softmax over :math:`k` of these log-terms (log-sum-exp), so points far in
    the tails of every component give finite values in ``[0, 1]``, not 0/0.  Cost
    :math:`O(n K d^2)`.
    """
    _check_mixture(mixture)
    d = mixture.dim
    x = val.points(x, d, "x")
    perm = _order(order, d)
    covs = mixture.covs[:, perm][:, :, perm]
    chol = np.linalg.cholesky(covs)  # (K, d, d); positive definite, checked by GaussianMixture
    means = mixture.means[:, perm]
    xp = x[:, perm]
    out = np.empty_like(xp)
    for lo in range(0, xp.shape[0], _CHUNK):
        out[lo : lo + _CHUNK] = _rosenblatt_block(xp[lo : lo + _CHUNK], mixture.weights, means, chol)
    return out


def _rosenblatt_block(xp: np.ndarray, weights: np.ndarray, means: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """The transform of points ``xp`` (n, d) already permuted, given permuted means and Cholesky factors."""
    n, d = xp.shape
    z = np.empty((n, len(weights), d))
    for k, (mu, lk) in enumerate(zip(means, chol)):
        # L^{-1} of a d x d factor (d <= 3, condition bounded by the mixture's): a matmul beats a
        # triangular solve on (d, n) right-hand sides by an order of magnitude
        z[:, k] = (xp - mu) @ linalg.solve_triangular(lk, np.eye(d), lower=True, check_finite=False).T
    log_diag = np.log(np.diagonal(chol, axis1=1, axis2=2))  # (K, d)
    per_axis = -0.5 * z * z - log_diag - _LOG_SQRT_2PI  # log-density of z_kl given z_k,<l
    # log w_k N(x_<j): cumulative sum over the earlier axes only (exclusive), shape (n, K, d)
    log_r = np.log(weights)[None, :, None] + np.cumsum(per_axis, axis=2) - per_axis
    r = special.softmax(log_r, axis=1)
    return np.clip(np.einsum("nkj,nkj->nj", r, special.ndtr(z)), 0.0, 1.0)


def rosenblatt_tests(x, mixture, *, order: Sequence[int] | None = None) -> list[TestResult]:
    r"""Fully specified Anderson-Darling tests of each column of :func:`rosenblatt` against :math:`U(0, 1)`.

    Parameters
    ----------
    x : array (n, d)
        Samples, ``n >= 1``.
    mixture : fpcheck.distributions.GaussianMixture
    order : sequence of int, optional
        The conditioning order (see :func:`rosenblatt`).

    Returns
    -------
    list of TestResult
        One per column, named ``"AD rosenblatt[b]"`` for the first axis ``b = order[0]`` and
        ``"AD rosenblatt[b|a0,a1,...]"`` for axis ``b`` given the axes before it; ``statistic`` is
        :math:`A^2`.  The tests are independent under the null; combine them with
        :func:`~fpcheck.stats.multiple.holm`.
    """
    _check_mixture(mixture)
    x = val.points(x, mixture.dim, "x")
    if x.shape[0] == 0:
        raise InputError("x is empty: pass at least one sample")
    perm = _order(order, mixture.dim)
    u = rosenblatt(x, mixture, order=perm)
    out = []
    for j, b in enumerate(perm):
        given = ",".join(str(a) for a in perm[:j])
        r = _ad_sorted(np.sort(u[:, j]))
        name = f"AD rosenblatt[{b}|{given}]" if j else f"AD rosenblatt[{b}]"
        what = f"axis {b} given axes ({given})" if j else f"marginal of axis {b}"
        out.append(TestResult(name, r.statistic, r.pvalue, f"{r.detail}, {what}"))
    return out


def _order(order, d: int) -> list[int]:
    """``order`` as a list of ints, checked to be a permutation of ``range(d)`` (identity if None)."""
    if order is None:
        return list(range(d))
    try:
        items = list(order)
    except TypeError:
        raise InputError(f"order must be a sequence of axis indices, got {type(order).__name__}") from None
    if any(isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)) for a in items):
        raise InputError(f"order must hold integer axis indices, got {order!r}")
    perm = [int(a) for a in items]
    if sorted(perm) != list(range(d)):
        raise InputError(f"order must be a permutation of range({d}) (each axis once), got {order!r}")
    return perm
