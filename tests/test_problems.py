"""Unit tests of fpcheck.problems: every registered name holds exactly the published numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import Boltzmann1D, BoxMixture, GaussianMixture
from fpcheck.errors import UnknownNameError
from fpcheck.processes import OU, VE, VP, DoubleWell, Langevin, SubVP
from fpcheck.schedules import Cosine, GeometricSigma, Linear

PROCESS_NAMES = ["vp-linear", "vp-cosine", "subvp-linear", "ve-geometric", "ou", "langevin-doublewell"]
DATA_NAMES = ["gmm1d-bimodal", "gmm2d-ring8", "gmm2d-aniso", "gmm3d-tetra", "box1d", "checkerboard2d", "doublewell1d"]


def test_the_registries_hold_exactly_these_names():
    assert list(problems.PROCESSES) == PROCESS_NAMES
    assert list(problems.DATASETS) == DATA_NAMES
    assert problems.affine_processes() == PROCESS_NAMES[:-1]


# ---------------------------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, cls", [("vp-linear", VP), ("subvp-linear", SubVP)])
def test_linear_schedule_processes(name, cls):
    p = problems.process(name)
    assert type(p) is cls and type(p.schedule) is Linear
    assert (p.schedule.b0, p.schedule.b1, p.schedule.T, p.T) == (0.1, 20.0, 1.0, 1.0)
    assert p.g2(0.0) == pytest.approx(0.1 if cls is VP else 0.0, abs=1e-300)
    assert p.schedule.beta(1.0) == pytest.approx(20.0, rel=1e-15, abs=0)


def test_vp_cosine():
    p = problems.process("vp-cosine")
    assert type(p) is VP and type(p.schedule) is Cosine
    assert p.schedule.params() == {"s": 0.008, "T": 1.0, "beta_max": 20.0}
    assert p.T == 1.0


def test_ve_geometric():
    p = problems.process("ve-geometric")
    assert type(p) is VE and type(p.schedule) is GeometricSigma
    assert p.schedule.params() == {"sigma_min": 0.01, "sigma_max": 50.0, "T": 1.0}
    assert p.schedule.sigma(0.0) == pytest.approx(0.01, rel=1e-15, abs=0)
    assert p.schedule.sigma(1.0) == pytest.approx(50.0, rel=1e-13, abs=0)
    assert p.kernel(1.0).s2 == pytest.approx(50.0**2 - 0.01**2, rel=1e-13, abs=0)


def test_ou():
    p = problems.process("ou")
    assert type(p) is OU
    assert p.params() == {"gamma": 1.0, "mu": 1.0, "beta": 2.0, "T": 5.0}
    assert p.dim is None
    # stationary N(1, beta/(2 gamma)) = N(1, 1): at T = 5 the variance is 1 - e^{-10}
    assert p.kernel(5.0).s2 == pytest.approx(1.0 - np.exp(-10.0), rel=1e-15, abs=0)


def test_langevin_doublewell():
    p = problems.process("langevin-doublewell")
    assert type(p) is Langevin and not p.is_affine
    assert isinstance(p.potential, DoubleWell) and p.potential.height == 1.0
    assert (p.kT, p.T) == (0.25, 10.0)
    x = np.array([[-1.0], [0.0], [0.5]])
    np.testing.assert_allclose(p.potential(x), (x[:, 0] ** 2 - 1) ** 2, rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------------------------


def _assert_mixture(g, weights, means, covs):
    assert isinstance(g, GaussianMixture)
    np.testing.assert_allclose(g.weights, weights, rtol=1e-15)
    np.testing.assert_allclose(g.means, means, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(g.covs, covs, rtol=1e-15, atol=1e-15)


def test_gmm1d_bimodal():
    _assert_mixture(problems.data("gmm1d-bimodal"), [0.5, 0.5], [[-2.0], [1.5]], [[[0.3**2]], [[0.5**2]]])


def test_gmm2d_ring8():
    g = problems.data("gmm2d-ring8")
    assert isinstance(g, GaussianMixture) and g.dim == 2 and len(g.weights) == 8
    np.testing.assert_allclose(g.weights, 1 / 8, rtol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(g.means, axis=1), 2.0, rtol=1e-15)
    angles = np.sort(np.mod(np.arctan2(g.means[:, 1], g.means[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-14)  # equally spaced
    np.testing.assert_allclose(g.covs, 0.2**2 * np.eye(2)[None].repeat(8, 0), rtol=1e-15)


def test_gmm2d_aniso():
    _assert_mixture(
        problems.data("gmm2d-aniso"),
        [0.5, 0.3, 0.2],
        [[-1.5, 0.0], [1.5, 1.0], [0.5, -1.5]],
        [[[0.40, 0.25], [0.25, 0.30]], [[0.20, -0.10], [-0.10, 0.15]], [[0.10, 0.0], [0.0, 0.50]]],
    )


def test_gmm3d_tetra():
    vertices = [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
    _assert_mixture(problems.data("gmm3d-tetra"), [0.25] * 4, vertices, [0.09 * np.eye(3)] * 4)


def test_box1d():
    b = problems.data("box1d")
    assert isinstance(b, BoxMixture) and b.dim == 1 and b.noise_var == 0.0
    np.testing.assert_array_equal(b.lower, [[-1.0]])
    np.testing.assert_array_equal(b.upper, [[1.0]])
    np.testing.assert_array_equal(b.pdf([-0.99, 0.0, 0.99, 1.01]), [0.5, 0.5, 0.5, 0.0])


def test_checkerboard2d():
    b = problems.data("checkerboard2d")
    assert isinstance(b, BoxMixture) and b.dim == 2 and b.noise_var == 0.0
    np.testing.assert_allclose(b.weights, 1 / 8, rtol=1e-15)
    corners = {tuple(c) for c in b.lower.tolist()}
    # dark squares of the 4x4 board on [-2, 2]^2: (i + j) even, the bottom-left square dark
    expected = {(-2.0 + i, -2.0 + j) for i in range(4) for j in range(4) if (i + j) % 2 == 0}
    assert corners == expected
    np.testing.assert_array_equal(b.upper - b.lower, 1.0)


def test_doublewell1d():
    b = problems.data("doublewell1d")
    assert isinstance(b, Boltzmann1D) and b.kT == 0.25 and b.bounds == (-3.0, 3.0)
    assert isinstance(b.potential, DoubleWell) and b.potential.height == 1.0
    Z, _ = integrate.quad(lambda u: np.exp(-((u * u - 1) ** 2) / 0.25), -np.inf, np.inf, epsabs=0, epsrel=1e-13)
    x = np.array([-1.0, 0.0, 0.4, 2.0])
    # Simpson normalisation (h = 6/16384, O(h^4)): 1e-11 on the log-density
    np.testing.assert_allclose(b.logpdf(x), -((x * x - 1) ** 2) / 0.25 - np.log(Z), atol=1e-11)


# ---------------------------------------------------------------------------------------------
# look-up behaviour
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lookup, known, kind", [(problems.process, PROCESS_NAMES, "processes"), (problems.data, DATA_NAMES, "data sets")])
@pytest.mark.parametrize("bad", ["vp_linear", "VP-LINEAR", "", "gmm1d", ["vp-linear"], None])
def test_unknown_names_list_the_known_ones(lookup, known, kind, bad):
    with pytest.raises(UnknownNameError, match=f"known {kind}: ") as info:
        lookup(bad)
    message = str(info.value)
    for name in known:
        assert name in message
    assert isinstance(info.value, LookupError)


def test_process_names_are_not_data_names():
    with pytest.raises(UnknownNameError):
        problems.process("gmm1d-bimodal")
    with pytest.raises(UnknownNameError):
        problems.data("vp-linear")


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_each_call_builds_a_fresh_process(name):
    a, b = problems.process(name), problems.process(name)
    assert a is not b and repr(a) == repr(b)


@pytest.mark.parametrize("name", DATA_NAMES)
def test_each_call_builds_a_fresh_data_set(name):
    a, b = problems.data(name), problems.data(name)
    assert a is not b and a.params() == b.params()


def test_describe_mentions_every_name_and_summary():
    text = problems.describe()
    for table in (problems.PROCESSES, problems.DATASETS):
        for name, entry in table.items():
            assert name in text and entry.summary in text and entry.summary
    assert text.startswith("processes:") and "data sets:" in text


@pytest.mark.parametrize("dname", [n for n in DATA_NAMES if n != "doublewell1d"])
@pytest.mark.parametrize("pname", PROCESS_NAMES[:-1])
def test_every_affine_process_and_closed_form_data_pair_has_exact_marginals(pname, dname):
    truth = ExactMarginals(problems.process(pname), problems.data(dname))
    assert truth.dim == problems.data(dname).dim
    x = np.zeros((1, truth.dim)) + 0.37
    assert np.all(np.isfinite(truth.score(x, 0.5 * truth.T)))
