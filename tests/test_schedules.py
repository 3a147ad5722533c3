"""Unit tests of fpcheck.schedules against independent truths.

Truths: adaptive quadrature of beta (scipy.integrate.quad), finite differences, Nichol &
Dhariwal's published alpha_bar formula, and sigma(t)^2 for the geometric VE schedule.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from fpcheck.errors import InputError
from fpcheck.schedules import Constant, Cosine, GeometricSigma, Linear, Schedule

from _unit_helpers import assert_scaled_close, central_diff

SCHEDULES = [
    pytest.param(Constant(0.7, T=2.0), id="constant"),
    pytest.param(Linear(), id="linear-default"),
    pytest.param(Linear(b0=5.0, b1=0.5, T=2.5), id="linear-decreasing"),
    pytest.param(Cosine(), id="cosine-default"),
    pytest.param(Cosine(s=0.02, T=3.0, beta_max=5.0), id="cosine-T3"),
    pytest.param(GeometricSigma(), id="geometric-default"),
    pytest.param(GeometricSigma(0.1, 5.0, T=2.0), id="geometric-T2"),
]

FRACTIONS = np.array([1e-6, 0.013, 0.1, 0.37, 0.5, 0.77, 0.9, 0.999, 1.0])


def _kinks(schedule: Schedule) -> list[float]:
    """Times where beta is not smooth (the cosine cap), for quad's ``points`` and to keep stencils off."""
    return [schedule._t_star] if isinstance(schedule, Cosine) and schedule._t_star < schedule.T else []


def _beta_scalar(schedule):
    return lambda u: float(schedule.beta(u))


# ---------------------------------------------------------------------------------------------
# integral, beta, dbeta
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_integral_equals_quadrature_of_beta(schedule):
    # quad (Gauss-Kronrod 21, epsrel=1e-13, the cap as a breakpoint) on a smooth integrand is
    # accurate to ~1e-14 relative; the closed forms lose a few ulp (log cos, expm1).  rtol 1e-10
    # leaves a wide margin and is still ~1e9 times smaller than any wrong factor.
    for t in FRACTIONS * schedule.T:
        pts = [p for p in _kinks(schedule) if p < t] or None
        truth, err = integrate.quad(_beta_scalar(schedule), 0.0, t, epsabs=0.0, epsrel=1e-13, limit=200, points=pts)
        assert err <= 1e-11 * abs(truth)
        assert_scaled_close(schedule.integral(t), truth, rtol=1e-10, what=f"B({t:g})")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_integral_is_zero_at_zero_and_beta_nonnegative(schedule):
    assert schedule.integral(0.0) == 0.0
    t = np.linspace(0.0, schedule.T, 1001)
    assert np.all(schedule.beta(t) >= 0.0)
    assert np.all(np.diff(schedule.integral(t)) >= 0.0)  # B is non-decreasing because beta >= 0


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_dbeta_equals_finite_difference_of_beta(schedule):
    # 4th-order central difference with h = 1e-4 T.  The steepest case is the cosine rate near
    # its cap (beta^(5) <~ 2e10 / T^5): truncation h^4 beta^(5) / 30 <~ 1e-7 against dbeta ~ 1e3,
    # rounding 1.5 eps |beta| / h ~ 3e-10.  So rtol 1e-8 plus atol 1e-8 * max|beta| / T.
    T = schedule.T
    h = 1e-4 * T
    t = np.linspace(3 * h, T - 3 * h, 41)
    for k in _kinks(schedule):
        t = t[np.abs(t - k) > 3 * h]
    fd = central_diff(schedule.beta, t, h)
    scale = np.abs(schedule.beta(np.linspace(0, T, 101))).max() / T
    assert_scaled_close(schedule.dbeta(t), fd, rtol=1e-8, atol=1e-8 * scale, what="dbeta")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_beta_equals_finite_difference_of_integral(schedule):
    # B' = beta, the same 4th-order stencil on B (one derivative smoother than beta).
    T = schedule.T
    h = 1e-4 * T
    t = np.linspace(3 * h, T - 3 * h, 41)
    for k in _kinks(schedule):
        t = t[np.abs(t - k) > 3 * h]
    scale = np.abs(schedule.beta(np.linspace(0, T, 101))).max()
    assert_scaled_close(schedule.beta(t), central_diff(schedule.integral, t, h), rtol=1e-8, atol=1e-10 * scale)


