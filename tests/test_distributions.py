"""Unit tests of fpcheck.distributions against independent truths.

Truths: scipy.stats.multivariate_normal mixtures, explicit precision-matrix scores, finite
differences, adaptive quadrature (convolutions, marginals, cdfs, normalisation), mpmath at 50
digits for far tails (skipped if mpmath is absent), and sampling tests with stated false-fail
rates (the seed is fixed, so each outcome is deterministic).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from fpcheck.distributions import Boltzmann1D, BoxMixture, GaussianMixture
from fpcheck.errors import InputError
from fpcheck.processes import DoubleWell, Potential

from _unit_helpers import (
    assert_cov_equal_by_z_test,
    assert_mean_equal_by_z_test,
    assert_scaled_close,
    assert_true_cdf_equal_by_dkwm,
    fd_gradient,
)

ALPHA = 1e-4  # false-fail probability of each statistical assertion on a fresh seed


def _spd(rng, d, lo=0.05):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + lo * np.eye(d)


def _gmm1():
    return GaussianMixture([0.2, 0.5, 0.3], [[-2.0], [0.5], [3.0]], [[[0.16]], [[1.0]], [[0.36]]])


def _gmm2():
    return GaussianMixture(
        [0.5, 0.3, 0.2],
        [[-1.5, 0.0], [1.5, 1.0], [0.5, -1.5]],
        [[[0.40, 0.25], [0.25, 0.30]], [[0.20, -0.10], [-0.10, 0.15]], [[0.10, 0.0], [0.0, 0.50]]],
    )


def _gmm3():
    rng = np.random.default_rng(3)
    covs = np.stack([_spd(rng, 3), _spd(rng, 3, 0.2), _spd(rng, 3, 0.5)])
    return GaussianMixture([0.25, 0.35, 0.4], [[1.0, 1.0, 1.0], [-1.0, 0.5, -1.0], [0.0, -1.0, 1.5]], covs)


GMMS = [pytest.param(_gmm1, id="gmm-1d"), pytest.param(_gmm2, id="gmm-2d"), pytest.param(_gmm3, id="gmm-3d")]


def _points(dist, n=40, spread=2.0, seed=11):
    rng = np.random.default_rng(seed)
    sd = np.sqrt(np.diag(dist.cov()))
    return dist.mean() + spread * sd * rng.standard_normal((n, dist.dim))


def _scipy_mixture_terms(g: GaussianMixture, x):
    """log w_k + log N(x; m_k, S_k) from scipy, shape (n, K)."""
    return np.column_stack(
        [np.log(w) + stats.multivariate_normal(m, S).logpdf(x).reshape(-1) for w, m, S in zip(g.weights, g.means, g.covs)]
    )


def _exact_score(g: GaussianMixture, x):
    """sum_k r_k(x) (-S_k^{-1} (x - m_k)), with the responsibilities from scipy's log-densities."""
    r = special.softmax(_scipy_mixture_terms(g, x), axis=1)
    comp = np.stack([-np.linalg.solve(S, (x - m).T).T for m, S in zip(g.means, g.covs)], axis=1)
    return np.einsum("nk,nkd->nd", r, comp)


# =============================================================================================
# GaussianMixture
# =============================================================================================


@pytest.mark.parametrize("make", GMMS)
def test_gmm_logpdf_equals_scipy_mixture(make):
    # Both sides are exact up to rounding of the quadratic forms (condition numbers < 1e2):
    # rtol 1e-12 with atol 1e-12 for log-densities near 0.
    g = make()
    x = _points(g)
    truth = special.logsumexp(_scipy_mixture_terms(g, x), axis=1)
    assert_scaled_close(g.logpdf(x), truth, rtol=1e-12, atol=1e-12, what="logpdf")
    assert_scaled_close(g.pdf(x), np.exp(truth), rtol=1e-11, what="pdf")


@pytest.mark.parametrize("make", GMMS)
def test_gmm_score_equals_precision_formula_and_finite_difference(make):
    g = make()
    x = _points(g)
    assert_scaled_close(g.score(x), _exact_score(g, x), rtol=1e-10, atol=1e-10, what="score vs formula")
    # 4th-order differences of log p with h = 1e-3 * min std: truncation h^4 |d^5 log p| / 30
    # <~ 1e-12 * C / std with C <~ 1e3 for these mixtures; rounding 1.5 eps |log p| / h ~ 1e-11 / std.
    sd = float(np.sqrt(np.linalg.eigvalsh(g.covs).min()))
    h = 1e-3 * sd
    assert_scaled_close(g.score(x), fd_gradient(g.logpdf, x, h), rtol=1e-7, atol=1e-7 / sd, what="score vs FD")


