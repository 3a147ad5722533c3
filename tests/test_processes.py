"""Unit tests of fpcheck.processes against independent truths.

The kernel of an affine SDE dx = (-lambda x + kappa) dt + g dW started at x0 is
N(a x0 + c, s^2 I) with  a' = -lambda a,  c' = -lambda c + kappa,  (s^2)' = -2 lambda s^2 + g^2
(MATH.md section 1).  The tests read lambda and kappa off ``drift()`` (not off ``rate()``), solve
that system with scipy's solve_ivp, and compare; they also pin each row of the MATH.md table
written out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from fpcheck.errors import InputError, NotAffineError
from fpcheck.processes import OU, VE, VP, AffineProcess, DoubleWell, Kernel, Langevin, Potential, SubVP
from fpcheck.schedules import Constant, Cosine, GeometricSigma, Linear

from _unit_helpers import assert_scaled_close, central_diff, fd_gradient

AFFINE = [
    pytest.param(lambda: VP(Linear()), id="vp-linear"),
    pytest.param(lambda: VP(Cosine()), id="vp-cosine"),
    pytest.param(lambda: VP(Constant(2.0, T=3.0)), id="vp-constant"),
    pytest.param(lambda: SubVP(Linear()), id="subvp-linear"),
    pytest.param(lambda: SubVP(Cosine(s=0.02, T=2.0, beta_max=8.0)), id="subvp-cosine"),
    pytest.param(lambda: VE(), id="ve-default"),
    pytest.param(lambda: VE(GeometricSigma(0.1, 5.0, T=2.0)), id="ve-T2"),
    pytest.param(lambda: OU(1.3, 0.7, 0.9, 4.0), id="ou-scalar-mu"),
    pytest.param(lambda: OU(0.5, [1.0, -2.0], 2.0, 5.0), id="ou-vector-mu"),
    pytest.param(lambda: OU(2.0, -0.5, 0.0, 3.0), id="ou-noiseless"),
]


def _dim(process) -> int:
    return process.dim if process.dim is not None else 1


def _lambda_kappa(process, t):
    """lambda(t) and kappa(t) read off the drift f(x, t) = -lambda x + kappa (not off rate/shift)."""
    d = _dim(process)
    kappa = process.drift(np.zeros((1, d)), t)[0]
    lam = -(process.drift(np.ones((1, d)), t)[0] - kappa)
    assert np.allclose(lam, lam[0], rtol=1e-14, atol=0)  # isotropic contraction
    return float(lam[0]), kappa


def _ode_rhs(process):
    d = _dim(process)

    def rhs(t, y):
        t = min(max(t, 0.0), process.T)  # the integrator may probe a rounding error past T
        lam, kappa = _lambda_kappa(process, t)
        a, c, s2 = y[0], y[1 : 1 + d], y[1 + d]
        return np.concatenate([[-lam * a], -lam * c + kappa, [-2.0 * lam * s2 + float(process.g2(t))]])

    return rhs


def _solve_kernel(process, t0, times):
    """(a, c, s2) of the kernel from t0 to each of ``times`` by DOP853 at rtol 1e-12."""
    d = _dim(process)
    y0 = np.concatenate([[1.0], np.zeros(d), [0.0]])
    sol = integrate.solve_ivp(
        _ode_rhs(process), (t0, times[-1]), y0, method="DOP853", t_eval=times, rtol=1e-12, atol=1e-14
    )
    assert sol.success, sol.message
    return sol.y[0], sol.y[1 : 1 + d].T, sol.y[1 + d]


def _c_rows(process, c, n):
    """The closed-form c as an (n, d) array (a scalar mu gives c of shape (n,))."""
    return np.broadcast_to(np.asarray(c).reshape(n, -1), (n, _dim(process)))


# ---------------------------------------------------------------------------------------------
# the kernel
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", AFFINE)
def test_kernel_equals_ode_solution(make):
    # DOP853 at rtol 1e-12 / atol 1e-14 keeps the global error below ~1e-10 relative over these
    # short, non-stiff intervals (the cosine cap is a kink in beta only, handled by step control).
    # Compare with rtol 1e-9 and an absolute floor 1e-12 for the entries that start at 0.
    process = make()
    times = np.linspace(0.0, process.T, 23)[1:]
    a, c, s2 = _solve_kernel(process, 0.0, times)
    k = process.kernel(times)
    assert_scaled_close(k.a, a, rtol=1e-9, atol=1e-12, what="a")
    assert_scaled_close(_c_rows(process, k.c, times.size), c, rtol=1e-9, atol=1e-12, what="c")
    assert_scaled_close(k.s2, s2, rtol=1e-9, atol=1e-12, what="s2")


@pytest.mark.parametrize("make", AFFINE)
def test_kernel_at_zero_is_identity(make):
    process = make()
    a, c, s2 = process.kernel(0.0)
    assert a == 1.0 and s2 == 0.0 and not np.any(c)


@pytest.mark.parametrize("make", AFFINE)
def test_kernel_derivative_satisfies_the_ode_exactly(make):
    # An algebraic identity at each t: (a', c', s2') = (-lambda a, -lambda c + kappa, -2 lambda s2 + g^2).
    # Only rounding separates the two sides: rtol 1e-12, atol 1e-12 * max|g^2| for cancellations.
    process = make()
    times = np.linspace(0.0, process.T, 37)
    k, dk = process.kernel(times), process.kernel_derivative(times)
    scale = max(1.0, float(np.max(process.g2(times))))
    for i, t in enumerate(times):
        lam, kappa = _lambda_kappa(process, t)
        c_i = _c_rows(process, k.c, times.size)[i]
        dc_i = _c_rows(process, dk.c, times.size)[i]
        assert_scaled_close(dk.a[i], -lam * k.a[i], rtol=1e-12, atol=1e-15, what=f"a' at {t:g}")
        assert_scaled_close(dc_i, -lam * c_i + kappa, rtol=1e-12, atol=1e-15 * scale, what=f"c' at {t:g}")
        rhs = -2 * lam * k.s2[i] + float(process.g2(t))
        assert_scaled_close(dk.s2[i], rhs, rtol=1e-12, atol=1e-12 * scale, what=f"s2' at {t:g}")


@pytest.mark.parametrize("make", AFFINE)
def test_kernel_derivative_equals_finite_difference(make):
    # 4th-order central difference, h = 1e-4 T, away from the cosine cap (where the kernel has
    # a jump in its second derivative).  The kernels are exponentials of B with rates <= 50 / T,
    # so the truncation (50 h)^4 / 30 ~ 2e-11 relative; rounding 1.5 eps / h ~ 3e-12 / T.
    process = make()
    T = process.T
    h = 1e-4 * T
    times = np.linspace(3 * h, T - 3 * h, 17)
    sched = getattr(process, "schedule", None)
    if isinstance(sched, Cosine):
        times = times[np.abs(times - sched._t_star) > 3 * h]
    dk = process.kernel_derivative(times)
    scale = max(1.0, float(np.max(np.abs(process.kernel_derivative(np.linspace(0, T, 101)).s2))))
    for name in Kernel._fields:
        fd = central_diff(lambda u, name=name: np.asarray(getattr(process.kernel(u), name)), times, h)
        exact = np.asarray(getattr(dk, name))
        assert_scaled_close(exact, fd.reshape(exact.shape), rtol=1e-8, atol=1e-9 * scale, what=f"d{name}/dt")


# ---------------------------------------------------------------------------------------------
# transition(s, t)
# ---------------------------------------------------------------------------------------------


def _compose(first: Kernel, second: Kernel) -> Kernel:
    """x_s = a1 x0 + c1 + s1 Z, x_t = a2 x_s + c2 + s2 Z'  =>  the kernel from 0 to t."""
    a1, a2 = np.asarray(first.a), np.asarray(second.a)
    c1, c2 = np.asarray(first.c), np.asarray(second.c)
    a2c = a2.reshape(a2.shape + (1,) * (max(c1.ndim, c2.ndim) - a2.ndim))
    return Kernel(a2 * a1, a2c * c1 + c2, a2 * a2 * first.s2 + second.s2)


