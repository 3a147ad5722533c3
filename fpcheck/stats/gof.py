r"""Goodness-of-fit tests of a sample against an exact, fully specified null law.

The distribution-free tests take **PIT values** :math:`u_i = F(x_i)`, :math:`F` the exact null cdf: under
the null the :math:`u_i` are independent :math:`U(0, 1)`, so the same p-value tables serve every
:math:`F`.  No parameter is estimated from the sample (the composite tests of ``scipy.stats.anderson``
refit location and scale, and are blind to exactly the scale errors a sampler makes).

* :func:`ks_test`: Kolmogorov-Smirnov, exact p-value ``scipy.stats.kstwo.sf(D, n)`` up to
  ``n = 10 000`` and a corrected limiting law beyond (:func:`ks_sf`);
* :func:`anderson_darling_test`: the fully specified :math:`A^2`, asymptotic p-value of Marsaglia &
  Marsaglia (2004) with an exact tail expansion;
* :func:`mean_test`, :func:`variance_test`: z-tests of the sample mean and of the sample variance about
  the known mean, with the reference's exact moments (:func:`mixture_moments` for a 1D Gaussian mixture).

**Interval nulls.**  A reference with its own error bound (a grid truth, say) enters through
``ref_error``: with :math:`T` the statistic, :math:`T_{ref}` the reference value and
:math:`|T_{ref} - T_{true}| \le \varepsilon`, the null is the interval :math:`|E T - T_{ref}| \le \varepsilon`
and the p-value is the largest over it, :math:`2\,\Phi(-\max(|T - T_{ref}| - \varepsilon, 0)/\mathrm{se})`:
the test rejects only when :math:`|T - T_{ref}| > \varepsilon + z_{\alpha/2}\,\mathrm{se}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from .. import _validation as val
from ..errors import InputError

__all__ = [
    "TestResult",
    "Moments",
    "ks_test",
    "anderson_darling_test",
    "ad_sf",
    "ks_sf",
    "KS_EXACT_MAX",
    "mean_test",
    "variance_test",
    "mixture_moments",
]

KS_EXACT_MAX = 10_000
"""Largest ``n`` for which :func:`ks_sf` evaluates the exact law (its cost grows like ``n``)."""

_AD_TAIL = 7.0
"""Where :func:`ad_sf` switches from Marsaglia's short-cut to the tail expansion (see there)."""


@dataclass(frozen=True)
class TestResult:
    """The outcome of one hypothesis test.

    Attributes
    ----------
    name : str
        What was tested (``"AD"``, ``"mean z"``, ``"AD proj[2] (u=(0.6, 0.8))"``...).
    statistic : float
        The test statistic (its meaning is in the docstring of the test that made it).
    pvalue : float
        In ``[0, 1]``; small values are evidence against the null.
    detail : str
        Human-readable context: sample size, reference values, standard error.
    """

    __test__ = False  # not a pytest test class, though its name starts with "Test"

    name: str
    statistic: float
    pvalue: float
    detail: str = ""


class Moments(NamedTuple):
    """Mean, variance and 4th central moment of a 1D law."""

    mean: float
    var: float
    central_m4: float


# ---------------------------------------------------------------------------------- validation


def _pit_values(u, name: str = "u") -> np.ndarray:
    """``u`` as a non-empty 1-D float array in ``[0, 1]`` (an ``(n, 1)`` column is flattened)."""
    try:
        arr = np.asarray(u, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a numeric array of PIT values F(x), got {type(u).__name__}") from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of PIT values F(x) (shape (n,)), got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name} is empty: pass at least one PIT value")
    finite = np.isfinite(arr)
    if not finite.all():
        raise InputError(f"{name} contains {int(arr.size - finite.sum())} NaN or inf value(s); PIT values lie in [0, 1]")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise InputError(
            f"{name} must lie in [0, 1] (values F(x) of a cdf), got values in [{lo:.6g}, {hi:.6g}]; "
            "pass u = F(x), not x"
        )
    return arr


