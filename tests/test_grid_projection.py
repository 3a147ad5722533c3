"""Unit tests of fpcheck.grid.projection.cell_averages against independent truths.

Truths: adaptive quadrature of the exact pdf over single cells (scipy.integrate quad / dblquad /
tplquad with ``epsabs=0`` and a relative tolerance well below the asserted one), the cdfs of
scipy.stats for the mass outside the grid, exact overlap lengths worked out by hand, and the
exact branch itself for the Gauss-Legendre branch (on diagonal mixtures, where both apply).

Tolerances: the exact branches are cdf differences taken on the far side of each tail, so they
keep a relative accuracy of about 1e-15 in every cell; 1e-10 leaves room for quad's own error
(asked for 1e-12).  Gauss-Legendre with ``nodes = m`` has error O(h^{2m}) per cell.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from fpcheck import problems
from fpcheck.distributions import BoxMixture, Distribution, GaussianMixture
from fpcheck.errors import GridWarning, InputError
from fpcheck.grid import Grid, GridDensity, cell_averages
from fpcheck.grid import projection

EPS = np.finfo(float).eps
QUAD = dict(epsabs=0.0, epsrel=1e-12, limit=200)


def _quad_cell_1d(pdf, a, b, points=None):
    f = lambda x: pdf(np.array([[x]]))[0]  # noqa: E731
    return integrate.quad(f, a, b, points=points, **QUAD)[0] / (b - a)


def _quad_cell_2d(pdf, xa, xb, ya, yb):
    f = lambda y, x: pdf(np.array([[x, y]]))[0]  # noqa: E731
    return integrate.dblquad(f, xa, xb, ya, yb, epsabs=0.0, epsrel=1e-11)[0] / ((xb - xa) * (yb - ya))


def _cell(g: Grid, idx):
    return [(g.edges(j)[i], g.edges(j)[i + 1]) for j, i in enumerate(idx)]


@contextmanager
def _no_warnings():
    """Turn GridWarnings into errors: the grid is meant to hold and resolve the data."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", GridWarning)
        yield


def _gmm1():
    return GaussianMixture([0.3, 0.7], [[-1.5], [1.0]], [[[0.36]], [[0.64]]])


def _gmm2_diag():
    return GaussianMixture([0.4, 0.6], [[-1.0, 0.5], [1.2, -0.3]], [np.diag([0.36, 0.49]), np.diag([0.64, 0.36])])


def _gmm2_full():
    return GaussianMixture([0.5, 0.5], [[-1.0, 0.5], [1.0, -0.5]], [[[0.8, 0.3], [0.3, 0.6]], [[0.5, -0.2], [-0.2, 0.7]]])


# ------------------------------------------------------------------------ Gaussian mixtures


def test_gaussian_1d_matches_quadrature_in_every_cell():
    data = _gmm1()
    g = Grid.cube(-9.0, 9.0, 120, 1)  # h = 0.15: 4 cells per smallest std
    with _no_warnings():
        d = cell_averages(data, g)
    ref = np.array([_quad_cell_1d(data.pdf, a, b) for a, b in zip(g.edges(0)[:-1], g.edges(0)[1:])])
    np.testing.assert_allclose(d.values, ref, rtol=1e-10)  # relative, in the tails too (down to 1e-36)


@pytest.mark.filterwarnings("ignore::fpcheck.errors.GridWarning")
def test_gaussian_far_tails_keep_relative_accuracy():
    # cells 8 to 35 stds right of the mean: Phi(z1) - Phi(z0) would be 1 - 1 = 0 in double
    # precision; the far-side difference Phi(-z0) - Phi(-z1) is exact to a few ulps
    data = GaussianMixture([1.0], [[0.0]], [[[1.0]]])
    g = Grid.cube(-35.0, 35.0, 70, 1)
    d = cell_averages(data, g)
    e = g.edges(0)
    for i in (43, 50, 60, 69):
        ref = (stats.norm.sf(e[i]) - stats.norm.sf(e[i + 1])) / g.h[0]
        assert ref > 0
        np.testing.assert_allclose(d.values[i], ref, rtol=1e-12)
        np.testing.assert_allclose(d.values[69 - i], ref, rtol=1e-12)  # and the mirror cell


