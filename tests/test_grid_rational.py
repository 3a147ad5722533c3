"""Tests for fpcheck.grid._rational: the CRAM approximation of exp on (-inf, 0].

The coefficients are checked against exp itself (the documented uniform errors, re-measured on
the same grid that defined them), against each other (the IPF and PF tables come from two papers
and must describe the same rational function), and, where mpmath is available, in 40-digit
arithmetic, where the error of the exact r_16 is its equioscillation level r_inf = 2.12e-16.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck.errors import InputError
from fpcheck.grid._rational import (
    EXACT_ERROR,
    ORDER,
    PF_UNIFORM_ERROR,
    POSITIVE_MARGIN,
    UNIFORM_ERROR,
    cram_coefficients,
    cram_pf_coefficients,
    rational_exp_scalar,
    uniform_error,
)


def test_ipf_uniform_error_is_the_documented_one():
    err = uniform_error()
    assert err <= UNIFORM_ERROR
    # the constant is a measurement, not a loose bound: rounded up by at most 10 %
    assert err > UNIFORM_ERROR / 1.1


def test_pf_uniform_error_is_the_documented_one():
    assert uniform_error("pf") <= PF_UNIFORM_ERROR
    assert uniform_error("pf", 14) <= PF_UNIFORM_ERROR


def test_stiff_modes_are_damped_to_the_exact_error_level():
    # Far from 0 every step is close to 1 and no rounding builds up: the error is that of the
    # exact r_16, r_inf = 2.12e-16 (order 14: its own r_inf = 1.83e-14, which reaches every mode).
    x = -np.logspace(1, 8, 20_000)
    with np.errstate(under="ignore"):
        e16 = np.max(np.abs(rational_exp_scalar(x) - np.exp(x)))
        e14 = np.max(np.abs(rational_exp_scalar(x, "pf", 14) - np.exp(x)))
    assert e16 <= 1.01 * EXACT_ERROR
    assert e14 > 1.8e-14


def test_positive_margin_keeps_the_bound():
    x = np.linspace(0.0, POSITIVE_MARGIN, 100_001)
    assert np.max(np.abs(rational_exp_scalar(x) - np.exp(x))) <= UNIFORM_ERROR


def test_r_at_zero_is_one_to_the_error_bound_but_not_exactly():
    r0 = float(rational_exp_scalar(0.0))
    assert abs(r0 - 1.0) <= UNIFORM_ERROR
    assert abs(float(rational_exp_scalar(0.0, "pf")) - 1.0) <= PF_UNIFORM_ERROR


def test_r_inf_is_the_limit_and_the_exact_error_level():
    _, _, r_inf = cram_coefficients()
    _, _, r_inf_pf = cram_pf_coefficients()
    assert r_inf == pytest.approx(r_inf_pf, rel=1e-15)
    assert EXACT_ERROR == r_inf_pf
    with np.errstate(under="ignore"):
        assert float(rational_exp_scalar(-1e300)) == pytest.approx(r_inf, rel=1e-12)


@pytest.mark.parametrize("order", [14, 16])
def test_pf_poles_in_the_upper_half_plane(order):
    poles, residues, _ = cram_pf_coefficients(order)
    assert poles.shape == residues.shape == (order // 2,)
    assert np.all(poles.imag > 1.19)


def test_ipf_and_pf_tables_have_the_same_poles():
    ipf, _, _ = cram_coefficients()
    pf, _, _ = cram_pf_coefficients(ORDER)
    assert np.all(ipf.imag > 1.19)
    # every IPF pole matches one PF pole to the 16 digits OpenMC lists
    dist = np.abs(ipf[:, None] - pf[None, :])
    assert np.all(np.min(dist, axis=1) <= 1e-14 * np.abs(ipf))
    assert sorted(np.argmin(dist, axis=1)) == list(range(ORDER // 2))


def test_ipf_and_pf_forms_agree_in_double_precision():
    x = -np.concatenate([[0.0], np.logspace(-10, 6, 20_001)])
    with np.errstate(under="ignore"):
        diff = np.abs(rational_exp_scalar(x) - rational_exp_scalar(x, "pf"))
    assert np.max(diff) <= UNIFORM_ERROR + PF_UNIFORM_ERROR


def test_forms_in_40_digits_reach_the_equioscillation_level():
    mp = pytest.importorskip("mpmath")
    from fpcheck.grid._rational import _PUSA

    with mp.workdps(40):
        pf_poles, pf_res, pf_inf = _PUSA[ORDER]
        P = [mp.mpc(mp.mpf(a), mp.mpf(b)) for a, b in pf_poles]
        R = [mp.mpc(mp.mpf(a), mp.mpf(b)) for a, b in pf_res]

        def mpc(z):  # the exact binary value of a double
            return mp.mpc(mp.mpf(float(z.real)), mp.mpf(float(z.imag)))

        poles, coef, r_inf = cram_coefficients()
        Q = [mpc(z) for z in poles]
        C = [mpc(z) for z in coef]
        P2 = [mpc(z) for z in cram_pf_coefficients()[0]]
        R2 = [mpc(z) for z in cram_pf_coefficients()[1]]

        def r_pf(x, P, R):
            return mp.mpf(pf_inf) + 2 * mp.re(sum(c / (x - p) for c, p in zip(R, P)))

        def r_ipf(x):
            y = mp.mpf(1)
            for c, p in zip(C, Q):
                y = y + 2 * mp.re(c * y / (x - p))
            return mp.mpf(r_inf) * y

        xs = [mp.mpf(0)] + [-mp.mpf(10) ** k for k in np.linspace(-6, 6, 241)]
        e_pf = max(abs(r_pf(x, P, R) - mp.exp(x)) for x in xs)
        e_pf_double = max(abs(r_pf(x, P2, R2) - mp.exp(x)) for x in xs)
        e_ipf_double = max(abs(r_ipf(x) - mp.exp(x)) for x in xs)
        gap = max(abs(r_pf(x, P, R) - r_ipf(x)) for x in xs)
    # Pusa's 20 digits: the equioscillation level r_inf = 2.12e-16 (2.129e-16 measured);
    # the IPF doubles: 4.5e-16 and within 1.7e-16 (+ their rounding) of the PF function;
    # the PF doubles: 5.1e-15, their rounding amplified by residues up to 234.
    assert EXACT_ERROR <= float(e_pf) <= 1.01 * EXACT_ERROR
    assert float(e_ipf_double) <= 5e-16
    assert float(gap) <= 3e-16
    assert float(e_pf_double) <= 6e-15


def test_coefficients_are_fresh_arrays():
    poles, coef, _ = cram_coefficients()
    poles[:] = 0
    coef[:] = 0
    assert np.all(cram_coefficients()[0] != 0)
    pf_poles, _, _ = cram_pf_coefficients()
    pf_poles[:] = 0
    assert np.all(cram_pf_coefficients()[0] != 0)


def test_bad_arguments():
    with pytest.raises(InputError, match="order"):
        cram_pf_coefficients(12)
    with pytest.raises(InputError, match="form"):
        rational_exp_scalar(-1.0, form="cf")
    with pytest.raises(InputError, match="IPF"):
        rational_exp_scalar(-1.0, order=14)


def test_scalar_evaluation_is_elementwise():
    x = -np.array([[0.0, 0.5], [3.0, 40.0]])
    out = rational_exp_scalar(x)
    assert out.shape == x.shape
    assert np.allclose(out, np.exp(x), rtol=0, atol=UNIFORM_ERROR)
