"""The fitted finite-volume operator: conservation, exact Boltzmann stationarity, symmetry, order."""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck.errors import InputError
from fpcheck.grid.operators import bernoulli, fitted_operator


def _cells(lo, hi, n):
    h = (hi - lo) / n
    return lo + h * (np.arange(n) + 0.5), h


def test_bernoulli_matches_its_definition_and_series():
    # B(z) = z / (e^z - 1): direct formula where it has no cancellation (|z| > 1e-2, relative
    # error ~ eps / |z| < 1e-13), the Taylor series 1 - z/2 + z^2/12 - z^4/720 near zero.
    z = np.array([-700.0, -30.0, -1.0, -1e-2, 1e-2, 1.0, 30.0, 700.0])
    assert np.allclose(bernoulli(z), z / np.expm1(z), rtol=1e-13, atol=0)
    small = np.array([-1e-5, -1e-8, 0.0, 1e-8, 1e-5])
    assert np.allclose(bernoulli(small), 1 - small / 2 + small**2 / 12 - small**4 / 720, rtol=1e-15, atol=0)
    assert bernoulli(-z).min() > 0 and np.all(np.isfinite(bernoulli(np.array([-1e4, 1e4]))))


@pytest.mark.parametrize("drift_scale", [0.0, 0.5, 40.0])
def test_columns_sum_to_zero_and_off_diagonals_are_positive(drift_scale):
    x, h = _cells(-4, 4, 64)
    op = fitted_operator(-drift_scale * 0.5 * (x[1:] + x[:-1]), 0.3, h)
    L = op.dense()
    # mass conservation: 1^T L = 0 to round-off of the largest entry
    assert np.abs(L.sum(axis=0)).max() <= 1e-13 * np.abs(L).max()
    assert op.lower.min() > 0 and op.upper.min() > 0  # an M-matrix: exp(tL) keeps q >= 0


def test_discrete_boltzmann_density_is_stationary_exactly():
    # For the face drift -(U_{i+1} - U_i)/h the flux between equilibrium cells vanishes identically,
    # so L pi = 0 to round-off (relative to |L| pi), for a double well at low temperature.
    x, h = _cells(-3, 3, 300)
    U = (x * x - 1.0) ** 2
    kT = 0.1
    op = fitted_operator(-np.diff(U) / h, kT, h)
    pi = np.exp(op.log_pi)
    boltzmann = np.exp(-(U - U.min()) / kT)
    assert np.allclose(pi / pi.max(), boltzmann / boltzmann.max(), rtol=1e-11, atol=1e-300)
    assert np.isclose(pi.sum() * h, 1.0, rtol=1e-14)
    residual = np.abs(op.matvec(pi))
    assert residual.max() <= 1e-12 * (np.abs(op.dense()) @ pi).max()


def test_symmetrisation_by_the_equilibrium():
    x, h = _cells(-6, 6, 80)
    op = fitted_operator(-0.5 * 0.5 * (x[1:] + x[:-1]), 0.5, h)
    half = np.exp(0.5 * op.log_pi)
    S = op.dense() * half[None, :] / half[:, None]
    assert np.allclose(S, S.T, rtol=0, atol=1e-12 * np.abs(S).max())
    assert np.allclose(np.diag(S, 1), op.sym_offdiag, rtol=1e-12, atol=0)
    assert np.linalg.eigvalsh(S).max() <= 1e-10 * np.abs(S).max()  # negative semi-definite


def test_second_order_against_the_continuous_operator():
    # L applied to the cell averages of a smooth density approximates the cell averages of
    # -(f q)' + D q'' at second order; measure the order between h and h/2 in the interior.
    D, lam = 0.7, 1.3
    q = lambda x: np.exp(-x * x)
    rhs = lambda x: lam * (q(x) + x * (-2 * x) * q(x)) + D * (4 * x * x - 2) * q(x)  # -(f q)' + D q''
    errs = []
    for n in (100, 200):
        x, h = _cells(-6, 6, n)
        op = fitted_operator(-lam * 0.5 * (x[1:] + x[:-1]), D, h)
        gl, gw = np.polynomial.legendre.leggauss(8)  # cell averages by 8-point Gauss-Legendre
        avg = lambda f: (f(x[:, None] + 0.5 * h * gl) * gw).sum(axis=1) / 2
        errs.append(np.abs(op.matvec(avg(q)) - avg(rhs))[5:-5].max())
    order = np.log2(errs[0] / errs[1])
    assert 1.9 <= order <= 2.2


def test_bad_arguments():
    with pytest.raises(InputError, match="diffusion"):
        fitted_operator(np.zeros(3), 0.0, 0.1)
    with pytest.raises(InputError, match="two cells"):
        fitted_operator(np.zeros(0), 1.0, 0.1)
    with pytest.raises(InputError, match="NaN"):
        fitted_operator(np.array([0.0, np.nan]), 1.0, 0.1)