@pytest.mark.parametrize("make", AFFINE)
def test_transition_composes_with_kernel(make):
    # a_t = a_s a_{t|s}, c_t = a_{t|s} c_s + c_{t|s}, s2_t = a_{t|s}^2 s2_s + s2_{t|s}: rounding only
    process = make()
    T = process.T
    for s, t in [(0.0, 0.3 * T), (0.1 * T, 0.5 * T), (0.45 * T, T), (0.7 * T, 0.7 * T)]:
        composed = _compose(process.kernel(s), process.transition(s, t))
        direct = process.kernel(t)
        for name in Kernel._fields:
            assert_scaled_close(getattr(composed, name), getattr(direct, name), rtol=1e-12, atol=1e-14, what=name)


@pytest.mark.parametrize("make", AFFINE)
def test_transition_equals_ode_solution_started_at_s(make):
    process = make()
    T = process.T
    s = 0.35 * T
    times = np.linspace(s, T, 9)[1:]
    a, c, s2 = _solve_kernel(process, s, times)
    tr = process.transition(s, times)
    assert_scaled_close(tr.a, a, rtol=1e-9, atol=1e-12, what="a")
    assert_scaled_close(_c_rows(process, tr.c, times.size), c, rtol=1e-9, atol=1e-12, what="c")
    # s2_{t|s} = s2_t - a^2 s2_s cancels when s2_s ~ s2_t (VE near T): floor 1e-12 * s2_t
    assert_scaled_close(tr.s2, s2, rtol=1e-9, atol=1e-12 * max(1.0, float(process.kernel(T).s2)), what="s2")


