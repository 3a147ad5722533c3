"""Tests of fpcheck.stats.projections: directions, projected PIT values, AD along directions.

Significance level of the calibration check: rejections at 0.05 over 200 seeds inside the central
99.8% of Binomial(200, 0.05); false-fail probability <= 0.002 on fresh seeds.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from fpcheck import problems
from fpcheck.errors import InputError
from fpcheck.stats import anderson_darling_test, directions, projected_pit, projection_tests


def test_directions_axes_first_then_random_unit_vectors():
    dirs = directions(3, 7, seed=5)
    assert dirs.shape == (7, 3)
    np.testing.assert_array_equal(dirs[:3], np.eye(3))
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(dirs, directions(3, 7, seed=5))  # reproducible
    assert not np.allclose(dirs[3:], directions(3, 7, seed=6)[3:])
    g = np.random.default_rng(5).standard_normal((4, 3))
    np.testing.assert_allclose(dirs[3:], g / np.linalg.norm(g, axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_array_equal(directions(1, 1), [[1.0]])


@pytest.mark.parametrize(
    "args, match",
    [((2, 1), "m must be at least d"), ((1, 3), "in 1D there is a single direction"), ((0, 1), "d must be >= 1"), ((2.0, 3), "d must be an integer")],
)
def test_bad_directions(args, match):
    with pytest.raises(InputError, match=match):
        directions(*args)


def test_projected_pit_on_an_axis_is_the_marginal_cdf(rng):
    m = problems.data("gmm2d-aniso")
    x = m.sample(500, rng)
    for i in range(2):
        e = np.eye(2)[i]
        np.testing.assert_allclose(projected_pit(x, m, e), m.marginal([i]).cdf(x[:, i]), rtol=1e-13, atol=1e-15)


def test_projected_pit_of_a_non_unit_direction(rng):
    # the law of u.X is sum_k w_k N(u.m_k, u^T S_k u): built by hand here
    m = problems.data("gmm2d-aniso")
    x = m.sample(300, rng)
    u = np.array([2.0, -0.5])
    t = x @ u
    mu = m.means @ u
    sd = np.sqrt(np.einsum("i,kij,j->k", u, m.covs, u))
    expected = special.ndtr((t[:, None] - mu) / sd) @ m.weights
    np.testing.assert_allclose(projected_pit(x, m, u), expected, rtol=1e-13, atol=1e-15)


def test_projection_tests_are_ad_on_each_direction(rng):
    m = problems.data("gmm2d-ring8")
    x = m.sample(400, rng)
    results = projection_tests(x, m, m=5, seed=3)
    dirs = directions(2, 5, seed=3)
    assert len(results) == 5
    for k, (r, u) in enumerate(zip(results, dirs)):
        assert r.name.startswith(f"AD proj[{k}] (u=(")
        ref = anderson_darling_test(projected_pit(x, m, u))
        assert r.statistic == ref.statistic and r.pvalue == ref.pvalue
    assert results[0].name == "AD proj[0] (u=(1, 0))"


def test_projection_tests_null_calibration():
    m = problems.data("gmm2d-ring8")
    seeds, alpha = 200, 0.05
    counts = np.zeros(4, dtype=int)
    for seed in range(seeds):
        x = m.sample(200, np.random.default_rng(seed))
        counts += [r.pvalue <= alpha for r in projection_tests(x, m, m=4, seed=0)]
    lo, hi = stats.binom.ppf([0.001, 0.999], seeds, alpha)
    assert np.all((counts >= lo) & (counts <= hi)), counts


def test_bad_projection_input(rng):
    m = problems.data("gmm2d-ring8")
    with pytest.raises(InputError, match=r"x must have shape \(n, 2\)"):
        projection_tests(np.zeros((5, 3)), m)
    with pytest.raises(InputError, match="x contains NaN"):
        projection_tests(np.full((5, 2), np.nan), m)
    with pytest.raises(InputError, match="x is empty"):
        projection_tests(np.zeros((0, 2)), m)
    with pytest.raises(InputError, match="direction must have shape"):
        projected_pit(np.zeros((5, 2)), m, np.ones(3))
    with pytest.raises(InputError, match="mixture must be a fpcheck.distributions.GaussianMixture"):
        projected_pit(np.zeros((5, 2)), "ring", np.ones(2))
    with pytest.raises(InputError, match="non-zero"):
        projected_pit(np.zeros((5, 2)), m, np.zeros(2))
