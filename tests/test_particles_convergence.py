"""Weak-order machinery: ``fit_order``, ``exact_expectation``, ``quadrature_nodes``, ``weak_study``.

The Monte-Carlo check of ``exact_expectation`` in 2D uses a fixed seed and z-tests at significance
level alpha = 1e-3 with Bonferroni over its 4 comparisons (z bound 3.48).  ``weak_study`` with
``reverse-em`` is itself Monte Carlo: its seed is fixed, and the study only fits errors above three
standard errors (module notes of ``fpcheck.particles.convergence``).  Everything else is
deterministic and held to round-off or to quadrature tolerances stated where they are used.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from _unit_helpers import z_bound
from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.errors import FPCheckError, InputError
from fpcheck.particles.convergence import FUNCTIONALS, exact_expectation, fit_order, quadrature_nodes, weak_study

ALPHA = 1e-3
PHI = {"second moment": lambda x: np.einsum("ni,ni->n", x, x), "cos": lambda x: np.cos(x.sum(axis=1))}


# ------------------------------------------------------------------------------ fit_order


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_fit_order_recovers_an_exact_power_law(p, sign):
    # log|e| is exactly linear in log K: least squares returns it to round-off (~1e-14 on the slope
    # for K up to 256), with a zero residual, hence a zero standard error.
    K = np.array([8, 16, 32, 64, 128, 256])
    fit = fit_order(K, sign * 3.7 * K**-p)
    assert fit.order == pytest.approx(p, abs=1e-12)
    assert fit.constant == pytest.approx(3.7, rel=1e-12)
    assert fit.order_se < 1e-12 and fit.used == K.size


def test_fit_order_drops_points_not_above_three_standard_errors():
    K = np.array([8, 16, 32, 64, 128])
    e = 2.0 * K**-1.0
    se = np.full(K.size, 1e-3)
    # the two finest points are replaced by noise of their standard error's size: kept, they
    # would bend the fit far from order 1; a point at exactly 3 se is not "above" and goes too
    noisy = e.copy()
    noisy[3], noisy[4] = -2.5e-3, 3e-3
    assert noisy[4] == 3 * se[4]
    fit = fit_order(K, noisy, se)
    assert fit.used == 3 and fit.order == pytest.approx(1.0, abs=1e-12)
    assert abs(fit_order(K, noisy).order - 1.0) > 0.5  # without se they enter
    # exact zeros go too, and fewer than two points leave NaN
    zeros = e.copy()
    zeros[:2] = 0.0
    assert fit_order(K, zeros).used == 3 and fit_order(K, zeros).order == pytest.approx(1.0, abs=1e-12)
    few = fit_order(K, e, np.full(K.size, 1.0))
    assert few.used == 0 and np.isnan(few.order) and np.isnan(few.order_se) and np.isnan(few.constant)


# ------------------------------------------------------------------------------ exact expectations


def _quad_expectation(name, mixture):
    """∫ φ pdf by adaptive quadrature over the means +- 20 sd (tail mass below 1e-80), tolerance 1e-13."""
    sd = np.sqrt(mixture.covs[:, 0, 0])
    lo, hi = (mixture.means[:, 0] - 20 * sd).min(), (mixture.means[:, 0] + 20 * sd).max()
    f = {"second moment": lambda y: y * y, "cos": np.cos}[name]
    value, err = integrate.quad(
        lambda y: f(y) * mixture.pdf(np.array([[y]]))[0], lo, hi,
        points=sorted(mixture.means[:, 0]), limit=500, epsabs=1e-14, epsrel=1e-13,
    )
    return value, err


@pytest.mark.parametrize("process, t", [("vp-linear", 0.0), ("vp-linear", 0.05), ("ou", 0.7), ("ve-geometric", 1.0)])
@pytest.mark.parametrize("name", FUNCTIONALS)
def test_exact_expectation_against_quadrature_in_1d(process, t, name):
    q = ExactMarginals(problems.process(process), problems.data("gmm1d-bimodal")).at(t)
    value, err = _quad_expectation(name, q)
    # quad's own estimate plus round-off in summing O(1e3) values (VE's second moment is 2.5e3)
    assert abs(exact_expectation(name, q) - value) <= err + 1e-13 * max(1.0, abs(value))


def test_exact_expectation_against_monte_carlo_in_2d():
    # Full covariances (gmm2d-aniso): E cos(1.x) needs 1^T S 1, off-diagonals included.  The mean of
    # n = 10^6 draws is held to a z bound; the same bound rejects the trace (diagonal-only) formula.
    data = problems.data("gmm2d-aniso")
    truth = ExactMarginals(problems.process("ou"), data)
    rng = np.random.default_rng(2026)
    bound, n = z_bound(ALPHA, 4), 10**6
    for t in (0.0, 0.5):
        q = truth.at(t)
        x = q.sample(n, rng)
        for name in FUNCTIONALS:
            v = PHI[name](x)
            z = (v.mean() - exact_expectation(name, q)) / (v.std(ddof=1) / np.sqrt(n))
            assert abs(z) < bound, (t, name, z)
        diag_only = float(q.weights @ (np.cos(q.means.sum(axis=1)) * np.exp(-0.5 * np.trace(q.covs, axis1=1, axis2=2))))
        v = PHI["cos"](x)
        assert abs(v.mean() - diag_only) / (v.std(ddof=1) / np.sqrt(n)) > bound


def test_unknown_functional_is_an_input_error():
    with pytest.raises(InputError, match="unknown functional 'third moment'; known: second moment, cos"):
        exact_expectation("third moment", problems.data("gmm1d-bimodal"))


# ------------------------------------------------------------------------------ quadrature


@pytest.mark.parametrize("process, t", [("vp-linear", 0.0), ("vp-linear", 1.0), ("ve-geometric", 1.0), ("ou", 0.7)])
def test_quadrature_nodes_integrate_one_and_x_squared(process, t):
    # Trapezoid on a smooth, Gaussian-decaying integrand over +-12 sd: the error is round-off,
    # about n_nodes eps (2001 x 2.2e-16 = 4.4e-13) relative.
    q = ExactMarginals(problems.process(process), problems.data("gmm1d-bimodal")).at(t)
    x, w = quadrature_nodes(q)
    assert x.shape == (2001, 1) and w.shape == (2001,) and np.all(w >= 0)
    assert abs(w.sum() - 1.0) < 1e-12
    second = exact_expectation("second moment", q)
    assert abs(w @ x[:, 0] ** 2 - second) < 1e-12 * second
    assert abs(w @ x[:, 0] - float(q.mean()[0])) < 1e-12 * np.sqrt(second)


def test_quadrature_nodes_take_1d_mixtures_only():
    with pytest.raises(InputError, match="1D mixture, got dimension 2"):
        quadrature_nodes(problems.data("gmm2d-ring8"))


# ------------------------------------------------------------------------------ weak_study


def test_weak_study_reverse_em_has_order_one():
    # VE (geometric sigma 0.01 -> 50): at 16-128 steps the EM errors are 5-40 standard errors at
    # n = 2e5, all of them enter the fit, and the slope is within 0.3 of EM's weak order 1 (over
    # seeds 0-6 it ranges over 0.83-1.09).  vp-linear needs ~1e6 particles for the same (its report case).
    proc, data = problems.process("ve-geometric"), problems.data("gmm1d-bimodal")
    steps = (16, 32, 64, 128)
    n = 200_000
    study = weak_study(proc, data, "reverse-em", steps, n=n, seed=0)
    assert study.method == "reverse-em" and np.array_equal(study.steps, steps)
    assert set(study.errors) == set(study.se) == set(study.fits) == set(FUNCTIONALS)
    for name in FUNCTIONALS:
        e, se = study.errors[name], study.se[name]
        assert e.shape == se.shape == (len(steps),) and np.all(np.isfinite(e))
        assert np.all(se > 0) and se.max() < 1.2 * se.min()  # the same n at every step count
        assert np.all(np.abs(e) > 3 * se)
        fit = study.fits[name]
        assert fit.used == len(steps) and abs(fit.order - 1.0) <= 0.3, (name, fit)


@pytest.mark.parametrize(
    "method, order, steps",
    [("flow-euler", 1, (16, 32, 64, 128)), ("flow-heun", 2, (16, 32, 64, 128)), ("flow-rk4", 4, (8, 16, 32, 64))],
)
def test_weak_study_flows_by_quadrature(method, order, steps):
    # Deterministic: quadrature over q_T, no standard errors.  Stopping at t = 0.2 keeps the flow
    # map of the bimodal data smooth enough for the 2001-node quadrature (error ~1e-12, far below
    # RK4's 2e-7 at 64 steps); closer to t = 0 the quadrature's own error stalls the fit.
    study = weak_study(problems.process("vp-linear"), problems.data("gmm1d-bimodal"), method, steps, t_end=0.2)
    assert study.se is None
    for name in FUNCTIONALS:
        fit = study.fits[name]
        assert fit.used == len(steps) and abs(fit.order - order) <= 0.3, (name, fit)


def test_weak_study_bad_input():
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    for method in ("exact", "em", "bogus"):
        with pytest.raises(InputError, match=f"unknown method '{method}'; use flow-euler"):
            weak_study(proc, data, method, (4, 8), n=100)
    with pytest.raises(InputError, match="unknown method 'reverse-foo'"):
        weak_study(proc, data, "reverse-foo", (4, 8), n=100)
    with pytest.raises(InputError, match="Gaussian-mixture data only"):
        weak_study(proc, problems.data("box1d"), "reverse-em", (4, 8), n=100)
    with pytest.raises(InputError, match="1D mixture"):
        weak_study(proc, problems.data("gmm2d-ring8"), "flow-euler", (4, 8))
    with pytest.raises(FPCheckError, match="not affine"):
        weak_study(problems.process("langevin-doublewell"), data, "reverse-em", (4, 8), n=100)


def test_weak_study_refuses_the_adaptive_flow():
    with pytest.raises(InputError, match="unknown method 'flow-rk45'"):
        weak_study(problems.process("vp-linear"), problems.data("gmm1d-bimodal"), "flow-rk45", (8, 16))