@pytest.mark.parametrize("make", AFFINE)
def test_transition_chapman_kolmogorov_vectorised(make):
    # r < s < t as arrays: transition(r, t) = transition(s, t) o transition(r, s), elementwise.
    # With two times and a 2-d mu the time axis and mu's axis have the same length, which is
    # where a mis-broadcast would go unnoticed.
    process = make()
    T = process.T
    r, s, t = np.array([0.05, 0.2]) * T, np.array([0.3, 0.6]) * T, np.array([0.8, 1.0]) * T
    composed = _compose(process.transition(r, s), process.transition(s, t))
    direct = process.transition(r, t)
    for name in Kernel._fields:
        assert_scaled_close(getattr(composed, name), getattr(direct, name), rtol=1e-11, atol=1e-13, what=name)
    # and each element equals the scalar call
    for i in range(2):
        scalar = process.transition(r[i], t[i])
        for name in Kernel._fields:
            np.testing.assert_allclose(np.asarray(getattr(direct, name))[i], getattr(scalar, name), rtol=1e-15)


def test_transition_rejects_s_after_t():
    with pytest.raises(InputError, match="s <= t"):
        VP(Linear()).transition(0.6, 0.5)


# ---------------------------------------------------------------------------------------------
# the rows of the MATH.md table, written out
# ---------------------------------------------------------------------------------------------

X = np.array([[-1.5, 0.3], [0.0, 2.0], [4.0, -0.7]])
TIMES = [0.0, 0.013, 0.31, 0.77, 1.0]


@pytest.mark.parametrize("t", TIMES)
@pytest.mark.parametrize("schedule", [Linear(), Cosine()], ids=["linear", "cosine"])
def test_vp_row(schedule, t):
    p = VP(schedule)
    beta, B = schedule.beta(t), schedule.integral(t)
    np.testing.assert_allclose(p.drift(X, t), -beta * X / 2, rtol=1e-15)
    np.testing.assert_allclose(p.g2(t), beta, rtol=1e-15)
    a, c, s2 = p.kernel(t)
    np.testing.assert_allclose([a, c, s2], [np.exp(-B / 2), 0.0, 1 - np.exp(-B)], rtol=1e-13, atol=1e-300)
    assert a * a + s2 == pytest.approx(1.0, rel=1e-15, abs=0)  # variance preserving


