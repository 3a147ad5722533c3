"""Tests of fpcheck.stats.rosenblatt: the Rosenblatt transform under a Gaussian mixture and its AD tests.

Truths: the 1D mixture cdf; adaptive quadrature of the joint density (``scipy.integrate.quad``); and an
independent conditioning of each Gaussian component by ``np.linalg.solve`` with weights from
``scipy.stats.multivariate_normal`` (:func:`_reference`), which shares no code with the Cholesky form.

Significance levels.  Every sample has a fixed seed, so the suite is deterministic; the levels say how
likely a *fresh* seed would be to fail.  Null checks: 10 AD p-values each > 1e-3 (Bonferroni:
false-fail <= 10 * 1e-3 = 1%) and 8 column correlations each within 4/sqrt(n) (two-sided normal tail
6.3e-5 each, <= 5e-4 in all).  Power checks: min p < 1e-6; the worst of 50 fresh seeds was below
1e-17 for every alternative used here.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from fpcheck import problems
from fpcheck.distributions import BoxMixture, GaussianMixture
from fpcheck.errors import InputError
from fpcheck.stats import anderson_darling_test
from fpcheck.stats import rosenblatt as rosenblatt_module
from fpcheck.stats.rosenblatt import rosenblatt, rosenblatt_tests

N = 20_000


def _aniso3d() -> GaussianMixture:
    """Two correlated, anisotropic components in 3D (all off-diagonal covariances non-zero)."""
    covs = [
        [[1.0, 0.6, 0.3], [0.6, 0.8, -0.2], [0.3, -0.2, 0.5]],
        [[0.3, -0.1, 0.05], [-0.1, 0.6, 0.25], [0.05, 0.25, 0.4]],
    ]
    return GaussianMixture([0.6, 0.4], [[0.0, 0.0, 0.0], [1.5, -1.0, 0.5]], covs)


def _corr2d() -> GaussianMixture:
    """Two anisotropic components with correlations of opposite sign (rho = 0.8 and -0.6)."""
    covs = [[[1.0, 0.8 * 0.5], [0.8 * 0.5, 0.25]], [[0.16, -0.6 * 0.4 * 0.9], [-0.6 * 0.4 * 0.9, 0.81]]]
    return GaussianMixture([0.7, 0.3], [[-0.5, 0.2], [1.2, -0.8]], covs)


def _reference(x: np.ndarray, m: GaussianMixture, order) -> np.ndarray:
    """The Rosenblatt transform by explicit conditioning: Schur complements by ``solve``, weights by scipy."""
    out = np.empty_like(x)
    for j, b in enumerate(order):
        a = list(order[:j])
        log_w, cdfs = [], []
        for w, mu, S in zip(m.weights, m.means, m.covs):
            if a:
                Saa, Sab = S[np.ix_(a, a)], S[a, b]
                mean = mu[b] + Sab @ np.linalg.solve(Saa, (x[:, a] - mu[a]).T)
                var = S[b, b] - Sab @ np.linalg.solve(Saa, Sab)
                log_w.append(np.log(w) + stats.multivariate_normal(mu[a], Saa).logpdf(x[:, a]))
            else:
                mean, var = mu[b], S[b, b]
                log_w.append(np.full(x.shape[0], np.log(w)))
            cdfs.append(stats.norm.cdf(x[:, b], loc=mean, scale=np.sqrt(var)))
        log_w = np.array(log_w)
        out[:, j] = np.sum(np.exp(log_w - special.logsumexp(log_w, axis=0)) * np.array(cdfs), axis=0)
    return out


def _quad_conditional_cdf(m: GaussianMixture, x_given: dict[int, float], b: int, xb: float) -> float:
    r"""``F(x_b | x_given)`` as :math:`\int_{-\infty}^{x_b} p(x_a, y)\,dy / p_a(x_a)` by adaptive quadrature.

    The axes of ``m`` are ``x_given``'s keys plus ``b``.  The lower limit is 40 marginal standard
    deviations below the lowest component (mass :math:`< 10^{-300}` cut off for the bulk points used
    here); 48 break points resolve the narrow components.  Asserts quad's own error estimate, relative
    to the denominator, below 1e-11, which is what justifies comparing at 1e-9.
    """
    axes = sorted([*x_given, b])
    sub = m.marginal(axes)
    lo = float(np.min(m.means[:, b] - 40.0 * np.sqrt(m.covs[:, b, b])))

    def joint(y: float) -> float:
        p = np.array([[x_given[a] if a != b else y for a in axes]])
        return float(sub.pdf(p)[0])

    num, err = integrate.quad(joint, lo, xb, epsabs=1e-15, epsrel=1e-13, limit=500, points=np.linspace(lo, xb, 50)[1:-1])
    given_axes = [a for a in axes if a != b]
    den = float(m.marginal(given_axes).pdf(np.array([[x_given[a] for a in given_axes]]))[0])
    assert err / den < 1e-11
    return num / den


# ---------------------------------------------------------------------------------- exactness


def test_1d_rosenblatt_is_the_mixture_cdf(rng):
    m = problems.data("gmm1d-bimodal")
    x = np.concatenate([m.sample(500, rng)[:, 0], [-40.0, -2.0, 1.5, 40.0]])
    u = rosenblatt(x, m)
    assert u.shape == (x.size, 1)
    np.testing.assert_allclose(u[:, 0], m.cdf(x), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(rosenblatt(x[:, None], m, order=[0]), u)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_2d_conditional_matches_quadrature(order):
    m = _corr2d()
    pts = np.array([[-0.5, 0.2], [0.3, -0.4], [1.2, -0.8], [-2.0, -0.6], [2.1, 0.9], [0.8, 1.5]])
    u = rosenblatt(pts, m, order=order)
    a, b = order
    for p, row in zip(pts, u):
        truth = _quad_conditional_cdf(m, {a: p[a]}, b, p[b])
        assert abs(row[1] - truth) < 1e-9, (p, row[1], truth)
    np.testing.assert_allclose(u[:, 0], m.marginal([a]).cdf(pts[:, a]), rtol=0, atol=1e-14)


def test_order_10_first_column_is_the_marginal_cdf_of_axis_1(rng):
    m = problems.data("gmm2d-aniso")
    x = m.sample(2000, rng)
    u = rosenblatt(x, m, order=(1, 0))
    np.testing.assert_allclose(u[:, 0], m.marginal([1]).cdf(x[:, 1]), rtol=0, atol=1e-14)
    np.testing.assert_allclose(rosenblatt(x, m)[:, 0], m.marginal([0]).cdf(x[:, 0]), rtol=0, atol=1e-14)


def test_3d_conditionals_match_quadrature():
    m = _aniso3d()
    pts = np.array([[0.2, -0.3, 0.1], [1.4, -1.1, 0.9], [-1.0, 0.8, -0.4]])
    u = rosenblatt(pts, m)
    for p, row in zip(pts, u):
        assert abs(row[1] - _quad_conditional_cdf(m, {0: p[0]}, 1, p[1])) < 1e-9
        assert abs(row[2] - _quad_conditional_cdf(m, {0: p[0], 1: p[1]}, 2, p[2])) < 1e-9


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_3d_matches_independent_conditioning(rng, order):
    m = _aniso3d()
    x = np.concatenate([m.sample(300, rng), rng.uniform(-4, 4, size=(100, 3))])
    np.testing.assert_allclose(rosenblatt(x, m, order=order), _reference(x, m, order), rtol=0, atol=1e-12)


def test_blocks_do_not_change_the_result(rng, monkeypatch):
    m = problems.data("gmm3d-tetra")
    x = m.sample(100, rng)
    whole = rosenblatt(x, m)
    monkeypatch.setattr(rosenblatt_module, "_CHUNK", 7)
    np.testing.assert_array_equal(rosenblatt(x, m), whole)


def test_far_tails_are_finite_and_match_reference():
    """Points at Mahalanobis distance >= 30 from every component (and some at ~1e3) stay in [0, 1]."""
    m = problems.data("gmm2d-aniso")
    pts = np.array(
        [[25.0, 0.0], [-25.0, 0.0], [0.0, 25.0], [0.0, -25.0], [20.0, 20.0], [-20.0, 20.0], [20.0, -20.0],
         [-20.0, -20.0], [-12.0, 14.0], [12.0, -12.0], [600.0, -800.0], [-700.0, 500.0]]
    )  # fmt: skip
    for mu, S in zip(m.means, m.covs):
        r = pts - mu
        assert np.all(np.einsum("ni,ij,nj->n", r, np.linalg.inv(S), r) >= 30.0**2)
    for order in [(0, 1), (1, 0)]:
        u = rosenblatt(pts, m, order=order)
        assert np.all(np.isfinite(u)) and np.all((u >= 0) & (u <= 1))
        np.testing.assert_allclose(u, _reference(pts, m, order), rtol=0, atol=1e-12)
    u = rosenblatt(pts, m)
    assert u[0, 0] == 1.0 and u[1, 0] < 1e-100  # far right, far left on axis 0
    u3 = rosenblatt(np.array([[30.0, -30.0, 30.0], [-30.0, 30.0, -30.0]]), _aniso3d())
    assert np.all(np.isfinite(u3)) and np.all((u3 >= 0) & (u3 <= 1))


# ---------------------------------------------------------------------------------- calibration


@pytest.mark.parametrize(
    "make, seed",
    [
        (lambda: problems.data("gmm2d-ring8"), 11),
        (lambda: problems.data("gmm2d-aniso"), 12),
        (lambda: problems.data("gmm3d-tetra"), 13),
        (_aniso3d, 14),
    ],
    ids=["gmm2d-ring8", "gmm2d-aniso", "gmm3d-tetra", "aniso3d"],
)
def test_null_columns_are_uniform_and_uncorrelated(make, seed):
    """Exact samples: each column's AD p > 1e-3 and each pair's correlation within 4/sqrt(n) (see module doc)."""
    m = make()
    x = m.sample(N, np.random.default_rng(seed))
    results = rosenblatt_tests(x, m)
    assert len(results) == m.dim
    assert min(r.pvalue for r in results) > 1e-3, results
    c = np.corrcoef(rosenblatt(x, m), rowvar=False)
    off = np.abs(c[np.triu_indices(m.dim, 1)])
    assert np.all(off < 4.0 / np.sqrt(N)), c


def _flip_correlation(m: GaussianMixture, k: int) -> GaussianMixture:
    """``m`` with the off-diagonal covariances of component ``k`` negated (same marginals per component)."""
    covs = m.covs.copy()
    d = np.diag(np.diag(covs[k]))
    covs[k] = 2 * d - covs[k]
    return GaussianMixture(m.weights, m.means, covs)


@pytest.mark.parametrize(
    "make_null, alternative, seed",
    [
        (lambda: problems.data("gmm2d-aniso"), lambda m: _flip_correlation(m, 0), 21),
        (_aniso3d, lambda m: _flip_correlation(m, 1), 22),
        (lambda: problems.data("gmm2d-aniso"), lambda m: GaussianMixture(m.weights, m.means, 1.21 * m.covs), 23),
        (lambda: problems.data("gmm2d-aniso"), lambda m: GaussianMixture(m.weights, m.means, 0.81 * m.covs), 24),
        (lambda: problems.data("gmm3d-tetra"), lambda m: GaussianMixture(m.weights, m.means, 1.21 * m.covs), 25),
    ],
    ids=["aniso-flip-rho", "aniso3d-flip-rho", "aniso-sd+10%", "aniso-sd-10%", "tetra-sd+10%"],
)
def test_power_against_wrong_correlation_or_scale(make_null, alternative, seed):
    """Samples from a wrong law are rejected: min p < 1e-6 at n = 20000 (worst of 50 seeds < 1e-17)."""
    m = make_null()
    x = alternative(m).sample(N, np.random.default_rng(seed))
    assert min(r.pvalue for r in rosenblatt_tests(x, m)) < 1e-6


def test_flipped_correlation_is_invisible_to_the_first_column_but_not_the_second():
    """Flipping a correlation keeps every marginal: only the conditional column sees it."""
    m = _corr2d()
    x = _flip_correlation(m, 0).sample(N, np.random.default_rng(31))
    first, second = rosenblatt_tests(x, m)
    assert first.pvalue > 1e-3 and second.pvalue < 1e-6


# ---------------------------------------------------------------------------------- results and errors


def test_test_names_and_values(rng):
    m = problems.data("gmm3d-tetra")
    x = m.sample(500, rng)
    res = rosenblatt_tests(x, m)
    assert [r.name for r in res] == ["AD rosenblatt[0]", "AD rosenblatt[1|0]", "AD rosenblatt[2|0,1]"]
    u = rosenblatt(x, m)
    for j, r in enumerate(res):
        ad = anderson_darling_test(u[:, j])
        assert (r.statistic, r.pvalue) == (ad.statistic, ad.pvalue)
        assert r.detail.startswith("n=500")
    res = rosenblatt_tests(x, m, order=(2, 0, 1))
    assert [r.name for r in res] == ["AD rosenblatt[2]", "AD rosenblatt[0|2]", "AD rosenblatt[1|2,0]"]
    assert "axis 1 given axes (2,0)" in res[2].detail and "marginal of axis 2" in res[0].detail


@pytest.mark.parametrize(
    "x, mixture, order, match",
    [
        (np.zeros((5, 3)), "2d", None, r"shape \(n, 2\)"),
        (np.array([[0.0, np.nan]]), "2d", None, "NaN or inf"),
        (np.array([[np.inf, 0.0]]), "2d", None, "NaN or inf"),
        (np.zeros((5, 2)), BoxMixture.box(-1.0, 1.0), None, "must be a fpcheck.distributions.GaussianMixture"),
        (np.zeros((5, 2)), "not a mixture", None, "must be a fpcheck.distributions.GaussianMixture"),
        (np.zeros((5, 2)), "2d", (0,), r"permutation of range\(2\)"),
        (np.zeros((5, 2)), "2d", (1, 1), r"permutation of range\(2\)"),
        (np.zeros((5, 2)), "2d", (0, 2), r"permutation of range\(2\)"),
        (np.zeros((5, 2)), "2d", (0.0, 1.0), "integer axis indices"),
        (np.zeros((5, 2)), "2d", 3, "sequence of axis indices"),
    ],
)
def test_bad_input(x, mixture, order, match):
    m = problems.data("gmm2d-aniso") if mixture == "2d" else mixture
    with pytest.raises(InputError, match=match):
        rosenblatt(x, m, order=order)
    with pytest.raises(InputError, match=match):
        rosenblatt_tests(x, m, order=order)


def test_empty_sample():
    m = problems.data("gmm2d-aniso")
    assert rosenblatt(np.zeros((0, 2)), m).shape == (0, 2)
    with pytest.raises(InputError, match="x is empty"):
        rosenblatt_tests(np.zeros((0, 2)), m)
