"""Unit tests of fpcheck.analytic.ExactMarginals against independent truths.

q_t is the law of a_t X0 + c_t + s_t Z (MATH.md section 2); the velocity and the reverse drift
are f - g^2/2 grad log q_t and f - g^2 grad log q_t (section 3).  The tests write these out
from the process's pieces, check q_t against quadrature convolutions and ancestral sampling,
and check that q_t solves the Fokker-Planck equation with the diffusion term g^2/2 Laplacian,
and the continuity equation with the velocity, by finite differences in t and x.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import BoxMixture, GaussianMixture
from fpcheck.errors import InputError, NotAffineError
from fpcheck.processes import OU, VP, DoubleWell, Langevin
from fpcheck.schedules import Cosine, Linear

from _unit_helpers import (
    assert_cov_equal_by_z_test,
    assert_mean_equal_by_z_test,
    assert_scaled_close,
    assert_true_cdf_equal_by_dkwm,
    central_diff,
    second_diff,
)

ALPHA = 1e-4
SQRT_2PI = math.sqrt(2.0 * math.pi)
PROCESSES = ["vp-linear", "vp-cosine", "subvp-linear", "ve-geometric", "ou"]
DATA = ["gmm1d-bimodal", "gmm2d-ring8", "gmm2d-aniso", "gmm3d-tetra", "box1d", "checkerboard2d"]
DATA_1D = ["gmm1d-bimodal", "box1d"]


def _truth(pname, dname):
    return ExactMarginals(problems.process(pname), problems.data(dname))


def _probe_points(data, n=12, seed=5):
    """Points spread over the data's range, off box edges (where noise-free boxes jump)."""
    rng = np.random.default_rng(seed)
    sd = np.sqrt(np.diag(data.cov()))
    x = data.mean() + 1.5 * sd * rng.standard_normal((n, data.dim))
    if isinstance(data, BoxMixture):
        x = np.where(np.abs(x - np.round(x)) < 1e-3, x + 0.01, x)
    return x


# ---------------------------------------------------------------------------------------------
# q_t itself
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dname", DATA)
@pytest.mark.parametrize("pname", PROCESSES)
def test_at_zero_reproduces_the_data(pname, dname):
    truth = _truth(pname, dname)
    x = _probe_points(truth.data)
    np.testing.assert_array_equal(truth.logpdf(x, 0.0), truth.data.logpdf(x))
    np.testing.assert_array_equal(truth.score(x, 0.0), truth.data.score(x))
    np.testing.assert_array_equal(truth.mean(0.0), truth.data.mean())
    np.testing.assert_array_equal(truth.cov(0.0), truth.data.cov())


