r"""Feature bases of fpcheck.learned: derivatives, compiled kernel, orthogonal polynomials, checks.

Derivatives are held to 4th-order central differences (``_unit_helpers``), per feature column
``j`` against that column's size ``S_j = max_r |psi_j| + max_r |D psi_j|`` (``D`` the derivative
under test), since every error term scales with the feature:

* first derivatives (gradient, d/dt), stencil (1, -8, 0, 8, -1)/12h, ``h = 1e-3``: truncation
  ``h^4 |psi^(5)| / 30``, rounding ``1.5 eps max|psi| / h`` (3e-13 S).  The bumps here have
  widths ``w sigma >= 0.42``, so ``|psi^(5)| <= 7 / 0.42^5 S ~ 5e2 S``; the time polynomials have
  degree <= 5 and ``du/dt <= 4/3``, so ``|d^5 T_5 / dt^5| = 1920 (4/3)^5 ~ 8e3`` against
  ``S >= |dT_5/dt| ~ 33``, ``~ 2.5e2 S``.  The truncation is below 1e-11 S (observed: at most
  2e-11 S), and ``TOL1 = 1e-8 S`` leaves a factor of several hundred, while any wrong factor or
  sign in a formula misses it by orders of magnitude.
* Laplacians, stencil (-1, 16, -30, 16, -1)/12h^2 per axis, ``h = 5e-3``: truncation
  ``h^4 |psi^(6)| / 90`` (``|psi^(6)| <= 15 / 0.42^6 S ~ 3e3 S``: 2e-8 S), rounding
  ``(64/12) eps max|psi| / h^2`` (5e-11 S): ``TOL2 = 1e-6 S`` (observed: at most 1e-9 S).

The compiled kernel and the NumPy references compute the same formulas in a different order
(the kernel's polynomials by a differentiated recurrence, the references' by ``T_k' = k U_{k-1}``
and ``P'_{k+1} = P'_{k-1} + (2k+1) P_k``), so they agree to round-off: ``1e-13`` relative to each
column's largest entry (about 450 ulps).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from _unit_helpers import central_diff, second_diff

from fpcheck import problems
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError
from fpcheck.learned import bases
from fpcheck.learned.bases import (
    OUTPUTS,
    RBF,
    Chebyshev,
    Concat,
    Legendre,
    Polynomial,
    ScaledRBF,
    Tensor,
)
from fpcheck.learned.pilot import MixtureLogDensity, MixtureScore

H1, TOL1 = 1e-3, 1e-8
H2, TOL2 = 5e-3, 1e-6
KERNEL_RTOL = 1e-13
T_RANGE = (0.0, 1.5)
VP = problems.process("vp-linear")
VP_RANGE = (0.01, 0.6)


def _sigma(t):
    return np.sqrt(0.5 + t)


def _dsigma(t):
    return 0.5 / np.sqrt(0.5 + t)


def _centres(rng, m, d):
    return rng.uniform(-1.0, 1.0, size=(m, d))


def _make(name: str, d: int, rng) -> bases.Basis:
    """The bases under test, in ``d`` dimensions, with widths >= 0.6 (times sigma >= 0.7)."""
    if name == "rbf":
        return RBF(_centres(rng, 4, d), rng.uniform(0.6, 1.0, 4))
    if name == "scaled_rbf":
        return ScaledRBF(_centres(rng, 4, d), rng.uniform(0.6, 1.0, 4), _sigma, _dsigma, T_RANGE)
    if name == "polynomial":
        return Polynomial(d, 4, centre=0.1, scale=1.3)
    if name == "polynomial_constant":
        return Polynomial(d, 2, constant=True)
    if name == "chebyshev":
        return Chebyshev(5, T_RANGE)
    if name == "legendre":
        return Legendre(5, (0.0, 2.0))
    if name == "tensor_rbf_chebyshev":
        return Tensor(RBF(_centres(rng, 3, d), 0.7), Chebyshev(3, T_RANGE))
    if name == "tensor_scaled_legendre":
        return Tensor(ScaledRBF(_centres(rng, 3, d), 0.8, _sigma, _dsigma), Legendre(3, T_RANGE))
    if name == "tensor_spread_warped":  # the process-driven widths and the warped time of a VP process
        return Tensor(
            ScaledRBF(_centres(rng, 3, d), 0.8, *bases.spread(VP, 0.4), VP_RANGE),
            Chebyshev(4, VP_RANGE, warp=bases.signal_fraction(VP)),
        )
    if name == "tensor_spread_warped_inverse_spread":  # the kernel's inverse spreads as time functions (the default 1D basis)
        return Tensor(
            ScaledRBF(_centres(rng, 3, d), 0.8, *bases.spread(VP, 0.4), VP_RANGE),
            Concat(Chebyshev(2, VP_RANGE, warp=bases.signal_fraction(VP)), bases.InverseSpread(VP, [0.3, 0.7], VP_RANGE)),
        )
    if name.startswith("tensor_mixture_"):  # the pilot's diffused log-density (default bases), or its score, rotated covariances
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        covs = np.stack([q @ np.diag(rng.uniform(0.2, 0.4, d)) @ q.T for _ in range(2)])
        mix = GaussianMixture([0.4, 0.6], _centres(rng, 2, d), covs)
        feature = MixtureScore if name == "tensor_mixture_score_warped" else MixtureLogDensity
        return Tensor(feature(VP, mix, VP_RANGE), Chebyshev(3, VP_RANGE, warp=bases.signal_fraction(VP)))
    if name == "centred":  # minus functions of t alone: the time derivatives change, the x-derivatives do not
        inner = Tensor(ScaledRBF(_centres(rng, 3, d), 0.8, _sigma, _dsigma, T_RANGE), Chebyshev(2, T_RANGE))
        return bases.Centred(inner, Legendre(3, T_RANGE), rng.standard_normal((4, inner.size)))
    if name == "tensor_polynomial_rbf":  # both factors depend on x: the cross term of the Laplacian
        return Tensor(Polynomial(d, 2), RBF(_centres(rng, 2, d), 0.9))
    if name == "concat":
        tensor = Tensor(RBF(_centres(rng, 2, d), 0.9), Legendre(2, T_RANGE))
        return Concat(RBF(_centres(rng, 2, d), 0.8), Polynomial(d, 2), tensor)
    raise AssertionError(name)


ALL_BASES = [
    "rbf",
    "scaled_rbf",
    "polynomial",
    "polynomial_constant",
    "chebyshev",
    "legendre",
    "tensor_rbf_chebyshev",
    "tensor_scaled_legendre",
    "tensor_spread_warped",
    "tensor_spread_warped_inverse_spread",
    "tensor_mixture_log_density_warped",
    "tensor_mixture_score_warped",
    "centred",
    "tensor_polynomial_rbf",
    "concat",
]


def _sample(basis, d, n, rng, margin=0.0):
    x = rng.uniform(-1.2, 1.2, size=(n, d))
    lo, hi = basis.t_range if basis.depends_on_t else T_RANGE
    t = rng.uniform(lo + margin, hi - margin, size=n)
    return x, t


def _assert_columns_close(actual, desired, values, tol, what):
    """``|actual - desired| <= tol * S_j`` with ``S_j = max|values_j| + max|desired_j|`` per feature column."""
    n, J = values.shape
    scale = np.abs(values).max(axis=0) + np.abs(desired).reshape(n, J, -1).max(axis=(0, 2))
    scale = scale.reshape((1, J) + (1,) * (desired.ndim - 2))
    err = np.abs(actual - desired) / scale
    assert np.all(np.isfinite(actual))
    worst = np.unravel_index(err.argmax(), err.shape)
    assert err.max() <= tol, f"{what}: worst scaled error {err.max():.3g} > {tol:g} at {worst}"


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("name", ALL_BASES)
def test_derivatives_match_finite_differences(name, d):
    rng = np.random.default_rng(100 * d + ALL_BASES.index(name))
    basis = _make(name, d, rng)
    x, t = _sample(basis, d, 25, rng, margin=3 * H1)
    f = basis.evaluate(x, t)
    assert f.values.shape == (25, basis.size)
    assert f.gradients.shape == (25, basis.size, d)

    def along(e, s):
        step = np.zeros(d)
        step[e] = 1.0
        return basis.values(x + s * step, t)

    fd_grad = np.stack([central_diff(lambda s, e=e: along(e, s), 0.0, H1) for e in range(d)], axis=2)
    _assert_columns_close(f.gradients, fd_grad, f.values, TOL1, f"{name} gradients")
    fd_lap = sum(second_diff(lambda s, e=e: along(e, s), 0.0, H2) for e in range(d))
    _assert_columns_close(f.laplacians, fd_lap, f.values, TOL2, f"{name} laplacians")
    # a warp by a_t^2 of vp-linear (or its kernel's inverse spread) changes at up to du/dt ~ 5 (beta_t up to 12): its 5th t-derivative
    # is ~ 5^5 / (4/3)^5 = 7e2 times the polynomials' above, so the step is cut 4x (truncation / 256,
    # rounding x 4: still 1e-12 S)
    h_t = H1 / 4 if "warped" in name else H1
    fd_dt = central_diff(lambda s: basis.values(x, t + s), 0.0, h_t)
    _assert_columns_close(f.time_derivatives, fd_dt, f.values, TOL1, f"{name} time derivatives")
    # the zero derivatives are exact zeros
    if not basis.depends_on_x:
        assert not np.any(f.gradients) and not np.any(f.laplacians)
    if not basis.depends_on_t:
        assert not np.any(f.time_derivatives)


KERNEL_BASES = {
    "rbf": lambda d, rng: RBF(_centres(rng, 5, d), rng.uniform(0.3, 1.0, 5)),
    "scaled_rbf": lambda d, rng: ScaledRBF(_centres(rng, 5, d), rng.uniform(0.3, 1.0, 5), _sigma, _dsigma, T_RANGE),
    "rbf_x_chebyshev": lambda d, rng: Tensor(RBF(_centres(rng, 4, d), 0.5), Chebyshev(6, T_RANGE)),
    "rbf_x_legendre": lambda d, rng: Tensor(RBF(_centres(rng, 4, d), rng.uniform(0.3, 1.0, 4)), Legendre(6, T_RANGE)),
    "scaled_rbf_x_chebyshev": lambda d, rng: Tensor(
        ScaledRBF(_centres(rng, 4, d), 0.6, _sigma, _dsigma, T_RANGE), Chebyshev(4, T_RANGE)
    ),
    "spread_x_warped_legendre": lambda d, rng: Tensor(
        ScaledRBF(_centres(rng, 4, d), 0.6, *bases.spread(VP, 0.3), VP_RANGE), Legendre(5, VP_RANGE, warp=bases.signal_fraction(VP))
    ),
    "rbf_x_chebyshev0": lambda d, rng: Tensor(RBF(_centres(rng, 3, d), 0.5), Chebyshev(0, T_RANGE)),
}


@pytest.mark.parametrize("threads", ["serial", "parallel"])
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(KERNEL_BASES))
def test_kernel_matches_numpy_reference(name, d, threads, monkeypatch):
    monkeypatch.setattr(bases, "SERIAL_BELOW", 1 << 60 if threads == "serial" else 0)
    rng = np.random.default_rng(7 + d)
    basis = KERNEL_BASES[name](d, rng)
    # 300 points (several parallel blocks, one partial): most among the centres, 40 moved 3-15 times
    # further out, tens of widths from every centre (where some features underflow to 0)
    x, t = _sample(basis, d, 300, rng)
    x[:40] *= rng.uniform(3.0, 15.0, size=(40, 1))
    t[:2] = basis.t_range if basis.depends_on_t else T_RANGE  # the ends of the time range, where |T_k'| is largest
    got, ref = basis.evaluate(x, t), basis.reference(x, t)
    for what, a, b in zip(OUTPUTS, got, ref):
        assert a.shape == b.shape
        cols = np.abs(b).reshape(b.shape[0], b.shape[1], -1).max(axis=(0, 2))
        atol = KERNEL_RTOL * cols.reshape((1, -1) + (1,) * (b.ndim - 2))
        bound = KERNEL_RTOL * np.abs(b) + atol  # zero only where the whole column is zero
        assert np.all(np.abs(a - b) <= bound), (what, np.max(np.abs(a - b) - bound))
    # asking for one output gives bitwise what the full pass gives
    for what, full in zip(OUTPUTS, got):
        np.testing.assert_array_equal(getattr(basis, what)(x, t), full)


def test_rbf_closed_forms():
    c = np.array([[0.5, -1.0, 2.0]])
    basis = RBF(c, 0.4)
    f = basis.evaluate(c, 0.3)
    assert f.values[0, 0] == 1.0
    assert not np.any(f.gradients)
    np.testing.assert_allclose(f.laplacians, [[-3 / 0.16]], rtol=1e-15)
    # one width away along an axis: exp(-1/2), gradient -(1/w) exp(-1/2)
    x = c + [[0.4, 0.0, 0.0]]
    f = basis.evaluate(x)
    np.testing.assert_allclose(f.values, [[math.exp(-0.5)]], rtol=1e-15)
    np.testing.assert_allclose(f.gradients[0, 0], [-math.exp(-0.5) / 0.4, 0.0, 0.0], rtol=1e-15, atol=1e-300)
    # ScaledRBF with sigma = 1 is the RBF, constant in time
    one = ScaledRBF(c, 0.4, lambda t: np.ones_like(t), lambda t: 0.0)
    x = np.random.default_rng(3).normal(size=(20, 3))
    g, r = one.evaluate(x, 0.7), basis.evaluate(x)
    for what in ("values", "gradients", "laplacians"):
        np.testing.assert_allclose(getattr(g, what), getattr(r, what), rtol=1e-14, atol=1e-300)
    assert not np.any(g.time_derivatives)


def test_time_polynomials_match_numpy_polynomial():
    lo, hi = 0.25, 1.75
    t = np.concatenate([[lo, hi], np.linspace(lo, hi, 101)])
    C, L = np.polynomial.chebyshev, np.polynomial.legendre
    for cls, polyval, polyder in ((Chebyshev, C.chebval, C.chebder), (Legendre, L.legval, L.legder)):
        p = 12
        basis = cls(p, (lo, hi))
        u = (2 * t - lo - hi) / (hi - lo)
        assert np.all(np.abs(u) <= 1.0)
        np.testing.assert_allclose(basis.mapped(t), u, rtol=0, atol=1e-15)
        eye = np.eye(p + 1)
        want_v = polyval(u, eye).T  # column k: the series with coefficient vector e_k
        want_d = polyval(u, polyder(eye)).T * 2 / (hi - lo)
        x = np.zeros((t.size, 2))
        f = basis.evaluate(x, t)
        np.testing.assert_allclose(f.values, want_v, rtol=1e-13, atol=1e-13)
        # |T_k'| <= k^2 du/dt, |P_k'| <= k(k+1)/2 du/dt: absolute tolerance on that scale
        np.testing.assert_allclose(f.time_derivatives, want_d, rtol=1e-13, atol=1e-13 * p * p * 2 / (hi - lo))
        # the kernel's recurrence: one bump evaluated at its centre is 1, so the tensor is the polynomials
        fused = Tensor(RBF([[0.0, 0.0]], 1.0), basis).evaluate(x, t)
        np.testing.assert_allclose(fused.values, want_v, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(fused.time_derivatives, want_d, rtol=1e-13, atol=1e-13 * p * p * 2 / (hi - lo))


def test_inverse_spread_is_the_diffused_components_precision():
    # a component N(m, r^2) diffuses to N(a m, a^2 r^2 + s^2): r^2 times its precision, from the kernel itself
    r, t = np.array([0.2, 0.5, 1.0]), np.array([0.01, 0.1, 0.4, 1.0])
    k = VP.kernel(t)
    want = r[None, :] ** 2 / (np.asarray(k.a)[:, None] ** 2 * r[None, :] ** 2 + np.asarray(k.s2)[:, None])
    got = bases.InverseSpread(VP, r, (0.01, 1.0)).values(np.zeros((4, 1)), t)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    # VP keeps unit variance: a structure of size 1 keeps precision 1 at every time
    np.testing.assert_allclose(got[:, 2], 1.0, rtol=1e-14)


def test_time_polynomials_are_orthogonal():
    lo, hi, p = -1.0, 3.0, 10
    x = np.zeros((p + 1, 1))
    # Gauss-Chebyshev, p + 1 nodes: exact for degree <= 2p + 1; weight (1 - u^2)^(-1/2)
    k = np.arange(1, p + 2)
    u = np.cos((2 * k - 1) * np.pi / (2 * (p + 1)))
    T = Chebyshev(p, (lo, hi)).values(x, 1.0 + 2.0 * u)
    gram = (np.pi / (p + 1)) * T.T @ T
    np.testing.assert_allclose(gram, np.diag([np.pi] + [np.pi / 2] * p), atol=1e-13)
    # Gauss-Legendre: int P_i P_j dt = (hi - lo) / (2i + 1) delta_ij
    u, w = np.polynomial.legendre.leggauss(p + 1)
    P = Legendre(p, (lo, hi)).values(x, 1.0 + 2.0 * u)
    gram = 2.0 * (P.T * w) @ P
    np.testing.assert_allclose(gram, np.diag((hi - lo) / (2 * np.arange(p + 1) + 1)), atol=1e-13)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_sizes_exponents_and_shapes(d):
    rng = np.random.default_rng(d)
    for p in range(0, 5):
        with_const = Polynomial(d, p, constant=True)
        assert with_const.size == math.comb(d + p, d)
        assert not np.any(with_const.exponents[0])
        if p >= 1:
            poly = Polynomial(d, p)
            assert poly.size == math.comb(d + p, d) - 1
            assert len({tuple(e) for e in poly.exponents}) == poly.size
            degrees = poly.exponents.sum(axis=1)
            assert degrees.min() == 1 and degrees.max() == p and np.all(np.diff(degrees) >= 0)
    assert Chebyshev(4).size == 5 and Legendre(0).size == 1
    rbf = RBF(_centres(rng, 6, d), 0.5)
    tensor = Tensor(rbf, Chebyshev(3, (0.0, 2.0)))
    cat = Concat(rbf, Polynomial(d, 2), tensor, Legendre(2, (0.5, 3.0)))
    assert (rbf.size, tensor.size) == (6, 24)
    assert cat.size == 6 + math.comb(d + 2, d) - 1 + 24 + 3
    assert cat.dim == d and cat.t_range == (0.5, 2.0)
    assert Chebyshev(2).dim is None and Tensor(Chebyshev(2), Legendre(1)).dim is None
    x = rng.normal(size=(7, d))
    for t in (1.0, np.linspace(0.5, 2.0, 7)):
        f = cat.evaluate(x, t)
        assert f.values.shape == f.laplacians.shape == f.time_derivatives.shape == (7, cat.size)
        assert f.gradients.shape == (7, cat.size, d)
    # tensor columns: a * J_time + b
    v = tensor.values(x, 1.2)
    outer = rbf.values(x)[:, :, None] * Chebyshev(3, (0.0, 2.0)).values(x, 1.2)[:, None, :]
    np.testing.assert_allclose(v.reshape(7, 6, 4), outer, rtol=1e-15)
    # bases constant in time take t = None; a subset of outputs leaves the others None
    f = Concat(rbf, Polynomial(d, 1)).evaluate(x, which=("values", "laplacians"))
    assert f.gradients is None and f.time_derivatives is None and f.values.shape == (7, 6 + d)
    # no points
    f = tensor.evaluate(np.zeros((0, d)), 0.5)
    assert f.values.shape == (0, 24) and f.gradients.shape == (0, 24, d)
    # time bases take points of any dimension
    assert Chebyshev(2).gradients(np.zeros((3, 3)), 0.5).shape == (3, 3, 3)


def test_centred_on_samples_removes_the_means():
    rng = np.random.default_rng(5)
    inner = Tensor(RBF(_centres(rng, 4, 1), 0.7), Chebyshev(2, T_RANGE))
    times = np.linspace(*T_RANGE, 9)
    samples = [rng.normal(0.3 * t, 0.5, size=(400, 1)) for t in times]
    # polynomial means of degree 8 interpolate the 9 sample means exactly
    c = bases.Centred.on_samples(inner, Legendre(8, T_RANGE), times, samples)
    for x, t in zip(samples, times):
        np.testing.assert_allclose(c.values(x, t).mean(axis=0), 0.0, atol=1e-10)
        np.testing.assert_array_equal(c.gradients(x, t), inner.gradients(x, t))
    with pytest.raises(InputError, match="functions of t alone"):
        bases.Centred(inner, RBF(_centres(rng, 2, 1), 1.0), np.zeros((2, inner.size)))
    with pytest.raises(InputError, match="coefficients must have shape"):
        bases.Centred(inner, Legendre(2, T_RANGE), np.zeros((2, inner.size)))


def test_from_data_and_on_grid():
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.normal(-2.0, 0.3, size=(400, 2)), rng.normal(1.5, 0.6, size=(600, 2))])
    basis = RBF.from_data(x, 12, width_factor=1.5, seed=4)
    assert basis.size == 12 and basis.dim == 2
    again = RBF.from_data(x, 12, width_factor=1.5, seed=4)
    np.testing.assert_array_equal(basis.centres, again.centres)
    assert not np.array_equal(RBF.from_data(x, 12, seed=5).centres, basis.centres)
    gaps = np.linalg.norm(basis.centres[:, None] - basis.centres[None], axis=2) + np.diag(np.full(12, np.inf))
    np.testing.assert_allclose(basis.widths, 1.5 * gaps.min(axis=1), rtol=1e-15)
    # centres in both clusters, inside the data's box
    assert np.any(basis.centres[:, 0] < -1) and np.any(basis.centres[:, 0] > 0.5)
    assert np.all((basis.centres >= x.min(axis=0)) & (basis.centres <= x.max(axis=0)))
    # without Lloyd steps the centres are samples
    seeded = RBF.from_data(x, 5, lloyd_steps=0, seed=1)
    assert all(np.any(np.all(x == c, axis=1)) for c in seeded.centres)
    one = RBF.from_data(x[:, :1].ravel(), 1, width_factor=2.0)
    assert one.dim == 1 and one.widths[0] > 0
    with pytest.raises(InputError, match="distinct"):
        RBF.from_data(np.ones((10, 2)), 3)
    grid = RBF.on_grid([(-1.0, 1.0), (0.0, 2.0)], (3, 5), width_factor=1.2)
    assert grid.size == 15
    gx, gy = np.meshgrid(np.linspace(-1, 1, 3), np.linspace(0, 2, 5), indexing="ij")
    np.testing.assert_array_equal(grid.centres, np.stack([gx.ravel(), gy.ravel()], axis=1))
    np.testing.assert_allclose(grid.widths, 1.2 * 1.0)
    assert RBF.on_grid((0.0, 1.0), 11).centres.shape == (11, 1)
    with pytest.raises(InputError, match="lo < hi"):
        RBF.on_grid([(1.0, 0.0)], 3)
    with pytest.raises(InputError, match=r"counts\[0\] must be >= 2"):
        RBF.on_grid([(0.0, 1.0)], 1)


def test_bad_inputs_raise_input_errors():
    rbf = RBF(np.zeros((2, 2)), 1.0)
    cheb = Chebyshev(3, (0.0, 1.0))
    x, c1 = np.zeros((4, 2)), np.zeros((1, 2))
    cases = [
        (lambda: rbf.values(np.zeros((4, 3))), r"shape \(n, 2\)"),
        (lambda: rbf.values(np.zeros((4, 2, 1))), r"shape \(n, 2\)"),
        (lambda: rbf.values([[0.0, np.nan]]), "NaN or inf"),
        (lambda: cheb.values(x, 1.5), r"time range \[0, 1\].*wider t_range"),
        (lambda: cheb.values(x, -0.1), "time range"),
        (lambda: cheb.values(x), "depends on t"),
        (lambda: cheb.values(x, np.zeros(3)), r"shape \(n,\) = \(4,\)"),
        (lambda: cheb.values(x, [0.1, 0.2, np.inf, 0.3]), "NaN or inf"),
        (lambda: rbf.evaluate(x, which="hessians"), "unknown output"),
        (lambda: RBF(np.zeros(3)), r"shape \(m, d\)"),
        (lambda: RBF(np.zeros((0, 2))), r"shape \(m, d\)"),
        (lambda: RBF(np.zeros((3, 2)), [1.0, 2.0]), r"widths must be .* \(3,\)"),
        (lambda: RBF(np.zeros((2, 2)), [1.0, -2.0]), "widths must be > 0"),
        (lambda: Polynomial(2, 0), "degree must be >= 1"),
        (lambda: Polynomial(0, 2), "dim must be >= 1"),
        (lambda: Polynomial(2, 2.5), "degree must be an integer"),
        (lambda: Polynomial(2, 2, scale=[1.0, 0.0]), "scale must be > 0"),
        (lambda: Polynomial(2, 2, centre=[1.0, 0.0, 2.0]), r"centre must be .* \(2,\)"),
        (lambda: Chebyshev(-1), "degree must be >= 0"),
        (lambda: Legendre(2, (1.0, 0.0)), "t_min < t_max"),
        (lambda: Tensor(rbf, RBF(np.zeros((1, 3)))), "one dimension"),
        (lambda: Tensor(rbf, "cheb"), "must be a fpcheck.learned.bases.Basis"),
        (lambda: Concat(), "at least one"),
        (lambda: Concat(Chebyshev(2, (0, 1)), Legendre(2, (2, 3))), "do not overlap"),
        (lambda: ScaledRBF(c1, 1.0, 2.0, np.cos), "sigma must be a vectorised callable"),
        (lambda: ScaledRBF(c1, 1.0, lambda t: t - 0.5, np.ones_like).values(x, 0.25), r"sigma\(t\).*> 0.*t = 0\.25"),
        (lambda: ScaledRBF(c1, 1.0, np.ones_like, lambda t: np.ones(2)).time_derivatives(x, 0.25), "broadcastable"),
        (lambda: RBF.from_data(x, 0), "m must be >= 1"),
        (lambda: bases.InverseSpread(VP, [0.3, 0.0], (0.01, 1.0)), "scales must be"),
        (lambda: bases.InverseSpread("vp", [0.3], (0.01, 1.0)), "affine process"),
        (lambda: RBF.from_data(x, 2, width_factor=0.0), "width_factor must be > 0"),
    ]
    for make, match in cases:
        with pytest.raises(InputError, match=match):
            make()
    assert issubclass(InputError, ValueError)


def test_importing_the_package_compiles_nothing():
    code = (
        "import sys, fpcheck.learned, fpcheck.learned.bases; fpcheck.learned.RBF; fpcheck.learned.Tensor; "
        "print('numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
