r"""Exercise 2: the mean and covariance of :math:`q_t` obey linear ODEs.

For an affine drift :math:`f = -\lambda(t) x + \kappa(t)` and isotropic noise :math:`g(t)^2`,
taking moments of the SDE gives

.. math::
    \dot\mu = -\lambda\mu + \kappa, \qquad \dot\Sigma = -2\lambda\Sigma + g^2 I,

for any data; for VP (:math:`\lambda = \beta/2`, :math:`\kappa = 0`, :math:`g^2 = \beta`) these are the
lecture's :math:`\dot\mu = -\beta\mu/2`, :math:`\dot\Sigma = -\beta\Sigma + \beta I`.  The ODEs are
integrated with ``scipy.integrate.solve_ivp`` from the data's moments (law of total covariance,
computed here) and compared with ``ExactMarginals.mean`` / ``.cov``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from fpcheck import ExactMarginals
from fpcheck import strategies as fst

from ._draws import process_at_time
from ._helpers import Mixture, affine_drift_coefficients

# DOP853 with rtol 1e-10, atol 1e-12 keeps each step's error below 1e-10 |y| + 1e-12; over the
# O(100) steps of these smooth, at most exponentially growing solutions the global error stays
# below ~1e-8 |y|.  The comparison allows 1e-7 |y| + 1e-9 (scipy's scaled-error convention).
RTOL, ATOL = 1e-7, 1e-9


def integrate_moments(rates, mean0: np.ndarray, cov0: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Integrate :math:`\dot\mu = -\lambda\mu + \kappa`, :math:`\dot\Sigma = -2\lambda\Sigma + g^2 I` from 0 to ``t``.

    ``rates(tau)`` returns :math:`(\lambda, \kappa, g^2)` at time ``tau``.
    """
    d = mean0.size

    def rhs(tau, y):
        lam, kappa, g2 = rates(tau)
        mu, S = y[:d], y[d:].reshape(d, d)
        return np.concatenate([-lam * mu + kappa, (-2.0 * lam * S + g2 * np.eye(d)).ravel()])

    sol = solve_ivp(rhs, (0.0, t), np.concatenate([mean0, cov0.ravel()]), method="DOP853", rtol=1e-10, atol=1e-12)
    assert sol.success, sol.message
    y = sol.y[:, -1]
    return y[:d], y[d:].reshape(d, d)


def assert_close(actual: np.ndarray, expected: np.ndarray):
    """``|actual - expected| <= ATOL + RTOL |expected|`` elementwise, the scaled error of scipy's ODE tests."""
    scaled = np.abs(actual - expected) / (ATOL + RTOL * np.abs(expected))
    assert np.max(scaled) < 1.0, f"scaled error {np.max(scaled):.3g}"


@pytest.mark.parametrize("dim", [1, 2, 3])
@given(data=st.data())
def test_moments_follow_the_drift_odes(dim, data):
    process, t = data.draw(process_at_time(dim, hi_frac=1.0), label="process, t")
    mixture = data.draw(fst.gaussian_mixtures(dim), label="data")

    def rates(tau):
        lam, kappa = affine_drift_coefficients(process, tau, dim)
        return lam, kappa, float(process.g2(tau))

    mean, cov = integrate_moments(rates, *Mixture.of(mixture).moments(), t)
    truth = ExactMarginals(process, mixture)
    assert_close(truth.mean(t), mean)
    assert_close(truth.cov(t), cov)


@pytest.mark.parametrize("dim", [1, 2])
@given(data=st.data())
def test_vp_moments_follow_the_lecture_odes(dim, data):
    process, t = data.draw(process_at_time(dim, hi_frac=1.0, kinds=("vp",)), label="process, t")
    mixture = data.draw(fst.gaussian_mixtures(dim), label="data")

    def rates(tau):  # lecture: dmu/dt = -beta mu / 2, dSigma/dt = -beta Sigma + beta I
        beta = float(process.schedule.beta(tau))
        return 0.5 * beta, np.zeros(dim), beta

    mean, cov = integrate_moments(rates, *Mixture.of(mixture).moments(), t)
    truth = ExactMarginals(process, mixture)
    assert_close(truth.mean(t), mean)
    assert_close(truth.cov(t), cov)
