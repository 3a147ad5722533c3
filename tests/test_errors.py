"""Bad input across modules: each gives the documented exception with a message that names the
argument and says what to change.

InputError subclasses ValueError, NotAffineError TypeError, UnknownNameError LookupError, so
callers' ordinary ``except`` clauses keep working.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import Boltzmann1D, BoxMixture, GaussianMixture
from fpcheck.errors import FPCheckError, InputError, NotAffineError, UnknownNameError
from fpcheck.processes import OU, VE, VP, DoubleWell, Langevin, Potential, SubVP
from fpcheck.schedules import Constant, Cosine, GeometricSigma, Linear

I2 = np.eye(2)
GMM2 = lambda: problems.data("gmm2d-aniso")  # noqa: E731
GMM1 = lambda: problems.data("gmm1d-bimodal")  # noqa: E731
RNG = lambda: np.random.default_rng(0)  # noqa: E731


def test_exception_hierarchy():
    assert issubclass(InputError, ValueError) and issubclass(InputError, FPCheckError)
    assert issubclass(NotAffineError, TypeError) and issubclass(NotAffineError, FPCheckError)
    assert issubclass(UnknownNameError, LookupError) and issubclass(UnknownNameError, FPCheckError)


INPUT_ERRORS = [
    # --- Gaussian mixtures: parameters
    ("cov not positive definite", lambda: GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]]), r"component 0 is not positive definite \(smallest eigenvalue -1"),
    ("cov singular", lambda: GaussianMixture([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[0.0]]]), "component 1 is not positive definite"),
    ("cov asymmetric", lambda: GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 0.5], [0.4, 1.0]]]), "covs must be symmetric"),
    ("weights sum", lambda: GaussianMixture([0.5, 0.6], [[0.0], [1.0]], [[[1.0]], [[1.0]]]), r"weights must sum to one, they sum to 1\.1"),
    ("weights negative", lambda: GaussianMixture([1.5, -0.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]]), "weights must be non-negative"),
    ("weights count", lambda: GaussianMixture([0.5, 0.5], [[0.0], [1.0], [2.0]], [[[1.0]]] * 3), "weights has 2 entries but there are 3 components"),
    ("weights 2-D", lambda: GaussianMixture([[1.0]], [[0.0]], [[[1.0]]]), r"weights must have 1 dimension\(s\)"),
    ("means vs covs", lambda: GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [I2]), r"covs must have shape \(2, 2, 2\) to match means \(2, 2\)"),
    ("cov dim", lambda: GaussianMixture([1.0], [[0.0, 0.0]], [np.eye(3)]), r"covs must have shape \(1, 2, 2\)"),
    ("means 1-D", lambda: GaussianMixture([1.0], [0.0, 0.0], [I2]), r"means must have 2 dimension\(s\)"),
    ("means NaN", lambda: GaussianMixture([1.0], [[np.nan, 0.0]], [I2]), r"means contains 1 NaN or inf value\(s\)"),
    ("covs inf", lambda: GaussianMixture([1.0], [[0.0, 0.0]], [[[np.inf, 0.0], [0.0, 1.0]]]), "covs contains 1 NaN or inf"),
    ("weights NaN", lambda: GaussianMixture([np.nan], [[0.0]], [[[1.0]]]), "weights contains 1 NaN or inf"),
    ("means non-numeric", lambda: GaussianMixture([1.0], [["a"]], [[[1.0]]]), "means must be numeric"),
    ("isotropic std", lambda: GaussianMixture.isotropic([1.0], [[0.0]], [0.0]), "stds must be positive"),
    # --- Gaussian mixtures: points and methods
    ("points wrong dim", lambda: GMM2().logpdf(np.zeros((3, 3))), r"x must have shape \(n, 2\) for a 2-dimensional distribution, got shape \(3, 3\)"),
    ("points 3-D", lambda: GMM2().score(np.zeros((2, 2, 2))), r"x must have shape \(n, 2\)"),
    ("points NaN", lambda: GMM2().logpdf([[0.0, np.nan]]), "x contains NaN or inf"),
    ("points inf", lambda: GMM1().score([np.inf]), "x contains NaN or inf"),
    ("cdf in 2D", lambda: GMM2().cdf([[0.0, 0.0]]), "cdf is defined for 1-dimensional distributions; this one has dim=2"),
    ("project zero", lambda: GMM2().project([0.0, 0.0]), r"direction must be a non-zero vector of shape \(2,\)"),
    ("project dim", lambda: GMM2().project([1.0, 0.0, 0.0]), r"direction must be a non-zero vector of shape \(2,\)"),
    ("marginal axis", lambda: GMM2().marginal([2]), r"axes must be distinct indices in \[0, 2\)"),
    ("marginal repeated", lambda: GMM2().marginal([0, 0]), "axes must be distinct"),
    ("push c shape", lambda: GMM2().push_affine(1.0, [0.0, 0.0, 0.0], 0.1), r"c must be a scalar or have shape \(2,\)"),
    ("push a negative", lambda: GMM2().push_affine(-1.0, 0.0, 0.1), "a must be >= 0"),
    ("push s2 NaN", lambda: GMM2().push_affine(1.0, 0.0, np.nan), "s2 contains 1 NaN or inf"),
    ("push collapse", lambda: GMM2().push_affine(0.0, 0.0, 0.0), "collapses the mixture to a point mass"),
    # --- sampling
    ("rng type int", lambda: GMM2().sample(10, 42), r"rng must be a numpy.random.Generator \(np.random.default_rng\(seed\)\), got int"),
    ("rng legacy", lambda: GMM2().sample(10, np.random.RandomState(0)), "rng must be a numpy.random.Generator"),
    ("rng box", lambda: BoxMixture.box().sample(10, None), "rng must be a numpy.random.Generator"),
    ("rng boltzmann", lambda: problems.data("doublewell1d").sample(10, np.random), "rng must be a numpy.random.Generator"),
    ("n negative", lambda: GMM2().sample(-1, RNG()), "n must be a non-negative integer, got -1"),
    ("n float", lambda: GMM2().sample(10.0, RNG()), "n must be a non-negative integer"),
    ("n bool", lambda: GMM2().sample(True, RNG()), "n must be a non-negative integer"),
    # --- boxes
    ("box upper < lower", lambda: BoxMixture([1.0], [[1.0]], [[0.0]]), "every box needs upper >= lower"),
    ("box zero width", lambda: BoxMixture([1.0], [[0.0]], [[0.0]]), "zero width has no density unless noise_var > 0"),
    ("box shapes", lambda: BoxMixture([1.0], [[0.0, 0.0]], [[1.0]]), r"lower \(1, 2\) and upper \(1, 1\) must have the same shape"),
    ("box noise negative", lambda: BoxMixture([1.0], [[0.0]], [[1.0]], -0.1), "noise_var must be >= 0"),
    ("box weights", lambda: BoxMixture([0.4, 0.4], [[0.0], [1.0]], [[1.0], [2.0]]), "weights must sum to one"),
    ("box points", lambda: BoxMixture.checkerboard().pdf([1.0, 2.0, 3.0]), r"x must have shape \(n, 2\)"),
    ("box marginal", lambda: BoxMixture.checkerboard().marginal([-1]), "axes must be distinct indices"),
    # --- Boltzmann
    ("boltzmann cuts mass", lambda: Boltzmann1D(DoubleWell(), 0.25, bounds=(-1.5, 1.5)), r"cut off Boltzmann mass .* widen them"),
    ("boltzmann bounds order", lambda: Boltzmann1D(DoubleWell(), 0.25, bounds=(3.0, -3.0)), "bounds must be \\(lo, hi\\) with lo < hi"),
    ("boltzmann kT", lambda: Boltzmann1D(DoubleWell(), 0.0), "kT must be > 0, got 0.0"),
    ("boltzmann potential", lambda: Boltzmann1D(lambda x: x, 1.0), "potential must be a fpcheck.processes.Potential, got function"),
    # --- schedules
    ("constant negative", lambda: Constant(-1.0), "beta must be >= 0, got -1.0"),
    ("linear T zero", lambda: Linear(T=0.0), "T must be > 0, got 0.0"),
    ("linear b1 nan", lambda: Linear(b1=np.nan), "b1 contains 1 NaN or inf"),
    ("linear b0 array", lambda: Linear(b0=[0.1, 0.2]), r"b0 must have 0 dimension\(s\)"),
    ("geometric order", lambda: GeometricSigma(1.0, 0.5), r"sigma_max \(0.5\) must exceed sigma_min \(1.0\)"),
    ("geometric sigma_min", lambda: GeometricSigma(0.0, 1.0), "sigma_min must be > 0"),
    ("cosine beta_max low", lambda: Cosine(beta_max=0.01), "is below the cosine rate at t=0 .*raise beta_max"),
    ("cosine s", lambda: Cosine(s=-0.1), "s must be > 0"),
    ("schedule t above", lambda: Linear().beta(1.5), r"t must lie in the schedule's range \[0, 1\], got values in \[1.5, 1.5\]"),
    ("schedule t below", lambda: GeometricSigma(T=2.0).integral([-0.5, 1.0]), r"range \[0, 2\], got values in \[-0.5, 1\]"),
    ("schedule t nan", lambda: Cosine().beta(np.nan), "t contains 1 NaN or inf"),
    # --- processes
    ("process t above", lambda: VP(Linear()).kernel(1.01), r"t must lie in the process's time range \[0, 1\]"),
    ("process t below", lambda: OU(T=5.0).g2(-1.0), r"time range \[0, 5\]"),
    ("process t inf", lambda: SubVP(Linear()).kernel_derivative(np.inf), "t contains 1 NaN or inf"),
    ("drift t vector", lambda: VE().drift(np.zeros((2, 1)), [0.1, 0.2]), r"t must be a scalar time, got shape \(2,\)"),
    ("drift x 1-D", lambda: VP(Linear()).drift(np.zeros(3), 0.5), r"x must have shape \(n, d\), got shape \(3,\)"),
    ("drift x NaN", lambda: VP(Linear()).drift([[np.nan]], 0.5), "x contains NaN or inf"),
    ("drift x dim", lambda: OU(1.0, [0.0, 1.0]).drift(np.zeros((2, 3)), 0.5), r"x must have shape \(n, 2\)"),
    ("schedule type", lambda: VP("linear"), "schedule must be a fpcheck.schedules.Schedule, got str"),
    ("ou gamma", lambda: OU(gamma=0.0), "gamma must be > 0"),
    ("ou beta", lambda: OU(beta=-1.0), "beta must be >= 0"),
    ("ou mu 2-D", lambda: OU(mu=[[0.0]]), r"mu must be a scalar or a vector of shape \(d,\), got shape \(1, 1\)"),
    ("ou mu NaN", lambda: OU(mu=[0.0, np.nan]), "mu contains 1 NaN or inf"),
    ("transition order", lambda: OU().transition(2.0, 1.0), r"transition\(s, t\) needs s <= t"),
    ("langevin potential", lambda: Langevin(lambda x: x), "potential must be a fpcheck.processes.Potential"),
    ("langevin kT", lambda: Langevin(DoubleWell(), kT=-1.0), "kT must be > 0"),
    ("double well height", lambda: DoubleWell(0.0), "height must be > 0"),
    ("potential callables", lambda: Potential(1.0, lambda x: x), r"a Potential needs callables value\(x\) -> \(n,\)"),
    ("potential bad shape", lambda: Potential(lambda x: x, lambda x: x)(np.zeros((4, 2))), r"potential U returned shape \(4, 2\), expected \(4,\)"),
    ("potential NaN", lambda: Potential(lambda x: np.full(len(x), np.nan), lambda x: x)(np.zeros((2, 1))), "potential U returned NaN or inf"),
    ("gradient bad shape", lambda: Potential(lambda x: x[:, 0], lambda x: x[:, 0]).gradient(np.zeros((4, 2))), r"gradient of potential U returned shape \(4,\), expected \(4, 2\)"),
    # --- exact marginals
    ("marginals dim", lambda: ExactMarginals(OU(1.0, [0.0, 0.0, 0.0]), GMM2()), "process is 3-dimensional but data is 2-dimensional"),
    ("marginals data type", lambda: ExactMarginals(VP(Linear()), "gmm1d-bimodal"), "data must be a fpcheck Distribution, got str"),
    ("marginals t", lambda: ExactMarginals(VP(Linear()), GMM1()).score([[0.0]], 2.0), r"time range \[0, 1\]"),
    ("marginals t vector", lambda: ExactMarginals(VP(Linear()), GMM1()).at([0.1]), "t must be a scalar time"),
    ("marginals points", lambda: ExactMarginals(VP(Linear()), GMM2()).velocity([[0.0, np.inf]], 0.5), "x contains NaN or inf"),
    ("marginals rng", lambda: ExactMarginals(VP(Linear()), GMM1()).sample(5, 0.5, 123), "rng must be a numpy.random.Generator"),
]


@pytest.mark.parametrize("make, match", [pytest.param(f, m, id=i) for i, f, m in INPUT_ERRORS])
def test_bad_input_raises_input_error(make, match):
    with pytest.raises(InputError, match=match) as info:
        make()
    assert isinstance(info.value, ValueError)  # callers can keep catching ValueError


NOT_AFFINE = [
    ("langevin kernel", lambda: Langevin(DoubleWell(), 0.25).kernel(1.0), "Langevin has no closed-form transition kernel .*grid solver"),
    ("langevin marginals", lambda: ExactMarginals(Langevin(DoubleWell(), 0.25), GMM1()), "Langevin is not affine.*grid solver or particle simulations"),
    ("boltzmann data", lambda: ExactMarginals(VP(Linear()), problems.data("doublewell1d")), "Boltzmann1D has no closed form under an affine Gaussian kernel; use the grid solver"),
]


@pytest.mark.parametrize("make, match", [pytest.param(f, m, id=i) for i, f, m in NOT_AFFINE])
def test_non_affine_requests_raise_not_affine_error(make, match):
    with pytest.raises(NotAffineError, match=match):
        make()


def test_boltzmann_push_affine_is_not_implemented():
    with pytest.raises(NotImplementedError, match="use the grid solver"):
        problems.data("doublewell1d").push_affine(1.0, 0.0, 0.1)


@pytest.mark.parametrize("lookup", [problems.process, problems.data])
def test_unknown_names_raise_unknown_name_error(lookup):
    with pytest.raises(UnknownNameError, match=r"unknown .* 'nope'; known .*: .*-"):
        lookup("nope")
