r"""Checks of learned fields: references, relative errors and their standard errors, the oracle, the push-forward.

Truths used:

* a field :math:`c\,u^*` has relative error exactly :math:`(1 - c)^2` at every time and in every
  weighted integral, on any reference (a ratio of identical sums);
* the 1D quadrature reference integrates exactly (trapezoid on Gaussians, module notes), so Monte
  Carlo references must agree with it within their standard errors, and those standard errors
  must be calibrated: over 300 seeds the z-scores have mean 0 and standard deviation 1 (tolerances
  from the sampling distribution of those two statistics);
* the grid solver's score of the blurred box (``box1d`` under VP) against its closed form;
* the oracle is the minimiser of the metric it is evaluated in, so no other field of the same
  basis beats it there.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.errors import InputError
from fpcheck.grid.grids import Grid
from fpcheck.learned import checks as ck
from fpcheck.learned import recipes
from fpcheck.learned.fit import LinearField, solve
from fpcheck.learned.pilot import MixtureScore

VP = problems.process("vp-linear")
BIMODAL = ExactMarginals(VP, problems.data("gmm1d-bimodal"))
RING = ExactMarginals(VP, problems.data("gmm2d-ring8"))


def _scaled(truth, c, field="score"):
    return lambda x, t: c * getattr(truth, field)(x, t)


def test_error_times_integrate_polynomials_in_each_panel():
    t, w = ck.error_times((0.01, 1.0))
    assert t.min() > 0.01 and t.max() < 1.0
    np.testing.assert_allclose(w.sum(), 0.99, rtol=1e-14)
    np.testing.assert_allclose(np.dot(w, np.log(t)), 1.0 * np.log(1.0) - 1.0 - (0.01 * np.log(0.01) - 0.01), rtol=1e-12)


@pytest.mark.parametrize("field", ["score", "velocity"])
def test_a_scaled_field_has_error_one_minus_c_squared(field):
    times = ck.error_times((0.01, 1.0), panels=3, nodes=3)
    refs = [ck.quadrature_reference(BIMODAL, times, field), ck.exact_reference(BIMODAL, times, 500, np.random.default_rng(0), field)]
    for ref in refs:
        for lam in (None, ck.score_weight(VP, times[0])):
            e = ck.field_errors(_scaled(BIMODAL, 0.9, field), ref, lam)
            np.testing.assert_allclose(e.relative, 0.01, rtol=1e-12)
            np.testing.assert_allclose(e.integrated, 0.01, rtol=1e-12)
        assert ck.field_errors(getattr(BIMODAL, field), ref).integrated == 0.0


def _perturbed(x, t):
    """An error that is not proportional to the field: a bump, so the ratio's noise is real."""
    return BIMODAL.score(x, t) + 0.5 * np.exp(-((x - 1.0) ** 2))


def test_monte_carlo_errors_are_calibrated_against_the_quadrature_reference():
    times = ck.error_times((0.01, 1.0), panels=2, nodes=2)
    lam = ck.score_weight(VP, times[0])
    exact = ck.field_errors(_perturbed, ck.quadrature_reference(BIMODAL, times), lam)
    z_t, z_int = [], []
    for seed in range(300):
        e = ck.field_errors(_perturbed, ck.exact_reference(BIMODAL, times, 400, np.random.default_rng(seed)), lam)
        z_t.append((e.relative - exact.relative) / e.standard_error)
        z_int.append((e.integrated - exact.integrated) / e.integrated_se)
    z_t, z_int = np.array(z_t), np.array(z_int)
    # 300 draws: the mean of z has sd 1/sqrt(300) = 0.058, the sd of z has sd ~ 1/sqrt(600) = 0.041;
    # bounds at about 4 of those (a ratio estimator's O(1/n) bias at n = 400 is far below them)
    assert np.all(np.abs(z_t.mean(axis=0)) < 0.25) and abs(z_int.mean()) < 0.25
    assert np.all(np.abs(z_t.std(axis=0) - 1.0) < 0.17) and abs(z_int.std() - 1.0) < 0.17


