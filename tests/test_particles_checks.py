"""Particles against the analytic and grid truths: ``check_against_truth`` and ``grid_truth``.

Every statistical check fixes its seed and runs at the family-wise significance level
alpha = 0.01 (Holm within a time at alpha / m, Bonferroni across the m times), so exact samples of
q_t fail with probability at most 0.01 on a fresh seed; with the seeds fixed the outcomes are
deterministic.  The samples are exact draws (``ExactMarginals.sample``, or the stationary Boltzmann
density of the Langevin process), so a pass is what the check must return and a failure is a bug.

Power: a 5% scale error moves the variance by 10% (for Gaussian-like q_t the variance z-test at
n = 20000 has a relative standard error of about sqrt(2 / n) = 1%, a 10-sigma effect) and a shift
of 0.1 sd moves the mean by 0.1 sqrt(n) = 14 standard errors.  Box data have no moment tests (the
cdf and binned tests carry the power; their largest p-value under the scale error is 4e-5 against
the level 2.5e-3), and the binned test alone (checkerboard) gets n = 50000.

The pass tests turn ``ReferenceAccuracyWarning`` into an error: at the sizes used, the grid truth's
own error must not cost the binned test its power.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import Boltzmann1D, GaussianMixture
from fpcheck.errors import InputError
from fpcheck.particles import checks
from fpcheck.particles.checks import DEFAULT_GRID_CELLS, check_against_truth, grid_truth
from fpcheck.processes import OU, DoubleWell
from fpcheck.stats.binned import ReferenceAccuracyWarning

ALPHA = 0.01
N = 20_000
strict_reference = pytest.mark.filterwarnings("error::fpcheck.stats.binned.ReferenceAccuracyWarning")

# (process, data, times as fractions of T, n, the truths each time uses, the tests of a time)
CASES = {
    "gmm1d": ("vp-linear", "gmm1d-bimodal", (0.0, 0.05, 0.3, 1.0), N, ("analytic", "grid")),
    "gmm2d": ("vp-linear", "gmm2d-ring8", (0.0, 0.05, 0.3, 1.0), N, ("analytic", "grid")),
    "box1d": ("vp-linear", "box1d", (0.0, 0.05, 0.3, 1.0), N, ("analytic", "grid")),
    # at t = 0.05 the grid's error estimate (5e-4) is more than n = 50000 can resolve: left out
    "checkerboard2d": ("vp-linear", "checkerboard2d", (0.0, 0.3, 1.0), 50_000, ("grid",)),
}


def _exact_samples(process, data, times, n, seed):
    truth = ExactMarginals(process, data)
    rng = np.random.default_rng(seed)
    return np.stack([truth.sample(n, t, rng) for t in times]), truth


def _case(name, seed=11):
    proc_name, data_name, fractions, n, truths = CASES[name]
    proc, data = problems.process(proc_name), problems.data(data_name)
    times = [f * proc.T for f in fractions]
    x, truth = _exact_samples(proc, data, times, n, seed)
    return proc, data, times, x, truth, truths


@strict_reference
@pytest.mark.parametrize("name", list(CASES))
def test_exact_samples_pass_at_every_time(name):
    proc, data, times, x, _, truths = _case(name)
    result = check_against_truth(x, times, proc, data, alpha=ALPHA, seed=1)
    assert [c.t for c in result] == times
    for c in result:
        assert c.passed, c.family.table()
        assert c.truths == truths and c.note == ""
        assert c.family.holm.alpha == pytest.approx(ALPHA / len(times))


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("error", ["5% scale", "0.1 sd shift"])
def test_samples_with_a_small_error_fail_at_every_time(name, error):
    proc, data, times, x, truth, _ = _case(name)
    mean = np.stack([truth.mean(t) for t in times])[:, None, :]
    sd = np.stack([np.sqrt(np.diag(np.atleast_2d(truth.cov(t)))) for t in times])[:, None, :]
    wrong = mean + 1.05 * (x - mean) if error == "5% scale" else x + 0.1 * sd
    result = check_against_truth(wrong, times, proc, data, alpha=ALPHA, seed=1)
    assert not any(c.passed for c in result), [(c.t, float(c.family.holm.adjusted.min())) for c in result]


def test_the_tests_that_enter_each_family():
    # 1D mixture: exact moments and cdf plus the grid; 1D box: no closed-form moments, exact cdf
    # plus the grid; 2D mixture: per-axis moments and exact projections plus the grid.
    for name, expected in [
        ("gmm1d", ["mean z", "variance z", "AD", "KS", "binned chi2"]),
        ("box1d", ["AD", "KS", "binned chi2"]),
    ]:
        proc, data, times, x, _, _ = _case(name)
        c = check_against_truth(x[1:2], times[1:2], proc, data, alpha=ALPHA)[0]
        assert [t.name for t in c.family.tests] == expected
    proc, data, times, x, _, _ = _case("gmm2d")
    names = [t.name for t in check_against_truth(x[1:2], times[1:2], proc, data)[0].family.tests]
    assert names[:4] == ["mean z [axis 0]", "variance z [axis 0]", "mean z [axis 1]", "variance z [axis 1]"]
    assert sum(n.startswith("AD proj") for n in names) == 2 * 2 + 2 and names[-1] == "binned chi2"
    c = check_against_truth(x[1:2], times[1:2], proc, data, grid=False)[0]
    assert c.truths == ("analytic",) and "binned chi2" not in [t.name for t in c.family.tests]


def test_no_grid_beyond_three_dimensions_is_noted():
    assert max(DEFAULT_GRID_CELLS) == 3
    data = GaussianMixture.isotropic([0.5, 0.5], [[1, 0, 0, 0], [-1, 0, 0, 0.5]], 0.4)
    proc = OU(1.0, 0.0, 2.0, 5.0)
    x, _ = _exact_samples(proc, data, [0.3, 1.0], 5000, 4)
    result = check_against_truth(x, [0.3, 1.0], proc, data, alpha=ALPHA)
    assert all(c.passed and c.truths == ("analytic",) for c in result)
    assert all(c.note == "no grid truth in 4 dimensions" for c in result)
    assert grid_truth(proc, data, [0.3]) == (None, "no grid truth in 4 dimensions")


@strict_reference
def test_langevin_uses_the_grid_truth_alone():
    # doublewell1d is the stationary density of langevin-doublewell, so its samples are exact at
    # every t; a sample at the wrong temperature (kT = 0.3 instead of 0.25) must fail.
    proc, data = problems.process("langevin-doublewell"), problems.data("doublewell1d")
    times = [0.0, 1.0, 10.0]
    rng = np.random.default_rng(5)
    x = np.stack([data.sample(N, rng) for _ in times])
    for grid in (True, False):  # no analytic truth: the grid enters either way
        result = check_against_truth(x, times, proc, data, alpha=ALPHA, grid=grid)
        for c in result:
            assert c.passed, c.family.table()
            assert c.truths == ("grid",) and [t.name for t in c.family.tests] == ["AD", "KS", "binned chi2"]
    hot = Boltzmann1D(DoubleWell(1.0), 0.3, bounds=(-3.0, 3.0))
    y = np.stack([hot.sample(N, rng) for _ in times])
    assert not any(c.passed for c in check_against_truth(y, times, proc, data, alpha=ALPHA))


def test_a_given_grid_solution_is_used_instead_of_solving_again(monkeypatch):
    proc, data, times, x, _, _ = _case("gmm1d")
    solution, why = grid_truth(proc, data, times)
    assert why == "" and np.array_equal(solution.times, times)
    expected = check_against_truth(x, times, proc, data, alpha=ALPHA, seed=1)

    def no_solve(*args, **kwargs):
        raise AssertionError("grid_truth was called although a grid_solution was given")

    monkeypatch.setattr(checks, "grid_truth", no_solve)
    given = check_against_truth(x, times, proc, data, alpha=ALPHA, seed=1, grid_solution=solution)
    for a, b in zip(given, expected):
        assert a.truths == b.truths == ("analytic", "grid")
        assert [t.pvalue for t in a.family.tests] == [t.pvalue for t in b.family.tests]
    # the solution given is the one the binned test reads: one of shifted data rejects there alone
    monkeypatch.undo()
    shifted = GaussianMixture.isotropic([0.5, 0.5], [[-1.8], [1.7]], [0.3, 0.5])
    wrong, _ = grid_truth(proc, shifted, times[:1])
    c = check_against_truth(x[:1], times[:1], proc, data, alpha=ALPHA, seed=1, grid_solution=wrong)[0]
    rejected = [t.name for t, r in zip(c.family.tests, c.family.holm.rejected) if r]
    assert rejected == ["binned chi2"]


def test_grid_truth_is_the_solver_on_default_bounds():
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    solution, why = grid_truth(proc, data, [0.05, 1.0])
    # raised from 512 until the 2h level holds 4 cells across the smallest std (0.3) on the bounds
    lo, hi = solution.densities[0].grid.bounds[0]
    need = 2 * int(np.ceil(4 * (hi - lo) / 0.3))
    assert why == "" and solution.densities[0].grid.shape == (max(DEFAULT_GRID_CELLS[1], -(-need // 32) * 32),)
    # the grid's L1 error against the exact q_t is within its own estimate (Richardson, 512 cells)
    from fpcheck.grid import cell_averages

    truth = ExactMarginals(proc, data)
    for t, dens, est in zip(solution.times, solution.densities, solution.error_estimate):
        exact = cell_averages(truth.at(float(t)), dens.grid).values
        l1 = float(np.abs(dens.values - exact).sum() * dens.grid.cell_volume)
        assert l1 <= 3 * est and abs(dens.mass() - 1.0) < 1e-12
    # a requested count that resolves the data is kept, odd counts rounded up to even
    assert grid_truth(proc, data, [0.5], cells=1501)[0].densities[0].grid.shape == (1502,)
    # a non-confining potential has no default bounds: (None, why), not an exception
    from fpcheck.processes import Langevin, Potential

    flat = Langevin(Potential(lambda x: 0.0 * x[:, 0], lambda x: 0.0 * x, "0"), 1.0, T=1.0)
    sol, why = grid_truth(flat, data, [0.5])
    assert sol is None and why.startswith("no grid truth: ") and "confine" in why
    with pytest.raises(InputError, match="no truth to compare with: no grid truth"):
        check_against_truth(np.zeros((1, 10, 1)), [0.5], flat, data)


def test_bad_shapes_and_levels_raise_input_errors():
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    x = np.random.default_rng(0).normal(size=(2, 100, 1))
    with pytest.raises(InputError, match=r"shape \(m, n, d\) with m = 2 times, got \(100, 1\)"):
        check_against_truth(x[0], [0.5, 1.0], proc, data)
    with pytest.raises(InputError, match=r"m = 3 times, got \(2, 100, 1\)"):
        check_against_truth(x, [0.2, 0.5, 1.0], proc, data)
    for alpha in (0.0, 1.0, -0.1):
        with pytest.raises(InputError, match="alpha must lie in"):
            check_against_truth(x, [0.5, 1.0], proc, data, alpha=alpha)
    with pytest.raises(InputError, match=r"shape \(n, 1\)"):
        check_against_truth(np.zeros((2, 100, 2)), [0.5, 1.0], proc, data, grid=False)
    with pytest.raises(InputError, match="at least 5"):
        check_against_truth(x[:, :3], [0.5, 1.0], proc, data, grid=False)
    with pytest.raises(InputError, match="time range"):
        check_against_truth(x, [0.5, 2.0], proc, data, grid=False)


def test_exact_ve_samples_over_decades_of_sigma_pass():
    # VE: sigma grows from 0.01 to 50 and the default bounds are +-368: the grid truth is raised to
    # resolve the box (faces on cell faces, h = 0.2); at t = 0.05 and 0.3 the edges are blurred by
    # only 0.012 and 0.13, under 2 cells, so the grid is left out there (with the reason) and the
    # analytic truth decides; at t = 1 both truths enter, and exact samples pass.
    proc, data = problems.process("ve-geometric"), problems.data("box1d")
    times = [0.05, 0.3, 1.0]
    x, _ = _exact_samples(proc, data, times, N, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReferenceAccuracyWarning)  # t = 0.3: the bound costs power, not validity
        checks = check_against_truth(x, times, proc, data, alpha=ALPHA)
    assert all(c.passed for c in checks)
    assert all(c.truths == ("analytic",) and "blurred by" in c.note for c in checks[:2])
    assert checks[2].truths == ("analytic", "grid") and checks[2].note == ""


def test_a_grid_solution_at_other_times_is_refused():
    proc, data, times, x, _, _ = _case("gmm1d")
    reversed_solution, _ = grid_truth(proc, data, times[::-1])
    with pytest.raises(InputError):
        check_against_truth(x, times, proc, data, grid_solution=reversed_solution)
