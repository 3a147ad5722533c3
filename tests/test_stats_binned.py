"""Tests of fpcheck.stats.binned: counts, pooling, the outside bin, calibration, power, ref_l1.

Significance levels.  Seeds are fixed.  Calibration: rejections at 0.05 over 200 seeds inside the
central 99.8% of Binomial(200, 0.05) (upper 0.999 quantile only under an interval null, where the
test is conservative); false-fail probability <= 0.002 on fresh seeds.  Power: at a noncentrality
where the noncentral chi-square power exceeds 0.999, at least the 0.001 quantile of Binomial(seeds, 0.999).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special, stats

from fpcheck import problems
from fpcheck.errors import InputError
from fpcheck.stats import ReferenceAccuracyWarning, binned_test, grid_cells

SEEDS, ALPHA = 200, 0.05


def _cell_probabilities(mixture, edges):
    """Exact cell masses of an isotropic 2D mixture: products of normal cdf differences per component."""
    sd = np.sqrt(mixture.covs[:, 0, 0])
    px = np.diff(special.ndtr((edges[0][None, :] - mixture.means[:, :1]) / sd[:, None]), axis=1)
    py = np.diff(special.ndtr((edges[1][None, :] - mixture.means[:, 1:]) / sd[:, None]), axis=1)
    return np.einsum("k,ki,kj->ij", mixture.weights, px, py)


def _ring_grid(cells=16, half=3.0):
    m = problems.data("gmm2d-ring8")
    edges = [np.linspace(-half, half, cells + 1)] * 2
    return m, _cell_probabilities(m, edges), edges


def test_counts_by_hand():
    # 1D, 4 cells on [0, 4], outside probability 0.2; every bin expects >= 5 at n = 50
    p = np.array([0.2, 0.2, 0.2, 0.2])
    edges = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    x = np.array([0.5] * 12 + [1.0] * 9 + [2.5] * 10 + [4.0] * 8 + [-1.0] * 6 + [7.0] * 5)
    # cells closed on the left, the last one also on the right: counts 12, 9, 10, 8; outside 11
    obs = np.array([12, 9, 10, 8, 11])
    exp = 50 * np.array([0.2] * 5)
    r = binned_test(x, p, edges)
    assert r.statistic == pytest.approx(np.sum((obs - exp) ** 2 / exp), rel=1e-13)
    assert r.pvalue == pytest.approx(stats.chi2.sf(r.statistic, 4), rel=1e-12)
    assert "dof=4" in r.detail


def test_pooling_of_small_cells():
    # cells expecting < 5 go to one pooled bin; here cells 0 and 3 (expected 2 and 3) plus the
    # outside bin (expected 0): the pool expects 5, so it stays a bin of its own
    p = np.array([0.02, 0.5, 0.45, 0.03])
    edges = np.linspace(0.0, 4.0, 5)
    x = np.concatenate([np.full(3, 0.5), np.full(47, 1.5), np.full(45, 2.5), np.full(4, 3.5), [9.0]])
    n = x.size
    assert n == 100
    obs = np.array([47, 45, 3 + 4 + 1])
    exp = n * np.array([0.5, 0.45, 0.05])
    r = binned_test(x, p, edges)
    assert r.statistic == pytest.approx(np.sum((obs - exp) ** 2 / exp), rel=1e-13)
    assert "3 bins (3 pooled), dof=2" in r.detail


def test_a_pool_too_small_joins_the_smallest_bin():
    p = np.array([0.01, 0.59, 0.4])  # cell 0 expects 1 at n = 100: merged with cell 2 (0.4)
    edges = np.linspace(0.0, 3.0, 4)
    x = np.concatenate([np.full(2, 0.5), np.full(58, 1.5), np.full(40, 2.5)])
    obs = np.array([58, 42])
    exp = 100 * np.array([0.59, 0.41])
    r = binned_test(x, p, edges)
    assert r.statistic == pytest.approx(np.sum((obs - exp) ** 2 / exp), rel=1e-13)
    assert "dof=1" in r.detail


def test_null_calibration_2d():
    m, p, edges = _ring_grid()
    count = 0
    for seed in range(SEEDS):
        count += binned_test(m.sample(2000, np.random.default_rng(seed)), p, edges).pvalue <= ALPHA
    lo, hi = stats.binom.ppf([0.001, 0.999], SEEDS, ALPHA)
    assert lo <= count <= hi, count


def test_power_against_a_shift():
    m, p, edges = _ring_grid()
    shifted = type(m)(m.weights, m.means + np.array([0.05, 0.0]), m.covs)
    p_alt = _cell_probabilities(shifted, edges)
    n = 4000
    # noncentrality of the shift, n sum (p_alt - p)^2 / p over the cells (outside mass ~1e-6 ignored)
    keep = n * p >= 5
    lam = n * np.sum((p_alt - p)[keep] ** 2 / p[keep])
    dof = int(keep.sum())  # bins - 1 with the pooled bin
    power = stats.ncx2.sf(stats.chi2.isf(0.01, dof), dof, lam)
    assert power > 0.999, power
    seeds = 20
    hits = sum(binned_test(shifted.sample(n, np.random.default_rng(seed)), p, edges).pvalue <= 0.01 for seed in range(seeds))
    assert hits >= stats.binom.ppf(0.001, seeds, 0.999)


def test_interval_null_keeps_its_level_with_a_perturbed_reference():
    # The reference is off by an L1 error eps = 0.1; its actual noncentrality at n = 1000,
    # n sum delta^2 / p ~ 9 over 32 dof, gives the plain test a false-alarm rate near 0.5 (ncx2),
    # far above the band; with ref_l1 = eps the test must stay at level alpha.
    m, p_true, edges = _ring_grid(cells=8)
    rng = np.random.default_rng(7)
    delta = rng.standard_normal(p_true.shape) * p_true
    delta -= delta.mean()
    p_ref = np.clip(p_true + delta * 0.1 / np.abs(delta).sum(), 0, None)
    eps = float(np.abs(p_ref - p_true).sum() + abs(p_true.sum() - p_ref.sum()))  # outside bin too
    n, plain, interval = 1000, 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReferenceAccuracyWarning)
        for seed in range(SEEDS):
            x = m.sample(n, np.random.default_rng(seed))
            plain += binned_test(x, p_ref, edges).pvalue <= ALPHA
            interval += binned_test(x, p_ref, edges, ref_l1=eps).pvalue <= ALPHA
    hi = stats.binom.ppf(0.999, SEEDS, ALPHA)
    assert plain > hi  # the perturbation matters
    assert interval <= hi


def test_ref_l1_warning_and_monotone_pvalue(rng):
    m, p, edges = _ring_grid()
    x = m.sample(2000, rng)
    plain = binned_test(x, p, edges)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a tiny bound must not warn
        small = binned_test(x, p, edges, ref_l1=1e-5)
    with pytest.warns(ReferenceAccuracyWarning, match="ref_l1"):
        big = binned_test(x, p, edges, ref_l1=0.05)
    assert big.statistic == small.statistic == plain.statistic
    assert big.pvalue >= small.pvalue >= plain.pvalue


def test_grid_cells_of_a_grid_density(rng):
    from fpcheck.grid import Grid, cell_averages

    m = problems.data("gmm2d-ring8")
    grid = Grid([(-3.0, 3.0), (-3.0, 3.0)], (16, 16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mass beyond the box (about 1e-6) may be reported
        density = cell_averages(m, grid)
    p, edges = grid_cells(density)
    exact = _cell_probabilities(m, edges)
    # cell_averages is exact for diagonal-covariance mixtures (cdf differences): round-off only
    np.testing.assert_allclose(p, exact, rtol=1e-10, atol=1e-15)
    r = binned_test(m.sample(1000, rng), p, edges)
    assert 0.0 <= r.pvalue <= 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"probabilities": np.array([0.5, -0.1])}, "must be non-negative"),
        ({"probabilities": np.array([0.7, 0.7])}, "sum to 1.4"),
        ({"probabilities": np.array([0.5, np.nan])}, "probabilities contains 1 NaN"),
        ({"edges": np.array([0.0, 1.0])}, r"edges\[0\] must have 3 entries"),
        ({"edges": np.array([0.0, 2.0, 1.0])}, "strictly increasing"),
        ({"x": np.zeros((4, 2))}, r"x must have shape \(n, 1\)"),
        ({"x": np.array([0.5, np.nan])}, "x contains NaN"),
        ({"x": np.zeros(0)}, "x is empty"),
        ({"min_expected": 1e6}, "only 1 bin"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"x": np.linspace(0.1, 1.9, 30), "probabilities": np.array([0.5, 0.5]), "edges": np.array([0.0, 1.0, 2.0])}
    args.update(kwargs)
    with pytest.raises(InputError, match=match):
        binned_test(args["x"], args["probabilities"], args["edges"], min_expected=args.get("min_expected", 5.0))


def test_bad_edges_count_2d():
    with pytest.raises(InputError, match="edges has 1 axes but probabilities has 2"):
        binned_test(np.zeros((5, 2)), np.full((2, 2), 0.25), [np.linspace(0, 1, 3)])
