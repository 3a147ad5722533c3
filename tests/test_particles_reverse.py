"""Reverse-SDE integrators: kernels against NumPy references, reproducibility, weak orders, the truth.

Statistical checks use fixed seeds at significance level alpha = 1e-3 (z bound 3.29, KS p-value
bound 1e-3), with Bonferroni over the times or step counts a test looks at.

Discretisation bias in the KS tests (vp-linear, gmm1d-bimodal, from exact q_T samples): measured
once with 10^6 particles, the KS distance to the exact cdf of q_0 is about 0.45 / K for EM and
3.7 / K^2 for Heun.  At K = 400 (EM) and K = 100 (Heun) that is 1.1e-3 and 4e-4, while the KS test
with n = 20000 at alpha = 5e-4 only detects distances above 1.95 / sqrt(n) = 1.4e-2: the bias is
more than ten times below detection.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError
from fpcheck.particles._reverse import reverse_sde, reverse_sde_reference
from fpcheck.particles.fields import ExactField
from fpcheck.particles.reverse import REVERSE_METHODS, simulate_reverse
from fpcheck.particles.solution import _landing_grid
from fpcheck.processes import OU

ALPHA, Z_CRIT = 1e-3, 3.29


def _kernel_inputs(proc, nodes, heun):
    h = nodes[:-1] - nodes[1:]
    noise_times = 0.5 * (nodes[:-1] + nodes[1:]) if heun else nodes[:-1]
    return h, np.sqrt(proc.g2(noise_times) * h)


@pytest.mark.parametrize("method", REVERSE_METHODS)
@pytest.mark.parametrize("data_name", ["gmm2d-aniso", "gmm3d-tetra"])
def test_kernel_matches_its_reference(method, data_name):
    proc, data = problems.process("vp-linear"), problems.data(data_name)
    truth, field = ExactMarginals(proc, data), ExactField(proc, data)
    x0 = truth.sample(300, 1.0, np.random.default_rng(1))
    nodes, save = _landing_grid(1.0, np.array([0.6, 0.0]), 20)
    h, sigma = _kernel_inputs(proc, nodes, method == "heun")
    tab, heun = tuple(field.tables(nodes)), method == "heun"
    got, bad = reverse_sde(x0, tab, h, sigma, heun, save, np.uint64(7), np.uint64(5), 1e12)
    ref = reverse_sde_reference(x0, truth.reverse_drift, nodes, sigma, method == "heun", save, 7, 5)
    assert np.all(bad == -1)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", REVERSE_METHODS)
def test_threads_and_chunks_give_the_same_bits(method):
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    field = ExactField(proc, data)
    x0 = ExactMarginals(proc, data).sample(1500, 1.0, np.random.default_rng(2))
    kw = dict(times=(0.0, 0.5), method=method, steps=30, seed=11)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate_reverse(proc, field, x0, **kw).samples
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = simulate_reverse(proc, field, x0, **kw).samples
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one, two)
    for size in (300, 1000, 1499):
        assert np.array_equal(simulate_reverse(proc, field, x0, chunk_size=size, **kw).samples, one)
    # the bound method field.score runs the same compiled kernel
    assert np.array_equal(simulate_reverse(proc, field.score, x0, **kw).samples, one)
    # the NumPy path for user scores reads the same noise in any chunking
    score = ExactMarginals(proc, data).score
    a = simulate_reverse(proc, score, x0[:400], chunk_size=150, **kw).samples
    assert np.array_equal(a, simulate_reverse(proc, score, x0[:400], **kw).samples)


@pytest.mark.parametrize("method", REVERSE_METHODS)
def test_user_score_path_matches_the_compiled_path(method):
    proc, data = problems.process("subvp-linear"), problems.data("gmm2d-aniso")
    truth = ExactMarginals(proc, data)
    kw = dict(n=2000, times=(0.0, 0.2, 0.7), method=method, steps=40, seed=3)
    compiled = simulate_reverse(proc, ExactField(proc, data), truth.at(1.0), **kw)
    user = simulate_reverse(proc, truth.score, truth.at(1.0), **kw)
    np.testing.assert_array_equal(compiled.times, [0.7, 0.2, 0.0])
    assert compiled.steps == user.steps == 40
    np.testing.assert_allclose(user.samples, compiled.samples, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method, steps", [("em", 400), ("heun", 100)])
def test_reverse_sde_from_exact_q_T_lands_on_q_t(method, steps):
    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    x_T = truth.sample(20000, 1.0, np.random.default_rng(4))
    field = ExactField(truth.process, truth.data)
    sol = simulate_reverse(truth.process, field, x_T, times=(0.0, 0.3), method=method, steps=steps, seed=5)
    for t, x in zip(sol.times, sol.samples):
        p = stats.kstest(x[:, 0], lambda y, t=t: truth.at(float(t)).cdf(y[:, None])).pvalue
        assert p > ALPHA / 2, (t, p)


def _gaussian_moment_recursion(proc, m0, v0, nodes, method, m, v):
    """The mean and variance of the scheme for Gaussian data N(m0, v0), where b = alpha x + beta is linear.

    EM: x' = (1 - alpha_k h) x - beta_k h + eta.  Heun: x' = A x + C + D eta with
    A = 1 - h/2 alpha_k - h/2 alpha_{k+1} (1 - alpha_k h), C = -h/2 (beta_k + beta_{k+1} - alpha_{k+1} beta_k h),
    D = 1 - h/2 alpha_{k+1}; eta ~ N(0, sigma_k^2).
    """
    a, c, s2 = proc.kernel(nodes)
    lam, kap, g2 = proc.coefficients(nodes)
    mu, var = a * m0 + c, a * a * v0 + s2
    alpha, beta = -lam + g2 / var, kap - g2 * mu / var
    h, sigma = _kernel_inputs(proc, nodes, method == "heun")
    for k in range(h.size):
        if method == "em":
            A, C, D = 1 - alpha[k] * h[k], -beta[k] * h[k], 1.0
        else:
            A = 1 - 0.5 * h[k] * alpha[k] - 0.5 * h[k] * alpha[k + 1] * (1 - alpha[k] * h[k])
            C = -0.5 * h[k] * (beta[k] + beta[k + 1] - alpha[k + 1] * beta[k] * h[k])
            D = 1 - 0.5 * h[k] * alpha[k + 1]
        m, v = A * m + C, A * A * v + D * D * sigma[k] ** 2
    return m, v


@pytest.mark.parametrize("method, order, step_counts", [("em", 1, (40, 80, 160)), ("heun", 2, (20, 40, 80, 160))])
def test_weak_order_on_gaussian_data(method, order, step_counts):
    # For Gaussian data the exact reverse drift is linear, so the scheme's mean and variance obey an
    # exact recursion: the samples are held to it (z-tests), and the recursion to the exact moments
    # of q_0 (deterministic errors whose order on doubling the steps is the weak order).
    proc = problems.process("vp-linear")
    m0, v0 = 0.8, 0.09
    data = GaussianMixture.isotropic([1.0], [[m0]], np.sqrt(v0))
    truth, field = ExactMarginals(proc, data), ExactField(proc, data)
    x_T = truth.sample(40000, 1.0, np.random.default_rng(6))
    errors = []
    for steps in step_counts:
        nodes, _ = _landing_grid(1.0, np.array([0.0]), steps)
        m, v = _gaussian_moment_recursion(proc, m0, v0, nodes, method, x_T.mean(), x_T.var())
        x = simulate_reverse(proc, field, x_T, method=method, steps=steps, seed=7).samples[0, :, 0]
        n, z = x.size, Z_CRIT + 0.5  # Bonferroni over up to 8 z-tests: alpha / 8 needs z = 3.8
        assert abs(x.mean() - m) / np.sqrt(v / n) < z
        assert abs(x.var() - v) / (v * np.sqrt(2.0 / n)) < z
        m_exact_start, v_exact_start = _gaussian_moment_recursion(
            proc, m0, v0, nodes, method, float(truth.mean(1.0)[0]), float(truth.cov(1.0)[0, 0])
        )
        errors.append(abs(m_exact_start - m0) + abs(v_exact_start - v0))
    fitted = -np.polyfit(np.log(step_counts), np.log(errors), 1)[0]
    local = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert abs(fitted - order) < 0.3 and np.all(np.abs(local - order) < 0.3), (fitted, local)


@pytest.mark.slow
def test_em_weak_order_on_the_bimodal_mixture():
    # E[x^2] at t = 0 after EM from exact q_T samples: errors 0.09 (K = 20) to 0.009 (K = 160),
    # Monte-Carlo standard error 1.1e-3 at n = 2e6, so the fitted order is good to about 0.1.
    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    field = ExactField(truth.process, truth.data)
    x_T = truth.sample(2_000_000, 1.0, np.random.default_rng(8))
    exact = float(truth.cov(0.0)[0, 0] + truth.mean(0.0)[0] ** 2)
    step_counts = (20, 40, 80, 160)
    errors = []
    for steps in step_counts:
        x = simulate_reverse(truth.process, field, x_T, method="em", steps=steps, seed=9).samples[0, :, 0]
        se = np.std(x * x) / np.sqrt(x.size)
        errors.append(abs(np.mean(x * x) - exact))
        assert errors[-1] > 5 * se
    fitted = -np.polyfit(np.log(step_counts), np.log(errors), 1)[0]
    assert abs(fitted - 1.0) < 0.3, fitted


def test_first_bad_step_is_reported_by_the_kernel():
    # bad[r] is the first step after which particle r is outside |x| <= bound
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    field = ExactField(proc, data)
    x0 = ExactMarginals(proc, data).sample(600, 1.0, np.random.default_rng(10))
    nodes, _ = _landing_grid(1.0, np.array([0.0]), 12)
    tab, every = tuple(field.tables(nodes)), np.arange(13)
    for heun in (False, True):
        h, sigma = _kernel_inputs(proc, nodes, heun)
        path, _ = reverse_sde(x0, tab, h, sigma, heun, every, np.uint64(1), np.uint64(0), np.inf)
        bound = 2.5
        outside = np.abs(path[1:]).max(axis=2) > bound  # (steps, n)
        expected = np.where(outside.any(axis=0), outside.argmax(axis=0), -1)
        assert 0 < np.count_nonzero(expected >= 0) < 600
        _, bad = reverse_sde(x0, tab, h, sigma, heun, np.array([12]), np.uint64(1), np.uint64(0), bound)
        np.testing.assert_array_equal(bad, expected)


def test_blow_up_names_the_method_step_and_time():
    # OU with gamma = 1000 near stationarity: b = gamma x, so EM multiplies x by 1 - gamma h = -99
    proc = OU(1000.0, 0.0, 2.0, T=1.0)
    data = problems.data("gmm1d-bimodal")
    x_T = ExactMarginals(proc, data).sample(1000, 1.0, np.random.default_rng(11))
    with pytest.raises(InputError, match=r"em: particles blew up in step \d of 10 \(t = .*\).*take more steps"):
        simulate_reverse(proc, ExactField(proc, data), x_T, steps=10)
    # a user score s = 1e4 x on VP: Heun multiplies x by about (1e4 g^2 h)^2 / 2 = 2e8 per step,
    # so |x| <= 0.2 passes 1.2e12 in the second step
    vp = problems.process("vp-linear")
    with pytest.raises(InputError, match=r"heun: particles blew up in step 2 of 10 \(t = 0\.9 -> 0\.8\)"):
        simulate_reverse(vp, lambda x, t: 1e4 * x, x_T, steps=10, method="heun")


def test_bad_field_values_name_the_field_and_time():
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    x_T = ExactMarginals(proc, data).sample(50, 1.0, np.random.default_rng(12))

    def half_width(x, t):
        return x[:, :1]

    def nan_below_half(x, t):
        return np.full_like(x, np.nan) if t < 0.5 else -x

    with pytest.raises(InputError, match=r"half_width returned shape \(50, 1\) at t = 1"):
        simulate_reverse(proc, half_width, x_T, steps=10)
    with pytest.raises(InputError, match=r"nan_below_half returned 100 NaN or inf value\(s\) at t = 0\.4"):
        simulate_reverse(proc, nan_below_half, x_T, steps=10)


def test_bad_arguments(capsys):
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    field = ExactField(proc, data)
    prior = GaussianMixture.isotropic([1.0], [[0.0]], 1.0)
    with pytest.raises(InputError, match="unknown method 'rk4'; choose one of em, heun"):
        simulate_reverse(proc, field, prior, 10, method="rk4")
    with pytest.raises(InputError, match=r"times must lie in \[0, t_start\] = \[0, 0\.5\]"):
        simulate_reverse(proc, field, prior, 10, times=(0.8,), t_start=0.5)
    with pytest.raises(InputError, match="time range"):
        simulate_reverse(proc, field, prior, 10, t_start=1.5)
    with pytest.raises(InputError, match="n must be a positive integer"):
        simulate_reverse(proc, field, prior)
    with pytest.raises(InputError, match="steps must be"):
        simulate_reverse(proc, field, prior, 10, steps=0)
    with pytest.raises(InputError, match="chunk_size must be"):
        simulate_reverse(proc, field, prior, 10, chunk_size=0)
    with pytest.raises(InputError, match="ExactField or a callable"):
        simulate_reverse(proc, ExactMarginals(proc, data), prior, 10)
    with pytest.raises(InputError, match="built for"):
        simulate_reverse(problems.process("subvp-linear"), field, prior, 10)
    with pytest.raises(InputError, match="dimensional"):
        simulate_reverse(proc, field, np.zeros((5, 2)))
    with pytest.raises(InputError, match="seed"):
        simulate_reverse(proc, field, prior, 10, seed=-1)
    # t_start = min(times): nothing to do; progress goes to stderr
    sol = simulate_reverse(proc, field, prior, 1000, times=(0.5,), t_start=0.5, progress=True)
    assert sol.steps == 0 and sol.samples.shape == (1, 1000, 1)
    assert "reverse em: 1000/1000 particles" in capsys.readouterr().err
