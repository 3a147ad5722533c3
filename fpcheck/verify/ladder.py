r"""Bias against the step count: a sampler's statistics on a ladder of step counts, and the floor they tend to.

A sampler that converges to :math:`q_{t_{end}}` has, for each smooth statistic :math:`T`,
a bias :math:`b(K) = E\,T(K) - T_{true} \approx C K^{-p}` that vanishes as the step count
:math:`K` grows; a bug leaves a floor: :math:`b(K) \to b_\infty \ne 0`.  On a ladder
:math:`K_1 < \dots < K_L` the measured biases :math:`\hat b_l` (sample statistic minus its exact
value, with Monte-Carlo standard error :math:`\sigma_l`) are fitted by

.. math::
    \hat b_l \approx b_\infty + C K_l^{-p},

linear in :math:`(b_\infty, C)` for fixed :math:`p`: weighted least squares with weights
:math:`\sigma_l^{-2}` for each :math:`p` on a grid in :math:`[p_{min}, p_{max}]`, the profile
:math:`\chi^2(p)` picks :math:`\hat p`.  Since the order is itself uncertain, the floor's interval is
the union, over the orders with :math:`\chi^2(p) \le \chi^2_{min} + 1` (the profile's 68% set),
of :math:`b_\infty(p) \pm z\,\mathrm{se}(p)`; the floor is *significant* when that union excludes 0.
This is conservative in the order (a floor can always hide in a slow decay) and exact in the
Monte-Carlo noise for each order, since the estimate is linear in the Gaussian biases.

Statistics (:func:`moment_statistics`): the mean and the variance about the exact mean of each axis,
whose exact values and standard errors come from the exact mixture :math:`q_{t_{end}}`
(:func:`fpcheck.stats.gof.mixture_moments` of the axis marginal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..distributions import GaussianMixture
from ..errors import InputError
from ..stats.gof import mixture_moments

__all__ = ["FloorFit", "fit_floor", "floor_bound", "moment_statistics", "ORDER_GRID"]

#: Orders scanned by :func:`fit_floor`.
ORDER_GRID = np.round(np.arange(0.5, 4.0001, 0.05), 10)


@dataclass(frozen=True)
class FloorFit:
    r"""The fit :math:`\hat b_l \approx b_\infty + C K_l^{-p}` of one statistic.

    Attributes
    ----------
    order : float
        :math:`\hat p`, the order of the best fit (NaN with fewer than 3 rungs).
    floor : float
        :math:`b_\infty` at :math:`\hat p`.
    floor_interval : (float, float)
        The union of :math:`b_\infty(p) \pm z\,\mathrm{se}(p)` over the profile's 68% set of orders.
    significant : bool
        Whether ``floor_interval`` excludes 0.
    chi2 : float
        :math:`\chi^2` at :math:`\hat p` (``L - 2`` degrees of freedom for a correct model).
    """

    order: float
    floor: float
    floor_interval: tuple[float, float]
    significant: bool
    chi2: float


def _wls(K: np.ndarray, b: np.ndarray, se: np.ndarray, p: float):
    """Floor, its se, and chi^2 of the weighted fit b ~ floor + C K^-p."""
    A = np.column_stack([np.ones_like(K), K ** (-p)]) / se[:, None]
    y = b / se
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    r = y - A @ coef
    return float(coef[0]), float(np.sqrt(cov[0, 0])), float(r @ r)


def fit_floor(steps: Sequence[int], bias: Sequence[float], se: Sequence[float], *, z: float) -> FloorFit:
    r"""Fit :math:`b_\infty + C K^{-p}` to biases with standard errors; test :math:`b_\infty = 0` at the two-sided bound ``z``.

    Parameters
    ----------
    steps : sequence of int (L,)
        The ladder, increasing, at least 3 rungs.
    bias, se : sequences of float (L,)
        Measured bias and its Monte-Carlo standard error (positive) per rung.
    z : float
        Two-sided normal bound of the floor test (e.g. ``ndtri(1 - alpha / (2 m))`` for ``m`` statistics).
    """
    K = np.asarray(steps, dtype=float)
    b = np.asarray(bias, dtype=float)
    s = np.asarray(se, dtype=float)
    if K.ndim != 1 or K.size < 3 or b.shape != K.shape or s.shape != K.shape:
        raise InputError(f"steps, bias and se must be 1-D of one length >= 3, got {K.shape}, {b.shape}, {s.shape}")
    if np.any(np.diff(K) <= 0) or K[0] < 1:
        raise InputError(f"steps must increase from >= 1, got {K.tolist()}")
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise InputError("bias must be finite and se finite and positive")
    fits = [(_wls(K, b, s, float(p)), float(p)) for p in ORDER_GRID]
    chi2 = np.array([f[0][2] for f in fits])
    best = int(np.argmin(chi2))
    inside = chi2 <= chi2[best] + 1.0
    lo = min(f[0][0] - z * f[0][1] for f, keep in zip(fits, inside) if keep)
    hi = max(f[0][0] + z * f[0][1] for f, keep in zip(fits, inside) if keep)
    return FloorFit(fits[best][1], fits[best][0][0], (lo, hi), bool(lo > 0 or hi < 0), float(chi2[best]))


def moment_statistics(x: np.ndarray, truth: GaussianMixture) -> dict[str, tuple[float, float]]:
    r"""Bias and standard error of the per-axis mean and variance of samples ``x`` (n, d) against ``truth``.

    For axis :math:`i` with exact mean :math:`\mu`, variance :math:`\sigma^2` and 4th central moment
    :math:`m_4`: the mean's bias :math:`\bar x - \mu` has standard error :math:`\sigma/\sqrt n`; the
    variance about the exact mean, :math:`\frac1n\sum (x - \mu)^2 - \sigma^2`, has
    :math:`\sqrt{(m_4 - \sigma^4)/n}`.  Returns ``{name: (bias, se)}``.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != truth.dim or x.shape[0] < 2:
        raise InputError(f"x must have shape (n >= 2, {truth.dim}), got {x.shape}")
    n = x.shape[0]
    out = {}
    for i in range(truth.dim):
        mom = mixture_moments(truth.marginal([i]))
        xi = x[:, i]
        out[f"mean[{i}]"] = (float(xi.mean() - mom.mean), float(np.sqrt(mom.var / n)))
        out[f"variance[{i}]"] = (float(np.mean((xi - mom.mean) ** 2) - mom.var), float(np.sqrt((mom.central_m4 - mom.var**2) / n)))
    return out


def floor_bound(alpha: float, m: int) -> float:
    """The two-sided normal bound for ``m`` floor tests at family-wise level ``alpha`` (Bonferroni)."""
    return float(-special.ndtri(alpha / (2.0 * m)))
