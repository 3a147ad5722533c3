r"""The statistics a verdict follows along a ladder: each an estimate of a bias against an exact value, with its standard error.

For samples :math:`x_1, \dots, x_n` of a law :math:`G` and the exact Gaussian mixture :math:`q`, each
statistic is the sample mean of a function :math:`f` whose exact expectation :math:`E_q f` is known, so
its bias :math:`\bar f - E_q f` estimates :math:`E_G f - E_q f` without bias, with standard error
:math:`\mathrm{sd}(f)/\sqrt n` (exact under :math:`q` where it has a closed form, the sample's own
otherwise; see below):

==============  =======================================================  ========================================
kind            :math:`f(x)`                                             :math:`E_q f`, standard error
==============  =======================================================  ========================================
``mean``        :math:`x_i`                                              :math:`\mu_i`; :math:`\sigma_i/\sqrt n` (exact)
``variance``    :math:`(x_i - \mu_i)^2`                                  :math:`\sigma_i^2`; :math:`\sqrt{(m_{4,i} - \sigma_i^4)/n}` (exact)
``covariance``  :math:`(x_i - \mu_i)(x_j - \mu_j)`                       :math:`C_{ij}`; :math:`\mathrm{sd}_q` from exact draws
``weight``      :math:`r_k(x) = w_k\,\mathcal N_k(x)/q(x)`                :math:`w_k` (since :math:`\int r_k\,q = w_k`); as covariance
``tail``        :math:`1\{x_i < Q_i(\tau)\}`, :math:`1\{x_i > Q_i(1 - \tau)\}`  :math:`\tau`; :math:`\sqrt{\tau(1-\tau)/n}` (exact)
==============  =======================================================  ========================================

(:math:`Q_i` the exact quantile function of axis :math:`i`.)  The standard error is
:math:`\max(\mathrm{sd}_q f, \mathrm{sd}_{\hat G} f)/\sqrt n`: the null's (exact, or from
:data:`NULL_DRAWS` exact draws on a fixed seed) or the sample's, whichever is larger, so that it is
right under the null (no false alarms from a low sample spread, e.g. a sampler that puts every point
in one mode) and under the alternative (the intervals in the words).  Two components have one
weight statistic (the other is its complement).  The responsibilities :math:`r_k` are the
mode weights a sampler puts on each component: a sampler that favours one mode raises its
:math:`\bar r_k` above :math:`w_k`.  A mixture with one component has no weight statistic.

Beside them, ``distance`` statistics measure the whole law of a 1D quantity: the unbiased cdf distance
:math:`\hat d^2` (:func:`fpcheck.stats.distance.cdf_distance`, 0 exactly at the truth) of each axis
marginal and, in :math:`d \ge 2`, of each conditional of the Rosenblatt transform
(:math:`u_j = F_{j \mid <j}(x_j \mid x_{<j})`, which is :math:`U(0, 1)` under :math:`q`), so that a
wrong dependence between the axes shows even when every marginal is right.  They are one-sided
(:math:`d^2 \ge 0`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..distributions import GaussianMixture
from ..errors import InputError
from ..stats.distance import cdf_distance
from ..stats.gof import mixture_moments

__all__ = ["Estimate", "TAIL", "NULL_DRAWS", "null_spreads", "sample_statistics", "mixture_quantile"]

TAIL = 0.01
r"""Default tail probability :math:`\tau` of the ``tail`` statistics."""


@dataclass(frozen=True)
class Estimate:
    r"""One statistic of one sample: its bias against the exact value, with standard error.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"variance[0]"``, ``"weight[2]"``, ``"d2[1|0]"``.
    kind : str
        ``"mean"``, ``"variance"``, ``"covariance"``, ``"weight"``, ``"tail"`` or ``"distance"``.
    label : str
        The statistic in words, for diagnoses ("variance of axis 0").
    truth : float
        The exact value :math:`E_q f` (0 for a distance).
    bias : float
        :math:`\bar f - E_q f` (the estimate :math:`\hat d^2` for a distance).
    se : float
        Its standard error.
    """

    name: str
    kind: str
    label: str
    truth: float
    bias: float
    se: float

    @property
    def signed(self) -> bool:
        """False for a distance, whose true value cannot be negative (a one-sided test)."""
        return self.kind != "distance"


def mixture_quantile(mixture: GaussianMixture, p: float) -> float:
    """The exact ``p``-quantile of a 1D Gaussian mixture (Brent's method on its cdf, to 1e-13)."""
    if mixture.dim != 1:
        raise InputError(f"mixture_quantile needs a 1D mixture, got dim={mixture.dim}")
    m, s = mixture.means[:, 0], np.sqrt(mixture.covs[:, 0, 0])
    lo, hi = float(np.min(m - 40.0 * s)), float(np.max(m + 40.0 * s))
    return float(optimize.brentq(lambda v: float(mixture.cdf(np.array([v]))[0]) - p, lo, hi, xtol=1e-13, rtol=1e-13))


NULL_DRAWS = 1 << 17
"""Exact draws (fixed seed 0) from which the null standard deviation of a covariance or weight statistic is estimated."""


def _mean_of(name, kind, label, f, truth, null_sd) -> Estimate:
    n = f.shape[0]
    se = max(float(null_sd), float(f.std(ddof=1))) / np.sqrt(n)
    return Estimate(name, kind, label, float(truth), float(f.mean() - truth), float(se))


def null_spreads(truth: GaussianMixture) -> dict[str, float]:
    r"""The null standard deviations of the covariance and weight statistics, from :data:`NULL_DRAWS` exact draws (seed 0).

    Computed once per law and handed to :func:`sample_statistics` (``null=``) when many samples are
    measured against the same truth, as on a ladder.
    """
    d, k = truth.dim, truth.weights.shape[0]
    out: dict[str, float] = {}
    if d == 1 and k == 1:
        return out
    z = truth.sample(NULL_DRAWS, np.random.default_rng(0))
    mu = truth.mean()
    for i in range(d):
        for j in range(i + 1, d):
            out[f"covariance[{i},{j}]"] = float(np.std((z[:, i] - mu[i]) * (z[:, j] - mu[j])))
    if k > 1:
        r = truth.responsibilities(z)
        for c in range(1 if k == 2 else k):
            out[f"weight[{c}]"] = float(r[:, c].std())
    return out


def sample_statistics(x, truth: GaussianMixture, *, tail: float = TAIL, null: dict[str, float] | None = None) -> list[Estimate]:
    r"""Every statistic of the module notes for samples ``x`` (n, d) against the exact mixture ``truth``.

    Parameters
    ----------
    x : array (n, d)
        Samples, ``n >= 5``, finite.
    truth : GaussianMixture
        The exact law, of dimension ``d``.
    tail : float
        The tail probability :math:`\tau` of the ``tail`` statistics, in (0, 0.5).
    null : dict, optional
        :func:`null_spreads` of ``truth``, when already computed.

    Returns
    -------
    list of Estimate
        In a fixed order for a given dimension and number of components: per axis mean, variance,
        lower and upper tail; the covariances :math:`i < j`; the mode weights; the distances.
    """
    if not isinstance(truth, GaussianMixture):
        raise InputError(f"truth must be a fpcheck.distributions.GaussianMixture, got {type(truth).__name__}")
    x = np.asarray(x, dtype=float)
    d = truth.dim
    if x.ndim != 2 or x.shape[1] != d or x.shape[0] < 5:
        raise InputError(f"x must have shape (n >= 5, {d}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("x holds NaN or inf values")
    if not 0.0 < tail < 0.5:
        raise InputError(f"tail must lie in (0, 0.5), got {tail!r}")
    out: list[Estimate] = []
    mu = truth.mean()
    cov = truth.cov()
    tail_sd = np.sqrt(tail * (1.0 - tail))
    null = null_spreads(truth) if null is None else null
    for i in range(d):
        marg = truth.marginal([i])
        mom = mixture_moments(marg)
        xi = x[:, i]
        ax = f"axis {i}" if d > 1 else "x"
        out.append(_mean_of(f"mean[{i}]", "mean", f"mean of {ax}", xi, mom.mean, np.sqrt(mom.var)))
        out.append(
            _mean_of(f"variance[{i}]", "variance", f"variance of {ax}", (xi - mom.mean) ** 2, mom.var,
                     np.sqrt(mom.central_m4 - mom.var**2))
        )
        q_lo, q_hi = mixture_quantile(marg, tail), mixture_quantile(marg, 1.0 - tail)
        out.append(_mean_of(f"lower-tail[{i}]", "tail", f"mass of {ax} below its exact {tail:.0%} quantile {q_lo:.4g}",
                            (xi < q_lo).astype(float), tail, tail_sd))
        out.append(_mean_of(f"upper-tail[{i}]", "tail", f"mass of {ax} above its exact {1 - tail:.0%} quantile {q_hi:.4g}",
                            (xi > q_hi).astype(float), tail, tail_sd))
    for i in range(d):
        for j in range(i + 1, d):
            f = (x[:, i] - mu[i]) * (x[:, j] - mu[j])
            name = f"covariance[{i},{j}]"
            out.append(_mean_of(name, "covariance", f"covariance of axes {i} and {j}", f, cov[i, j], null[name]))
    k = truth.weights.shape[0]
    if k > 1:
        r = truth.responsibilities(x)
        for c in range(1 if k == 2 else k):
            where = ", ".join(f"{v:.3g}" for v in truth.means[c])
            out.append(_mean_of(f"weight[{c}]", "weight", f"weight of mode {c} (mean ({where}))", r[:, c], truth.weights[c],
                                null[f"weight[{c}]"]))
    out += _distances(x, truth)
    return out


def _distances(x: np.ndarray, truth: GaussianMixture) -> list[Estimate]:
    """cdf distances of the axis marginals and, in d >= 2, of the Rosenblatt conditionals."""
    d = truth.dim
    out = []
    for i in range(d):
        dist = cdf_distance(truth.marginal([i]).cdf(x[:, i]))
        label = "law of x" if d == 1 else f"law of axis {i}"
        out.append(Estimate(f"d2[{i}]", "distance", label, 0.0, dist.value, dist.se))
    if d > 1:
        from ..stats.rosenblatt import rosenblatt

        u = rosenblatt(x, truth)
        for j in range(1, d):
            given = ",".join(str(i) for i in range(j))
            dist = cdf_distance(u[:, j])
            out.append(Estimate(f"d2[{j}|{given}]", "distance", f"law of axis {j} given axes {given}", 0.0, dist.value, dist.se))
    return out
