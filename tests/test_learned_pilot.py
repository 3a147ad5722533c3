"""The pilot mixture of the default bases: its EM fit, its BIC selection, and its diffused log-density as a feature.

The feature's derivatives are held to finite differences in ``test_learned_bases`` (case
``tensor_mixture_log_density_warped``); here it is held to the closed form of the diffused
mixture (:class:`~fpcheck.analytic.ExactMarginals`), exactly up to round-off.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import BoxMixture, GaussianMixture
from fpcheck.errors import InputError
from fpcheck.learned.pilot import MixtureLogDensity, MixtureScore, fit_mixture, select_mixture

VP = problems.process("vp-linear")
OU = problems.process("ou")


@pytest.mark.parametrize("process", [VP, OU], ids=["vp-linear", "ou"])
@pytest.mark.parametrize("data", ["gmm1d-bimodal", "gmm2d-aniso", "gmm3d-tetra"])
def test_the_feature_is_the_diffused_log_density_and_its_score(process, data):
    dist = problems.data(data)
    exact = ExactMarginals(process, dist)
    basis = MixtureLogDensity(process, dist, (0.01, 1.0))
    rng = np.random.default_rng(3)
    for t in (0.01, 0.2, 1.0):
        x = exact.sample(200, t, rng)
        f = basis.evaluate(x, t, ("values", "gradients"))
        # the same closed form by another route (Cholesky factors against eigenvectors): round-off only
        np.testing.assert_allclose(f.values[:, 0], exact.logpdf(x, t), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f.gradients[:, 0, :], exact.score(x, t), rtol=1e-10, atol=1e-10 * np.abs(exact.score(x, t)).max())
        # the score as d features (vector models), and its Jacobian symmetric (a Hessian)
        g = MixtureScore(process, dist, (0.01, 1.0)).evaluate(x, t, ("values", "gradients"))
        np.testing.assert_allclose(g.values, f.gradients[:, 0, :], rtol=1e-13, atol=1e-13 * np.abs(g.values).max())
        np.testing.assert_allclose(g.gradients, g.gradients.transpose(0, 2, 1), rtol=1e-12, atol=1e-12 * np.abs(g.gradients).max())
    # per-point times give what one time per call gives
    x, t = exact.sample(50, 0.3, rng), rng.uniform(0.01, 1.0, 50)
    per_point = basis.values(x, t)[:, 0]
    one_by_one = np.array([basis.values(x[i : i + 1], t[i])[0, 0] for i in range(50)])
    np.testing.assert_allclose(per_point, one_by_one, rtol=1e-14)


def test_the_feature_depends_on_the_process_mean_shift():
    # OU's kernel has c_t != 0 only for a non-zero mean; its time derivative then carries dc/dt (the FD suite
    # covers vp-linear): here against a central difference of the closed form, step 1e-5 (truncation ~1e-10)
    dist = problems.data("gmm2d-aniso")
    exact = ExactMarginals(OU, dist)
    basis = MixtureLogDensity(OU, dist, (0.01, 1.0))
    x, t, h = exact.sample(40, 0.5, np.random.default_rng(1)), 0.5, 1e-5
    fd = (exact.logpdf(x, t + h) - exact.logpdf(x, t - h)) / (2 * h)
    np.testing.assert_allclose(basis.time_derivatives(x, t)[:, 0], fd, rtol=1e-6, atol=1e-7)
    fd = (exact.score(x, t + h) - exact.score(x, t - h)) / (2 * h)
    np.testing.assert_allclose(MixtureScore(OU, dist, (0.01, 1.0)).time_derivatives(x, t), fd, rtol=1e-6, atol=1e-7)


def test_em_recovers_a_mixture_and_is_the_maximum_likelihood():
    truth = GaussianMixture([0.3, 0.7], [[-1.5, 0.0], [1.0, 1.0]], [[[0.2, 0.05], [0.05, 0.1]], [[0.3, -0.1], [-0.1, 0.25]]])
    n = 20000
    x = truth.sample(n, np.random.default_rng(5))
    fit = fit_mixture(x, 2)
    order = np.argsort(fit.means[:, 0])
    w, mu = fit.weights[order], fit.means[order]
    # 4 standard errors (two-sided 6e-5 each): sd(w) = sqrt(w(1-w)/n), sd(mu_i) = sqrt(S_ii / (n w))
    np.testing.assert_array_less(np.abs(w - truth.weights), 4 * np.sqrt(truth.weights * (1 - truth.weights) / n))
    sd_mu = np.sqrt(np.diagonal(truth.covs, axis1=1, axis2=2) / (n * truth.weights[:, None]))
    np.testing.assert_array_less(np.abs(mu - truth.means), 4 * sd_mu)
    # sd of a variance estimate: S_ii sqrt(2 / (n w))
    var, var_true = np.diagonal(fit.covs[order], axis1=1, axis2=2), np.diagonal(truth.covs, axis1=1, axis2=2)
    np.testing.assert_array_less(np.abs(var - var_true), 4 * var_true * np.sqrt(2 / (n * truth.weights[:, None])))
    # the maximum-likelihood mixture is at least as likely as the truth on the same samples
    assert fit.logpdf(x).sum() >= truth.logpdf(x).sum()


def test_em_from_the_best_kmeans_start_finds_the_modes_of_the_ring():
    # from one k-means start EM can keep two components in one mode and one across two (a local maximum,
    # mean log-likelihood 0.17 below the truth's at 8 components); the best of several starts does not
    ring = problems.data("gmm2d-ring8")
    x = ring.sample(20000, np.random.default_rng(4))
    fit = fit_mixture(x, 8)
    assert fit.logpdf(x).sum() >= ring.logpdf(x).sum()
    np.testing.assert_allclose(np.sort(fit.weights), 1 / 8, atol=4 * np.sqrt(1 / 8 * 7 / 8 / 20000))


def test_bic_selects_the_number_of_components():
    rng = np.random.default_rng(2)
    assert len(select_mixture(problems.data("gmm1d-bimodal").sample(20000, rng), 12).weights) == 2
    assert len(select_mixture(problems.data("gmm2d-ring8").sample(20000, rng), 12).weights) == 8
    # data that are no mixture get as many components as the samples support, within the cap
    assert len(select_mixture(BoxMixture.box().sample(20000, rng), 5).weights) == 5


def test_bad_inputs():
    x = np.random.default_rng(0).standard_normal((100, 2))
    with pytest.raises(InputError, match="10 samples per component"):
        fit_mixture(x, 11)
    with pytest.raises(InputError, match="components"):
        fit_mixture(x, 0)
    with pytest.raises(InputError, match="no spread"):
        fit_mixture(np.ones((100, 2)), 1)
    with pytest.raises(InputError, match="NaN or inf"):
        fit_mixture(np.full((100, 1), np.nan), 1)
    with pytest.raises(InputError, match="GaussianMixture"):
        MixtureLogDensity(VP, BoxMixture.box(), (0.01, 1.0))
    with pytest.raises(InputError, match="affine"):
        MixtureLogDensity(problems.process("langevin-doublewell"), problems.data("gmm1d-bimodal"), (0.01, 1.0))
    basis = MixtureLogDensity(VP, problems.data("gmm2d-ring8"), (0.01, 1.0))
    with pytest.raises(InputError, match="shape"):
        basis.values(np.zeros((3, 3)), 0.5)
    with pytest.raises(InputError, match="time range"):
        basis.values(np.zeros((3, 2)), 2.0)
