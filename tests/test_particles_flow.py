"""Probability-flow integrators: kernels against NumPy references, orders, round trips, the truth.

Statistical checks (KS against the exact cdf) use fixed seeds at significance level alpha = 1e-3,
with Bonferroni over the times a test looks at.  RK4 with 50 steps from t = 0 moves E[x^2] by
less than 1e-6 (the quadrature test below measures its error), far below what 20000 samples
detect.

The order tests have no Monte-Carlo noise: the particles are the nodes of a trapezoid rule for
q_T on [-10, 10] (2001 nodes, weights q_T(x_i) dx), so sum_i w_i phi(x_i(K)) is E_{q_t}[phi] up
to the integrator's error and a quadrature error of 4e-12 (measured with RK4 at 1000 steps).  They
stop at t = 0.2: at t = 0.05 the flow map of gmm1d-bimodal is so steep across the gap between
the modes that the trapezoid rule is no longer spectrally accurate (error 6e-6 with 40001 nodes),
which would hide RK4's error.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.errors import InputError
from fpcheck.particles._flow import SCHEMES, flow_fixed, flow_fixed_reference, stage_times
from fpcheck.particles.convergence import weak_study
from fpcheck.particles.fields import ExactField, flow_velocity
from fpcheck.particles.flow import FLOW_METHODS, integrate_flow
from fpcheck.particles.solution import _landing_grid
from fpcheck.processes import OU

ALPHA = 1e-3
FIXED = ("euler", "heun", "rk4")


@pytest.mark.parametrize("method", FIXED)
@pytest.mark.parametrize("data_name", ["gmm2d-aniso", "gmm3d-tetra"])
def test_kernel_matches_its_reference(method, data_name):
    proc, data = problems.process("vp-linear"), problems.data(data_name)
    truth, field = ExactMarginals(proc, data), ExactField(proc, data)
    x0 = truth.sample(300, 1.0, np.random.default_rng(1))
    scheme = SCHEMES[method]
    for start, times in ((1.0, np.array([0.6, 0.0])), (0.0, np.array([0.3, 1.0]))):
        nodes, save = _landing_grid(start, times, 16)
        tab = tuple(field.tables(stage_times(nodes, scheme)))
        got, bad = flow_fixed(x0, tab, np.diff(nodes), scheme, save, 1e12)
        assert np.all(bad == -1)
        ref = flow_fixed_reference(x0, truth.velocity, nodes, scheme, save)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", FIXED)
def test_user_velocity_path_matches_the_compiled_path(method):
    proc, data = problems.process("ve-geometric"), problems.data("gmm2d-ring8")
    truth = ExactMarginals(proc, data)
    kw = dict(n=1000, t_start=1.0, times=(0.0, 0.5), method=method, steps=60, seed=2)
    compiled = integrate_flow(proc, ExactField(proc, data), truth.at(1.0), **kw)
    for velocity in (truth.velocity, flow_velocity(proc, truth.score)):
        user = integrate_flow(proc, velocity, truth.at(1.0), **kw)
        scale = np.abs(compiled.samples).max()
        np.testing.assert_allclose(user.samples, compiled.samples, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_array_equal(compiled.times, [0.5, 0.0])


def test_threads_and_chunks_give_the_same_bits():
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    field = ExactField(proc, data)
    x0 = data.sample(1000, np.random.default_rng(3))
    kw = dict(t_start=0.0, times=(0.5, 1.0), method="rk4", steps=20)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = integrate_flow(proc, field, x0, **kw).samples
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = integrate_flow(proc, field, x0, **kw).samples
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one, two)
    assert np.array_equal(integrate_flow(proc, field, x0, chunk_size=333, **kw).samples, one)


def test_forward_flow_from_q0_lands_on_q_t():
    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    times = (0.2, 1.0)
    field = ExactField(truth.process, truth.data)
    sol = integrate_flow(truth.process, field, truth.data, 20000, t_start=0.0, times=times, steps=50, seed=4)
    np.testing.assert_array_equal(sol.times, times)
    for t, x in zip(sol.times, sol.samples):
        p = stats.kstest(x[:, 0], lambda y, t=t: truth.at(float(t)).cdf(y[:, None])).pvalue
        assert p > ALPHA / len(times), (t, p)


@pytest.mark.parametrize(
    "method, order, step_counts",
    [("euler", 1, (20, 40, 80, 160)), ("heun", 2, (20, 40, 80, 160)), ("rk4", 4, (16, 32, 64))],
)
def test_orders_by_quadrature_over_q_T(method, order, step_counts):
    # MATH.md 3: the backward flow carries q_T to q_t, so sum_i w_i phi(x_i(K)) -> E_{q_t}[phi]
    # (fpcheck.particles.convergence: 2001 trapezoid nodes over q_T, accurate to ~4e-12 at t = 0.2)
    study = weak_study(problems.process("vp-linear"), problems.data("gmm1d-bimodal"), f"flow-{method}", step_counts, t_end=0.2)
    assert study.se is None
    for name, err in study.errors.items():
        err = np.abs(err)
        assert min(err) > 1e4 * 4e-12  # well above the quadrature error
        local = np.log2(err[:-1] / err[1:])
        fit = study.fits[name]
        assert fit.used == len(step_counts)
        assert abs(fit.order - order) < 0.3 and np.all(np.abs(local - order) < 0.3), (name, fit, local)


def test_forward_then_backward_returns_the_start():
    # MATH.md exercise 6.  RK4 forward with K steps and back with 4K: the error is the forward
    # leg's O(h^4), so doubling K divides it by about 16 (order 4 +- 0.3: a ratio in [12.1, 19.7]).
    # Back on the mirrored grid of the same K steps the legs' leading errors cancel (RK4 has even
    # order, so its adjoint has the same error constant and Phi_{-h} Phi_h = id + O(h^6) a step):
    # the round trip is O(h^5), a ratio near 32.  RK45: within a small multiple of its tolerance.
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-aniso")
    field = ExactField(proc, data)
    x0 = data.sample(500, np.random.default_rng(5))

    def round_trip(back_steps=None, **kw):
        there = integrate_flow(proc, field, x0, t_start=0.0, times=(1.0,), **kw)
        if back_steps is not None:
            kw["steps"] = back_steps
        back = integrate_flow(proc, field, there.samples[0], t_start=1.0, times=(0.0,), **kw)
        return np.abs(back.samples[0] - x0).max(), there, back

    step_counts = np.array([20, 40, 80])
    for back_factor, order in ((4, 4), (1, 5)):
        errors = np.array([round_trip(method="rk4", steps=s, back_steps=back_factor * s)[0] for s in step_counts])
        orders = np.log2(errors[:-1] / errors[1:])
        assert np.all(np.abs(orders - order) < 0.3), (back_factor, orders)
    for rtol in (1e-5, 1e-8):
        atol = 1e-3 * rtol
        err, there, back = round_trip(method="rk45", rtol=rtol, atol=atol)
        assert err < 20 * (atol + rtol * np.abs(x0).max()), (rtol, err)
        assert there.steps > 5 and back.steps > 5


def test_rk45_lands_on_every_output_time_within_its_tolerance():
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    field, truth = ExactField(proc, data), ExactMarginals(proc, data)
    x_T = truth.sample(2000, 1.0, np.random.default_rng(6))
    times = (0.0, 0.3, 0.7)
    rtol, atol = 1e-6, 1e-9
    adaptive = integrate_flow(proc, field, x_T, t_start=1.0, times=times, method="rk45", rtol=rtol, atol=atol)
    fine = integrate_flow(proc, field, x_T, t_start=1.0, times=times, method="rk4", steps=1000)  # error ~1e-11
    np.testing.assert_array_equal(adaptive.times, [0.7, 0.3, 0.0])
    scaled = np.abs(adaptive.samples - fine.samples) / (atol + rtol * np.abs(fine.samples))
    assert scaled.max() < 20, scaled.max()
    # the step sequence depends on the batch; for the same batch the user path takes the compiled
    # path's steps (its field differs by round-off only), so the two agree far below the tolerance
    kw = dict(t_start=1.0, times=times, method="rk45", rtol=rtol, atol=atol)
    user = integrate_flow(proc, truth.velocity, x_T[:500], **kw)
    compiled = integrate_flow(proc, field, x_T[:500], **kw)
    assert user.steps == compiled.steps
    np.testing.assert_allclose(user.samples, compiled.samples, rtol=1e-11, atol=1e-11)


def test_blow_up_and_bad_values_are_reported():
    proc = problems.process("vp-linear")
    x0 = np.linspace(-1, 1, 100)[:, None]
    with pytest.raises(InputError, match=r"euler: particles blew up in step 3 of 5 \(t = 0\.4 -> 0\.6\).*take more steps"):
        integrate_flow(proc, lambda x, t: 1e5 * x, x0, t_start=0.0, times=(1.0,), method="euler", steps=5)
    with pytest.raises(InputError, match="rk45"):  # dx/dt = x^2 from x = 1 leaves every bound at t = 1
        integrate_flow(proc, lambda x, t: x * x + 1.0, x0[-1:], t_start=0.0, times=(1.0,), method="rk45")

    def flat(x, t):
        return x[:, 0]

    with pytest.raises(InputError, match=r"flat returned shape \(100,\) at t = 0"):
        integrate_flow(proc, flat, x0, t_start=0.0, times=(1.0,))
    # the kernel's status: the first step after which a particle is outside the bound
    field = ExactField(proc, problems.data("gmm1d-bimodal"))
    nodes, _ = _landing_grid(0.0, np.array([1.0]), 10)
    tab = tuple(field.tables(stage_times(nodes, SCHEMES["euler"])))
    x = np.linspace(-4, 4, 300)[:, None]
    path, _ = flow_fixed(x, tab, np.diff(nodes), 0, np.arange(11), np.inf)
    outside = np.abs(path[1:, :, 0]) > 3.0
    expected = np.where(outside.any(axis=0), outside.argmax(axis=0), -1)
    assert 0 < np.count_nonzero(expected >= 0) < 300
    _, bad = flow_fixed(x, tab, np.diff(nodes), 0, np.array([10]), 3.0)
    np.testing.assert_array_equal(bad, expected)


def test_bad_arguments(capsys):
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    field = ExactField(proc, data)
    with pytest.raises(InputError, match="unknown method 'rk3'; choose one of " + ", ".join(FLOW_METHODS)):
        integrate_flow(proc, field, data, 10, t_start=0.0, times=(1.0,), method="rk3")
    with pytest.raises(InputError, match="both sides of t_start"):
        integrate_flow(proc, field, data, 10, t_start=0.5, times=(0.2, 0.8))
    with pytest.raises(InputError, match="time range"):
        integrate_flow(proc, field, data, 10, t_start=0.0, times=(1.5,))
    with pytest.raises(InputError, match="time range"):
        integrate_flow(proc, field, data, 10, t_start=-0.1, times=(1.0,))
    with pytest.raises(InputError, match="n must be a positive integer"):
        integrate_flow(proc, field, data, t_start=0.0, times=(1.0,))
    with pytest.raises(InputError, match="rtol must be > 0"):
        integrate_flow(proc, field, data, 10, t_start=0.0, times=(1.0,), method="rk45", rtol=0.0)
    with pytest.raises(InputError, match="built for"):
        integrate_flow(problems.process("ou"), field, data, 10, t_start=0.0, times=(1.0,))
    with pytest.raises(TypeError):
        integrate_flow(proc, field, data, 10, times=(1.0,))  # t_start is required
    # output times equal to t_start are returned as they are; progress goes to stderr
    sol = integrate_flow(proc, field, data, 300, t_start=0.5, times=(0.5, 0.2), method="heun", progress=True)
    np.testing.assert_array_equal(sol.times, [0.5, 0.2])
    np.testing.assert_array_equal(sol.samples[0], data.sample(300, np.random.default_rng(0)))
    assert "flow heun: 300/300 particles" in capsys.readouterr().err


def test_a_stage_that_overflows_is_reported_as_a_blow_up_not_as_the_fields_fault():
    # v = 1e308 (finite) over a step h = 5: RK4's second stage point x + h/2 k1 is inf, so the
    # step is reported as blown up and the field is never called on inf
    proc = OU(1.0, 0.0, 2.0, T=5.0)
    seen = []

    def huge(x, t):
        seen.append(bool(np.all(np.isfinite(x))))
        return np.full_like(x, 1e308)

    with pytest.raises(InputError, match=r"rk4: particles blew up in step 1 of 1 \(t = 0 -> 5\)"):
        integrate_flow(proc, huge, np.ones((10, 1)), t_start=0.0, times=(5.0,), method="rk4", steps=1)
    assert seen == [True]