@pytest.mark.parametrize("make", GMMS)
@pytest.mark.parametrize("radius", [1e3, 1e6])
def test_gmm_far_tails_follow_the_dominant_component(make, radius):
    g = make()
    d = g.dim
    dirs = np.vstack([np.eye(d), -np.eye(d), np.ones((1, d)) / np.sqrt(d), np.linspace(-1, 1, d)[None] + 0.3])
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    x = radius * dirs
    terms = _scipy_mixture_terms(g, x)
    lp, sc = g.logpdf(x), g.score(x)
    assert np.all(np.isfinite(lp)) and np.all(np.isfinite(sc))
    # the logpdf is ~ -radius^2 / var: relative rounding only
    assert_scaled_close(lp, special.logsumexp(terms, axis=1), rtol=1e-12, what="tail logpdf")
    k = np.argmax(terms, axis=1)
    gap = np.sort(terms, axis=1)[:, -1] - np.sort(terms, axis=1)[:, -2]
    assert np.all(gap > 745)  # the other responsibilities underflow: the score is one component's
    dominant = np.stack([-np.linalg.solve(g.covs[j], x[i] - g.means[j]) for i, j in enumerate(k)])
    assert_scaled_close(sc, dominant, rtol=1e-10, atol=1e-10 * radius, what="tail score")


def test_gmm_cdf_equals_quadrature_of_pdf():
    # quad of a smooth integrand with breakpoints at the means, epsabs 1e-14: |error| < 1e-12.
    g = _gmm1()
    lo = -2.0 - 40 * 0.4  # below every component by 40 sd: the mass left out is < 1e-300
    pdf = lambda u: float(g.pdf([u])[0])  # noqa: E731
    for x in [-4.0, -2.0, -0.3, 0.5, 1.7, 3.0, 6.0]:
        pts = [m for m in (-2.0, 0.5, 3.0) if lo < m < x] or None
        truth, err = integrate.quad(pdf, lo, x, points=pts, epsabs=1e-14, epsrel=1e-12, limit=200)
        assert g.cdf([x])[0] == pytest.approx(truth, abs=1e-12)
    assert g.cdf([-1e6])[0] == 0.0 and g.cdf([1e6])[0] == 1.0


@pytest.mark.parametrize("make", GMMS)
def test_gmm_sample_moments_by_z_test(make, rng):
    g = make()
    x = g.sample(200_000, rng)
    assert x.shape == (200_000, g.dim)
    assert_mean_equal_by_z_test(x, g.mean(), g.cov(), alpha=ALPHA)
    assert_cov_equal_by_z_test(x, g.mean(), g.cov(), alpha=ALPHA)