@pytest.mark.parametrize("shape", [(), (1,), (7,), (2, 3), (2, 1, 4)])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_vectorised_over_t_with_shape_preserved(schedule, shape):
    t = np.linspace(0.0, schedule.T, int(np.prod(shape, dtype=int))).reshape(shape)
    for method in (schedule.beta, schedule.integral, schedule.dbeta):
        out = method(t)
        assert np.shape(out) == shape, method.__name__
        elementwise = np.array([method(float(u)) for u in t.ravel()]).reshape(shape)
        np.testing.assert_array_equal(out, elementwise)
    if isinstance(schedule, GeometricSigma):
        assert np.shape(schedule.sigma(t)) == shape
    # python lists are accepted too
    assert np.shape(schedule.beta(t.tolist())) == shape


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("where", ["below", "above", "one-of-many", "nan", "inf"])
def test_t_outside_range_raises_with_range_in_message(schedule, where):
    T = schedule.T
    bad = {
        "below": -1e-9,
        "above": T * (1 + 1e-9),
        "one-of-many": np.array([0.0, 0.5 * T, T + 0.1]),
        "nan": np.nan,
        "inf": np.inf,
    }[where]
    match = "NaN or inf" if where in ("nan", "inf") else rf"\[0, {T:g}\]"
    for method in (schedule.beta, schedule.integral, schedule.dbeta):
        with pytest.raises(InputError, match=match):
            method(bad)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_endpoints_are_inside_the_range(schedule):
    for t in (0.0, schedule.T, np.array([0.0, schedule.T])):
        assert np.all(np.isfinite(schedule.beta(t)))


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_repr_rebuilds_an_equal_schedule(schedule):
    rebuilt = eval(repr(schedule), {"Constant": Constant, "Linear": Linear, "Cosine": Cosine, "GeometricSigma": GeometricSigma})
    t = np.linspace(0, schedule.T, 11)
    np.testing.assert_array_equal(rebuilt.integral(t), schedule.integral(t))
    assert rebuilt.params() == schedule.params()


# ---------------------------------------------------------------------------------------------
# closed forms of the individual schedules
# ---------------------------------------------------------------------------------------------


def test_constant_and_linear_closed_forms():
    c = Constant(0.7, T=2.0)
    np.testing.assert_array_equal(c.beta([0.0, 1.3, 2.0]), 0.7)
    assert c.integral(2.0) == pytest.approx(1.4, rel=1e-15, abs=0)
    lin = Linear()  # score_sde: beta from 0.1 to 20 on [0, 1]
    assert lin.beta(0.0) == 0.1 and lin.beta(1.0) == pytest.approx(20.0, rel=1e-15, abs=0)
    assert lin.integral(1.0) == pytest.approx(10.05, rel=1e-15, abs=0)  # trapezoid (0.1 + 20) / 2, exact for a line
    assert lin.integral(0.5) == pytest.approx(0.05 + 19.9 / 8, rel=1e-15, abs=0)
    np.testing.assert_array_equal(lin.dbeta([0.0, 0.4, 1.0]), 19.9)
    # T stretches time: beta(t) for T=2 at 2t equals beta for T=1 at t
    lin2 = Linear(0.1, 20.0, T=2.0)
    assert lin2.beta(1.0) == pytest.approx(lin.beta(0.5), rel=1e-15, abs=0)
    assert lin2.integral(2.0) == pytest.approx(2 * lin.integral(1.0), rel=1e-15, abs=0)


def _alpha_bar_nichol_dhariwal(t, s, T):
    """alpha_bar(t) = f(t)/f(0), f(t) = cos^2(((t/T + s)/(1 + s)) pi/2) (Nichol & Dhariwal 2021, eq. 17)."""
    f = lambda u: np.cos((u / T + s) / (1 + s) * np.pi / 2) ** 2  # noqa: E731
    return f(t) / f(0.0)


@pytest.mark.parametrize("s, T, beta_max", [(0.008, 1.0, 20.0), (0.02, 3.0, 5.0), (0.008, 1.0, 1000.0)])
def test_cosine_matches_nichol_dhariwal_before_the_cap(s, T, beta_max):
    sched = Cosine(s=s, T=T, beta_max=beta_max)
    t_star = sched._t_star
    assert 0 < t_star < T  # the uncapped rate diverges at T, so the cap is always reached
    t = np.linspace(0.0, t_star, 200)
    # both sides are a few ulp of log cos / cos^2 away from exact: rtol 1e-12
    assert_scaled_close(np.exp(-sched.integral(t)), _alpha_bar_nichol_dhariwal(t, s, T), rtol=1e-12, what="alpha_bar")
    # the uncapped rate is -d log alpha_bar / dt; check it independently by differencing alpha_bar
    tt = np.linspace(0.05 * t_star, 0.95 * t_star, 15)
    h = 1e-4 * T
    fd_rate = -central_diff(lambda u: np.log(_alpha_bar_nichol_dhariwal(u, s, T)), tt, h)
    assert_scaled_close(sched.beta(tt), fd_rate, rtol=1e-8, what="cosine beta")


