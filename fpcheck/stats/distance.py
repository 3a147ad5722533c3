r"""An unbiased estimate of the squared Cramér-von Mises distance of a sample's law to the null.

For :math:`X \sim G` and a continuous null cdf :math:`F`,

.. math::
    d^2 = \int (G - F)^2\, dF = \int_0^1 (H(t) - t)^2\, dt,

:math:`H` the law of the PIT value :math:`U = F(X)` (substitute :math:`t = F(x)`).  It is 0 exactly
when :math:`G = F`, and :math:`d = \sqrt{d^2}` is a root-mean-square cdf error in probability units:
an effect size that goes with a test's p-value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import InputError
from .gof import _pit_values

__all__ = ["Distance", "cdf_distance", "NULL_ZETA2", "PAIRS", "PAIRS_SEED"]

NULL_ZETA2 = 1.0 / 90.0
r""":math:`\zeta_2 = \operatorname{Var} h(U_1, U_2)` for :math:`U_1, U_2` iid :math:`U(0, 1)` (exact)."""

PAIRS = 4096
"""Random pairs (without self-pairs) over which :math:`\\zeta_2` is estimated."""

PAIRS_SEED = 0
"""The fixed seed of those pairs, so that a given sample always gets the same standard error."""


@dataclass(frozen=True)
class Distance:
    r"""An estimate of :math:`d^2` with its standard error.

    Attributes
    ----------
    value : float
        The unbiased estimate of :math:`d^2`; it can be slightly negative when :math:`d^2` is near 0.
    se : float
        Its standard error.
    name : str
        What was measured.
    """

    value: float
    se: float
    name: str

    def sqrt(self) -> float:
        r""":math:`d = \sqrt{\max(\hat d^2, 0)}`, the root-mean-square cdf error in probability units."""
        return float(np.sqrt(max(self.value, 0.0)))

    def upper(self, level: float = 0.95) -> float:
        r"""One-sided upper confidence bound of :math:`d`: :math:`\sqrt{\max(\hat d^2 + z_{level}\,\mathrm{se}, 0)}`.

        Normal approximation to the estimate (valid away from :math:`d^2 = 0`; at :math:`d^2 = 0` the
        estimate is a degenerate U-statistic, a weighted sum of :math:`\chi^2` variables, and the
        bound is approximate).
        """
        if not 0.0 < level < 1.0:
            raise InputError(f"level must lie in (0, 1), got {level!r}")
        return float(np.sqrt(max(self.value + float(special.ndtri(level)) * self.se, 0.0)))

    def __str__(self) -> str:
        return f"{self.name}: d^2 = {self.value:.3g} +- {self.se:.2g} (d = {self.sqrt():.3g})"


def cdf_distance(u, *, name: str = "cdf distance") -> Distance:
    r"""Unbiased estimate of :math:`d^2 = \int (G - F)^2 dF` from PIT values, with its standard error.

    **Kernel.**  With :math:`H(t) = P(U \le t)`,
    :math:`\int_0^1 H^2 = E[1 - \max(U_1, U_2)]` and :math:`\int_0^1 tH = E[(1 - U^2)/2]`, so

    .. math::
        d^2 = \int_0^1 H^2 - 2\int_0^1 tH + \tfrac13 = E\,h(U_1, U_2), \qquad
        h(u_1, u_2) = \frac{u_1^2 + u_2^2}{2} - \max(u_1, u_2) + \frac13,

    for independent :math:`U_1, U_2 \sim H`.  The U-statistic over pairs :math:`i < j`,

    .. math::
        \hat d^2 = \binom n2^{-1}\sum_{i<j} h(u_i, u_j)
                 = \frac1n\sum_i u_i^2 - \frac{2}{n(n-1)}\sum_{k=0}^{n-1} k\,u_{(k)} + \frac13,

    is unbiased; the pair sum of the maxima is :math:`\sum_k k\,u_{(k)}` over the sorted sample
    (``k`` 0-based: :math:`u_{(k)}` is the larger of ``k`` pairs), so it costs one sort.

    **Standard error** (Hoeffding 1948):

    .. math::
        \operatorname{Var}\hat d^2 = \frac{4(n-2)\,\zeta_1 + 2\,\zeta_2}{n(n-1)}, \qquad
        \zeta_1 = \operatorname{Var} h_1(U),\ \ h_1(u) = E\,h(u, U_2), \qquad
        \zeta_2 = \operatorname{Var} h(U_1, U_2).

    * :math:`\zeta_2`: the larger of its sample variance over :data:`PAIRS` random pairs (seed
      :data:`PAIRS_SEED`) and its exact null value :math:`1/90` (where the estimate is exact, and
      which guards the standard error of a near-null sample against a low draw of the pairs).
    * :math:`\zeta_1`: from the leave-one-out estimates
      :math:`\hat h_1(u_k) = \frac{u_k^2}{2} + \frac{1}{2(n-1)}\sum_{j\ne k}u_j^2
      - \frac{1}{n-1}\big(k\,u_{(k)} + \sum_{j>k}u_{(j)}\big) + \frac13`
      (sorted sample), whose sample variance :math:`s^2` has expectation
      :math:`\frac{(n-2)^2}{(n-1)^2}\zeta_1 + \frac{n-2}{(n-1)^2}(\zeta_2 - 2\zeta_1)`; inverting it,
      :math:`\hat\zeta_1 = \max\big(0, \frac{(n-1)^2 s^2 - (n-2)\zeta_2}{(n-2)(n-4)}\big)`.

    Under the null :math:`h_1 \equiv 0` (the statistic is degenerate, of order :math:`1/n`, with
    variance :math:`1/(45\,n(n-1))`); there :math:`\zeta_1` cannot be resolved below the noise of its
    estimate, and its clipping at 0 makes the standard error conservative (about 1.4 times the
    true one at :math:`d = 0`; accurate once :math:`d^2 \gg 1/n`).

    Parameters
    ----------
    u : array (n,)
        PIT values :math:`F(x_i)`, ``n >= 5``.
    name : str
        Label of the returned :class:`Distance`.
    """
    return _distance_sorted(np.sort(_pit_values(u)), name)


def _distance_sorted(us: np.ndarray, name: str = "cdf distance") -> Distance:
    n = us.size
    if n < 5:
        raise InputError(f"u has {n} value(s); the cdf distance and its standard error need at least 5")
    k = np.arange(n, dtype=float)
    sq = us * us
    s2 = float(sq.sum())
    value = s2 / n - 2.0 * float(k @ us) / (n * (n - 1.0)) + 1.0 / 3.0
    # leave-one-out h1 at each sorted point
    above = float(us.sum()) - np.cumsum(us)  # sum_{j > k} u_(j)
    h1 = 0.5 * sq + 0.5 * (s2 - sq) / (n - 1.0) - (k * us + above) / (n - 1.0) + 1.0 / 3.0
    s2_h1 = float(h1.var(ddof=1))
    # zeta2 from a fixed set of random distinct pairs (order in the sorted array is irrelevant to h)
    rng = np.random.default_rng(PAIRS_SEED)
    i = rng.integers(0, n, PAIRS)
    j = rng.integers(0, n - 1, PAIRS)
    j += j >= i
    a, b = us[i], us[j]
    h = 0.5 * (a * a + b * b) - np.maximum(a, b) + 1.0 / 3.0
    zeta2 = max(float(h.var(ddof=1)), NULL_ZETA2)
    zeta1 = max(0.0, ((n - 1.0) ** 2 * s2_h1 - (n - 2.0) * zeta2) / ((n - 2.0) * (n - 4.0)))
    var = (4.0 * (n - 2.0) * zeta1 + 2.0 * zeta2) / (n * (n - 1.0))
    return Distance(float(value), float(np.sqrt(var)), name)