@pytest.mark.parametrize("make", GMMS)
def test_gmm_moments_equal_direct_formulas(make):
    # mean = sum w m, cov = sum w (S + m m^T) - mean mean^T, written out
    g = make()
    mean = sum(w * m for w, m in zip(g.weights, g.means))
    second = sum(w * (S + np.outer(m, m)) for w, m, S in zip(g.weights, g.means, g.covs))
    np.testing.assert_allclose(g.mean(), mean, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(g.cov(), second - np.outer(mean, mean), rtol=1e-13, atol=1e-14)


def test_gmm_1d_sample_ks_by_dkwm(rng):
    g = _gmm1()
    # n = 1e5: the DKWM half-width at alpha = 1e-4 is 0.0069, so a weight off by 0.02 would fail
    assert_true_cdf_equal_by_dkwm(g.sample(100_000, rng)[:, 0], lambda u: g.cdf(u), alpha=ALPHA)


@pytest.mark.parametrize("make", [GMMS[1], GMMS[2]])
def test_gmm_project_is_the_law_of_the_projection(make, rng):
    g = make()
    u = np.array([0.6, -1.3, 0.4])[: g.dim]
    p = g.project(u)
    assert p.dim == 1
    assert p.mean()[0] == pytest.approx(u @ g.mean(), rel=1e-13, abs=1e-14)
    assert p.cov()[0, 0] == pytest.approx(u @ g.cov() @ u, rel=1e-13, abs=0)
    x = g.sample(100_000, rng)
    assert_true_cdf_equal_by_dkwm(x @ u, lambda y: p.cdf(y), alpha=ALPHA)


def test_gmm_project_pdf_is_the_line_integral_2d():
    # density of Y = u.X at y: (1/|u|) * integral of p along the line {u.x = y}
    g = _gmm2()
    u = np.array([0.6, -1.3])
    nu = np.linalg.norm(u)
    e, perp = u / nu, np.array([-u[1], u[0]]) / nu
    p = g.project(u)
    for y in [-2.0, -0.4, 0.0, 1.1, 2.5]:
        f = lambda r, y=y: float(g.pdf((y / nu * e + r * perp)[None])[0])  # noqa: E731
        truth, _ = integrate.quad(f, -30, 30, epsabs=1e-14, epsrel=1e-11, limit=200)
        assert p.pdf([y])[0] == pytest.approx(truth / nu, rel=1e-9, abs=1e-14)


def test_gmm_marginal_equals_integral_over_the_other_axes():
    g2, g3 = _gmm2(), _gmm3()
    m = g2.marginal([1])
    for y in [-2.0, -0.5, 0.7, 2.0]:
        f = lambda x, y=y: float(g2.pdf([[x, y]])[0])  # noqa: E731
        truth, _ = integrate.quad(f, -30, 30, epsabs=1e-14, epsrel=1e-11, limit=200)
        assert m.pdf([y])[0] == pytest.approx(truth, rel=1e-9, abs=1e-14)
    m3 = g3.marginal([2, 0])  # order matters: coordinates (x2, x0)
    for x2, x0 in [(0.0, 0.0), (1.0, -0.5), (-1.2, 1.3)]:
        f = lambda x1, x0=x0, x2=x2: float(g3.pdf([[x0, x1, x2]])[0])  # noqa: E731
        truth, _ = integrate.quad(f, -40, 40, epsabs=1e-14, epsrel=1e-11, limit=200)
        assert m3.pdf([[x2, x0]])[0] == pytest.approx(truth, rel=1e-9, abs=1e-14)
    np.testing.assert_allclose(m3.mean(), g3.mean()[[2, 0]], rtol=1e-14)
    np.testing.assert_allclose(m3.cov(), g3.cov()[np.ix_([2, 0], [2, 0])], rtol=1e-13)


@pytest.mark.parametrize("a, c, s2", [(0.6, 0.4, 0.3), (1.7, -1.0, 1e-3), (0.05, 2.0, 1.0)])
def test_gmm_push_affine_pdf_is_a_convolution_1d(a, c, s2):
    # q(y) = integral p(x) N(y; a x + c, s2) dx by quad (breakpoints at the means and at the
    # kernel's centre (y - c)/a, so the narrow kernel is not missed): rtol 1e-9.
    g = _gmm1()
    q = g.push_affine(a, c, s2)
    for y in [-2.0, -0.1, 0.5, 1.9, 3.5]:
        f = lambda x, y=y: float(g.pdf([x])[0] * stats.norm.pdf(y, a * x + c, np.sqrt(s2)))  # noqa: E731
        centre = (y - c) / a
        pts = sorted({-2.0, 0.5, 3.0, centre})
        truth, _ = integrate.quad(f, -40, 40, points=pts, epsabs=1e-15, epsrel=1e-11, limit=400)
        assert q.pdf([y])[0] == pytest.approx(truth, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("make", GMMS)
def test_gmm_push_affine_moments_and_samples(make, rng):
    g = make()
    a, s2 = 0.8, 0.25
    c = np.linspace(-0.5, 0.5, g.dim)
    q = g.push_affine(a, c, s2)
    np.testing.assert_allclose(q.mean(), a * g.mean() + c, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(q.cov(), a * a * g.cov() + s2 * np.eye(g.dim), rtol=1e-13, atol=1e-15)
    # the law of a X + c + s Z by simulation, tested through the first two moments
    x = a * g.sample(100_000, rng) + c + np.sqrt(s2) * rng.standard_normal((100_000, g.dim))
    assert_mean_equal_by_z_test(x, q.mean(), q.cov(), alpha=ALPHA)
    assert_cov_equal_by_z_test(x, q.mean(), q.cov(), alpha=ALPHA)
    # identity push and the degenerate a = 0 (pure noise around c)
    x0 = _points(g, 10)
    np.testing.assert_allclose(g.push_affine(1.0, 0.0, 0.0).logpdf(x0), g.logpdf(x0), rtol=1e-14)
    noise = g.push_affine(0.0, c, s2)
    expected = stats.multivariate_normal(c, s2 * np.eye(g.dim)).logpdf(x0).reshape(-1)
    np.testing.assert_allclose(noise.logpdf(x0), expected, rtol=1e-13)


def test_gmm_responsibilities_and_zero_weights():
    g = _gmm2()
    x = _points(g, 20)
    r = g.responsibilities(x)
    np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(r, special.softmax(_scipy_mixture_terms(g, x), axis=1), rtol=1e-10, atol=1e-15)
    # a zero-weight component is dropped and changes nothing
    g0 = GaussianMixture([0.5, 0.0, 0.5], [[0.0], [50.0], [1.0]], [[[1.0]], [[1.0]], [[2.0]]])
    g1 = GaussianMixture([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[2.0]]])
    assert len(g0.weights) == 2
    y = np.linspace(-3, 60, 9)
    np.testing.assert_array_equal(g0.logpdf(y), g1.logpdf(y))


def test_gmm_isotropic_constructor():
    g = GaussianMixture.isotropic([0.25, 0.75], [[0.0, 1.0], [2.0, -1.0]], [0.5, 2.0])
    np.testing.assert_array_equal(g.covs[0], 0.25 * np.eye(2))
    np.testing.assert_array_equal(g.covs[1], 4.0 * np.eye(2))
    g_scalar = GaussianMixture.isotropic([0.25, 0.75], [[0.0, 1.0], [2.0, -1.0]], 0.3)
    np.testing.assert_allclose(g_scalar.covs, 0.09 * np.eye(2)[None].repeat(2, 0), rtol=1e-15)


def test_points_layout_in_1d():
    g = _gmm1()
    flat = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g.logpdf(flat), g.logpdf(flat[:, None]))
    assert g.score(flat).shape == (3, 1)
    # in d dims a flat vector of length d is one point
    g2 = _gmm2()
    assert g2.logpdf([0.1, 0.2]).shape == (1,)


# =============================================================================================
# BoxMixture
# =============================================================================================


def _box1():
    return BoxMixture([0.3, 0.7], [[-1.0], [0.5]], [[0.2], [2.0]], noise_var=0.04)


def _box2():
    return BoxMixture([0.6, 0.4], [[-1.0, -0.5], [0.0, 0.3]], [[0.5, 1.0], [2.0, 0.4]], noise_var=0.01)


BOXES = [pytest.param(_box1, id="box-1d"), pytest.param(_box2, id="box-2d")]


def _blurred_box_truth(box: BoxMixture, x):
    """p(x) = sum_k w_k prod_j (1/(u-l)) int_l^u N(x_j; y, s^2) dy, each 1-D integral by quad."""
    s = np.sqrt(box.noise_var)
    out = np.zeros(len(x))
    for i, xi in enumerate(x):
        for w, lo, hi in zip(box.weights, box.lower, box.upper):
            term = w
            for j in range(box.dim):
                f = lambda y, xj=xi[j]: stats.norm.pdf(xj, y, s)  # noqa: E731
                pts = [p for p in (xi[j],) if lo[j] < p < hi[j]] or None
                val, _ = integrate.quad(f, lo[j], hi[j], points=pts, epsabs=0.0, epsrel=1e-13, limit=200)
                term *= val / (hi[j] - lo[j])
            out[i] += term
    return out


@pytest.mark.parametrize("make", BOXES)
def test_box_pdf_equals_convolution_by_quadrature(make):
    # quad at epsrel 1e-13 of a Gaussian over an interval: rtol 1e-10 (points within ~8 s of the
    # support, so no value underflows and relative accuracy is meaningful).
    box = make()
    x = _points(box, 25, spread=1.5)
    assert_scaled_close(box.pdf(x), _blurred_box_truth(box, x), rtol=1e-10, what="box pdf")


@pytest.mark.parametrize("make", BOXES)
def test_box_score_equals_finite_difference(make):
    # 4th-order differences, h = 1e-3 s: d^k log p ~ C / s^k, truncation h^4 C / (30 s) ~ 1e-13 C / s,
    # rounding 1.5 eps |log p| / h ~ 1e-11 / s.  Tolerance 1e-7 / s.
    box = make()
    s = np.sqrt(box.noise_var)
    x = _points(box, 40, spread=1.5)
    assert_scaled_close(box.score(x), fd_gradient(box.logpdf, x, 1e-3 * s), rtol=1e-7, atol=1e-7 / s, what="box score")


def test_box_cdf_equals_quadrature_of_pdf():
    box = _box1()
    pdf = lambda u: float(box.pdf([u])[0])  # noqa: E731
    lo = -1.0 - 40 * 0.2
    for x in [-2.0, -1.0, -0.4, 0.2, 0.35, 1.0, 2.0, 2.6]:
        pts = [p for p in (-1.0, 0.2, 0.5, 2.0) if lo < p < x] or None
        truth, _ = integrate.quad(pdf, lo, x, points=pts, epsabs=1e-14, epsrel=1e-12, limit=200)
        assert box.cdf([x])[0] == pytest.approx(truth, abs=1e-12)
    np.testing.assert_array_equal(box.cdf([-1e6, 1e6]), [0.0, 1.0])


@pytest.mark.parametrize("make", BOXES)
def test_box_mean_and_cov(make, rng):
    box = make()
    # mixture of independent uniform(l, u) + N(0, s^2) per axis, written out
    centres = 0.5 * (box.lower + box.upper)
    var = (box.upper - box.lower) ** 2 / 12 + box.noise_var
    mean = box.weights @ centres
    second = sum(w * (np.diag(v) + np.outer(m, m)) for w, m, v in zip(box.weights, centres, var))
    np.testing.assert_allclose(box.mean(), mean, rtol=1e-15)
    np.testing.assert_allclose(box.cov(), second - np.outer(mean, mean), rtol=1e-13, atol=1e-15)
    x = box.sample(200_000, rng)
    assert_mean_equal_by_z_test(x, box.mean(), box.cov(), alpha=ALPHA)
    assert_cov_equal_by_z_test(x, box.mean(), box.cov(), alpha=ALPHA)


def test_box_sample_ks_by_dkwm(rng):
    box = _box1()
    assert_true_cdf_equal_by_dkwm(box.sample(100_000, rng)[:, 0], lambda u: box.cdf(u), alpha=ALPHA)
    plain = BoxMixture.box(-1.0, 1.0)
    assert_true_cdf_equal_by_dkwm(plain.sample(100_000, rng)[:, 0], lambda u: plain.cdf(u), alpha=ALPHA)


@pytest.mark.parametrize("side", [1 - 1e-6, 1 + 1e-6])
def test_box_narrow_branch_is_continuous(side):
    # A box of width w < 1e-5 s is replaced by a Gaussian at its centre.  At w = 1e-5 s the two
    # formulas differ by O((w/s)^2) = 1e-10 (the box adds w^2/12 to the variance) plus the erf
    # branch's rounding, eps / (w/s) ~ 2e-11 relative: compare both sides with a point box
    # N(centre, s^2) at atol 1e-9 (log-density, cdf) and 1e-9 / s (score).
    s2, centre = 0.25, 0.3
    s = np.sqrt(s2)
    w = 1e-5 * s * side
    box = BoxMixture([1.0], [[centre - w / 2]], [[centre + w / 2]], s2)
    x = np.array([-3.0, 0.0, 0.3, 0.31, 1.0, 2.5])
    np.testing.assert_allclose(box.logpdf(x), stats.norm.logpdf(x, centre, s), rtol=0, atol=1e-9)
    np.testing.assert_allclose(box.score(x)[:, 0], -(x - centre) / s2, rtol=0, atol=1e-9 / s)
    np.testing.assert_allclose(box.cdf(x), stats.norm.cdf(x, centre, s), rtol=0, atol=1e-9)


def test_box_zero_width_needs_noise_and_is_a_gaussian():
    box = BoxMixture([1.0], [[0.5]], [[0.5]], noise_var=0.09)
    x = np.linspace(-1, 2, 7)
    np.testing.assert_allclose(box.logpdf(x), stats.norm.logpdf(x, 0.5, 0.3), rtol=1e-14)
    np.testing.assert_allclose(box.score(x)[:, 0], -(x - 0.5) / 0.09, rtol=1e-14)


def _mp_truth(x, lo, hi, s):
    """log h and d log h / dx for one blurred box at 50 digits (the far-tail reference)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    y, lo, hi, s = (mp.mpf(float(v)) for v in (x, lo, hi, s))
    Phi = lambda z: mp.erfc(-z / mp.sqrt(2)) / 2  # noqa: E731
    z1, z2 = (y - lo) / s, (y - hi) / s
    D = Phi(-z2) - Phi(-z1) if z1 + z2 > 0 else Phi(z1) - Phi(z2)
    return float(mp.log(D / (hi - lo))), float((mp.npdf(z1) - mp.npdf(z2)) / (s * D))


@pytest.mark.parametrize("s2", [1.0, 1e-2, 1e-6, 1e-13])
@pytest.mark.parametrize("x", [-1e6, -1e3, -3.0, -1.0001, -0.999, 0.5, 1.5, 10.0, 1e3, 1e6])
def test_box_tails_match_50_digit_reference(s2, x):
    # Far tails: z = distance / s up to 3e12.  Forming phi/(Phi - Phi) as exp(-z^2/2 - log D)
    # loses ~eps z^2 (relative error 1e-2 at z = 1e7, overflow at z = 3e9); through the inverse
    # Mills ratio only rounding remains.  rtol 1e-12 on the log-density, 1e-10 on the score.
    box = BoxMixture([1.0], [[-1.0]], [[1.0]], s2)
    s = np.sqrt(s2)
    lp_true, sc_true = _mp_truth(x, -1.0, 1.0, s)
    lp, sc = box.logpdf([x])[0], box.score([x])[0, 0]
    assert np.isfinite(lp) and np.isfinite(sc)
    assert lp == pytest.approx(lp_true, rel=1e-12, abs=1e-12)
    assert sc == pytest.approx(sc_true, rel=1e-10, abs=1e-10 / s)


@pytest.mark.parametrize("s2", [1e-2, 1e-6, 1e-13])
@pytest.mark.parametrize("distance", [1e3, 1e6])
def test_box_far_tail_score_matches_mills_asymptotics(s2, distance):
    # Right of the box at z = (x - u)/s >= 1e4: d/dx log p = -(z + 1/z - 2/z^3 + O(z^-5)) / s
    # (the asymptotic series of the inverse Mills ratio; the far edge contributes e^{-z w/s} = 0).
    # No mpmath needed; the truncation is < 10 z^-6 relative.
    s = np.sqrt(s2)
    box = BoxMixture([1.0], [[-1.0]], [[1.0]], s2)
    for sign in (1.0, -1.0):
        x = sign * (1.0 + distance)
        z = distance / s
        expected = -sign * (z + 1 / z - 2 / z**3) / s
        assert box.score([x])[0, 0] == pytest.approx(expected, rel=1e-12, abs=0)


def test_box_noise_free_density_score_and_cdf():
    box = BoxMixture.box(-1.0, 1.0)
    inside = np.array([-1.0, -0.3, 0.0, 0.999, 1.0])
    outside = np.array([-1.0 - 1e-12, 1.5, 1e6])
    np.testing.assert_array_equal(box.pdf(inside), 0.5)
    np.testing.assert_array_equal(box.pdf(outside), 0.0)
    assert np.all(box.logpdf(outside) == -np.inf)
    np.testing.assert_array_equal(box.score(inside), 0.0)
    assert np.all(np.isnan(box.score(outside)))
    np.testing.assert_allclose(box.cdf([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]), [0, 0, 0.5, 0.75, 1, 1], rtol=1e-15)
    assert box.mean()[0] == 0.0 and box.cov()[0, 0] == pytest.approx(1 / 3, rel=1e-15, abs=0)


def _cell_centres(n=4, h=2.0):
    edges = np.linspace(-h, h, n + 1)
    c = 0.5 * (edges[:-1] + edges[1:])
    return [(i, j, np.array([c[i], c[j]])) for i in range(n) for j in range(n)]


def test_checkerboard_is_eight_unit_squares_of_density_one_eighth(rng):
    board = BoxMixture.checkerboard()
    assert len(board.weights) == 8 and board.dim == 2
    np.testing.assert_allclose(np.prod(board.upper - board.lower, axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(board.weights, 1 / 8, rtol=1e-15)
    for i, j, centre in _cell_centres():
        # probe the centre and points near the corners of each cell
        pts = centre + np.array([[0, 0], [0.49, 0.49], [-0.49, 0.49], [0.49, -0.49], [-0.49, -0.49]])
        expected = 1 / 8 if (i + j) % 2 == 0 else 0.0  # cell (0, 0), bottom left, is dark
        np.testing.assert_allclose(board.pdf(pts), expected, rtol=1e-15, atol=0)  # exp(log(1/8)): 1 ulp
    np.testing.assert_array_equal(board.pdf([[2.5, 0.0], [0.0, -2.01], [10.0, 10.0]]), 0.0)
    # samples: every one on a dark square, counts per square multinomial(n, 1/8): chi^2 test
    n = 80_000
    x = board.sample(n, rng)
    np.testing.assert_allclose(board.pdf(x), 1 / 8, rtol=1e-15, atol=0)
    cell = np.floor(x + 2.0).astype(int)
    counts = np.bincount(cell[:, 0] * 4 + cell[:, 1], minlength=16)
    dark = [i * 4 + j for i, j, _ in _cell_centres() if (i + j) % 2 == 0]
    assert counts.sum() == counts[dark].sum() == n
    assert stats.chisquare(counts[dark]).pvalue > ALPHA
    # moments: mean 0 by symmetry; the x-marginal is uniform on [-2, 2], variance 16/12
    np.testing.assert_allclose(board.mean(), 0.0, atol=1e-15)
    np.testing.assert_allclose(np.diag(board.cov()), 4 / 3, rtol=1e-14)


def test_checkerboard_marginals():
    board = BoxMixture.checkerboard()
    for axis in (0, 1):
        m = board.marginal([axis])
        x = np.array([-2.0, -1.3, 0.3, 0.7, 1.99])  # off the shared edges, where closed boxes overlap
        np.testing.assert_allclose(m.pdf(x), 0.25, rtol=1e-15)  # each column holds two dark squares
        np.testing.assert_allclose(m.cdf(x), (x + 2) / 4, rtol=1e-14, atol=1e-15)
    # with noise: the marginal density is the integral of the joint over the other axis
    blurred = board.push_affine(1.0, 0.0, 0.04)
    m = blurred.marginal([1])
    for y in [-2.3, -1.0, 0.1, 1.5]:
        f = lambda x, y=y: float(blurred.pdf([[x, y]])[0])  # noqa: E731
        truth, _ = integrate.quad(f, -5, 5, points=[-2, -1, 0, 1, 2], epsabs=1e-14, epsrel=1e-11, limit=200)
        assert m.pdf([y])[0] == pytest.approx(truth, rel=1e-9, abs=0)


@pytest.mark.parametrize("a, c, s2", [(0.7, 0.3, 0.05), (1.5, -0.5, 1e-4), (1.0, 0.0, 0.0)])
def test_box_push_affine_is_a_convolution_1d(a, c, s2):
    box = _box1()
    q = box.push_affine(a, c, s2)
    # moments of a X + c + s Z exactly
    assert q.mean()[0] == pytest.approx(a * box.mean()[0] + c, rel=1e-14, abs=1e-15)
    assert q.cov()[0, 0] == pytest.approx(a * a * box.cov()[0, 0] + s2, rel=1e-13, abs=0)
    if s2 == 0:
        x = np.linspace(-3, 3, 13)
        np.testing.assert_allclose(q.logpdf(x), box.logpdf(x), rtol=1e-15)
        return
    # density by numerical convolution of the blurred box with N(0, s2) after the affine map
    for y in [-1.2, -0.3, 0.6, 1.4, 2.8]:
        f = lambda x, y=y: float(box.pdf([x])[0] * stats.norm.pdf(y, a * x + c, np.sqrt(s2)))  # noqa: E731
        pts = sorted({-1.0, 0.2, 0.5, 2.0, (y - c) / a})
        truth, _ = integrate.quad(f, -6, 8, points=pts, epsabs=1e-15, epsrel=1e-11, limit=400)
        assert q.pdf([y])[0] == pytest.approx(truth, rel=1e-9, abs=1e-14)


def test_box_marginal_of_2d_mixture_by_quadrature():
    box = _box2()
    m = box.marginal([0])
    for x in [-1.2, 0.0, 0.6, 1.9]:
        f = lambda y, x=x: float(box.pdf([[x, y]])[0])  # noqa: E731
        truth, _ = integrate.quad(f, -3, 3, points=[-0.5, 0.3, 0.4, 1.0], epsabs=1e-14, epsrel=1e-11, limit=200)
        assert m.pdf([x])[0] == pytest.approx(truth, rel=1e-9, abs=0)


# =============================================================================================
# Boltzmann1D
# =============================================================================================


def _double_well():
    return Boltzmann1D(DoubleWell(1.0), 0.25, bounds=(-3.0, 3.0))


def _harmonic(kT=0.5):
    U = Potential(lambda x: 0.5 * np.sum(x * x, axis=1), lambda x: x, name="x^2/2")
    return Boltzmann1D(U, kT, bounds=(-8.0, 8.0))


def test_boltzmann_harmonic_is_the_gaussian():
    # U = x^2/2 at kT: the Boltzmann law is N(0, kT) exactly.  Simpson on 16385 nodes, h ~ 1e-3:
    # O(h^4) ~ 1e-12 relative in Z, so log-density to 1e-11, cdf (cubic Hermite) to 1e-12.
    kT = 0.5
    b = _harmonic(kT)
    x = np.linspace(-4, 4, 41)
    np.testing.assert_allclose(b.logpdf(x), stats.norm.logpdf(x, 0, np.sqrt(kT)), rtol=0, atol=1e-11)
    np.testing.assert_allclose(b.cdf(x), stats.norm.cdf(x, 0, np.sqrt(kT)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.score(x)[:, 0], -x / kT, rtol=1e-15)
    assert b.mean()[0] == pytest.approx(0.0, abs=1e-13)
    assert b.cov()[0, 0] == pytest.approx(kT, rel=1e-11, abs=0)


def test_boltzmann_double_well_normalisation_cdf_and_moments_by_quadrature():
    b = _double_well()
    kT = 0.25
    unnorm = lambda u: np.exp(-((u * u - 1) ** 2) / kT)  # noqa: E731
    Z, _ = integrate.quad(unnorm, -np.inf, np.inf, epsabs=0, epsrel=1e-13, limit=200)
    x = np.linspace(-2.5, 2.5, 21)
    # Simpson's O(h^4) with h = 6/16384 on a function with |f''''| <~ 1e4: < 1e-12 relative
    np.testing.assert_allclose(b.logpdf(x), -((x * x - 1) ** 2) / kT - np.log(Z), rtol=0, atol=1e-11)
    for xi in [-2.0, -1.0, -0.2, 0.0, 0.9, 1.6]:
        truth, _ = integrate.quad(lambda u: unnorm(u) / Z, -np.inf, xi, epsabs=1e-15, epsrel=1e-12, limit=200)
        assert b.cdf([xi])[0] == pytest.approx(truth, abs=1e-11)
    var, _ = integrate.quad(lambda u: u * u * unnorm(u) / Z, -np.inf, np.inf, epsabs=0, epsrel=1e-12)
    assert b.mean()[0] == pytest.approx(0.0, abs=1e-12)  # symmetric well
    assert b.cov()[0, 0] == pytest.approx(var, rel=1e-10, abs=0)
    np.testing.assert_array_equal(b.cdf([-3.0, -10.0, 3.0, 10.0]), [0.0, 0.0, 1.0, 1.0])
    # score = -U'/kT, against finite differences of the log-density (U quartic: no truncation)
    xx = x[:, None]
    np.testing.assert_allclose(b.score(xx), fd_gradient(b.logpdf, xx, 1e-3), rtol=1e-9, atol=1e-8)


@pytest.mark.parametrize("make", [_double_well, _harmonic])
def test_boltzmann_sample_ks_by_dkwm(make, rng):
    b = make()
    x = b.sample(100_000, rng)
    assert x.shape == (100_000, 1)
    assert np.all((x >= b.bounds[0]) & (x <= b.bounds[1]))
    assert_true_cdf_equal_by_dkwm(x[:, 0], lambda u: b.cdf(u), alpha=ALPHA)
    assert_mean_equal_by_z_test(x, b.mean(), b.cov(), alpha=ALPHA)


@pytest.mark.parametrize("offset", [0.0, 3.0, -50.0])
def test_boltzmann_normalisation_does_not_depend_on_an_energy_offset(offset):
    # U + const has the same Boltzmann law: the log-density must not move (the table is built
    # relative to the minimum energy on the grid, which must be added back with the right sign)
    kT = 0.25
    U = Potential(lambda x: np.sum((x * x - 1) ** 2, axis=1) + offset, lambda x: 4 * x * (x * x - 1))
    shifted = Boltzmann1D(U, kT, bounds=(-3.0, 3.0))
    unnorm = lambda u: np.exp(-((u * u - 1) ** 2) / kT)  # noqa: E731
    Z, _ = integrate.quad(unnorm, -np.inf, np.inf, epsabs=0, epsrel=1e-13, limit=200)
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(shifted.logpdf(x), -((x * x - 1) ** 2) / kT - np.log(Z), rtol=0, atol=1e-11)
    one, _ = integrate.quad(lambda u: float(shifted.pdf([u])[0]), -3, 3, points=[-1, 0, 1], epsabs=0, epsrel=1e-12)
    assert one == pytest.approx(1.0, rel=1e-11, abs=0)


def test_boltzmann_double_well_samples_split_between_wells(rng):
    # P(X > 0) = 1/2 by symmetry: binomial test at alpha
    x = _double_well().sample(50_000, rng)[:, 0]
    assert stats.binomtest(int(np.sum(x > 0)), x.size, 0.5).pvalue > ALPHA


def test_boltzmann_bounds_must_hold_the_mass():
    with pytest.raises(InputError, match="widen them"):
        Boltzmann1D(DoubleWell(1.0), 0.25, bounds=(-1.8, 1.8))
    with pytest.raises(InputError, match="widen them"):
        Boltzmann1D(DoubleWell(1.0), 0.25, bounds=(-1.0, 3.0))  # one end only
    Boltzmann1D(DoubleWell(1.0), 0.25, bounds=(-2.5, 2.5))  # enough