def _sample_1d(x, name: str = "x", *, min_size: int = 1) -> np.ndarray:
    """``x`` as a finite 1-D float array of at least ``min_size`` values (``(n, 1)`` is flattened)."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a numeric array of samples, got {type(x).__name__}") from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{name} must hold 1-dimensional samples, shape (n,) or (n, 1); got shape {arr.shape}")
    if arr.size < min_size:
        raise InputError(f"{name} has {arr.size} value(s); this test needs at least {min_size}")
    finite = np.isfinite(arr)
    if not finite.all():
        raise InputError(f"{name} contains {int(arr.size - finite.sum())} NaN or inf value(s)")
    return arr


def _scalar(value, name: str, *, positive: bool = False, allow_zero: bool = False) -> float:
    """A finite float from a scalar or a size-1 array (``mixture.mean()`` of a 1D law is one), optionally > 0 or >= 0."""
    arr = val.finite_array(value, name)
    if arr.size != 1:
        raise InputError(f"{name} must be a single number, got shape {arr.shape}")
    v = float(arr.reshape(()))
    if positive and (v < 0 or (v == 0 and not allow_zero)):
        raise InputError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v!r}")
    return v


def _z_pvalue(z: float) -> float:
    r"""Two-sided normal p-value :math:`2\Phi(-|z|)`, accurate far in the tail."""
    return float(min(1.0, 2.0 * special.ndtr(-abs(z))))


def _interval_z(t: float, t_ref: float, se: float, ref_error: float) -> float:
    r"""The signed excess :math:`\operatorname{sign}(\Delta)\max(|\Delta| - \varepsilon, 0)/\mathrm{se}`, :math:`\Delta = T - T_{ref}`.

    Its two-sided p-value is the largest over the interval null :math:`|E T - T_{ref}| \le \varepsilon`.
    """
    delta = t - t_ref
    return float(np.sign(delta) * max(abs(delta) - ref_error, 0.0) / se)


# ------------------------------------------------------------------------------ distribution-free


def ks_test(u, *, ref_error: float = 0.0) -> TestResult:
    r"""Kolmogorov-Smirnov test of PIT values against :math:`U(0, 1)`.

    .. math::
        D = \max_i \max\Big(\frac{i}{n} - u_{(i)},\ u_{(i)} - \frac{i-1}{n}\Big)
          = \sup_x |G_n(x) - F(x)|,

    with the p-value :func:`ks_sf` ``(D, n)``: exact up to ``n =`` :data:`KS_EXACT_MAX`.

    Parameters
    ----------
    u : array (n,)
        PIT values :math:`F(x_i)` in ``[0, 1]``.
    ref_error : float
        A bound :math:`\varepsilon` on :math:`\sup|F_{ref} - F_{true}|` when the reference cdf is itself
        approximate: by the triangle inequality :math:`D_{true} \ge D - \varepsilon`, so the p-value
        ``ks_sf(max(D - eps, 0), n)`` is valid (conservative) for every law within the bound.

    Returns
    -------
    TestResult
        ``statistic`` is :math:`D`.
    """
    ref_error = _scalar(ref_error, "ref_error", positive=True, allow_zero=True)
    return _ks_sorted(np.sort(_pit_values(u)), ref_error)


def _ks_sorted(us: np.ndarray, ref_error: float = 0.0) -> TestResult:
    n = us.size
    i = np.arange(1, n + 1)
    d = float(max(np.max(i / n - us), np.max(us - (i - 1) / n)))
    p = ks_sf(max(d - ref_error, 0.0), n)
    extra = f", ref_error={ref_error:.3g}" if ref_error else ""
    return TestResult("KS", d, p, f"n={n}, sqrt(n) D={np.sqrt(n) * d:.4g}{extra}")


def ks_sf(d: float, n: int) -> float:
    r"""P-value :math:`P(D_n \ge d)` of the two-sided Kolmogorov-Smirnov statistic of ``n`` uniforms.

    * ``n <= KS_EXACT_MAX``: the exact law, ``scipy.stats.kstwo.sf(d, n)`` (Simard & L'Ecuyer 2011).
      Its cost grows like ``n`` in the upper tail (about 1 s at ``n = 6e5``), hence:
    * larger ``n``: Kolmogorov's limiting law at an argument corrected to :math:`O(1/n)` (the
      small-sample correction of J. Vrbik, 2018),

      .. math::
          P(D_n \ge d) \approx Q_K\Big(x + \frac{1}{6\sqrt n} + \frac{x - 1}{4n}\Big), \qquad
          x = \sqrt n\, d, \qquad Q_K(y) = 2\sum_{k\ge1} (-1)^{k-1} e^{-2k^2y^2}

      (``scipy.stats.kstwobign.sf``), whose relative error falls like :math:`1/n`: below
      :math:`3\times10^{-3}` against the exact law at ``n = 10 001`` for p-values down to
      :math:`3\times10^{-8}` (tested), below :math:`10^{-4}` at ``n = 6e5``.
    """
    if n <= KS_EXACT_MAX:
        return float(min(max(stats.kstwo.sf(d, n), 0.0), 1.0))
    x = np.sqrt(n) * d
    return float(min(max(stats.kstwobign.sf(x + 1.0 / (6.0 * np.sqrt(n)) + (x - 1.0) / (4.0 * n)), 0.0), 1.0))


def ad_sf(a2) -> np.ndarray | float:
    r"""Survival function :math:`P(A^2_\infty > z)` of the limiting Anderson-Darling law.

    :math:`A^2_\infty = \sum_{j\ge1} Z_j^2 / (j(j+1))`, :math:`Z_j` iid standard normal (Anderson &
    Darling 1952).

    * :math:`z < 7`: one minus the two-piece short-cut ``adinf`` of G. Marsaglia & J. Marsaglia (2004),
      "Evaluating the Anderson-Darling distribution", *Journal of Statistical Software* 9(2),
      doi:10.18637/jss.v009.i02:

      .. math::
          z < 2:\ \ \frac{e^{-1.2337141/z}}{\sqrt z}\,(2.00012 + 0.247105 z - 0.0649821 z^2
          + 0.0347962 z^3 - 0.0116720 z^4 + 0.00168691 z^5), \qquad
          z \ge 2:\ \ \exp\!\big(-e^{\,1.0776 - 2.30695 z + 0.43424 z^2 - 0.082433 z^3 + 0.008056 z^4 - 0.0003146 z^5}\big),

      within :math:`2\times10^{-5}` (absolute) of the Anderson-Darling (1954) series.  Its second piece
      decays like :math:`e^{-e^{-0.0003 z^5}}` and is far too small beyond :math:`z \approx 8`
      (50 times too small at :math:`z = 12`).
    * :math:`z \ge 7`: the tail expansion.  The largest weight is :math:`1/2` (``j = 1``); with
      :math:`R = \sum_{j\ge2} Z_j^2/(j(j+1))`, :math:`P(Z^2/2 > y) = e^{-y}(\pi y)^{-1/2}(1 - \frac{1}{2y} + \dots)`,
      :math:`E e^{R} = \prod_{j\ge2}(1 - \frac{2}{j(j+1)})^{-1/2} = \sqrt3` and
      :math:`E[R e^R]/E e^R = \sum_{j\ge2}\frac{1}{(j-1)(j+2)} = \frac{11}{18}` give

      .. math::
          P(A^2_\infty > z) = \sqrt{\frac{3}{\pi z}}\; e^{-z}\Big(1 - \frac{7}{36 z} + O(z^{-2})\Big),

      relative error below 1% for :math:`z \ge 7` (p-values below :math:`3.3\times10^{-4}`).

    The two pieces differ by about 1% (relative) at :math:`z = 7`.  For finite ``n`` the law of
    :math:`A^2_n` differs from the limit by Marsaglia's ``errfix``, below :math:`0.013/n` in the upper
    tail (:math:`p < 0.2`): negligible for the sample sizes of a sampler check, and not applied.
    """
    z = np.asarray(a2, dtype=float)
    with np.errstate(under="ignore", over="ignore", divide="ignore", invalid="ignore"):
        zs = np.where(z > 0, z, 1.0)  # placeholder where z <= 0 (p = 1 there)
        low = zs < 2.0
        poly_lo = 2.00012 + (0.247105 - (0.0649821 - (0.0347962 - (0.0116720 - 0.00168691 * zs) * zs) * zs) * zs) * zs
        cdf_lo = np.exp(-1.2337141 / zs) / np.sqrt(zs) * poly_lo
        g = 1.0776 - (2.30695 - (0.43424 - (0.082433 - (0.008056 - 0.0003146 * zs) * zs) * zs) * zs) * zs
        sf_mid = -np.expm1(-np.exp(g))  # 1 - exp(-e^g), without cancellation when e^g is small
        sf_tail = np.sqrt(3.0 / (np.pi * zs)) * np.exp(-zs) * (1.0 - 7.0 / (36.0 * zs))
        sf = np.where(low, 1.0 - cdf_lo, np.where(zs < _AD_TAIL, sf_mid, sf_tail))
    out = np.where(z > 0, np.clip(sf, 0.0, 1.0), 1.0)
    out = np.where(np.isposinf(z), 0.0, out)
    return out if out.ndim else float(out)


def anderson_darling_test(u) -> TestResult:
    r"""Anderson-Darling test of PIT values against :math:`U(0, 1)` (the fully specified case).

    .. math::
        A^2 = -n - \frac1n \sum_{i=1}^n (2i - 1)\big[\log u_{(i)} + \log(1 - u_{(n+1-i)})\big],

    with :math:`\log(1 - u)` as ``log1p(-u)``, and the p-value :func:`ad_sf` of the limiting law
    (Marsaglia & Marsaglia 2004, with an exact tail expansion beyond :math:`A^2 = 7`).  No parameter is
    fitted: unlike ``scipy.stats.anderson``, a scale or location error is caught.

    A value :math:`u_i` exactly 0 or 1 puts a sample where the null has no mass (or beyond the range
    where the cdf is resolved in floating point: more than about 8.3 standard deviations above the
    top of a Gaussian component, probability :math:`< 10^{-16}` per sample under the null); then
    :math:`A^2 = \infty` and :math:`p = 0`.

    Parameters
    ----------
    u : array (n,)
        PIT values :math:`F(x_i)` in ``[0, 1]``.

    Returns
    -------
    TestResult
        ``statistic`` is :math:`A^2`.
    """
    return _ad_sorted(np.sort(_pit_values(u)))


def _ad_sorted(us: np.ndarray) -> TestResult:
    n = us.size
    edge = int(np.count_nonzero(us <= 0.0) + np.count_nonzero(us >= 1.0))
    if edge:
        detail = f"n={n}, {edge} PIT value(s) exactly 0 or 1: samples where the null has no mass"
        return TestResult("AD", float("inf"), 0.0, detail)
    w = 2.0 * np.arange(1, n + 1) - 1.0
    s = w @ np.log(us) + w @ np.log1p(-us[::-1])
    a2 = float(-n - s / n)
    return TestResult("AD", a2, float(ad_sf(a2)), f"n={n}")


# --------------------------------------------------------------------------------- moment tests


def mean_test(x, mean: float, var: float, *, ref_error: float = 0.0) -> TestResult:
    r"""Two-sided z-test of the sample mean against the reference's exact mean.

    .. math::
        z = \frac{\bar x - \mu}{\sqrt{\sigma^2 / n}},

    asymptotically :math:`\mathcal N(0, 1)` under the null (CLT; the variance is the reference's,
    not estimated).  With ``ref_error`` :math:`= \varepsilon \ge |\mu_{ref} - \mu_{true}|`, the p-value is
    :math:`2\Phi(-\max(|\bar x - \mu| - \varepsilon, 0)/\mathrm{se})` (module notes).

    Parameters
    ----------
    x : array (n,) or (n, 1)
        Samples.
    mean, var : float
        The reference's mean and variance (``var > 0``).
    ref_error : float
        Error bound of the reference mean (0 for an exact one).

    Returns
    -------
    TestResult
        ``statistic`` is the signed excess z above (the plain z when ``ref_error = 0``).
    """
    x = _sample_1d(x)
    mean = _scalar(mean, "mean")
    var = _scalar(var, "var", positive=True)
    ref_error = _scalar(ref_error, "ref_error", positive=True, allow_zero=True)
    n = x.size
    xbar = float(x.mean())
    se = float(np.sqrt(var / n))
    z = _interval_z(xbar, mean, se, ref_error)
    extra = f", ref_error={ref_error:.3g}" if ref_error else ""
    return TestResult("mean z", z, _z_pvalue(z), f"n={n}, mean={xbar:.6g} vs {mean:.6g}, se={se:.3g}{extra}")


def variance_test(x, mean: float, var: float, central_m4: float, *, ref_error: float = 0.0) -> TestResult:
    r"""Two-sided z-test of the sample variance about the known mean.

    .. math::
        S = \frac1n \sum_i (x_i - \mu)^2, \qquad E S = \sigma^2, \qquad
        \operatorname{Var} S = \frac{m_4 - \sigma^4}{n}, \qquad z = \frac{S - \sigma^2}{\sqrt{(m_4 - \sigma^4)/n}},

    :math:`m_4 = E(X - \mu)^4` the reference's exact 4th central moment.  Centring on the known mean
    (not :math:`\bar x`) keeps :math:`S` unbiased with this exact standard error; a mean error
    inflates :math:`S` by its square, so it is caught here too.  With ``ref_error``
    :math:`= \varepsilon \ge |\sigma^2_{ref} - \sigma^2_{true}|` the p-value is
    :math:`2\Phi(-\max(|S - \sigma^2| - \varepsilon, 0)/\mathrm{se})`.

    Parameters
    ----------
    x : array (n,) or (n, 1)
    mean, var, central_m4 : float
        The reference's mean, variance and 4th central moment; ``central_m4 > var**2``.
    ref_error : float
        Error bound of the reference variance.

    Returns
    -------
    TestResult
        ``statistic`` is the signed excess z.
    """
    x = _sample_1d(x)
    mean = _scalar(mean, "mean")
    var = _scalar(var, "var", positive=True)
    m4 = _scalar(central_m4, "central_m4", positive=True)
    ref_error = _scalar(ref_error, "ref_error", positive=True, allow_zero=True)
    if m4 <= var * var:
        raise InputError(
            f"central_m4 must exceed var**2 (E(X-m)^4 > (E(X-m)^2)^2 for any non-degenerate law); "
            f"got central_m4={m4:.6g}, var**2={var * var:.6g}: pass the 4th central moment, not the kurtosis"
        )
    n = x.size
    s = float(np.mean((x - mean) ** 2))
    se = float(np.sqrt((m4 - var * var) / n))
    z = _interval_z(s, var, se, ref_error)
    extra = f", ref_error={ref_error:.3g}" if ref_error else ""
    return TestResult("variance z", z, _z_pvalue(z), f"n={n}, var={s:.6g} vs {var:.6g}, se={se:.3g}{extra}")


def mixture_moments(mixture) -> Moments:
    r"""Exact mean, variance and 4th central moment of a 1D Gaussian mixture.

    For :math:`\sum_k w_k \mathcal N(m_k, s_k^2)` with mean :math:`\mu = \sum_k w_k m_k` and
    :math:`d_k = m_k - \mu`,

    .. math::
        \sigma^2 = \sum_k w_k (s_k^2 + d_k^2), \qquad
        m_4 = \sum_k w_k (d_k^4 + 6 d_k^2 s_k^2 + 3 s_k^4),

    from :math:`E(d + sZ)^4 = d^4 + 6d^2s^2 + 3s^4`.

    Parameters
    ----------
    mixture : fpcheck.distributions.GaussianMixture
        With ``dim == 1`` (take ``.marginal([i])`` or ``.project(u)`` of a higher-dimensional one).
    """
    from ..distributions import GaussianMixture

    if not isinstance(mixture, GaussianMixture):
        raise InputError(f"mixture must be a fpcheck.distributions.GaussianMixture, got {type(mixture).__name__}")
    if mixture.dim != 1:
        raise InputError(
            f"mixture must be 1-dimensional, this one has dim={mixture.dim}; take mixture.marginal([i]) "
            "or mixture.project(direction) first"
        )
    w, m, s2 = mixture.weights, mixture.means[:, 0], mixture.covs[:, 0, 0]
    mu = float(w @ m)
    d = m - mu
    var = float(w @ (s2 + d * d))
    m4 = float(w @ (d**4 + 6.0 * d * d * s2 + 3.0 * s2 * s2))
    return Moments(mu, var, m4)