@pytest.mark.parametrize("dname", DATA)
@pytest.mark.parametrize("pname", PROCESSES)
def test_moments_follow_the_kernel(pname, dname):
    # E[x_t] = a E[x0] + c, Cov[x_t] = a^2 Cov[x0] + s^2 I, with (a, c, s^2) from the process
    truth = _truth(pname, dname)
    d = truth.dim
    for frac in (0.01, 0.3, 1.0):
        t = frac * truth.T
        a, c, s2 = truth.process.kernel(t)
        m0, S0 = truth.data.mean(), truth.data.cov()
        np.testing.assert_allclose(truth.mean(t), a * m0 + c, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(truth.cov(t), a * a * S0 + s2 * np.eye(d), rtol=1e-12, atol=1e-15)


def _p0_written_out(dname):
    """The registry's 1D data densities written out by hand (MATH-free, independent of the classes)."""
    if dname == "gmm1d-bimodal":  # 0.5 N(-2, 0.3^2) + 0.5 N(1.5, 0.5^2)
        return lambda x: 0.5 * (
            math.exp(-0.5 * ((x + 2.0) / 0.3) ** 2) / (0.3 * SQRT_2PI)
            + math.exp(-0.5 * ((x - 1.5) / 0.5) ** 2) / (0.5 * SQRT_2PI)
        ), (-12.0, 12.0)
    assert dname == "box1d"  # uniform on [-1, 1]
    return lambda x: 0.5, (-1.0, 1.0)


def _convolution_truth(pname, dname, y, t):
    """q_t(y) = integral p0(x) N(y; a x + c, s2) dx in 1D by quad (breakpoints at the kernel's centre)."""
    a, c, s2 = (float(v) for v in problems.process(pname).kernel(t))
    p0, (lo, hi) = _p0_written_out(dname)
    s = math.sqrt(s2)
    f = lambda x: p0(x) * math.exp(-0.5 * ((y - a * x - c) / s) ** 2) / (s * SQRT_2PI)  # noqa: E731
    pts = [p for p in ((y - c) / a, -2.0, 1.5) if lo < p < hi]
    val, _ = integrate.quad(f, lo, hi, points=pts or None, epsabs=1e-15, epsrel=1e-11, limit=400)
    return val


@pytest.mark.parametrize("dname", DATA_1D)
@pytest.mark.parametrize("pname", PROCESSES)
def test_density_is_the_convolution_of_data_and_kernel_1d(pname, dname):
    # quad at epsrel 1e-11 over the data's support: compare at rtol 1e-9 (atol 1e-14 in the tails)
    truth = _truth(pname, dname)
    for frac in (0.05, 0.4):
        t = frac * truth.T
        sd = float(np.sqrt(truth.cov(t)[0, 0]))
        m = float(truth.mean(t)[0])
        for y in m + sd * np.array([-1.7, -0.4, 0.3, 1.2]):
            assert truth.pdf([y], t)[0] == pytest.approx(_convolution_truth(pname, dname, y, t), rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("dname", DATA_1D)
@pytest.mark.parametrize("pname", PROCESSES)
def test_ancestral_sampling_draws_from_q_t_1d(pname, dname, rng):
    # x0 ~ p, x = a x0 + c + s z is exactly q_t (MATH.md section 2): KS distance under the DKWM bound
    truth = _truth(pname, dname)
    t = 0.2 * truth.T
    a, c, s2 = (float(v) for v in truth.process.kernel(t))
    n = 50_000
    x = a * truth.data.sample(n, rng)[:, 0] + c + np.sqrt(s2) * rng.standard_normal(n)
    assert_true_cdf_equal_by_dkwm(x, lambda u: truth.at(t).cdf(u), alpha=ALPHA)
    # and ExactMarginals.sample draws from the same law
    assert_true_cdf_equal_by_dkwm(truth.sample(n, t, rng)[:, 0], lambda u: truth.at(t).cdf(u), alpha=ALPHA)


@pytest.mark.parametrize("dname", ["gmm2d-aniso", "gmm3d-tetra", "checkerboard2d"])
@pytest.mark.parametrize("pname", ["vp-linear", "ve-geometric", "ou"])
def test_ancestral_sampling_moments_nd(pname, dname, rng):
    truth = _truth(pname, dname)
    t = 0.1 * truth.T
    a, c, s2 = truth.process.kernel(t)
    n = 100_000
    x = a * truth.data.sample(n, rng) + c + np.sqrt(s2) * rng.standard_normal((n, truth.dim))
    assert_mean_equal_by_z_test(x, truth.mean(t), truth.cov(t), alpha=ALPHA)
    assert_cov_equal_by_z_test(x, truth.mean(t), truth.cov(t), alpha=ALPHA)


# ---------------------------------------------------------------------------------------------
# velocity and reverse drift
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dname", DATA)
@pytest.mark.parametrize("pname", PROCESSES)
def test_velocity_and_reverse_drift_written_out(pname, dname):
    truth = _truth(pname, dname)
    proc = truth.process
    x = _probe_points(truth.data)
    for frac in (0.02, 0.5, 1.0):
        t = frac * truth.T
        f, g2, score = proc.drift(x, t), float(proc.g2(t)), truth.score(x, t)
        np.testing.assert_allclose(truth.velocity(x, t), f - 0.5 * g2 * score, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(truth.reverse_drift(x, t), f - g2 * score, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("dname", DATA)
@pytest.mark.parametrize("schedule", [Linear(), Cosine()], ids=["linear", "cosine"])
def test_vp_velocity_is_minus_half_beta_times_x_plus_score(schedule, dname):
    # MATH.md section 3: v_t = -beta_t/2 (x + grad log q_t)  (not -beta x/2 + beta grad log q)
    truth = ExactMarginals(VP(schedule), problems.data(dname))
    x = _probe_points(truth.data)
    for t in (0.05, 0.5, 0.95):
        beta = float(schedule.beta(t))
        expected = -0.5 * beta * (x + truth.score(x, t))
        np.testing.assert_allclose(truth.velocity(x, t), expected, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(truth.reverse_drift(x, t), -0.5 * beta * x - beta * truth.score(x, t), rtol=1e-13, atol=1e-13)


def _fp_residuals(truth, x, t):
    """Fokker-Planck and continuity residuals at 1D points by 4th-order differences.

    Returns (dq/dt, FP right-hand side, continuity right-hand side, scale).
    """
    proc = truth.process
    a, c, s2 = (float(v) for v in proc.kernel(t))
    scale0 = 0.3 if isinstance(truth.data, GaussianMixture) else 0.0  # narrowest data feature
    hx = 1e-3 * np.sqrt(a * a * scale0**2 + s2)
    ht = 1e-4 * truth.T
    q = lambda y: truth.pdf(y[:, None], t)  # noqa: E731
    dq_dt = central_diff(lambda u: truth.pdf(x[:, None], float(u)), t, ht)
    fq = lambda y: proc.drift(y[:, None], t)[:, 0] * q(y)  # noqa: E731
    qv = lambda y: truth.velocity(y[:, None], t)[:, 0] * q(y)  # noqa: E731
    div_fq = central_diff(fq, x, hx)
    lap_q = second_diff(q, x, hx)
    g2 = float(proc.g2(t))
    fp_rhs = -div_fq + 0.5 * g2 * lap_q
    cont_rhs = -central_diff(qv, x, hx)
    scale = np.max(np.abs(dq_dt)) + np.max(np.abs(div_fq)) + 0.5 * g2 * np.max(np.abs(lap_q))
    return dq_dt, fp_rhs, cont_rhs, scale


@pytest.mark.parametrize("dname", DATA_1D)
@pytest.mark.parametrize("pname", PROCESSES)
def test_q_t_solves_fokker_planck_and_the_continuity_equation_1d(pname, dname):
    # dq/dt = -d(f q)/dx + g^2/2 d2q/dx2 = -d(q v)/dx.  Differences: h_t = 1e-4 T, h_x = 1e-3 times
    # q_t's narrowest length scale, so truncation ~ (h/L)^4 ~ 1e-12 and rounding in the second
    # difference ~ eps / (h/L)^2 ~ 1e-10, relative to the size of the terms.  Tolerance 1e-6 of
    # that size, while a g^2 (not g^2/2) diffusion term or the lecture's slip in v would leave O(1).
    truth = _truth(pname, dname)
    for frac in (0.15, 0.6):
        t = frac * truth.T
        sd = float(np.sqrt(truth.cov(t)[0, 0]))
        m = float(truth.mean(t)[0])
        x = m + sd * np.array([-2.1, -1.3, -0.55, 0.05, 0.8, 1.65])
        dq_dt, fp_rhs, cont_rhs, scale = _fp_residuals(truth, x, t)
        assert_scaled_close(fp_rhs, dq_dt, rtol=0, atol=1e-6 * scale, what=f"Fokker-Planck at t={t:g}")
        assert_scaled_close(cont_rhs, dq_dt, rtol=0, atol=1e-6 * scale, what=f"continuity at t={t:g}")


# ---------------------------------------------------------------------------------------------
# extreme times
# ---------------------------------------------------------------------------------------------


def _all_finite(truth, x, t):
    for method in (truth.logpdf, truth.pdf, truth.score, truth.velocity, truth.reverse_drift):
        out = method(x, t)
        assert np.all(np.isfinite(out)), f"{method.__name__} at t={t:g}: {out}"


@pytest.mark.parametrize("dname", DATA)
@pytest.mark.parametrize("pname", PROCESSES)
def test_stable_as_t_goes_to_zero(pname, dname):
    truth = _truth(pname, dname)
    t = 1e-12
    x = _probe_points(truth.data)
    far = np.vstack([x, np.full((1, truth.dim), 7.5), np.full((1, truth.dim), -1e3)])
    _all_finite(truth, far, t)
    if isinstance(truth.data, GaussianMixture):
        # q_t -> p continuously: s^2(1e-12) < 1e-10 and 1 - a < 1e-10 change the score by < 1e-8 relative
        np.testing.assert_allclose(truth.score(x, t), truth.data.score(x), rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(truth.logpdf(x, t), truth.data.logpdf(x), rtol=1e-9, atol=1e-9)
    else:
        # inside the boxes the blurred density is the box density up to erfc(dist / s) = 0
        inside = np.isfinite(truth.data.logpdf(x))
        np.testing.assert_allclose(truth.logpdf(x[inside], t), truth.data.logpdf(x[inside]), rtol=1e-9)
        np.testing.assert_allclose(truth.score(x[inside], t), 0.0, atol=1e-6)


def _tweedie_bound_check(truth, x, t):
    """For box data (|x0_i| <= R): score = (E[a x0 + c | x] - x) / s^2, so |score + (x - c)/s^2| <= a R / s^2."""
    a, c, s2 = (float(v) if np.ndim(v) == 0 else v for v in truth.process.kernel(t))
    R = float(np.max(np.abs(np.vstack([truth.data.lower, truth.data.upper]))))
    dev = np.abs(truth.score(x, t) + (x - c) / s2)
    assert np.all(dev <= a * R / s2 * (1 + 1e-12) + 1e-12 * np.abs(x) / s2), dev.max()


@pytest.mark.parametrize("dname", DATA)
@pytest.mark.parametrize("pname", ["ou", "ve-geometric", "vp-linear", "subvp-linear"])
def test_stable_for_large_noise_at_final_time(pname, dname):
    truth = _truth(pname, dname)
    T = truth.T
    x = _probe_points(truth.data)
    far = np.vstack([x, np.full((1, truth.dim), 1e3), np.full((1, truth.dim), -1e6)])
    _all_finite(truth, far, T)
    if isinstance(truth.data, BoxMixture):
        _tweedie_bound_check(truth, far, T)


def test_ve_score_at_sigma_50_is_nearly_the_gaussian_one():
    truth = _truth("ve-geometric", "gmm2d-aniso")
    s2 = 50.0**2 - 0.01**2
    x = np.array([[0.0, 0.0], [30.0, -70.0], [1e3, 1e3]])
    # q_T = sum w N(m_k, S_k + s2 I): relative to -x/s2 the score differs by O(|m|/s2 + |S|/s2) ~ 1e-3
    S = truth.cov(1.0)
    expected = -np.linalg.solve(S, (x - truth.mean(1.0)).T).T
    np.testing.assert_allclose(truth.score(x, 1.0), expected, rtol=1e-3, atol=1e-3 / s2 * 10)


# ---------------------------------------------------------------------------------------------
# construction errors, time checks, cache
# ---------------------------------------------------------------------------------------------


def test_non_affine_process_raises():
    with pytest.raises(NotAffineError, match="Langevin is not affine.*grid solver"):
        ExactMarginals(Langevin(DoubleWell(), 0.25), problems.data("gmm1d-bimodal"))


def test_data_without_closed_form_evolution_raises():
    with pytest.raises(NotAffineError, match="Boltzmann1D has no closed form.*grid solver"):
        ExactMarginals(problems.process("vp-linear"), problems.data("doublewell1d"))


def test_dimension_mismatch_and_wrong_data_type_raise():
    with pytest.raises(InputError, match="process is 3-dimensional but data is 2-dimensional"):
        ExactMarginals(OU(1.0, [0.0, 0.0, 0.0]), problems.data("gmm2d-aniso"))
    with pytest.raises(InputError, match="data must be a fpcheck Distribution"):
        ExactMarginals(problems.process("vp-linear"), np.zeros(3))
    truth = _truth("vp-linear", "gmm2d-aniso")
    with pytest.raises(InputError, match=r"shape \(n, 2\)"):
        truth.score(np.zeros((4, 3)), 0.5)
    with pytest.raises(InputError, match=r"shape \(n, 2\)"):
        truth.velocity(np.zeros((4, 3)), 0.5)


def test_ou_with_vector_mu_matches_its_dimension():
    mu = np.array([1.0, -0.5])
    truth = ExactMarginals(OU(0.8, mu, 1.5, 4.0), problems.data("gmm2d-aniso"))
    t = 4.0
    a, c, s2 = truth.process.kernel(t)
    np.testing.assert_allclose(c, mu * (1 - np.exp(-0.8 * t)), rtol=1e-14)
    np.testing.assert_allclose(truth.mean(t), a * truth.data.mean() + c, rtol=1e-14)
    x = _probe_points(truth.data)
    expected = -0.8 * (x - mu) - 0.75 * truth.score(x, t)  # f - g^2/2 score, g^2 = 1.5
    np.testing.assert_allclose(truth.velocity(x, t), expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("bad, match", [(-1e-9, r"\[0, 1\]"), (1.0 + 1e-9, r"\[0, 1\]"), (np.nan, "NaN"), ([0.1, 0.2], "scalar time")])
def test_time_is_checked(bad, match):
    truth = _truth("vp-linear", "gmm1d-bimodal")
    for call in (lambda: truth.at(bad), lambda: truth.score([[0.0]], bad), lambda: truth.velocity([[0.0]], bad)):
        with pytest.raises(InputError, match=match):
            call()


def test_cache_returns_equal_results_and_stays_bounded():
    truth = _truth("vp-linear", "gmm2d-aniso")
    x = _probe_points(truth.data)
    first = truth.score(x, 0.3)
    assert truth.at(0.3) is truth.at(0.3)
    np.testing.assert_array_equal(truth.score(x, 0.3), first)
    fresh = _truth("vp-linear", "gmm2d-aniso")
    np.testing.assert_array_equal(fresh.score(x, 0.3), first)
    for t in np.linspace(0.0, 1.0, 3 * ExactMarginals._CACHE_SIZE):
        truth.at(t)
    assert len(truth._cache) <= ExactMarginals._CACHE_SIZE
    np.testing.assert_array_equal(truth.score(x, 0.3), first)  # evicted and rebuilt: the same numbers
    assert truth.T == 1.0
    assert "ExactMarginals(VP(" in repr(truth)