@pytest.mark.parametrize("t", TIMES)
def test_subvp_row(t):
    sched = Linear()
    p = SubVP(sched)
    beta, B = sched.beta(t), sched.integral(t)
    np.testing.assert_allclose(p.drift(X, t), -beta * X / 2, rtol=1e-15)
    np.testing.assert_allclose(p.g2(t), beta * (1 - np.exp(-2 * B)), rtol=1e-13, atol=1e-300)
    a, c, s2 = p.kernel(t)
    np.testing.assert_allclose([a, c, s2], [np.exp(-B / 2), 0.0, (1 - np.exp(-B)) ** 2], rtol=1e-13, atol=1e-300)
    assert s2 <= 1 - a * a  # the sub-VP variance never exceeds the VP one


@pytest.mark.parametrize("t", TIMES)
def test_ve_row(t):
    sched = GeometricSigma(0.01, 50.0)
    p = VE(sched)
    np.testing.assert_array_equal(p.drift(X, t), 0.0)
    h = 1e-5
    tt = min(max(t, 2 * h), 1 - 2 * h)
    # g^2 = d sigma^2 / dt: 4th-order difference, sigma^2 = A e^{17 t}, truncation (17h)^4/30 ~ 3e-16
    fd = central_diff(lambda u: sched.sigma(u) ** 2, tt, h)
    assert p.g2(tt) == pytest.approx(fd, rel=1e-8, abs=0)
    a, c, s2 = p.kernel(t)
    assert a == 1.0 and c == 0.0
    assert s2 == pytest.approx(sched.sigma(t) ** 2 - 0.01**2, rel=1e-12, abs=1e-18)


@pytest.mark.parametrize("t", [0.0, 0.2, 1.7, 5.0])
@pytest.mark.parametrize("mu", [0.7, [1.0, -2.0]])
def test_ou_row(t, mu):
    gamma, beta = 1.3, 0.9
    p = OU(gamma, mu, beta, 5.0)
    mu_v = np.broadcast_to(np.asarray(mu, float), (2,))
    np.testing.assert_allclose(p.drift(X, t), -gamma * (X - mu_v), rtol=1e-14, atol=1e-15)
    assert p.g2(t) == beta
    a, c, s2 = p.kernel(t)
    assert a == pytest.approx(np.exp(-gamma * t), rel=1e-15, abs=0)
    np.testing.assert_allclose(c, np.asarray(mu) * (1 - np.exp(-gamma * t)), rtol=1e-14, atol=1e-300)
    assert s2 == pytest.approx(beta / (2 * gamma) * (1 - np.exp(-2 * gamma * t)), rel=1e-14, abs=1e-300)


# ---------------------------------------------------------------------------------------------
# t -> 0 and t -> infinity
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [1e-14, 1e-10, 1e-6])
@pytest.mark.parametrize("schedule", [Linear(), Cosine()], ids=["linear", "cosine"])
def test_vp_and_subvp_variance_keep_relative_accuracy_for_tiny_t(schedule, t):
    # s2 = 1 - e^{-B} = B - B^2/2 + B^3/6 - ..., whose 4th term is below 1e-24 relative for B < 1e-5;
    # 1 - exp(-B) formed directly would lose everything (1e-16 / B relative).
    B = float(schedule.integral(t))
    assert 0 < B < 1e-4
    vp = VP(schedule).kernel(t).s2
    assert vp == pytest.approx(B - B**2 / 2 + B**3 / 6, rel=1e-14, abs=0)
    sub = SubVP(schedule).kernel(t).s2
    assert sub == pytest.approx((B - B**2 / 2 + B**3 / 6) ** 2, rel=1e-14, abs=0)
    # g^2 of sub-VP: beta (1 - e^{-2B}) ~ 2 B beta
    assert SubVP(schedule).g2(t) == pytest.approx(schedule.beta(t) * (2 * B - 2 * B**2 + 4 * B**3 / 3), rel=1e-13, abs=0)


