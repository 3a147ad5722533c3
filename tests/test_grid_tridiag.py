"""Tests for fpcheck.grid._tridiag: exp(tau A) v for symmetric negative semi-definite tridiagonal A.

Tolerances come from the error model in the module notes, measured against 40-digit
eigendecompositions: the kernel is within ``8.4u`` of exp(tau A) v (relative to ||v||) for moderate
tau ||A|| and within ``0.07 u tau ||A||`` for stiff ones (u = 2^-53).  ``_bound`` allows about
twice that; comparisons of two approximate results add their bounds.  Independent truths: the
discrete cosine transform (the eigenbasis of the Neumann Laplacian), ``scipy.linalg.expm``, and
LAPACK's partially pivoted banded solver for the kernels themselves.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.fft import dct, idct
from scipy.linalg import eigvalsh_tridiagonal, expm

from fpcheck.errors import InputError
from fpcheck.grid._rational import UNIFORM_ERROR, cram_coefficients
from fpcheck.grid._tridiag import (
    MAX_ABS_V,
    count_eigenvalues_above,
    count_eigenvalues_above_reference,
    expm_tridiag,
    expm_tridiag_lines,
    expm_tridiag_lines_parallel,
    expm_tridiag_reference,
    solve_shifted_lines,
    solve_shifted_reference,
)

U = 2.0**-53


def _bound(tau, scale):
    """Kernel error relative to ||v||: 16u + 0.15 u tau ||A|| (measured: 8.4u and 0.07 u tau ||A||)."""
    return 16 * U + 0.15 * U * tau * scale


def _scale(d, e):
    return float(np.max(np.abs(d)) + 2 * (np.max(np.abs(e)) if len(e) else 0.0))


def laplacian(n, w=1.0):
    """-(weighted graph Laplacian of a path): Neumann, null vector ones, eigenvalues in [-4 max w, 0]."""
    w = np.broadcast_to(np.asarray(w, dtype=float), (n - 1,)).copy()
    d = np.zeros(n)
    d[:-1] -= w
    d[1:] -= w
    return d, w


def fokker_planck(rng, n, scale, decades=2.0):
    """A symmetrised master-equation operator: rates k+ (i -> i+1), k- (i+1 -> i) over ``decades``.

    S = Pi^{-1/2} L Pi^{1/2} has diagonal -(outflow) and off-diagonal sqrt(k+ k-); its null
    vector is sqrt(pi) with pi_{i+1} / pi_i = k+_i / k-_i.
    """
    kp = scale * 10.0 ** rng.uniform(-decades, 0, n - 1)
    km = scale * 10.0 ** rng.uniform(-decades, 0, n - 1)
    d = np.zeros(n)
    d[:-1] -= kp
    d[1:] -= km
    log_pi = np.concatenate([[0.0], np.cumsum(np.log(kp / km))])
    root_pi = np.exp(0.5 * (log_pi - log_pi.max()))
    return d, np.sqrt(kp * km), root_pi / np.linalg.norm(root_pi)


def random_nsd(rng, n, scale):
    """A random symmetric tridiagonal matrix shifted to be negative semi-definite, with norm ~ scale."""
    d = rng.standard_normal(n)
    e = rng.standard_normal(n - 1)
    d -= eigvalsh_tridiagonal(d, e).max() * (1 + 1e-12) + 1e-12
    s = scale / _scale(d, e)
    return d * s, e * s


def dense(d, e):
    return np.diag(d) + np.diag(e, 1) + np.diag(e, -1)


def tridiag_matvec(d, e, tau, z, y):
    """(tau A - z I) y along the last axis."""
    out = (tau * d - z) * y
    out[..., :-1] += tau * e * y[..., 1:]
    out[..., 1:] += tau * e * y[..., :-1]
    return out


def rel_err(x, ref, v):
    """max over lines of ||x - ref|| / ||v||."""
    return float(np.max(np.linalg.norm(x - ref, axis=-1) / np.linalg.norm(v, axis=-1)))


def expm_dct(w, n, tau, v):
    """exp(tau w L) v for the Neumann Laplacian, exactly: DCT-II diagonalises it."""
    lam = -2.0 * w * (1.0 - np.cos(np.pi * np.arange(n) / n))
    with np.errstate(under="ignore"):
        return idct(np.exp(tau * lam) * dct(v, norm="ortho"), norm="ortho")


@pytest.fixture(scope="module")
def coefficients():
    return cram_coefficients()


# ---------------------------------------------------------------------------------------------
# Kernels against their references
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e6])
@pytest.mark.parametrize("j", range(8))
def test_shifted_solve_is_backward_stable_and_matches_lapack(rng, coefficients, scale, j):
    z = complex(coefficients[0][j])
    d, e, _ = fokker_planck(rng, 150, 1.0, decades=3.0)
    s = scale / _scale(d, e)
    rhs = rng.standard_normal((3, 150)) + 1j * rng.standard_normal((3, 150))
    y = solve_shifted_lines(d, e, s, z, rhs)
    y_ref = solve_shifted_reference(d, e, s, z, rhs)
    norm_m = scale + abs(z)
    # backward error: the residual is that of a few roundings of M's entries
    resid = np.linalg.norm(tridiag_matvec(d, e, s, z, y) - rhs, axis=1)
    assert np.all(resid <= 8 * U * norm_m * np.linalg.norm(y, axis=1))
    # forward error: within the condition number kappa = ||M|| ||M^-1|| <= ||M|| / Im z of LAPACK's
    kappa = norm_m / z.imag
    assert rel_err(y, y_ref, y_ref) <= 8 * U * kappa


def test_shifted_solve_of_a_generic_shift(rng):
    d, e = random_nsd(rng, 60, 3.0)
    z = -0.5 + 0.25j
    rhs = rng.standard_normal((2, 60)).astype(complex)
    y = solve_shifted_lines(d, e, 2.0, z, rhs)
    assert np.allclose(tridiag_matvec(d, e, 2.0, z, y), rhs, rtol=0, atol=1e-13)


def test_count_eigenvalues_matches_eigvalsh(rng):
    for n in (1, 2, 7, 120):
        d, e = rng.standard_normal(n), rng.standard_normal(n - 1)
        lam = np.sort(eigvalsh_tridiagonal(d, e) if n > 1 else d)
        cuts = np.concatenate([[lam[0] - 1], (lam[1:] + lam[:-1]) / 2, [lam[-1] + 1]])
        for sigma in cuts:
            assert count_eigenvalues_above(d, e, sigma) == count_eigenvalues_above_reference(d, e, sigma)


def test_count_eigenvalues_of_a_singular_laplacian():
    d, e = laplacian(200, 3.0)
    assert count_eigenvalues_above(d, e, 1e-12) == 0
    assert count_eigenvalues_above(d, e, -1e-12) == 1  # the null vector
    assert count_eigenvalues_above(-d, -e, 1e-12) == 199


@pytest.mark.parametrize("tau_norm", [1e-2, 1.0, 1e2, 1e4, 1e6])
@pytest.mark.parametrize("kind", ["laplacian", "fokker_planck", "random"])
def test_kernel_matches_pivoted_reference(rng, coefficients, kind, tau_norm):
    n = 90
    if kind == "laplacian":
        d, e = laplacian(n, 10.0 ** rng.uniform(-3, 0, n - 1))
    elif kind == "fokker_planck":
        d, e, _ = fokker_planck(rng, n, 1.0, decades=3.0)
    else:
        d, e = random_nsd(rng, n, 1.0)
    tau = tau_norm / _scale(d, e)
    v = rng.standard_normal((11, n))
    out = expm_tridiag_lines(d, e, tau, v, *coefficients)
    ref = expm_tridiag_reference(d, e, tau, v)
    assert rel_err(out, ref, v) <= 2 * _bound(tau, _scale(d, e))


# ---------------------------------------------------------------------------------------------
# expm_tridiag against exact and independent results
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("w", [1.0, 2.5e4])
@pytest.mark.parametrize("tau", [0.0, 1e-3, 1.0, 10.0])
def test_neumann_laplacian_against_its_cosine_eigenbasis(rng, w, tau):
    n = 257
    d, e = laplacian(n, w)
    v = rng.standard_normal((4, n))
    exact = expm_dct(w, n, tau, v)
    out = expm_tridiag(d, e, tau, v)
    # the DCT truth carries ~ u log n, and exp(tau lambda) ~ u |tau lambda| e^{tau lambda} <= u / e
    assert rel_err(out, exact, v) <= _bound(tau, 4 * w) + 8 * U


@pytest.mark.parametrize(
    ("kind", "n", "tau"),
    [
        ("laplacian", 64, 0.01),
        ("laplacian", 64, 1.0),
        ("laplacian", 64, 10.0),
        ("random", 40, 0.5),
        ("random", 120, 2.0),
        ("random", 200, 7.0),
        ("norm1e5", 100, 1e-3),
        ("norm1e5", 100, 0.1),
        ("norm1e5", 100, 10.0),
    ],
)
def test_against_scipy_expm(rng, kind, n, tau):
    if kind == "laplacian":
        d, e = laplacian(n)
    elif kind == "random":
        d, e = random_nsd(rng, n, 5.0)
    else:
        d, e, _ = fokker_planck(rng, n, 2.5e4, decades=2.0)
    scale = _scale(d, e)
    v = rng.standard_normal((3, n))
    out = expm_tridiag(d, e, tau, v)
    ref = v @ expm(tau * dense(d, e)).T
    # expm's own error is of the same kind (measured up to 30u and 0.1 u tau ||A||): add both
    tol = _bound(tau, scale) + 32 * U + 0.15 * U * tau * scale
    assert rel_err(out, ref, v) <= tol
    if tau * scale <= 100:
        assert rel_err(out, ref, v) <= 1e-14


@pytest.mark.parametrize(("s", "t"), [(0.3, 0.7), (1e-3, 5.0), (2.0, 2.0)])
def test_semigroup(rng, s, t):
    d, e, _ = fokker_planck(rng, 80, 50.0, decades=2.0)
    v = rng.standard_normal((2, 80))
    once = expm_tridiag(d, e, s + t, v)
    twice = expm_tridiag(d, e, s, expm_tridiag(d, e, t, v))
    scale = _scale(d, e)
    assert rel_err(once, twice, v) <= _bound(s + t, scale) + _bound(s, scale) + _bound(t, scale)


@pytest.mark.parametrize("tau_norm", [1.0, 1e3, 1e6])
def test_equilibrium_is_preserved(rng, tau_norm):
    # S sqrt(pi) = 0: the symmetrised operator keeps its equilibrium, e^{tau S} sqrt(pi) = sqrt(pi)
    d, e, root_pi = fokker_planck(rng, 120, 1.0, decades=2.0)
    tau = tau_norm / _scale(d, e)
    out = expm_tridiag(d, e, tau, root_pi)
    # root_pi is a null vector of the exact S only to rounding: |S root_pi| ~ u ||S||
    assert np.linalg.norm(out - root_pi) <= _bound(tau, _scale(d, e)) + 8 * U * tau_norm


def test_one_by_one_matrix_is_a_scalar_exponential(rng):
    v = rng.standard_normal((5, 1))
    for d0 in (0.0, -0.3, -40.0):
        out = expm_tridiag(np.array([d0]), np.array([]), 2.0, v)
        assert np.allclose(out, np.exp(2.0 * d0) * v, rtol=0, atol=UNIFORM_ERROR * np.abs(v).max())


def test_tau_zero_returns_r0_times_v(rng):
    d, e = random_nsd(rng, 30, 1e3)
    v = rng.standard_normal((3, 30))
    out = expm_tridiag(d, e, 0.0, v)
    assert out is not v
    # r(0) = 1 + 4.4e-16 in double precision: v to the approximation's error, not exactly
    assert np.all(np.abs(out - v) <= UNIFORM_ERROR * np.abs(v))


# ---------------------------------------------------------------------------------------------
# Shapes and axes
# ---------------------------------------------------------------------------------------------


def _per_line_reference(d, e, tau, v, axis):
    moved = np.moveaxis(v, axis, -1)
    out = np.empty_like(moved)
    for idx in np.ndindex(*moved.shape[:-1]):
        out[idx] = expm_tridiag_reference(d, e, tau, moved[idx])
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize(("shape", "axis"), [((12,), 0), ((12, 7), 0), ((7, 12), 1), ((7, 12), -1),
                                             ((12, 5, 3), 0), ((5, 12, 3), 1), ((5, 3, 12), 2), ((5, 12, 3), -2)])
def test_axis_handling(rng, shape, axis):
    n = 12
    d, e, _ = fokker_planck(rng, n, 3.0)
    v = rng.standard_normal(shape)
    out = expm_tridiag(d, e, 0.7, v, axis=axis)
    assert out.shape == v.shape and out.flags.c_contiguous and out.dtype == np.float64
    ref = _per_line_reference(d, e, 0.7, v, axis)
    moved_out, moved_ref, moved_v = (np.moveaxis(a, axis, -1).reshape(-1, n) for a in (out, ref, v))
    assert rel_err(moved_out, moved_ref, moved_v) <= 2 * _bound(0.7, _scale(d, e))
    # the same lines give the same bits, whatever axis they came from
    last = expm_tridiag(d, e, 0.7, np.ascontiguousarray(np.moveaxis(v, axis, -1)))
    assert np.array_equal(np.moveaxis(out, axis, -1), last)


def test_empty_and_converted_inputs(rng):
    d, e = laplacian(6)
    assert expm_tridiag(d, e, 1.0, np.zeros((0, 6))).shape == (0, 6)
    assert expm_tridiag(d, e, 1.0, np.zeros((3, 0, 6)), axis=-1).shape == (3, 0, 6)
    v = rng.standard_normal(6)
    from_list = expm_tridiag(list(d), list(e), 1, list(v))
    from_f32 = expm_tridiag(d, e, 1.0, v.astype(np.float32))
    assert np.array_equal(from_list, expm_tridiag(d, e, 1.0, v))
    assert from_f32.dtype == np.float64
    before = v.copy()
    expm_tridiag(d, e, 1.0, v)
    assert np.array_equal(v, before)


# ---------------------------------------------------------------------------------------------
# Determinism: blocks of lines, threads
# ---------------------------------------------------------------------------------------------


def test_lines_do_not_depend_on_their_block_or_thread(rng, coefficients):
    d, e, _ = fokker_planck(rng, 40, 10.0)
    v = rng.standard_normal((13, 40))  # one full block of 8 and a tail of 5
    together = expm_tridiag_lines(d, e, 0.9, v, *coefficients)
    for i in range(13):
        alone = expm_tridiag_lines(d, e, 0.9, v[i : i + 1].copy(), *coefficients)
        assert np.array_equal(alone[0], together[i])
    assert np.array_equal(expm_tridiag_lines_parallel(d, e, 0.9, v, *coefficients), together)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = expm_tridiag_lines_parallel(d, e, 0.9, v, *coefficients)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one, together)
    assert np.array_equal(expm_tridiag(d, e, 0.9, v, parallel=True), together)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"d": np.zeros((2, 2))}, "d must have 1 dimension"),
        ({"d": np.zeros(0), "e": np.zeros(0), "v": np.zeros(0)}, "at least one entry"),
        ({"e": np.zeros(5)}, "len\\(d\\) - 1"),
        ({"d": np.array([-1.0, np.inf, -1.0, -1.0])}, "NaN or inf"),
        ({"e": np.array([1.0, np.nan, 1.0])}, "NaN or inf"),
        ({"v": np.array([1.0, np.nan, 0.0, 0.0])}, "NaN or inf"),
        ({"v": np.ones(4) * 1j}, "must be real"),
        ({"v": np.float64(1.0)}, "at least one dimension"),
        ({"v": np.ones(5)}, "must match"),
        ({"v": np.ones((4, 3)), "axis": -1}, "must match"),
        ({"v": np.ones((4, 3)), "axis": 2}, "out of range"),
        ({"axis": 0.5}, "axis must be an integer"),
        ({"tau": -1.0}, "tau must be >= 0"),
        ({"tau": np.nan}, "NaN or inf"),
        ({"tau": 1e60}, "exceeds"),
        ({"v": np.full(4, 10 * MAX_ABS_V)}, "rescale v"),
        ({"d": np.array([1.0, 2.0, 2.0, 1.0])}, "negative semi-definite"),
    ],
)
def test_bad_input(kwargs, match):
    d, e = laplacian(4)
    args = {"d": d, "e": e, "tau": 1.0, "v": np.ones(4), "axis": -1} | kwargs
    with pytest.raises(InputError, match=match):
        expm_tridiag(args["d"], args["e"], args["tau"], args["v"], axis=args["axis"])


def test_positive_eigenvalues_below_the_margin_are_accepted():
    # A = L + 1e-3 I: tau * lambda_max = 1e-3 <= 1e-2, where r still matches exp
    d, e = laplacian(50)
    v = np.linspace(-1, 1, 50)
    out = expm_tridiag(d + 1e-3, e, 1.0, v)
    assert np.allclose(out, np.exp(1e-3) * expm_tridiag(d, e, 1.0, v), rtol=0, atol=1e-14)
    with pytest.raises(InputError, match="sign flipped"):
        expm_tridiag(d + 1e-3, e, 100.0, v)


# ---------------------------------------------------------------------------------------------
# Property
# ---------------------------------------------------------------------------------------------


@given(
    n=st.integers(1, 48),
    log_w=st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False),
    spread=st.floats(0.0, 3.0, allow_nan=False, allow_infinity=False),
    log_tau_norm=st.floats(-3.0, 4.0, allow_nan=False, allow_infinity=False),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_kernel_matches_reference_and_conserves_mass(n, log_w, spread, log_tau_norm, seed):
    rng = np.random.default_rng(seed)
    d, e = laplacian(n, 10.0 ** (log_w - spread * rng.uniform(0, 1, max(n - 1, 0))))
    scale = _scale(d, e) or 1.0
    tau = 10.0**log_tau_norm / scale
    v = rng.standard_normal((3, n))
    out = expm_tridiag(d, e, tau, v)
    ref = expm_tridiag_reference(d, e, tau, v)
    assert rel_err(out, ref, v) <= 2 * _bound(tau, scale)
    # A 1 = 0 and A symmetric: the sum of each line is conserved
    mass_err = np.abs(out.sum(axis=1) - v.sum(axis=1)) / (np.sqrt(n) * np.linalg.norm(v, axis=1))
    assert np.all(mass_err <= _bound(tau, scale) + 8 * U * tau * scale)