def test_gaussian_2d_diagonal_matches_dblquad():
    data = _gmm2_diag()
    g = Grid([(-6.0, 7.5), (-5.0, 6.25)], (90, 75))  # h = 0.15: 4 cells per smallest std
    with _no_warnings():
        d = cell_averages(data, g)
    for idx in [(40, 37), (4, 50), (89, 0), (60, 15), (45, 74)]:
        ref = _quad_cell_2d(data.pdf, *(c for ab in _cell(g, idx) for c in ab))
        np.testing.assert_allclose(d.values[idx], ref, rtol=1e-9)


def test_gaussian_2d_full_covariance_matches_dblquad():
    # the Gauss-Legendre branch: 8 nodes with h = 1/8 <= (conditional std) / 5 is at round-off
    data = _gmm2_full()
    g = Grid.cube(-8.0, 8.0, 128, 2)
    with _no_warnings():
        d = cell_averages(data, g)
    for idx in [(56, 68), (64, 64), (78, 48), (28, 88), (108, 38)]:
        ref = _quad_cell_2d(data.pdf, *(c for ab in _cell(g, idx) for c in ab))
        np.testing.assert_allclose(d.values[idx], ref, rtol=1e-9)


def test_gaussian_3d_matches_tplquad():
    data = problems.data("gmm3d-tetra")  # isotropic: the exact branch
    g = Grid.cube(-3.5, 3.5, 28, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # 1 cell per std: fine for a pointwise check
        d = cell_averages(data, g)
    corners = [(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)]  # the pdf written out: 4 x N(v, 0.3^2 I)
    norm = 0.25 / (2 * math.pi * 0.09) ** 1.5

    def f(z, y, x):
        return norm * sum(math.exp(-((x - a) ** 2 + (y - b) ** 2 + (z - c) ** 2) / 0.18) for a, b, c in corners)

    for idx in [(20, 20, 20), (14, 5, 9)]:
        (xa, xb), (ya, yb), (za, zb) = _cell(g, idx)
        ref = integrate.tplquad(f, xa, xb, ya, yb, za, zb, epsabs=0.0, epsrel=1e-9)[0] / g.cell_volume
        np.testing.assert_allclose(d.values[idx], ref, rtol=1e-8)


def test_mass_is_one_minus_the_mass_outside():
    # exact cell averages carry the mass inside the box to round-off; the mass outside comes from
    # scipy.stats' normal cdf, a product over axes for each diagonal component
    data = _gmm2_diag()
    g = Grid([(-3.0, 2.5), (-2.0, 4.0)], (44, 48))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # the box is small on purpose
        d = cell_averages(data, g)
    inside = 0.0
    for w, m, c in zip(data.weights, data.means, data.covs):
        sd = np.sqrt(np.diag(c))
        inside += w * np.prod([stats.norm.cdf(hi, m[j], sd[j]) - stats.norm.cdf(lo, m[j], sd[j]) for j, (lo, hi) in enumerate(g.bounds)])
    assert 1.0 - inside > 1e-3  # a real test: a lot is outside
    assert d.mass() == pytest.approx(inside, rel=0, abs=1e-14)
    one = _gmm1()
    g1 = Grid.cube(-2.0, 3.0, 40, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        d1 = cell_averages(one, g1)
    assert d1.mass() == pytest.approx(1.0 - one.cdf([-2.0])[0] - (1.0 - one.cdf([3.0])[0]), rel=0, abs=1e-14)


@given(
    means=st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=3),
    log_stds=st.lists(st.floats(-2.0, 0.5), min_size=3, max_size=3),
    lo=st.floats(-6.0, 0.0),
    width=st.floats(0.5, 12.0),
    n=st.integers(4, 200),
)
def test_exact_gaussian_projection_property(means, log_stds, lo, width, n):
    # any 1D mixture, any grid (resolved or not, holding the mass or not): non-negative averages
    # whose mass is the cdf mass of the box, P(lo < X < hi), to round-off
    k = len(means)
    data = GaussianMixture.isotropic(np.full(k, 1.0 / k), np.array(means)[:, None], np.exp(log_stds[:k]))
    g = Grid.cube(lo, lo + width, n, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        d = cell_averages(data, g)
    assert d.min() >= 0.0
    inside = sum(stats.norm.cdf(g.bounds[0][1], m, s) - stats.norm.cdf(lo, m, s) for m, s in zip(means, np.exp(log_stds[:k]))) / k
    assert d.mass() == pytest.approx(inside, rel=0, abs=1e-14)


def test_coarse_cell_averages_are_means_of_fine_ones():
    # an identity of exact cell averages: a coarse cell is the union of 2^d fine cells
    data = _gmm2_diag()
    g = Grid.cube(-6.0, 6.0, 64, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        fine, coarse = cell_averages(data, g).values, cell_averages(data, g.coarsen()).values
    blocks = fine.reshape(32, 2, 32, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(coarse, blocks, rtol=1e-13, atol=1e-16 * fine.max())


# ------------------------------------------------------------------------------ Gauss-Legendre


def test_gauss_legendre_converges_in_nodes_to_the_exact_branch():
    data = _gmm2_diag()
    g = Grid.cube(-6.0, 6.0, 24, 2)  # h = 0.5, about one std: quadrature error visible at few nodes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        exact = cell_averages(data, g).values
        errors = [np.abs(cell_averages(data.pdf, g, nodes=m).values - exact).max() / exact.max() for m in (1, 2, 3, 4, 6, 8)]
    assert all(b < a / 10 for a, b in zip(errors[:4], errors[1:5])), errors  # spectral in m
    assert errors[-1] < 1e-12, errors


def test_gauss_legendre_error_is_order_2m_in_h():
    # m = 2 nodes per axis: exact for cubics, error O(h^4); halving h divides it by about 16
    data = _gmm2_diag()
    ns, errors = (32, 64, 128), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        for n in ns:
            g = Grid.cube(-6.0, 6.0, n, 2)
            exact = cell_averages(data, g).values
            errors.append(np.abs(cell_averages(data.pdf, g, nodes=2).values - exact).max())
    order = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert 3.7 <= order <= 4.3, errors


def test_gauss_legendre_in_3d_and_blocks_do_not_change_the_result(monkeypatch):
    data = GaussianMixture([0.5, 0.5], [[0.5, 0.0, -0.5], [-0.5, 0.3, 0.4]], [np.diag([0.5, 0.6, 0.7]), np.diag([0.7, 0.5, 0.6])])
    g = Grid.cube(-5.0, 5.0, 16, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        exact = cell_averages(data, g).values
        quad = cell_averages(data.pdf, g, nodes=6).values
        monkeypatch.setattr(projection, "_BLOCK_POINTS", 1000)  # 4 cells per block, 1024 blocks
        blocked = cell_averages(data.pdf, g, nodes=6).values
    # 6 nodes, h = 0.625 ~ 0.85 of the smallest std: O(h^12), measured 4e-13 of the peak (4 nodes: 2e-8)
    np.testing.assert_allclose(quad, exact, rtol=0, atol=1e-11 * exact.max())
    np.testing.assert_allclose(blocked, quad, rtol=1e-14, atol=1e-300)


def test_callables_and_distributions_share_the_quadrature():
    data = _gmm2_full()
    g = Grid.cube(-7.0, 7.0, 56, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        a = cell_averages(data, g, nodes=4).values
    b = cell_averages(lambda x: data.pdf(x), g, nodes=4).values  # a bare callable: no tail check, no warning
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------- boxes


def test_noise_free_checkerboard_on_an_aligned_grid_is_exact():
    data = problems.data("checkerboard2d")  # 8 dark unit squares on [-2, 2]^2, density 1/8 there
    g = Grid.cube(-2.0, 2.0, 16, 2)  # 4 x 4 cells per square
    with _no_warnings():
        d = cell_averages(data, g)
    expected = data.pdf(g.points()).reshape(g.shape)  # constant on each cell
    assert set(np.unique(expected.round(14))) == {0.0, 0.125}
    np.testing.assert_allclose(d.values, expected, rtol=4 * EPS, atol=0)


def test_noise_free_box_on_a_shifted_grid_uses_overlap_lengths():
    data = BoxMixture([0.25, 0.75], [[-1.0], [0.2]], [[1.0], [1.4]])
    g = Grid.cube(-1.3, 1.7, 12, 1)  # h = 0.25: edges at -1.05, -0.8, ... cut both boxes
    with _no_warnings():
        d = cell_averages(data, g)
    e = g.edges(0)
    ref = [_quad_cell_1d(data.pdf, a, b, points=[-1.0, 0.2, 1.0, 1.4]) for a, b in zip(e[:-1], e[1:])]
    np.testing.assert_allclose(d.values, ref, rtol=1e-12, atol=1e-15)
    # by hand: cell [-1.05, -0.8] holds 0.2 of the first box's width 2, weight 0.25 -> 0.025 / 0.25
    assert d.values[1] == pytest.approx(0.25 * 0.2 / 2.0 / 0.25, rel=1e-14)
    assert d.mass() == pytest.approx(1.0, rel=1e-14)


def test_blurred_box_matches_quadrature_including_far_right_tail():
    s2 = 0.01  # s = 0.1
    data = BoxMixture([1.0], [[-1.0]], [[1.0]], s2)
    g = Grid.cube(-3.5, 3.5, 280, 1)  # h = 0.025: 4 cells per s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # tails of 1e-130 beyond the box: fine
        d = cell_averages(data, g)
    e = g.edges(0)
    for i in list(range(0, 280, 7)) + [265, 279]:
        ref = _quad_cell_1d(data.pdf, e[i], e[i + 1])
        assert ref > 0
        np.testing.assert_allclose(d.values[i], ref, rtol=1e-10)  # relative, down to 1e-130


def test_narrow_blurred_box_is_a_gaussian():
    data = BoxMixture([1.0], [[0.3]], [[0.3 + 1e-7]], 0.25)  # width 1e-7 << s = 0.5
    g = Grid.cube(-4.0, 4.5, 68, 1)
    with _no_warnings():
        d = cell_averages(data, g)
    e = g.edges(0)
    m = 0.3 + 5e-8
    left = stats.norm.cdf(e[1:], m, 0.5) - stats.norm.cdf(e[:-1], m, 0.5)
    right = stats.norm.sf(e[:-1], m, 0.5) - stats.norm.sf(e[1:], m, 0.5)  # no 1 - 1 cancellation
    ref = np.where(e[:-1] > m, right, left) / g.h[0]
    np.testing.assert_allclose(d.values, ref, rtol=1e-9, atol=1e-18)


def test_blurred_checkerboard_matches_dblquad():
    data = problems.data("checkerboard2d").push_affine(1.0, 0.0, 0.04)  # blur s = 0.2
    g = Grid.cube(-3.6, 3.6, 144, 2)  # h = 0.05: 4 cells per s; 8 blurs from the board to the box
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)
        d = cell_averages(data, g)
    for idx in [(42, 52), (72, 72), (53, 91), (17, 127)]:
        ref = _quad_cell_2d(data.pdf, *(c for ab in _cell(g, idx) for c in ab))
        np.testing.assert_allclose(d.values[idx], ref, rtol=1e-9)
    assert d.mass() == pytest.approx(1.0, abs=1e-14)  # Phi(-8) ~ 6e-16 outside


# --------------------------------------------------------------------------------- cdf branch


def test_boltzmann_cdf_differences_match_quadrature():
    data = problems.data("doublewell1d")
    g = Grid.cube(-2.5, 2.5, 100, 1)
    with _no_warnings():
        d = cell_averages(data, g)
    e = g.edges(0)
    ref = np.array([_quad_cell_1d(data.pdf, a, b) for a, b in zip(e[:-1], e[1:])])
    # Boltzmann1D's cdf is a Simpson table (16385 nodes on [-3, 3]) with Hermite interpolation:
    # its error is ~1e-13 absolute, i.e. about 1e-11 of a cell average's peak after dividing by h
    np.testing.assert_allclose(d.values, ref, rtol=0, atol=1e-10 * ref.max())


# ---------------------------------------------------------------------------- other inputs


def test_arrays_and_grid_densities_are_wrapped():
    g = Grid.cube(0.0, 1.0, 8, 2)
    v = np.random.default_rng(0).random(g.shape)
    d = cell_averages(v, g)
    assert isinstance(d, GridDensity) and d.grid == g
    np.testing.assert_array_equal(d.values, v)
    assert cell_averages(d, g) is d
    np.testing.assert_array_equal(cell_averages(v.tolist(), g).values, v)


BAD = [
    ("dim", lambda: cell_averages(_gmm1(), Grid.cube(-5.0, 5.0, 16, 2)), "data is 1-dimensional but the grid is 2-dimensional"),
    ("grid type", lambda: cell_averages(_gmm1(), (-5.0, 5.0)), "grid must be a fpcheck.grid.Grid, got tuple"),
    ("nodes zero", lambda: cell_averages(_gmm1(), Grid.cube(-5.0, 5.0, 16, 1), nodes=0), r"nodes must be an integer from 1 to 32"),
    ("nodes big", lambda: cell_averages(_gmm1(), Grid.cube(-5.0, 5.0, 16, 1), nodes=33), r"nodes must be an integer from 1 to 32"),
    ("nodes float", lambda: cell_averages(_gmm1(), Grid.cube(-5.0, 5.0, 16, 1), nodes=4.0), "nodes must be an integer"),
    ("array shape", lambda: cell_averages(np.ones(9), Grid.cube(-5.0, 5.0, 16, 1)), r"must have the grid's shape \(16,\), got \(9,\)"),
    ("array NaN", lambda: cell_averages(np.full(16, np.nan), Grid.cube(-5.0, 5.0, 16, 1)), "values contains 16 NaN or inf"),
    ("not numeric", lambda: cell_averages("gmm1d-bimodal", Grid.cube(-5.0, 5.0, 16, 1)), "data must be a Distribution, a callable pdf"),
    ("callable shape", lambda: cell_averages(lambda x: x, Grid.cube(-5.0, 5.0, 16, 2)), r"the pdf callable returned shape \(\d+, 2\) for points of shape \(\d+, 2\); expected \(\d+,\)"),
    ("callable NaN", lambda: cell_averages(lambda x: np.full(len(x), np.nan), Grid.cube(-5.0, 5.0, 16, 1)), "the pdf callable returned \\d+ NaN or inf"),
    ("callable fails", lambda: cell_averages(lambda x: x[:, 3], Grid.cube(-5.0, 5.0, 16, 1)), r"the pdf callable raised IndexError on points of shape \(\d+, 1\)"),
    ("other grid", lambda: cell_averages(GridDensity(Grid.cube(0.0, 1.0, 8, 1), np.ones(8)), Grid.cube(0.0, 1.0, 16, 1)), "project its source instead"),
    ("memory", lambda: cell_averages(GaussianMixture.isotropic([1.0], [[0.0, 0.0, 0.0]], 1.0), Grid.cube(-5.0, 5.0, 1024, 3)), r"cell_averages needs about 24 GiB.*use fewer cells"),
]


@pytest.mark.parametrize("make, match", [pytest.param(f, m, id=i) for i, f, m in BAD])
def test_bad_input_raises_input_error(make, match):
    with pytest.raises(InputError, match=match):
        make()


# ----------------------------------------------------------------------------------- warnings


def test_warns_about_mass_outside_naming_the_side():
    data = GaussianMixture([1.0], [[0.0]], [[[1.0]]])
    g = Grid.cube(-3.0, 9.0, 48, 1)  # P(X < -3) = 1.35e-3
    with pytest.warns(GridWarning, match=r"misses a mass of up to 0.00135 .*0.00135 left of axis 0 \(x < -3\) \[move that bound to about -7.131\]") as rec:
        cell_averages(data, g)
    assert "right of axis 0" not in str(rec[0].message)
    assert len(rec) == 1  # resolved: 4 cells per std
    # a 1D distribution known by its cdf: the side and the mass, without a suggested bound
    with pytest.warns(GridWarning, match=r"0.0\d+ left of axis 0 \(x < -1.3\); 0.0\d+ right of axis 0 \(x > 1.3\)\. The domain"):
        cell_averages(problems.data("doublewell1d"), Grid.cube(-1.3, 1.3, 52, 1))


def test_warns_about_mass_outside_on_the_second_axis():
    data = _gmm2_diag()
    g = Grid([(-6.0, 7.5), (-5.0, 2.05)], (90, 47))  # resolved (h = 0.15); y > 2.05 holds 0.4 Phi(-1.55/0.7)
    with pytest.warns(GridWarning, match=r"0.00539 right of axis 1 \(y > 2.05\)") as rec:
        cell_averages(data, g)
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "axis 0" not in msg and "widen the bounds" in msg


def test_warns_about_a_distribution_known_only_by_its_pdf():
    class Shifted(Distribution):  # a Distribution fpcheck knows nothing about: only its pdf
        dim = 2

        def logpdf(self, x):
            return _gmm2_diag().logpdf(x)

        score = sample = mean = cov = None

    g = Grid([(-2.0, 8.0), (-7.0, 7.0)], (40, 56))  # cuts the left tail of x: 0.0191 of the mass
    with pytest.warns(GridWarning, match=r"about 0.0191 of Shifted lies outside it .*most likely left of axis 0 \(x < -2\)"):
        cell_averages(Shifted(), g)


def test_warns_about_under_resolved_features():
    data = GaussianMixture([0.5, 0.5], [[-1.0], [1.0]], [[[0.01]], [[1.0]]])  # std 0.1
    g = Grid.cube(-8.0, 8.0, 160, 1)  # h = 0.1: one cell per std
    with pytest.warns(GridWarning, match=r"axis 0: 1 cells of width 0.1 across the smallest component std 0.1; use shape\[0\] >= 640"):
        cell_averages(data, g)
    thin = GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 0.99], [0.99, 1.0]]])  # marginal std 1, across 0.141
    with pytest.warns(GridWarning, match=r"axis 0: 1.41 cells .* std 0.141.*axis 1: 1.41 cells"):
        cell_averages(thin, Grid.cube(-8.0, 8.0, 160, 2), nodes=2)
    box = BoxMixture([0.5, 0.5], [[-1.0], [0.5]], [[0.0], [0.6]])  # a box 0.1 wide
    with pytest.warns(GridWarning, match=r"narrowest box width 0.1; use shape\[0\] >= 120"):
        cell_averages(box, Grid.cube(-1.5, 1.5, 30, 1))
    blurred = box.push_affine(1.0, 0.0, 1e-4)  # s = 0.01
    with pytest.warns(GridWarning, match=r"box blur \(sqrt\(noise_var\)\) 0.01"):
        cell_averages(blurred, Grid.cube(-1.5, 1.5, 30, 1))


def test_no_warning_when_the_grid_holds_and_resolves_the_data():
    with _no_warnings():
        cell_averages(_gmm1(), Grid.cube(-8.0, 8.0, 128, 1))
        cell_averages(_gmm2_full(), Grid.cube(-8.0, 8.0, 128, 2), nodes=2)
        cell_averages(problems.data("box1d"), Grid.cube(-1.5, 1.5, 12, 1))
        cell_averages(lambda x: np.ones(len(x)), Grid.cube(-8.0, 8.0, 8, 1))  # no normalisation to check