@pytest.mark.parametrize("s, T, beta_max", [(0.008, 1.0, 20.0), (0.02, 3.0, 5.0)])
def test_cosine_rate_continuous_at_the_cap_and_capped_after(s, T, beta_max):
    sched = Cosine(s=s, T=T, beta_max=beta_max)
    t_star = sched._t_star
    # the cap time solves beta_uncapped(t*) = beta_max: check with the N&D rate itself
    rate_nd = np.pi / (T * (1 + s)) * np.tan((t_star / T + s) / (1 + s) * np.pi / 2)
    assert rate_nd == pytest.approx(beta_max, rel=1e-12, abs=0)
    # left limit: beta(t* - dt) = beta_max - dbeta dt, dbeta <~ 1e3 / T: dt = 1e-12 T moves it by 1e-9
    assert sched.beta(t_star * (1 - 1e-12)) == pytest.approx(beta_max, rel=1e-9, abs=0)
    assert sched.beta(t_star * (1 - 1e-12)) < beta_max
    after = np.linspace(t_star, T, 50)
    np.testing.assert_array_equal(sched.beta(after), beta_max)
    np.testing.assert_array_equal(sched.dbeta(after[1:]), 0.0)
    # after the cap B grows linearly at rate beta_max from B(t*), which is continuous there
    b_star = -np.log(_alpha_bar_nichol_dhariwal(t_star, s, T))
    assert_scaled_close(sched.integral(after), b_star + beta_max * (after - t_star), rtol=1e-12)
    # the rate is non-decreasing throughout
    t = np.linspace(0.0, T, 2001)
    assert np.all(np.diff(sched.beta(t)) >= 0.0)


def test_cosine_beta_at_zero_is_small_and_positive():
    sched = Cosine()
    # beta_0 = pi/(1+s) tan(pi s / (2(1+s))) ~ pi^2 s / (2 (1+s)^2) for small s (tan x = x + x^3/3:
    # relative error x^2/3 = 5e-5)
    s = 0.008
    expected = np.pi / (1 + s) * np.tan(np.pi * s / (2 * (1 + s)))
    assert sched.beta(0.0) == pytest.approx(expected, rel=1e-14, abs=0)
    assert sched.beta(0.0) == pytest.approx(np.pi**2 * s / (2 * (1 + s) ** 2), rel=1e-4, abs=0)


@pytest.mark.parametrize("sigma_min, sigma_max, T", [(0.01, 50.0, 1.0), (0.1, 5.0, 2.0), (1e-3, 1e3, 0.5)])
def test_geometric_sigma_integral_is_variance_gain(sigma_min, sigma_max, T):
    sched = GeometricSigma(sigma_min, sigma_max, T)
    t = np.linspace(0.0, T, 101)
    sigma_truth = sigma_min * (sigma_max / sigma_min) ** (t / T)
    assert_scaled_close(sched.sigma(t), sigma_truth, rtol=1e-13)
    assert sched.sigma(0.0) == pytest.approx(sigma_min, rel=1e-15, abs=0)
    assert sched.sigma(T) == pytest.approx(sigma_max, rel=1e-13, abs=0)
    # B = sigma^2 - sigma_min^2 (the VE kernel variance); relative accuracy fails only through
    # the subtraction in the truth itself near t = 0, so compare with an absolute floor of eps sigma_min^2
    assert_scaled_close(sched.integral(t), sigma_truth**2 - sigma_min**2, rtol=1e-12, atol=1e-15 * sigma_min**2)
    # beta = d sigma^2 / dt by a 4th-order difference (h = 1e-4 T; sigma^2 = A e^{kt} with
    # k = 2 log(ratio)/T <= 56 gives truncation (kh)^4 / 30 * beta <~ 1e-9 beta)
    h = 1e-4 * T
    tt = np.linspace(3 * h, T - 3 * h, 21)
    fd = central_diff(lambda u: sched.sigma(u) ** 2, tt, h)
    assert_scaled_close(sched.beta(tt), fd, rtol=1e-8)


def test_geometric_sigma_integral_keeps_relative_accuracy_near_zero():
    sched = GeometricSigma(0.01, 50.0)
    k = 2.0 * np.log(5000.0)
    for t in (1e-14, 1e-10, 1e-6):
        # sigma_min^2 (e^{kt} - 1) = sigma_min^2 (kt + (kt)^2/2 + ...): a 3-term series is exact to (kt)^3/24
        series = 1e-4 * (k * t + (k * t) ** 2 / 2 + (k * t) ** 3 / 6)
        assert sched.integral(t) == pytest.approx(series, rel=1e-14, abs=0)


@pytest.mark.parametrize("s, T", [(0.008, 1.0), (0.02, 3.0)])
def test_cosine_integral_keeps_relative_accuracy_near_zero(s, T):
    # B = -2 log cos(theta0 + D) + 2 log cos(theta0), D = theta' t; Taylor in D:
    # 2 tan(theta0) D + sec^2(theta0) D^2 + (2/3) sec^2 tan D^3, remainder <= 7 D^3 relative,
    # i.e. < 1e-16 for t <= 1e-6.  (Subtracting two logs of cosines loses ~eps/B relative:
    # 3e-3 at t = 1e-12, which is what this test guards against.)
    sched = Cosine(s=s, T=T)
    theta0 = np.pi / 2 * s / (1 + s)
    tan0, sec2 = np.tan(theta0), 1 / np.cos(theta0) ** 2
    for t in (1e-14, 1e-12, 1e-10, 1e-8, 1e-6):
        D = np.pi / (2 * T * (1 + s)) * t
        series = 2 * tan0 * D + sec2 * D**2 + 2 / 3 * sec2 * tan0 * D**3
        assert sched.integral(t) == pytest.approx(series, rel=1e-14, abs=0)
