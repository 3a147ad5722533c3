r"""Exercise 6: the probability-flow ODE :math:`\dot x = v_t(x)` is reversible and carries :math:`q_0` to :math:`q_t`.

The flow is integrated with ``scipy.integrate.solve_ivp`` (DOP853, rtol = atol = 1e-10) with
:math:`v_t` = ``ExactMarginals.velocity``; the references are built here:

* forward :math:`0 \to t` then backward :math:`t \to 0` returns the start points;
* 1D: the flow map is increasing and transports the cdf, :math:`F_t(X_t(x_0)) = F_0(x_0)`, with
  :math:`F_t` the cdf of :math:`\sum_k w_k \mathcal N(a m_k + c, a^2 S_k + s^2)` from ``ndtr``;
* 2D: Liouville, :math:`\log q_t(X_t) = \log q_0(x_0) - \int_0^t \nabla\cdot v_\tau(X_\tau)\,d\tau`, with the
  divergence from central differences of :math:`v` integrated as an extra ODE component and
  :math:`\log q` from ``scipy.stats``.

Errors: DOP853 keeps each step's error below :math:`10^{-10}(1 + |y|)`; over the O(100) steps of a
flow that stretches distances by at most :math:`\sigma_t/\sigma_0 \le 300` the positions are right
to :math:`\lesssim 10^{-7}(1 + |x|)`, hence the tolerances below.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from fpcheck import ExactMarginals
from fpcheck import strategies as fst

from ._draws import process_at_time
from ._helpers import Mixture, kernel_coefficients

ODE = dict(method="DOP853", rtol=1e-10, atol=1e-10)
POSITION_TOL = 1e-7  # round trip, times (1 + |x0|): see the module docstring
N_POINTS = 3


def integrate(rhs, y0: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Solve ``y' = rhs(t, y)`` from ``t0`` to ``t1``; the final state.

    DOP853's error norm divides 0 by 0 when its error estimates underflow (velocities of
    1e-160, say), a case scipy leaves to numpy's default of a nan and a rejected step.  So the
    solver runs with ``invalid="ignore"`` while ``rhs``, the code under test, keeps the strict
    floating-point settings of the suite.
    """

    def strict_rhs(t, y):
        with np.errstate(all="raise", under="ignore"):
            return rhs(t, y)

    with np.errstate(invalid="ignore"):
        sol = solve_ivp(strict_rhs, (t0, t1), y0, **ODE)
    assert sol.success, sol.message
    return sol.y[:, -1]


def flow(truth: ExactMarginals, x: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Points ``(n, d)`` carried by the probability-flow ODE from ``t0`` to ``t1`` (either direction)."""
    shape = x.shape
    return integrate(lambda t, y: truth.velocity(y.reshape(shape), t).ravel(), x.ravel(), t0, t1).reshape(shape)


@st.composite
def flow_cases(draw, dim: int):
    """A process, a time, mixture data and start points within 2 deviations of the data's components."""
    process, t = draw(process_at_time(dim, hi_frac=1.0))
    data = draw(fst.gaussian_mixtures(dim))
    parts = Mixture.of(data)
    j = draw(st.lists(st.integers(0, len(parts.weights) - 1), min_size=N_POINTS, max_size=N_POINTS))
    z = draw(fst.points(dim, n=N_POINTS, bound=2.0))
    x0 = parts.means[j] + np.einsum("nij,nj->ni", np.linalg.cholesky(parts.covs[j]), z)
    return ExactMarginals(process, data), t, x0


@pytest.mark.parametrize("dim", [1, 2, 3])
@settings(max_examples=10)
@given(data=st.data())
def test_flow_forward_then_backward_returns_the_start(dim, data):
    truth, t, x0 = data.draw(flow_cases(dim), label="truth, t, x0")
    back = flow(truth, flow(truth, x0, 0.0, t), t, 0.0)
    assert np.all(np.abs(back - x0) <= POSITION_TOL * (1.0 + np.abs(x0)))


@settings(max_examples=15)
@given(case=flow_cases(1))
def test_flow_map_transports_the_cdf_1d(case):
    truth, t, x0 = case
    x_t = flow(truth, x0, 0.0, t)
    parts = Mixture.of(truth.data)
    q_t = parts.pushed(*kernel_coefficients(truth.process, t, 1))
    order = np.argsort(x0[:, 0])
    steps0, steps_t = np.diff(x0[order, 0]), np.diff(x_t[order, 0])
    assert np.all(np.sign(steps_t) == np.sign(steps0))  # the flow map of a 1D ODE is increasing
    # |F_t(X_t) - F_0(x0)| = q_t(X_t) |error of X_t| with q_t <= 1 / (sqrt(2 pi) 0.22) = 1.8 and
    # the position error <= 1e-7 (1 + |X_t|); q_t(X) |X| is at most a few, so 1e-6 bounds it.
    np.testing.assert_allclose(q_t.cdf_1d(x_t[:, 0]), parts.cdf_1d(x0[:, 0]), rtol=0, atol=1e-6)


def divergence(velocity, x: np.ndarray, t: float, delta: float) -> np.ndarray:
    r""":math:`\nabla\cdot v` at points ``(n, d)`` by the 4th-order central difference with step ``delta``.

    Truncation :math:`\delta^4|v^{(5)}|/30`, round-off :math:`1.5\,\epsilon|v|/\delta`; all shifted points
    go through one velocity call.
    """
    n, d = x.shape
    shifts = np.array([-2.0, -1.0, 1.0, 2.0]) * delta
    weights = np.array([1.0, -8.0, 8.0, -1.0]) / (12.0 * delta)
    eye = np.eye(d)
    pts = (x[None, None] + shifts[:, None, None, None] * eye[None, :, None, :]).reshape(-1, d)
    v = velocity(pts, t).reshape(len(shifts), d, n, d)
    return np.einsum("s,sini->n", weights, v)


@settings(max_examples=10)
@given(case=flow_cases(2))
def test_flow_obeys_liouville_2d(case):
    r"""Liouville's formula along the flow.

    With :math:`\dot X = v`, :math:`\dot\ell = -\nabla\cdot v`: :math:`\log q_t(X_t) = \log q_0(x_0) + \ell_t`.
    """
    truth, t, x0 = case
    n, d = x0.shape
    parts = Mixture.of(truth.data)
    eig_min = float(np.linalg.eigvalsh(parts.covs).min())

    def rhs(tau, y):
        x = y[: n * d].reshape(n, d)
        a, _, s2 = kernel_coefficients(truth.process, tau, d)
        delta = 1e-3 * np.sqrt(a * a * eig_min + s2)  # 1e-3 of the narrowest width of q_tau
        return np.concatenate([truth.velocity(x, tau).ravel(), -divergence(truth.velocity, x, tau, delta)])

    y = integrate(rhs, np.concatenate([x0.ravel(), np.zeros(n)]), 0.0, t)
    x_t, ell = y[: n * d].reshape(n, d), y[n * d :]
    q_t = parts.pushed(*kernel_coefficients(truth.process, t, d))
    # log q errs by |score| * 1e-7 (1 + |x|) from the positions (|score| <= ~50) and by the
    # divergence's relative error ~1e-12 times its integral; 1e-5 bounds both with room.
    np.testing.assert_allclose(q_t.logpdf(x_t), parts.logpdf(x0) + ell, rtol=0, atol=1e-5)
