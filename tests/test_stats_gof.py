"""Tests of fpcheck.stats.gof: the Anderson-Darling law, KS, AD and moment z-tests, bad input.

Significance levels.  Every random test fixes its seeds.  A calibration check counts rejections at
level ``ALPHA = 0.05`` over ``SEEDS = 200`` seeds and accepts counts inside the central 99.8% of
Binomial(200, 0.05) (the 0.001 and 0.999 quantiles): on fresh seeds a correct test fails it with
probability <= 0.002.  A power check asserts a count at least the 0.001 quantile of
Binomial(seeds, power bound), the bound a proven lower bound on the power (DKW, see
:func:`_dkw_power_bound`) or a normal approximation where stated: false-fail probability <= 0.001.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from fpcheck import problems
from fpcheck.distributions import BoxMixture, GaussianMixture
from fpcheck.errors import InputError
from fpcheck.stats import (
    TestResult,
    ad_sf,
    anderson_darling_test,
    ks_sf,
    ks_test,
    mean_test,
    mixture_moments,
    variance_test,
)
from fpcheck.stats.gof import KS_EXACT_MAX

ALPHA, SEEDS, N_NULL = 0.05, 200, 300


def _adinf_series(z: float, terms: int = 40) -> float:
    r"""The limiting AD cdf by the Anderson-Darling (1954) series, an oracle independent of ``ad_sf``.

    .. math::
        A_\infty(z) = \frac{\sqrt{2\pi}}{z}\sum_{j\ge0}\binom{-1/2}{j}(4j+1)
        \int_0^\infty \exp\Big(\frac{z}{8(w^2+1)} - \frac{(4j+1)^2\pi^2 (1 + w^2)}{8z}\Big)\,dw.

    Each integral by adaptive quadrature (relative tolerance 1e-13); the terms fall like
    exp(-(4j+1)^2 pi^2 / 8z), so 40 terms are exact to round-off for z <= 25.  It agrees with a
    Gil-Pelaez inversion of the characteristic function of sum_j Z_j^2 / (j(j+1)) to 1e-15.
    """
    total = 0.0
    for j in range(terms):
        k = (4 * j + 1) ** 2 * np.pi**2 / (8.0 * z)
        integrand = lambda w: np.exp(z / (8.0 * (w * w + 1.0)) - k * (1.0 + w * w))  # noqa: E731
        val, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=0.0, epsrel=1e-13, limit=200)
        total += special.binom(-0.5, j) * (4 * j + 1) * val
    return math.sqrt(2.0 * np.pi) / z * total


def _binom_band(count: int, trials: int, p: float) -> tuple[float, float]:
    return stats.binom.ppf(0.001, trials, p), stats.binom.ppf(0.999, trials, p)


def _bimodal() -> GaussianMixture:
    return problems.data("gmm1d-bimodal")


# ------------------------------------------------------------------------ the limiting AD law


@pytest.mark.parametrize("z, prob", [(1.933, 0.90), (2.492, 0.95)])
def test_ad_sf_at_marsaglia_published_quantiles(z, prob):
    # The published quantiles are rounded to 3 decimals: |dz| <= 5e-4, worth 5e-4 * density in
    # probability (density from a central difference of the series oracle); plus 2e-5, the
    # short-cut's accuracy (test below).
    dens = (_adinf_series(z + 1e-3) - _adinf_series(z - 1e-3)) / 2e-3
    assert abs((1.0 - ad_sf(z)) - prob) <= 5e-4 * dens + 2e-5


def test_ad_sf_at_the_1_percent_point():
    # The 1% point usually quoted, 3.857 (Anderson & Darling 1954), is not the 99% quantile of the
    # limiting law: the series gives P(A^2 < 3.857) = 0.98976 (tested: within 2e-5 of ad_sf, while
    # 0.99 is 2.4e-4 away, 40 times the rounding allowance 5e-4 * density = 6e-6).  The accurate
    # 1% point, 3.878 (series: 3.87813), is checked as the two above.
    assert abs((1.0 - ad_sf(3.857)) - _adinf_series(3.857)) <= 2e-5
    assert abs(_adinf_series(3.857) - 0.99) > 2e-4
    dens = (_adinf_series(3.879) - _adinf_series(3.877)) / 2e-3
    assert abs((1.0 - ad_sf(3.878)) - 0.99) <= 5e-4 * dens + 2e-5


def test_ad_sf_against_the_anderson_darling_series():
    # Body (z < 7): Marsaglia's short-cut, absolute error <= 2e-5 against the series.
    # Tail (7 <= z <= 15): the expansion sqrt(3/(pi z)) e^-z (1 - 7/(36 z)), whose next term is
    # O(z^-2): below 1% relative for z >= 7.  Beyond z = 15 the oracle's 1 - cdf has no digits left.
    for z in [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 1.99, 2.01, 2.5, 3.0, 4.0, 5.0, 6.0, 6.99]:
        assert abs(ad_sf(z) - (1.0 - _adinf_series(z))) <= 2e-5, z
    for z in [7.0, 8.0, 10.0, 12.0, 15.0]:
        exact = 1.0 - _adinf_series(z)
        assert abs(ad_sf(z) / exact - 1.0) <= 0.01, (z, ad_sf(z), exact)


def test_ad_sf_limits_and_monotone():
    z = np.linspace(0.0, 60.0, 6001)
    p = ad_sf(z)
    assert p[0] == 1.0 and ad_sf(np.inf) == 0.0 and ad_sf(-1.0) == 1.0
    assert np.all((p >= 0) & (p <= 1))
    # monotone except at the 1% seam at z = 7 (documented), where it may step up by at most 1%
    steps = np.diff(p)
    seam = np.abs(z[1:] - 7.0) < 0.011
    assert np.all(steps[~seam] <= 0.0)
    assert np.all(steps[seam] <= 0.011 * p[1:][seam])
    assert 0.0 < ad_sf(40.0) < 1e-15  # the tail stays resolved, not flushed to 0


# --------------------------------------------------------------------------- the AD statistic


def test_anderson_darling_statistic_against_a_direct_sum(rng):
    u = rng.random(257)
    n, us = u.size, sorted(u.tolist())
    direct = -n - sum((2 * i - 1) * (math.log(us[i - 1]) + math.log(1.0 - us[n - i])) for i in range(1, n + 1)) / n
    r = anderson_darling_test(u)
    assert isinstance(r, TestResult) and r.name == "AD"
    assert r.statistic == pytest.approx(direct, rel=1e-12)
    assert r.pvalue == ad_sf(r.statistic)


def test_anderson_darling_outside_the_support():
    # a PIT value of exactly 0 or 1 is a sample where the null has no mass
    for bad in (0.0, 1.0):
        r = anderson_darling_test(np.array([0.2, 0.5, bad, 0.7]))
        assert r.statistic == np.inf and r.pvalue == 0.0


def test_anderson_darling_sees_a_pure_scale_error(rng):
    # N(0, 1.1^2) against the fully specified N(0, 1): scipy.stats.anderson refits the scale and
    # cannot see it; the fully specified A^2 must.  Rigorous bound: A^2 >= 4 W^2 >= 4n(d - eps)^2
    # with probability >= 1 - 2 exp(-2 n eps^2) (DKW), d^2 = int (G - F)^2 dF by quadrature.
    n = 60_000
    x = 1.1 * rng.standard_normal(n)
    d2 = integrate.quad(lambda t: (special.ndtr(t / 1.1) - special.ndtr(t)) ** 2 * np.exp(-t * t / 2) / np.sqrt(2 * np.pi), -12, 12)[0]
    q = optimize.brentq(lambda z: ad_sf(z) - 1e-3, 1.0, 20.0)
    eps = np.sqrt(d2) - np.sqrt(q / (4 * n))
    assert 2 * np.exp(-2 * n * eps * eps) < 1e-3  # so p <= 1e-3 with probability > 0.999
    assert anderson_darling_test(special.ndtr(x)).pvalue <= 1e-3


# ------------------------------------------------------------------------------------------ KS


def test_ks_matches_scipy_kstest(rng):
    m = _bimodal()
    for n in (5, 80, 1500):
        x = m.sample(n, rng)[:, 0] * 1.02
        ref = stats.kstest(x, m.cdf)
        r = ks_test(m.cdf(x))
        # same D formula and the same kstwo.sf: equal to round-off
        assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10, abs=1e-300)


def test_ks_sf_large_n_against_the_exact_law():
    # beyond KS_EXACT_MAX the corrected limiting law; its relative error falls like 1/n, and at
    # the switch (n = 10 001) it is below 3e-3 for p down to 3e-8 (x = 3)
    n = KS_EXACT_MAX + 1
    for x in (0.6, 0.9, 1.2, 1.5, 2.0, 2.5, 3.0):
        d = x / math.sqrt(n)
        exact = stats.kstwo.sf(d, n)
        assert ks_sf(d, n) == pytest.approx(exact, rel=3e-3), x
    assert ks_sf(0.5, KS_EXACT_MAX) == stats.kstwo.sf(0.5, KS_EXACT_MAX)  # exact up to the switch
    assert ks_sf(0.0, 10**6) == pytest.approx(1.0, abs=1e-12)


def test_ks_interval_null(rng):
    u = rng.random(400) ** 1.1
    plain = ks_test(u)
    eps = 0.01
    r = ks_test(u, ref_error=eps)
    assert r.statistic == plain.statistic
    assert r.pvalue == pytest.approx(stats.kstwo.sf(plain.statistic - eps, 400), rel=1e-12)
    assert r.pvalue >= plain.pvalue
    assert ks_test(u, ref_error=plain.statistic).pvalue == 1.0


# ------------------------------------------------------------------------------- moment tests


def test_mixture_moments_against_quadrature():
    for m in (_bimodal(), GaussianMixture([0.2, 0.5, 0.3], [[-1.0], [0.5], [3.0]], [[[0.5]], [[0.1]], [[2.0]]])):
        pdf = lambda t: m.pdf(np.array([t]))[0]  # noqa: E731
        mom = mixture_moments(m)
        mean = integrate.quad(lambda t: t * pdf(t), -30, 30, limit=200, epsabs=1e-13)[0]
        var = integrate.quad(lambda t: (t - mean) ** 2 * pdf(t), -30, 30, limit=200, epsabs=1e-13)[0]
        m4 = integrate.quad(lambda t: (t - mean) ** 4 * pdf(t), -30, 30, limit=200, epsabs=1e-12)[0]
        # quadrature of smooth integrands to 1e-12 absolute; relative 1e-9 leaves room for the
        # tails beyond +-30 (below 1e-50) and round-off
        assert mom.mean == pytest.approx(mean, rel=1e-9, abs=1e-12)
        assert mom.var == pytest.approx(var, rel=1e-9)
        assert mom.central_m4 == pytest.approx(m4, rel=1e-9)
        assert mom.var == pytest.approx(float(m.cov()[0, 0]), rel=1e-14)


def test_mean_and_variance_z_by_hand(rng):
    x = rng.normal(0.3, 1.7, size=500)
    mu, var, m4 = 0.25, 3.0, 27.0
    n = x.size
    z_mean = (x.mean() - mu) / math.sqrt(var / n)
    r = mean_test(x, mu, var)
    assert r.statistic == pytest.approx(z_mean, rel=1e-12)
    assert r.pvalue == pytest.approx(math.erfc(abs(z_mean) / math.sqrt(2)), rel=1e-10)
    s = float(np.sum((x - mu) ** 2) / n)
    z_var = (s - var) / math.sqrt((m4 - var**2) / n)
    r = variance_test(x, mu, var, m4)
    assert r.statistic == pytest.approx(z_var, rel=1e-12)
    assert r.pvalue == pytest.approx(math.erfc(abs(z_var) / math.sqrt(2)), rel=1e-10)


@pytest.mark.parametrize("which", ["mean", "variance"])
def test_interval_null_of_the_moment_tests(rng, which):
    x = rng.normal(0.0, 1.0, size=400)
    mu, var, m4 = 0.0, 1.0, 3.0
    if which == "mean":
        run = lambda e: mean_test(x, mu, var, ref_error=e)  # noqa: E731
    else:
        run = lambda e: variance_test(x, mu, var, m4, ref_error=e)  # noqa: E731
    t = x.mean() if which == "mean" else float(np.mean(x**2))
    ref = mu if which == "mean" else var
    se = math.sqrt(var / 400) if which == "mean" else math.sqrt((m4 - var**2) / 400)
    delta = abs(t - ref)
    # inside the reference's error bound: no evidence at all
    assert run(1.01 * delta).pvalue == 1.0
    # outside it: the p-value of the excess over the bound
    e = 0.5 * delta
    assert run(e).pvalue == pytest.approx(math.erfc((delta - e) / se / math.sqrt(2)), rel=1e-10)
    assert run(e).pvalue >= run(0.0).pvalue


# ------------------------------------------------------------------------ calibration and power


def test_false_alarm_rate_of_each_test():
    m = _bimodal()
    mom = mixture_moments(m)
    counts = {"mean z": 0, "variance z": 0, "AD": 0, "KS": 0}
    for seed in range(SEEDS):
        x = m.sample(N_NULL, np.random.default_rng(seed))[:, 0]
        u = m.cdf(x)
        results = (mean_test(x, mom.mean, mom.var), variance_test(x, *mom), anderson_darling_test(u), ks_test(u))
        for r in results:
            counts[r.name] += r.pvalue <= ALPHA
    lo, hi = _binom_band(0, SEEDS, ALPHA)
    for name, c in counts.items():
        assert lo <= c <= hi, f"{name}: {c} rejections in {SEEDS} exact samples at alpha={ALPHA} (band [{lo:g}, {hi:g}])"


def _dkw_power_bound(n: int, sup: float, d: float, q_ad: float, q_ks: float) -> tuple[float, float]:
    r"""Proven lower bounds on the power of AD and KS against an alternative with cdf gap ``sup``, distance ``d``.

    With :math:`\varepsilon` the DKW deviation, :math:`P(\sup|H_n - H| > \varepsilon) \le 2e^{-2n\varepsilon^2}`:
    KS rejects when :math:`\sup|H - t| - \varepsilon > q_{KS}`; AD when :math:`4n(d - \varepsilon)^2 > q_{AD}`
    (:math:`A^2 \ge 4 n \int (H_n - t)^2 dt`, reverse triangle inequality in :math:`L^2 \le \sup`).
    """

    def bound(eps):
        return max(0.0, 1.0 - 2.0 * math.exp(-2.0 * n * eps * eps)) if eps > 0 else 0.0

    return bound(d - math.sqrt(q_ad / (4.0 * n))), bound(sup - q_ks)


@pytest.mark.parametrize(
    "kind, n",
    [("scale", 10_000), ("shift", 2_000)],  # 5% scale error; 0.1-sd shift
)
def test_power_against_a_scale_error_and_a_shift(kind, n):
    m = _bimodal()
    mom = mixture_moments(m)
    sd = math.sqrt(mom.var)
    if kind == "scale":
        transform = lambda x: mom.mean + 1.05 * (x - mom.mean)  # noqa: E731
        alt_cdf = lambda t: m.cdf(mom.mean + (np.atleast_1d(t) - mom.mean) / 1.05)  # noqa: E731
    else:
        transform = lambda x: x + 0.1 * sd  # noqa: E731
        alt_cdf = lambda t: m.cdf(np.atleast_1d(t) - 0.1 * sd)  # noqa: E731
    grid = np.linspace(-8.0, 8.0, 160_001)
    sup = float(np.max(np.abs(alt_cdf(grid) - m.cdf(grid))))
    d2 = integrate.quad(lambda t: (alt_cdf(t)[0] - m.cdf(np.array([t]))[0]) ** 2 * m.pdf(np.array([t]))[0], -8, 8, limit=400)[0]
    level = 0.01
    q_ad = optimize.brentq(lambda z: ad_sf(z) - level, 1.0, 20.0)
    p_ad, p_ks = _dkw_power_bound(n, sup, math.sqrt(d2), q_ad, stats.kstwo.isf(level, n))
    # normal-approximation power of the moment z-tests at the same level
    zc = special.ndtri(1 - level / 2)
    if kind == "scale":
        shift_z = (1.05**2 - 1) * mom.var / math.sqrt((mom.central_m4 - mom.var**2) / n)
    else:
        shift_z = 0.1 * sd / math.sqrt(mom.var / n)
    p_z = special.ndtr(shift_z - zc)
    seeds = 20
    hits = {"AD": 0, "KS": 0, "z": 0}
    for seed in range(seeds):
        x = transform(m.sample(n, np.random.default_rng(1000 + seed))[:, 0])
        u = m.cdf(x)
        hits["AD"] += anderson_darling_test(u).pvalue <= level
        hits["KS"] += ks_test(u).pvalue <= level
        z = variance_test(x, *mom) if kind == "scale" else mean_test(x, mom.mean, mom.var)
        hits["z"] += z.pvalue <= level
    for name, bound in (("AD", p_ad), ("KS", p_ks), ("z", p_z)):
        assert bound > 0.9, f"{name}: n={n} was meant to give a power bound near 1, got {bound:.3g}"
        assert hits[name] >= stats.binom.ppf(0.001, seeds, bound), (name, hits[name], bound)


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([0.1, np.nan, 0.3]), "u contains 1 NaN"),
        (np.array([0.1, 1.2]), r"u must lie in \[0, 1\]"),
        (np.array([-0.1, 0.5]), r"u must lie in \[0, 1\]"),
        (np.zeros((3, 2)), "u must be a 1-D array"),
        (np.array([]), "u is empty"),
        ("abc", "u must be a numeric"),
    ],
)
def test_bad_pit_values(bad, match):
    for test in (ks_test, anderson_darling_test):
        with pytest.raises(InputError, match=match):
            test(bad)


def test_bad_moment_arguments():
    x = np.linspace(-1, 1, 10)
    with pytest.raises(InputError, match="x contains 1 NaN"):
        mean_test(np.array([0.0, np.nan]), 0.0, 1.0)
    with pytest.raises(InputError, match="x must hold 1-dimensional"):
        mean_test(np.zeros((4, 2)), 0.0, 1.0)
    with pytest.raises(InputError, match="x has 0"):
        mean_test(np.array([]), 0.0, 1.0)
    with pytest.raises(InputError, match="var must be > 0"):
        mean_test(x, 0.0, 0.0)
    with pytest.raises(InputError, match="ref_error must be >= 0"):
        mean_test(x, 0.0, 1.0, ref_error=-1.0)
    with pytest.raises(InputError, match="central_m4 must exceed var"):
        variance_test(x, 0.0, 2.0, 3.0)
    with pytest.raises(InputError, match="mean contains"):
        variance_test(x, np.nan, 1.0, 3.0)
    with pytest.raises(InputError, match="ref_error must be >= 0"):
        ks_test([0.5], ref_error=-0.1)
    with pytest.raises(InputError, match="mean must be a single number"):
        mean_test(x, [0.0, 1.0], 1.0)
    # a size-1 array (what mixture.mean() returns for a 1D law) is a number
    m = _bimodal()
    assert mean_test(x, m.mean(), m.cov()).statistic == mean_test(x, float(m.mean()[0]), float(m.cov()[0, 0])).statistic


def test_mixture_moments_needs_a_1d_gaussian_mixture():
    with pytest.raises(InputError, match="dim=2"):
        mixture_moments(problems.data("gmm2d-ring8"))
    with pytest.raises(InputError, match="GaussianMixture"):
        mixture_moments(BoxMixture.box())
