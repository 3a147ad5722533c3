"""The particle dispatcher ``simulate`` and the general (non-affine) Euler-Maruyama path.

Statistical checks use fixed seeds at the family-wise significance level alpha = 0.01 of
:func:`fpcheck.particles.checks.check_against_truth` (Holm within a time, Bonferroni across the
times), so an exact sampler fails such a test with probability at most 0.01 on a fresh seed; the
seeds are fixed, so every outcome here is deterministic.

Euler-Maruyama bias in the Langevin check (U = (x^2 - 1)^2, kT = 0.25, from N(-1, 0.05^2)): near
the well at -1 the dynamics is an OU process of rate U''(-1) = 8, for which EM's stationary variance
is kT / (8 - 32 dt) instead of kT / 8, a relative error 4 dt.  At dt = 1e-3 that is 0.4%, a 0.2%
error in the sd, which moves a Gaussian cdf by at most 0.002 max|x phi(x)| = 5e-4, while the
grid-only family (AD, KS, binned chi2) at n = 20000 and level 0.01 / 3 needs a KS distance of about
1.9 / sqrt(n) = 1.3e-2: the bias is far below detection.  At dt = 0.05 (20 steps) the variance is
20% off (KS distance ~0.024), and the same check must fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError
from fpcheck.particles.checks import check_against_truth
from fpcheck.particles.fields import ExactField
from fpcheck.particles.flow import integrate_flow
from fpcheck.particles.forward import simulate_forward
from fpcheck.particles.methods import METHODS, is_generation
from fpcheck.particles.reverse import simulate_reverse
from fpcheck.particles.simulate import simulate
from fpcheck.particles.solution import ParticleSolution
from fpcheck.processes import Process

ALPHA = 0.01
EPS = float(np.finfo(float).eps)


class _Disguised(Process):
    """An affine process seen only through ``drift`` and ``g2``: it takes the general EM path."""

    is_affine = False

    def __init__(self, inner):
        self.inner, self.T, self.dim = inner, inner.T, inner.dim

    def drift(self, x, t):
        return self.inner.drift(x, t)

    def g2(self, t):
        return self.inner.g2(t)


class _Cubic(Process):
    """dx = 50 x^3 dt (no noise): the ODE blows up at t = 1 / (100 x0^2)."""

    T = 1.0

    def __init__(self, g2: float = 0.0):
        self._g2 = g2

    def drift(self, x, t):
        return 50.0 * x**3

    def g2(self, t):
        return np.full_like(np.asarray(t, dtype=float), self._g2)


# ------------------------------------------------------------------------------ the dispatcher


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_returns_a_solution_in_the_order_of_travel(method):
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    n, seed = 300, 4
    times = [0.0, 0.5, 1.0] if not is_generation(method) else [0.5, 1.0, 0.0, 0.25]
    sol = simulate(proc, data, method, n, times, steps=20, seed=seed)
    assert isinstance(sol, ParticleSolution)
    assert sol.method == method and sol.seed == seed and sol.steps >= 1
    assert sol.samples.shape == (len(times), n, 2) and np.all(np.isfinite(sol.samples))
    if is_generation(method):
        # from T down to the output times; the start is n exact draws of q_T with default_rng(seed)
        np.testing.assert_array_equal(sol.times, [1.0, 0.5, 0.25, 0.0])
        start = ExactMarginals(proc, data).sample(n, 1.0, np.random.default_rng(seed))
    else:
        np.testing.assert_array_equal(sol.times, [0.0, 0.5, 1.0])
        start = data.sample(n, np.random.default_rng(seed))
    np.testing.assert_array_equal(sol.samples[0], start)


@pytest.mark.parametrize("method", [m for m in METHODS if is_generation(m)])
def test_generation_methods_run_the_scheme_they_are_named_for(method):
    # Each name runs its integrator with the compiled exact field on the same q_T draws.
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    field = ExactField(proc, data)
    x_T = ExactMarginals(proc, data).sample(500, 1.0, np.random.default_rng(8))
    kind, _, scheme = method.partition("-")
    kw = dict(times=[0.3, 0.0], method=scheme, steps=25, seed=8)
    if kind == "reverse":
        direct = simulate_reverse(proc, field, x_T, **kw)
    else:
        direct = integrate_flow(proc, field, x_T, t_start=1.0, **kw)
    sol = simulate(proc, data, method, 500, [0.3, 0.0], steps=25, seed=8)
    np.testing.assert_array_equal(sol.samples, direct.samples)
    assert sol.steps == direct.steps and sol.method == method


def test_generation_from_box_data_uses_its_exact_score():
    # Box data have no compiled field: the score is ExactMarginals.score.  The run stops at
    # t = 0.05, where the blurred box has a smooth score (at t = 0 it is singular).  Heun's bias at
    # 100 steps is far below what n = 20000 can detect: with 2e5 particles the KS distance to q_t at
    # t = 0.05 is 1.675e-3 at 100 steps and 1.667e-3 at 400, against a detection level of 1.3e-2.
    proc, data = problems.process("vp-linear"), problems.data("box1d")
    sol = simulate(proc, data, "flow-heun", 20000, [0.05, 0.5], steps=100, seed=2)
    np.testing.assert_array_equal(sol.times, [0.5, 0.05])
    checks = check_against_truth(sol.samples, sol.times, proc, data, alpha=ALPHA, seed=2)
    assert all(c.passed for c in checks), [c.family.table() for c in checks]
    assert all(c.truths == ("analytic", "grid") for c in checks)


def test_bad_input_names_what_to_change():
    vp, gmm = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    with pytest.raises(InputError, match=r"unknown method 'rk4'; choose one of exact, em, reverse-em"):
        simulate(vp, gmm, "rk4", 10, [0.5])
    with pytest.raises(InputError, match="reverse-em starts from exact samples of q_T.*affine process"):
        simulate(problems.process("langevin-doublewell"), gmm, "reverse-em", 10, [0.5])
    with pytest.raises(InputError, match="flow-rk4 .*closed-form data"):
        simulate(vp, problems.data("doublewell1d"), "flow-rk4", 10, [0.5])
    with pytest.raises(InputError, match="affine"):
        simulate(problems.process("langevin-doublewell"), gmm, "exact", 10, [0.5])
    for method in ("exact", "em", "reverse-heun", "flow-rk45"):
        for n in (0, -3, 2.5, True, "10"):
            with pytest.raises(InputError, match="n must be a positive integer"):
                simulate(vp, gmm, method, n, [0.5])
    with pytest.raises(InputError, match="time range"):
        simulate(vp, gmm, "flow-euler", 10, [1.5])


# ------------------------------------------------------------------------------ the general EM path


@pytest.mark.parametrize("name, data_name", [("vp-linear", "gmm2d-ring8"), ("ou", "gmm1d-bimodal")])
def test_general_em_matches_the_compiled_kernel_to_round_off(name, data_name):
    # The kernel computes (1 - r dt) x + k dt + g sqrt(dt) z, the general path x + f(x) dt + g sqrt(dt) z
    # with the same counter-based z.  Each step differs by a few ulp of |x|, and the EM map is a
    # contraction here (|1 - r dt| <= 1), so after K steps the gap is below 4 K eps max|x|.
    proc, data = problems.process(name), problems.data(data_name)
    times = [0.1 * proc.T, 0.5 * proc.T, proc.T]
    compiled = simulate_forward(proc, data, 2000, times, method="em", steps=60, seed=5)
    general = simulate_forward(_Disguised(proc), data, 2000, times, method="em", steps=60, seed=5)
    assert general.steps == compiled.steps == 60 and general.method == "em"
    np.testing.assert_array_equal(general.times, compiled.times)
    bound = 4 * 60 * EPS * np.abs(compiled.samples).max()
    assert np.abs(general.samples - compiled.samples).max() <= bound


def test_general_em_is_the_same_bits_in_any_chunking(capsys):
    proc, data = _Disguised(problems.process("vp-linear")), problems.data("gmm2d-ring8")
    times = [0.0, 0.3, 1.0]
    whole = simulate_forward(proc, data, 1000, times, method="em", steps=40, seed=3)
    for chunk in (7, 256, 999, 5000):
        part = simulate_forward(proc, data, 1000, times, method="em", steps=40, seed=3, chunk_size=chunk)
        assert np.array_equal(part.samples, whole.samples), chunk
    shown = simulate_forward(proc, data, 1000, times, method="em", steps=40, seed=3, chunk_size=300, progress=True)
    assert np.array_equal(shown.samples, whole.samples)
    assert "forward em: 1000/1000 particles" in capsys.readouterr().err
    with pytest.raises(InputError, match="chunk_size"):
        simulate_forward(proc, data, 10, times, method="em", chunk_size=0)


def test_general_em_reports_a_blow_up_with_its_step():
    # No noise, so the step is predictable: x_{k+1} = x_k + 50 x_k^3 dt from x0 = 1 leaves
    # |x| <= 1e12 (1 + max|x0|) in the step the scalar recursion below finds (dt = 0.01: step 6).
    x0 = np.array([[0.0], [1.0], [0.5], [0.0]])
    bound, x, step = 1e12 * 2.0, 1.0, 0
    while abs(x) <= bound:
        x, step = x + 50.0 * x**3 * 0.01, step + 1
    expected = (
        rf"forward em: .*blew up in step {step} of 100 "
        rf"\(t = {(step - 1) * 0.01:g} -> {step * 0.01:g}\).*take more steps \(steps = 100 now\)"
    )
    with pytest.raises(InputError, match=expected):
        simulate_forward(_Cubic(), x0, 0, [1.0], method="em", steps=100, seed=0)
    # with noise every particle explodes; the error still names a step
    with pytest.raises(InputError, match=r"forward em: .*blew up in step \d+ of 100"):
        simulate_forward(_Cubic(g2=1.0), np.ones((50, 1)), 0, [1.0], method="em", steps=100, seed=0)
    with pytest.raises(InputError, match="affine"):
        simulate_forward(_Cubic(), x0, 0, [1.0], method="exact")


def test_langevin_em_matches_the_grid_truth():
    proc = problems.process("langevin-doublewell")
    data = GaussianMixture.isotropic([1.0], [[-1.0]], 0.05)
    times = (0.05, 0.3, 1.0)
    sol = simulate(proc, data, "em", 20000, times, steps=1000, seed=0)  # dt = 1e-3
    assert sol.method == "em" and sol.steps == 1000
    checks = check_against_truth(sol.samples, sol.times, proc, data, alpha=ALPHA)
    assert [c.truths for c in checks] == [("grid",)] * 3
    assert all(c.passed for c in checks), [c.family.table() for c in checks]
    # the same check has the power to see EM's bias at dt = 0.05 (module notes)
    coarse = simulate(proc, data, "em", 20000, times, steps=20, seed=0)
    assert not any(c.passed for c in check_against_truth(coarse.samples, coarse.times, proc, data, alpha=ALPHA))