def test_vp_variance_at_t_1e_10_against_schedule_integral():
    vp = VP(Linear())
    t = 1e-10
    B = 0.1 * t + 0.5 * 19.9 * t * t  # the linear schedule's integral, written out
    assert vp.kernel(t).s2 == pytest.approx(B, rel=1e-10, abs=0)  # 1 - e^{-B} = B (1 - B/2 + ...), B ~ 1e-11


@pytest.mark.parametrize("t", [1e-14, 1e-9, 1e-5])
def test_ou_and_ve_variance_keep_relative_accuracy_for_tiny_t(t):
    gamma, beta = 1.3, 0.9
    s2 = OU(gamma, 0.0, beta).kernel(t).s2
    g = gamma * t
    assert s2 == pytest.approx(beta * t * (1 - g + 2 * g * g / 3 - g**3 / 3), rel=1e-14, abs=0)  # series, remainder g^4
    k = 2 * np.log(5000.0)
    kt = k * t  # sigma_min^2 expm1(kt) by 4 Taylor terms: remainder (kt)^4/120 < 1e-17 relative
    assert VE().kernel(t).s2 == pytest.approx(1e-4 * (kt + kt**2 / 2 + kt**3 / 6 + kt**4 / 24), rel=1e-14, abs=0)


@pytest.mark.parametrize("mu", [0.7, [1.0, -2.0, 0.5]])
def test_ou_reaches_its_stationary_law(mu):
    gamma, beta, T = 2.0, 3.0, 50.0
    p = OU(gamma, mu, beta, T)
    a, c, s2 = p.kernel(T)
    assert a == pytest.approx(np.exp(-100.0), rel=1e-13, abs=0)
    np.testing.assert_allclose(c, mu, rtol=1e-15)
    assert s2 == pytest.approx(beta / (2 * gamma), rel=1e-15, abs=0)
    # the stationary Gaussian N(mu, beta/(2 gamma)) is invariant under every transition
    v = beta / (2 * gamma)
    for s, t in [(0.0, 0.1), (1.0, 3.0), (0.0, T)]:
        tr = p.transition(s, t)
        assert tr.a**2 * v + tr.s2 == pytest.approx(v, rel=1e-14, abs=0)
        np.testing.assert_allclose(tr.a * np.asarray(mu) + tr.c, mu, rtol=1e-14)


def test_ou_vector_mu_ties_the_dimension():
    p = OU(1.0, [1.0, 2.0, 3.0])
    assert p.dim == 3
    assert p.drift(np.zeros((4, 3)), 0.5).shape == (4, 3)
    with pytest.raises(InputError, match=r"shape \(n, 3\)"):
        p.drift(np.zeros((4, 2)), 0.5)
    assert OU(1.0, 0.5).dim is None


# ---------------------------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", AFFINE)
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("n", [1, 5])
def test_drift_and_g2_shapes(make, d, n):
    process = make()
    if process.dim is not None and process.dim != d:
        pytest.skip("process tied to another dimension")
    x = np.linspace(-1, 1, n * d).reshape(n, d)
    assert process.drift(x, 0.5 * process.T).shape == (n, d)
    for shape in [(), (4,), (2, 3)]:
        t = np.full(shape, 0.25 * process.T)
        assert np.shape(process.g2(t)) == shape
        k = process.kernel(t)
        assert np.shape(k.a) == shape and np.shape(k.s2) == shape
        assert np.shape(k.c) == shape + (process.mu.shape if isinstance(process, OU) else ())
        assert np.shape(process.kernel_derivative(t).s2) == shape


