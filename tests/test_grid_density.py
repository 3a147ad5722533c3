"""Unit tests of fpcheck.grid.density.GridDensity against independent truths.

Truths: the exact pdf, cdf and score of Gaussian mixtures (fpcheck.distributions, themselves tested
against scipy.stats), a periodic density with cell averages in closed form, the closed-form L1
distance between two normals, and exact sums (mass, marginals) of the cell averages.

Convergence orders are fitted on grids refined by factors of 2: the reconstructions are 4th order
(pdf, score, score_at), the cdf between edges 3rd order (PCHIP).  The asserted bound leaves 0.5
for pre-asymptotic terms, well clear of the order 2 that a missed cell-average correction
(h^2/24 q'') would give.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError
from fpcheck.grid import Grid, GridDensity, cell_averages

# coarse grids of the convergence studies under-resolve on purpose; the warnings are tested in
# test_grid_projection.py
pytestmark = pytest.mark.filterwarnings("ignore::fpcheck.errors.GridWarning")

EPS = np.finfo(float).eps


def _gmm1():
    return GaussianMixture([0.4, 0.6], [[-1.0], [1.2]], [[[0.25]], [[0.49]]])


def _gmm2():
    # diagonal covariances: exact projection; the score is not separable (a mixture)
    return GaussianMixture([0.4, 0.6], [[-1.0, 0.5], [1.2, -0.3]], [np.diag([0.36, 0.49]), np.diag([0.64, 0.36])])


def _order(errors, ns) -> float:
    """Least-squares slope of log(error) against log(h) ∝ -log(n)."""
    return float(-np.polyfit(np.log(ns), np.log(errors), 1)[0])


def _periodic_case(n):
    r"""q(x) = 1 + a sin(2 pi x) on [0, 1), with cell averages 1 + a (cos 2pi e_i - cos 2pi e_{i+1}) / (2 pi h)."""
    a = 0.5
    g = Grid([(0.0, 1.0)], (n,), periodic=True)
    e = g.edges(0)
    avg = 1.0 + a * (np.cos(2 * np.pi * e[:-1]) - np.cos(2 * np.pi * e[1:])) / (2 * np.pi * g.h[0])
    pdf = lambda x: 1.0 + a * np.sin(2 * np.pi * x)  # noqa: E731
    score = lambda x: 2 * np.pi * a * np.cos(2 * np.pi * x) / pdf(x)  # noqa: E731
    return GridDensity(g, avg), pdf, score


# ------------------------------------------------------------------------------ construction


def test_values_are_copied_read_only_and_min_reports_negatives():
    g = Grid.cube(0.0, 1.0, 8, 1)
    raw = np.ones(8)
    raw[3] = -0.25
    d = GridDensity(g, raw)
    raw[0] = 99.0
    assert d.values[0] == 1.0 and d.min() == -0.25 and d.max() == 1.0
    with pytest.raises(ValueError):
        d.values[0] = 2.0
    assert "mass=0.84375" in repr(d) and "min=-0.25" in repr(d)


BAD = [
    ("shape", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 2), np.ones((8, 9))), r"values must have the grid's shape \(8, 8\), got \(8, 9\)"),
    ("nan", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 1), [np.nan] + [1.0] * 7), "values contains 1 NaN or inf"),
    ("grid type", lambda: GridDensity(((0.0, 1.0),), np.ones(8)), "grid must be a fpcheck.grid.Grid, got tuple"),
    ("marginal repeated", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 2), np.ones((8, 8))).marginal([0, 0]), r"axes_to_keep must be distinct axis indices in \[0, 2\)"),
    ("marginal range", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 2), np.ones((8, 8))).marginal(2), "axes_to_keep must be distinct"),
    ("marginal empty", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 2), np.ones((8, 8))).marginal([]), "at least one"),
    ("cdf 2D", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 2), np.ones((8, 8))).cdf([0.5]), r"cdf is defined on 1-dimensional grids; this one has ndim=2 \(take a marginal first\)"),
    ("pdf points", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 2), np.ones((8, 8))).pdf(np.zeros((3, 3))), r"x must have shape \(n, 2\)"),
    ("score zero", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 1), [0.0] + [1.0] * 7).score(), r"score needs positive cell averages, but 1 of 8 cells are <= 0 \(smallest 0\).*restrict the grid"),
    ("score short axis", lambda: GridDensity(Grid.cube(0.0, 1.0, 6, 1), np.ones(6)).score(), r"at least 7 cells on each non-periodic axis.*short on axes \[0\]"),
    ("l1 grid", lambda: GridDensity(Grid.cube(0.0, 1.0, 8, 1), np.ones(8)).l1_distance(GridDensity(Grid.cube(0.0, 2.0, 8, 1), np.ones(8))), "needs both densities on the same grid"),
]


@pytest.mark.parametrize("make, match", [pytest.param(f, m, id=i) for i, f, m in BAD])
def test_bad_input_raises_input_error(make, match):
    with pytest.raises(InputError, match=match):
        make()


# ------------------------------------------------------------------------------ mass, marginals


def test_mass_is_the_sum_times_cell_volume():
    g = Grid([(-1.0, 3.0), (0.0, 2.0)], (8, 16))
    v = np.arange(g.size, dtype=float).reshape(g.shape)
    d = GridDensity(g, v)
    # sum of 0..127 = 8128, cell volume 0.5 * 0.125
    assert d.mass() == pytest.approx(8128 * 0.0625, rel=4 * EPS)


def test_marginal_of_a_product_equals_the_one_dimensional_projection():
    # p(x, y) = N(x; 0.3, 0.8^2) N(y; -0.5, 0.6^2): the cell average is a product, so the marginal's
    # cell averages are the 1D projection's exactly (sums of 64 terms: a few ulps per entry)
    prod = GaussianMixture([1.0], [[0.3, -0.5]], [np.diag([0.64, 0.36])])
    g = Grid([(-7.0, 8.0), (-6.0, 5.0)], (96, 88))  # 9 stds or more: tails beyond the box < 1e-18
    d = cell_averages(prod, g)
    for keep, other in ((0, 1), (1, 0)):
        m = d.marginal([keep])
        assert m.grid == Grid([g.bounds[keep]], (g.shape[keep],))
        ref = cell_averages(prod.marginal([keep]), m.grid).values
        np.testing.assert_allclose(m.values, ref, rtol=64 * EPS, atol=64 * EPS * ref.max())
    # a full-covariance mixture (Gauss-Legendre in 2D) marginalises to the exact 1D projection too,
    # up to the 2D quadrature error (nodes=8 with h <= std / 4: round-off)
    full = GaussianMixture([0.5, 0.5], [[-1.0, 0.5], [1.0, -0.5]], [[[0.8, 0.3], [0.3, 0.6]], [[0.5, -0.2], [-0.2, 0.7]]])
    g = Grid.cube(-9.0, 9.0, 144, 2)  # 8.9 marginal stds or more: tails beyond the box < 1e-18
    d = cell_averages(full, g)
    for keep in (0, 1):
        ref = cell_averages(full.marginal([keep]), Grid([g.bounds[keep]], (144,))).values
        np.testing.assert_allclose(d.marginal(keep).values, ref, rtol=0, atol=1e-12 * ref.max())


def test_marginal_keeps_the_order_given():
    g = Grid([(0.0, 1.0), (0.0, 2.0), (0.0, 3.0)], (4, 5, 6), periodic=(True, False, False))
    v = np.random.default_rng(0).random(g.shape)
    d = GridDensity(g, v)
    m = d.marginal([2, 0])
    assert m.grid == Grid([(0.0, 3.0), (0.0, 1.0)], (6, 4), periodic=(False, True))
    np.testing.assert_allclose(m.values, v.sum(axis=1).T * g.h[1], rtol=4 * EPS)
    np.testing.assert_array_equal(d.marginal([1, 0, 2]).values, v.transpose(1, 0, 2))
    assert d.marginal([0, 1, 2]).mass() == pytest.approx(d.mass(), rel=4 * EPS)


# ------------------------------------------------------------------------------------ pdf


@pytest.mark.parametrize("dim, ns", [(1, (32, 64, 128)), (2, (32, 64, 128))])
def test_pdf_converges_at_fourth_order(dim, ns):
    data = _gmm1() if dim == 1 else _gmm2()
    x = np.random.default_rng(1).uniform(-4.0, 4.0, (400, dim))
    errors = []
    for n in ns:
        d = cell_averages(data, Grid.cube(-6.0, 6.0, n, dim))
        errors.append(np.abs(d.pdf(x) - data.pdf(x)).max())
    assert errors[-1] < 2e-5
    assert _order(errors, ns) >= 3.5, errors


def test_pdf_on_a_periodic_grid_wraps_and_converges_at_fourth_order():
    x = np.linspace(0.0, 1.0, 201)
    errors = []
    for n in (8, 16, 32, 64):
        d, pdf, _ = _periodic_case(n)
        errors.append(np.abs(d.pdf(x) - pdf(x)).max())
        np.testing.assert_allclose(d.pdf(x + 3.0), d.pdf(x), rtol=0, atol=1e-12)
        np.testing.assert_allclose(d.pdf(x - 1.0), d.pdf(x), rtol=0, atol=1e-12)
        # the periodic spline is smooth everywhere, also where the wrapped coordinate restarts (at
        # the first centre) and at the box's faces; an open spline would jump there by O(h^4)
        for seam in (d.grid.centres(0)[0], 0.0):
            left, right = d.pdf(np.array([seam - 1e-12, seam + 1e-12]))
            assert abs(left - right) < 1e-10
    assert _order(errors, (8, 16, 32, 64)) >= 3.5, errors


def test_pdf_is_zero_outside_the_box_and_continuous_up_to_it():
    data = _gmm2()
    g = Grid([(-3.0, 4.0), (-3.5, 3.0)], (56, 52))
    d = cell_averages(data, g)
    outside = np.array([[-3.01, 0.0], [4.2, 0.0], [0.0, -3.6], [0.0, 3.0001], [9.0, 9.0]])
    np.testing.assert_array_equal(d.pdf(outside), 0.0)
    # on the faces the end pieces extrapolate half a cell, with the same O(h^4) error as inside
    # (h = 1/8: about 1e-5 of the peak here, against 0.05 of the peak at these faces)
    faces = np.array([[-3.0, 0.2], [4.0, -0.4], [1.0, -3.5], [-1.0, 3.0]])
    peak = data.pdf(data.means).max()
    np.testing.assert_allclose(d.pdf(faces), data.pdf(faces), rtol=0, atol=1e-4 * peak)


# ------------------------------------------------------------------------------------ cdf


def test_cdf_is_exact_at_the_edges():
    data = _gmm1()
    g = Grid.cube(-5.0, 6.0, 64, 1)
    d = cell_averages(data, g)
    e = g.edges(0)
    exact = data.cdf(e) - data.cdf(e[:1])
    # cumulative sums of 64 masses, each exact to a few ulps
    np.testing.assert_allclose(d.cdf(e), exact, rtol=0, atol=64 * EPS)
    assert d.cdf([-7.0])[0] == 0.0 and d.cdf([7.0])[0] == pytest.approx(d.mass(), rel=0, abs=2 * EPS)


def test_cdf_between_edges_is_monotone_and_third_order():
    data = _gmm1()
    x = np.linspace(-4.0, 4.0, 2001)
    ns, errors = (32, 64, 128, 256), []
    for n in ns:
        d = cell_averages(data, Grid.cube(-6.0, 6.0, n, 1))
        f = d.cdf(x)
        assert np.all(np.diff(f) >= 0)
        errors.append(np.abs(f - (data.cdf(x) - data.cdf([-6.0]))).max())
    assert _order(errors, ns) >= 2.5, errors


# ---------------------------------------------------------------------------------- scores


def test_score_converges_at_fourth_order_in_the_interior_1d():
    data = _gmm1()
    ns, errors = (64, 128, 256, 512), []
    for n in ns:
        g = Grid.cube(-6.0, 6.0, n, 1)
        s = cell_averages(data, g).score()
        assert s.shape == (n, 1)
        c = g.centres(0)
        inner = np.abs(c) < 3.0
        errors.append(np.abs(s[inner, 0] - data.score(c[inner])[:, 0]).max())
    assert errors[-1] < 1e-4
    assert _order(errors, ns) >= 3.5, errors


def test_score_converges_at_fourth_order_in_the_interior_2d():
    data = _gmm2()
    ns, errors = (64, 128, 256), []
    for n in ns:
        g = Grid.cube(-6.0, 6.0, n, 2)
        s = cell_averages(data, g).score()
        assert s.shape == (n, n, 2)
        p = g.points()
        inner = np.all(np.abs(p) < 2.0, axis=1)
        errors.append(np.abs(s.reshape(-1, 2)[inner] - data.score(p[inner])).max())
    assert _order(errors, ns) >= 3.5, errors


def test_score_on_a_periodic_grid():
    ns, errors = (16, 32, 64, 128), []
    for n in ns:
        d, _, score = _periodic_case(n)
        c = d.grid.centres(0)
        errors.append(np.abs(d.score()[:, 0] - score(c)).max())
    assert _order(errors, ns) >= 3.5, errors


def test_score_at_interpolates_to_fourth_order_and_is_nan_outside():
    data = _gmm1()
    x = np.linspace(-3.0, 3.0, 301)
    ns, errors = (64, 128, 256, 512), []
    for n in ns:
        d = cell_averages(data, Grid.cube(-6.0, 6.0, n, 1))
        errors.append(np.abs(d.score_at(x) - data.score(x)).max())
    assert _order(errors, ns) >= 3.5, errors
    assert np.isnan(d.score_at([-6.5, 7.0])).all() and np.isfinite(d.score_at([-6.0, 6.0])).all()


# ------------------------------------------------------------------------------------- L1


def _normals():
    p = GaussianMixture([1.0], [[0.0]], [[[1.0]]])
    q = GaussianMixture([1.0], [[1.0]], [[[1.0]]])
    exact = 4.0 * special.ndtr(0.5) - 2.0  # ||N(0,1) - N(1,1)||_1 = 2 (2 Phi(1/2) - 1)
    return p, q, exact


def test_l1_distance_is_exact_when_the_sign_change_is_on_an_edge():
    # q - p changes sign only at x = 1/2; with 1/2 on an edge every cell average of |q - p| equals
    # |cell average of q - p|, so the grid L1 is the exact L1 minus the tails outside [-9.5, 10.5]
    # (< 1e-20): agreement to the rounding of 200 terms
    p, q, exact = _normals()
    g = Grid.cube(-9.5, 10.5, 200, 1)
    assert np.any(np.isclose(g.edges(0), 0.5, rtol=0, atol=1e-14))
    dp, dq = cell_averages(p, g), cell_averages(q, g)
    np.testing.assert_allclose(dp.l1_distance(dq), exact, rtol=1e-13)
    np.testing.assert_allclose(dp.l1_distance(q), exact, rtol=1e-13)  # projected on the fly
    np.testing.assert_allclose(dp.l1_distance(q.pdf), exact, rtol=1e-12)  # by quadrature
    assert dp.l1_distance(dp) == 0.0


def test_l1_distance_is_a_lower_bound_that_closes_at_second_order():
    # a cell that straddles the sign change averages q - p before taking |.|: the grid L1 is below
    # the exact one by O(h^2) (the cell's width times its mean |q - p| ~ h |q' - p'|)
    p, q, exact = _normals()
    gaps, ns = [], (41, 81, 161)  # odd cell counts on [-10, 11]: x = 1/2 is the centre of a cell
    for n in ns:
        g = Grid.cube(-10.0, 11.0, n, 1)
        gaps.append(exact - cell_averages(p, g).l1_distance(q))
    assert all(gap > 0 for gap in gaps)
    assert 1.8 <= _order(gaps, ns) <= 2.2, gaps