def test_grid_reference_matches_the_closed_form_blurred_box():
    box = problems.data("box1d")
    truth = ExactMarginals(VP, box)
    times = (np.array([0.05, 0.2, 1.0]), np.ones(3))
    grid = Grid([(-6.0, 6.0)], 4800)  # box faces +-1 on cell faces (h = 2.5e-3)
    ref = ck.grid_reference(VP, box, times, grid)
    for t, x, w, s in zip(ref.times, ref.points, ref.weights, ref.values):
        exact = truth.score(x, t)
        rel = np.dot(w, np.sum((s - exact) ** 2, axis=1)) / np.dot(w, np.sum(exact**2, axis=1))
        # the score's O(h^4) error at h = 2.5e-3 against the edges' width s_t >= 0.07: far below 1e-8
        assert rel < 1e-8, (t, rel)
    e = ck.field_errors(_scaled(truth, 0.9), ref)
    np.testing.assert_allclose(e.relative, 0.01, rtol=1e-6)


@pytest.mark.parametrize("model", ["gradient", "vector"])
def test_the_oracle_is_the_best_field_of_its_basis_in_its_metric(model):
    times = ck.error_times((0.01, 1.0), panels=4, nodes=4)
    ref = ck.quadrature_reference(BIMODAL, times)
    lam = ck.score_weight(VP, times[0])
    basis = recipes.default_basis(VP, problems.data("gmm1d-bimodal"), (0.01, 1.0), centres=10, degree=3)
    theta = solve(ck.oracle_form(basis, ref, lam, model), ck.ORACLE_RIDGE)
    oracle = LinearField(basis, theta, model=model, dim=1, rho=ck.ORACLE_RIDGE, kind="score", objective="oracle")
    best = ck.field_errors(oracle, ref, lam).integrated
    rng = np.random.default_rng(1)
    for _ in range(5):
        other = LinearField(basis, theta + 1e-3 * rng.standard_normal(theta.size) * np.abs(theta).max(), model=model,
                            dim=1, rho=0.0, kind="score", objective="x")
        assert ck.field_errors(other, ref, lam).integrated > best
    assert 0 < best < 0.05


def test_a_fit_is_measured_against_the_oracle_of_its_own_model():
    # sliced score matching fits the vector model, on a basis with the pilot's score components: its oracle
    # minimises the metric over a span that holds the pilot's score (theta_ie = delta_ie), so it is at most
    # that score's own error; and a fit of it can never beat its own oracle
    data = problems.data("gmm1d-bimodal")
    basis = recipes.default_basis(VP, data, (0.01, 1.0), centres=10, degree=3, model="vector")
    fit = recipes.fit_problem("ssm", n=5000, basis=basis)
    assert fit.field.model == fit.oracle.model == "vector"
    assert fit.errors.integrated >= fit.oracle_errors.integrated
    pilot = next(f.space for f in basis.bases if isinstance(f.space, MixtureScore))
    times = ck.error_times((0.01, 1.0))
    lam = ck.score_weight(VP, times[0])
    own = ck.field_errors(lambda x, t: pilot.values(x, t), ck.quadrature_reference(BIMODAL, times), lam).integrated
    assert fit.oracle_errors.integrated <= own * (1 + 1e-6)


def test_pushforward_of_the_exact_velocity_is_the_truth():
    grid = Grid([(-8.0, 8.0)], 1024)
    times = [0.2, 0.5]
    exact = ck.pushforward_l1(BIMODAL.velocity, BIMODAL, grid, (0.05, 1.0), times)
    off = ck.pushforward_l1(_scaled(BIMODAL, 1.1, "velocity"), BIMODAL, grid, (0.05, 1.0), times)
    # WENO5 + SSP-RK3 at h = 1.6e-2: measured 2.6e-8 .. 4.5e-8 (1024 cells), 6.6e-10 .. 4.1e-9 (2048), order ~ 3.5
    assert np.all(exact < 1e-6)
    assert np.all(off > 1e-2)


def test_bad_inputs():
    times = ck.error_times((0.01, 1.0), panels=1, nodes=2)
    ref = ck.quadrature_reference(BIMODAL, times)
    with pytest.raises(InputError, match="t_range"):
        ck.error_times((0.0, 1.0))
    with pytest.raises(InputError, match="field must be"):
        ck.quadrature_reference(BIMODAL, times, "density")
    with pytest.raises(InputError, match="1D Gaussian-mixture"):
        ck.quadrature_reference(RING, times)
    with pytest.raises(InputError, match="finite values of shape"):
        ck.field_errors(lambda x, t: np.full((x.shape[0], 2), np.nan), ref)
    with pytest.raises(InputError, match="pair"):
        ck.exact_reference(BIMODAL, 0.5, 10, np.random.default_rng(0))