def test_drift_needs_a_scalar_time():
    with pytest.raises(InputError, match="scalar time"):
        VP(Linear()).drift(np.zeros((2, 1)), [0.1, 0.2])


# ---------------------------------------------------------------------------------------------
# Langevin dynamics and potentials
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("height", [1.0, 2.5])
def test_double_well_gradient_equals_finite_difference(d, height):
    # U is a quartic, so the 4th-order stencil has no truncation error (U^(5) = 0): only rounding,
    # ~ 1.5 eps max|U| / h with h = 1e-3 and |U| <= 4e2: atol 1e-9.
    U = DoubleWell(height)
    x = np.random.default_rng(7).uniform(-2.0, 2.0, (30, d))
    np.testing.assert_allclose(U.gradient(x), fd_gradient(U, x, 1e-3), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(U(x), height * np.sum((x**2 - 1) ** 2, axis=1), rtol=1e-15)
    minima = np.array([[1.0] * d, [-1.0] * d])
    np.testing.assert_array_equal(U(minima), 0.0)
    np.testing.assert_array_equal(U.gradient(minima), 0.0)
    assert U(np.zeros((1, d)))[0] == pytest.approx(height * d, rel=1e-15, abs=0)  # the barrier


@pytest.mark.parametrize("t", [0.0, 3.3, 10.0])
def test_langevin_drift_is_minus_grad_u_and_noise_is_2kT(t):
    U = DoubleWell(1.0)
    p = Langevin(U, kT=0.25, T=10.0)
    x = np.linspace(-2, 2, 9)[:, None]
    np.testing.assert_allclose(p.drift(x, t), -fd_gradient(U, x, 1e-3), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(p.drift(x, t), -4.0 * x * (x * x - 1.0), rtol=1e-15)
    assert p.g2(t) == 0.5
    np.testing.assert_allclose(p.log_boltzmann(x), -U(x) / 0.25, rtol=1e-15)
    assert not p.is_affine


def test_langevin_with_a_custom_potential():
    k = 3.0
    U = Potential(lambda x: 0.5 * k * np.sum(x * x, axis=1), lambda x: k * x, name="harmonic", dim=2)
    p = Langevin(U, kT=2.0, T=1.0)
    assert p.dim == 2
    x = np.array([[1.0, -2.0], [0.5, 0.0]])
    np.testing.assert_allclose(p.drift(x, 0.5), -k * x)
    with pytest.raises(InputError, match=r"shape \(n, 2\)"):
        p.drift(np.zeros((3, 1)), 0.5)


def test_langevin_kernel_raises_not_affine_with_guidance():
    p = Langevin(DoubleWell(), kT=0.25)
    with pytest.raises(NotAffineError, match="Langevin has no closed-form transition kernel") as info:
        p.kernel(0.5)
    assert "grid solver" in str(info.value)
    assert isinstance(info.value, TypeError)


def test_affine_processes_are_marked_affine():
    for param in AFFINE:
        p = param.values[0]()
        assert isinstance(p, AffineProcess) and p.is_affine


@pytest.mark.parametrize("make", AFFINE)
def test_repr_lists_parameters(make):
    p = make()
    text = repr(p)
    assert text.startswith(type(p).__name__ + "(")
    for key in p.params():
        assert f"{key}=" in text


@pytest.mark.parametrize("make", AFFINE)
def test_coefficients_at_many_times_are_rate_shift_and_g2(make):
    # the one-check batch accessor the time-stepping solver uses agrees with the public methods
    proc = make()
    t = np.linspace(0.0, proc.T, 7)
    rate, shift, g2 = proc.coefficients(t)
    np.testing.assert_array_equal(rate, proc.rate(t))
    np.testing.assert_array_equal(shift, proc.shift(t))
    np.testing.assert_array_equal(g2, proc.g2(t))
    with pytest.raises(InputError):
        proc.coefficients([proc.T * 1.5])
