r"""Bias against the step count: is a statistic's bias on a ladder of step counts going to zero, or to a floor?

A sampler that converges to :math:`q_{t_{end}}` has, for each smooth statistic :math:`T`, a bias
:math:`b(K) = E\,T(K) - T_{true} \approx C K^{-p}` that vanishes as the step count :math:`K` grows; a
bug leaves a floor, :math:`b(K) \to b_\infty \ne 0`.  On a ladder :math:`K_1 < \dots < K_L` the
measured biases :math:`\hat b_l` (independent, with Monte-Carlo standard errors :math:`\sigma_l`) are
compared under two models,

.. math::
    H_0:\ \hat b_l = C K_l^{-p} + C' K_l^{-(p+1)} + \sigma_l \varepsilon_l, \qquad
    H_1:\ \hat b_l = b_\infty + C K_l^{-p} + C' K_l^{-(p+1)} + \sigma_l \varepsilon_l,

(the second term only on ladders of at least 5 rungs), both linear in their amplitudes for a fixed order :math:`p`: weighted least squares gives
:math:`\chi^2_0(p)` and :math:`\chi^2_1(p)` for each :math:`p` on :data:`ORDER_GRID`.  The
likelihood-ratio statistic

.. math::
    \Lambda = \min_p \chi^2_0(p) - \min_p \chi^2_1(p) \;\ge 0

is referred to :math:`\chi^2_1` (Wilks): :math:`P = P(\chi^2_1 > \Lambda)`.  For a distance, whose floor
cannot be negative, :math:`H_1` is restricted to :math:`b_\infty \ge 0` and the reference law is the
mixture :math:`\frac12\chi^2_0 + \frac12\chi^2_1` (Chernoff 1954): :math:`P = \frac12 P(\chi^2_1 > \Lambda)`
when :math:`\Lambda > 0`, else 1.  The order is a nuisance parameter of both models; its grid makes the
reference law approximate, which is why the false-alarm rate of the whole verdict is measured
(``benchmarks/bench_verify.py``) rather than claimed.

A bias that does not decay at all (a pure floor) cannot be fitted by :math:`C K^{-p}` with
:math:`p \ge 0.5` across a ladder that spans a factor 32, so :math:`\Lambda` is large and the test has
nearly the power of a z-test on the pooled rungs; a floor hidden under a large decaying bias is
harder, since the two terms compete for the same rungs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import InputError

__all__ = ["FloorFit", "fit_floor", "ORDER_GRID"]

SECOND_TERM_CHI2 = float(stats.chi2.isf(0.01, 1))
r"""How much the second decay term must lower the no-floor :math:`\chi^2` to enter the observed order (6.63)."""

#: Orders :math:`p` scanned by :func:`fit_floor`.
ORDER_GRID = np.round(np.arange(0.5, 8.0001, 0.05), 10)


@dataclass(frozen=True)
class FloorFit:
    r"""The test of a floor under :math:`\hat b_l \approx b_\infty + C K_l^{-p}` for one statistic.

    Attributes
    ----------
    order : float
        The observed order: the leading :math:`\hat p` of the decay without a floor (:math:`H_0`).  Its
        second term enters where it is resolved (:data:`SECOND_TERM_CHI2`), so that a pre-asymptotic
        first-order method measured precisely shows order 1 rather than the local slope of its first
        rungs, while a noisy ladder keeps the steadier one-term estimate.
    floor, floor_se : float
        :math:`b_\infty` of the test's model :math:`H_1` at its best order, and its standard error.
    amplitude : float
        :math:`C` of the one-term curve :math:`b_\infty + C K^{-p}` at its best order ``curve_order``
        (what :meth:`curve` draws and the detection step count extrapolates).
    statistic : float
        The likelihood ratio :math:`\Lambda`.
    pvalue : float
        Its p-value (module notes).
    chi2 : float
        :math:`\min_p \chi^2_1(p)`, on :math:`L - 3` degrees of freedom when the model holds.
    signed : bool
        False for a one-sided (non-negative) statistic.
    order_interval : (float, float)
        The orders whose :math:`H_0` profile :math:`\chi^2` is within 1 of its minimum (a 68% interval,
        clipped to :data:`ORDER_GRID`).
    curve_order : float
        The order of the one-term curve.
    """

    order: float
    floor: float
    floor_se: float
    amplitude: float
    statistic: float
    pvalue: float
    chi2: float
    signed: bool = True
    order_interval: tuple[float, float] = (float("nan"), float("nan"))
    curve_order: float = float("nan")

    def interval(self, z: float = 1.959963984540054) -> tuple[float, float]:
        """``floor -+ z floor_se``: a normal confidence interval of the floor at the fitted order."""
        return (self.floor - z * self.floor_se, self.floor + z * self.floor_se)

    def curve(self, steps) -> np.ndarray:
        r"""The one-term curve :math:`b_\infty + C K^{-p}` at step counts ``steps`` (floor of the test's model)."""
        return self.floor + self.amplitude * np.asarray(steps, dtype=float) ** (-self.curve_order)


def _lsq(A: np.ndarray, y: np.ndarray):
    """Batched weighted least squares over a stack of designs ``A`` (P, L, m): coefficients, chi^2, covariances."""
    pinv = np.linalg.pinv(A)  # (P, m, L), by SVD: robust where two decay columns are nearly parallel
    coef = pinv @ y
    r = y - np.einsum("plm,pm->pl", A, coef)
    return coef, np.einsum("pl,pl->p", r, r), pinv @ np.swapaxes(pinv, 1, 2)


def _fits(K: np.ndarray, b: np.ndarray, se: np.ndarray, terms: int):
    """Per order: (chi^2 without floor, chi^2 with floor, floor, floor se) of the test's model, and the one-term fit."""
    y = b / se
    r = K / K[0]  # decay columns scaled to 1 at the first rung, so that the designs stay well conditioned
    P = ORDER_GRID[:, None, None]
    decay = r[None, :, None] ** -(P + np.arange(terms)[None, None, :]) / se[None, :, None]  # (P, L, terms)
    ones = np.broadcast_to((1.0 / se)[None, :, None], (ORDER_GRID.size, K.size, 1))
    _, chi2_0, _ = _lsq(decay, y)
    coef_1, chi2_1, cov_1 = _lsq(np.concatenate([ones, decay], axis=2), y)
    # the classic one-term fit floor + C K^-p, whose order and amplitude are the ones reported
    coef_o, chi2_o, _ = _lsq(np.concatenate([ones, decay[:, :, :1]], axis=2), y)
    return chi2_0, chi2_1, coef_1[:, 0], np.sqrt(np.maximum(cov_1[:, 0, 0], 0.0)), chi2_o, coef_o[:, 1] * K[0] ** ORDER_GRID


def fit_floor(steps: Sequence[int], bias: Sequence[float], se: Sequence[float], *, signed: bool = True) -> FloorFit:
    r"""Test :math:`b_\infty = 0` for biases measured on a ladder (the likelihood-ratio test of the module notes).

    Parameters
    ----------
    steps : sequence of int (L,)
        The ladder, increasing, at least 3 rungs.
    bias, se : sequences of float (L,)
        Measured bias and its Monte-Carlo standard error (positive) per rung.
    signed : bool
        False for a statistic that cannot be negative (a distance): one-sided test of :math:`b_\infty > 0`.

    Returns
    -------
    FloorFit
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
    terms = 2 if K.size >= 5 else 1
    chi2_0, chi2_1, floor, floor_se, chi2_o, amplitude = _fits(K, b, s, terms)
    if not signed:
        chi2_1 = np.where(floor > 0, chi2_1, chi2_0)
    best = int(np.argmin(chi2_1))
    lam = max(float(chi2_0.min() - chi2_1[best]), 0.0)
    p = float(stats.chi2.sf(lam, 1))
    if not signed:
        p = 0.5 * p if lam > 0 else 1.0
    o = int(np.argmin(chi2_o))
    # the observed order: from H0 with its second term only where that term is resolved (it lowers
    # the minimum chi^2 by more than the 0.99 quantile of chi^2_1), else from one decay term
    profile = chi2_0
    if terms == 2:
        one = _fits(K, b, s, 1)[0]
        if one.min() - chi2_0.min() <= SECOND_TERM_CHI2:
            profile = one
    h = int(np.argmin(profile))
    near = ORDER_GRID[profile <= profile[h] + 1.0]
    return FloorFit(float(ORDER_GRID[h]), float(floor[best]), float(floor_se[best]), float(amplitude[o]), lam, p,
                    float(chi2_1[best]), signed, (float(near.min()), float(near.max())), float(ORDER_GRID[o]))
