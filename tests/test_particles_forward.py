"""Forward simulators: kernels against NumPy references, reproducibility, and the truth.

Statistical checks use fixed seeds at significance level alpha = 1e-3 (z bound 3.29), with
Bonferroni over the times a test looks at.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.errors import InputError
from fpcheck.particles._forward import (
    euler_maruyama_affine,
    euler_maruyama_affine_reference,
    exact_affine,
    exact_affine_reference,
)
from fpcheck.particles.forward import _step_grid, simulate_forward
from fpcheck.processes import OU

ALPHA, Z_CRIT = 1e-3, 3.29
TIMES = (0.05, 0.2, 1.0)


def test_kernels_match_their_references(rng):
    x0 = rng.normal(size=(300, 2))
    K = 20
    rate, g, dt = rng.uniform(0, 1, K), rng.uniform(0.5, 1, K), np.full(K, 0.05)
    shift = rng.normal(size=(K, 2))
    save = np.array([0, 5, 20])
    got = euler_maruyama_affine(x0, rate, shift, g, dt, save, np.uint64(7), np.uint64(0))
    np.testing.assert_allclose(
        got, euler_maruyama_affine_reference(x0, rate, shift, g, dt, save, 7, 0), rtol=1e-13, atol=1e-13
    )
    a, s, c = rng.uniform(0.5, 1, 3), rng.uniform(0.1, 1, 3), rng.normal(size=(3, 2))
    np.testing.assert_allclose(
        exact_affine(x0, a, c, s, np.uint64(7), np.uint64(0)),
        exact_affine_reference(x0, a, c, s, 7, 0),
        rtol=1e-13,
        atol=1e-13,
    )


def test_chunks_and_threads_give_the_same_bits(rng):
    import numba

    x0 = rng.normal(size=(1000, 2))
    K = 10
    args = (np.full(K, 0.3), np.zeros((K, 2)), np.ones(K), np.full(K, 0.1), np.array([K]), np.uint64(5))
    whole = euler_maruyama_affine(x0, *args, np.uint64(0))
    parts = np.concatenate(
        [euler_maruyama_affine(x0[:300], *args, np.uint64(0)), euler_maruyama_affine(x0[300:], *args, np.uint64(300))],
        axis=1,
    )
    assert np.array_equal(whole, parts)
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    a = simulate_forward(proc, data, 3000, TIMES, method="em", steps=50, seed=9)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = simulate_forward(proc, data, 3000, TIMES, method="em", steps=50, seed=9)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(a.samples, b.samples)


def test_exact_transitions_against_the_exact_cdf():
    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    sol = simulate_forward(truth.process, truth.data, 20000, TIMES, seed=3)
    for t, x in zip(sol.times, sol.samples):
        p = stats.kstest(x[:, 0], lambda y, t=t: truth.at(float(t)).cdf(y[:, None])).pvalue
        assert p > ALPHA / len(TIMES), (t, p)


def test_euler_maruyama_moments_follow_its_recursion_and_converge_at_order_1():
    # OU (gamma, mu, beta): EM's mean and variance obey m' = (1 - g dt) m + g mu dt and
    # v' = (1 - g dt)^2 v + beta dt exactly, so the samples are held to the recursion (Monte
    # Carlo z-scores) and the recursion to the exact moments (a deterministic order 1 in dt).
    gamma, mu, beta = 1.5, 0.7, 2.0
    proc = OU(gamma, mu, beta, T=2.0)
    m0, v0, t = -1.0, 0.25, 2.0
    x0 = m0 + np.sqrt(v0) * np.random.default_rng(1).standard_normal((40000, 1))
    m_exact = mu + (m0 - mu) * np.exp(-gamma * t)
    v_exact = v0 * np.exp(-2 * gamma * t) + beta / (2 * gamma) * (1 - np.exp(-2 * gamma * t))

    def recursion(m, v, steps):
        dt = t / steps
        for _ in range(steps):
            m, v = (1 - gamma * dt) * m + gamma * mu * dt, (1 - gamma * dt) ** 2 * v + beta * dt
        return m, v

    errors = []
    for steps in (10, 20, 40):
        m, v = recursion(x0.mean(), x0.var(), steps)  # from the sample's own start
        x = simulate_forward(proc, x0, 0, [t], method="em", steps=steps, seed=4).samples[0, :, 0]
        n = x.size
        assert abs(x.mean() - m) / np.sqrt(v / n) < Z_CRIT
        assert abs(x.var() - v) / (v * np.sqrt(2.0 / n)) < Z_CRIT
        m_e, v_e = recursion(m0, v0, steps)
        errors.append(abs(m_e - m_exact) + abs(v_e - v_exact))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 0.9) & (orders < 1.1)), orders


def test_step_grid_lands_on_every_output_time():
    dt, save = _step_grid(np.array([0.0, 0.1, 0.35, 1.0]), 20)
    ends = np.concatenate([[0.0], np.cumsum(dt)])
    np.testing.assert_allclose(ends[save], [0.0, 0.1, 0.35, 1.0], atol=1e-15)


def test_bad_input():
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    with pytest.raises(InputError, match="unknown method"):
        simulate_forward(proc, data, 10, [0.5], method="rk4")
    with pytest.raises(InputError, match="affine"):
        simulate_forward(problems.process("langevin-doublewell"), data, 10, [0.5])
    with pytest.raises(InputError, match="time range"):
        simulate_forward(proc, data, 10, [1.5])
    with pytest.raises(InputError, match="n must"):
        simulate_forward(proc, data, 0, [0.5])
    with pytest.raises(InputError, match="finite"):
        simulate_forward(proc, np.array([[np.nan]]), 1, [0.5])
