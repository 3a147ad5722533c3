"""The bias floor on a ladder of step counts: fit, calibration, and the zoo's verdicts on it.

Seeds are fixed.  The floor test runs at family-wise alpha = 0.01 (Bonferroni over the statistics);
its false-alarm rate on synthetic biases without a floor is checked over 400 seeds against the
0.999 binomial quantile at 0.01, and the zoo checks use one seed each at that level.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.errors import InputError
from fpcheck.particles.fields import ExactField
from fpcheck.stats.gof import mixture_moments
from fpcheck.verify.ladder import fit_floor, floor_bound, moment_statistics
from fpcheck.verify.zoo import zoo_sampler

LADDER = np.array([25, 50, 100, 200, 400, 800])
ALPHA = 0.01


def test_noiseless_biases_give_their_order_and_no_floor():
    bias = 0.3 * LADDER.astype(float) ** -2.0
    fit = fit_floor(LADDER, bias, np.full(LADDER.size, 1e-6), z=floor_bound(ALPHA, 1))
    assert fit.order == pytest.approx(2.0, abs=1e-9) and abs(fit.floor) < 1e-12
    assert not fit.significant and fit.chi2 < 1e-12
    # the same decay on top of a floor of 1e-4 (100 standard errors): found and significant
    fit = fit_floor(LADDER, bias + 1e-4, np.full(LADDER.size, 1e-6), z=floor_bound(ALPHA, 1))
    assert fit.floor == pytest.approx(1e-4, rel=1e-6) and fit.significant


def test_false_alarm_rate_without_a_floor_is_at_most_alpha():
    # biases C K^-p + N(0, se^2) with no floor: the union over the profile's orders makes the test
    # conservative, so its rate stays under alpha = 0.01 (checked against the 0.999 binomial quantile)
    rng = np.random.default_rng(11)
    z = floor_bound(ALPHA, 1)
    se = 0.01 * np.sqrt(LADDER / LADDER[0])  # rungs with more steps get fewer samples
    seeds, alarms = 400, 0
    for _ in range(seeds):
        C, p = rng.uniform(0.5, 5.0), rng.uniform(0.8, 2.5)
        bias = C * LADDER.astype(float) ** -p + se * rng.standard_normal(LADDER.size)
        alarms += fit_floor(LADDER, bias, se, z=z).significant
    assert alarms <= stats.binom.ppf(0.999, seeds, ALPHA), alarms


def test_a_floor_of_eight_standard_errors_is_found():
    rng = np.random.default_rng(12)
    z = floor_bound(ALPHA, 1)
    se = np.full(LADDER.size, 0.01)
    found = sum(
        fit_floor(LADDER, 0.08 + 2.0 / LADDER + se * rng.standard_normal(LADDER.size), se, z=z).significant
        for _ in range(100)
    )
    # the floor's se with p free is about 2-3 sigma_l, so 8 sigma clears the z = 2.58 bound in most
    # seeds; 80 of 100 is a loose lower bound for this power
    assert found >= 80, found


def test_moment_statistics_are_the_sample_moments_minus_the_exact_ones(rng):
    truth = problems.data("gmm2d-aniso")
    x = truth.sample(50_000, rng)
    got = moment_statistics(x, truth)
    for i in range(2):
        mom = mixture_moments(truth.marginal([i]))
        assert got[f"mean[{i}]"][0] == pytest.approx(x[:, i].mean() - mom.mean, abs=1e-14)
        assert got[f"variance[{i}]"][0] == pytest.approx(np.mean((x[:, i] - mom.mean) ** 2) - mom.var, abs=1e-12)
    # exact samples: every z-score within the Bonferroni bound at alpha = 1e-3 over 4 statistics
    assert all(abs(b / s) < floor_bound(1e-3, 4) for b, s in got.values()), got


@pytest.mark.parametrize(
    "name, should_fail", [("pf-heun", False), ("ddim", False), ("pf-heun-stops-early", True), ("ddim-eps-over-variance", True)]
)
def test_zoo_verdicts_on_the_ladder(name, should_fail):
    # gmm1d-bimodal, 4e4 samples per rung: the correct samplers' biases decay to a floor consistent
    # with zero; the mutants keep one (stopping at 0.05 leaves the variance 0.07 low, 20 se)
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    field = ExactField(proc, data)
    sampler = zoo_sampler(name, proc)
    target = ExactMarginals(proc, data).at(sampler.t_end)
    per_rung = {}
    for j, K in enumerate(LADDER):
        x = sampler(field.score, (40_000, 1), np.random.default_rng(1000 + j), int(K))
        for key, value in moment_statistics(x, target).items():
            per_rung.setdefault(key, []).append(value)
    z = floor_bound(ALPHA, len(per_rung))
    fits = {key: fit_floor(LADDER, *np.array(v).T, z=z) for key, v in per_rung.items()}
    assert any(f.significant for f in fits.values()) == should_fail, fits


def test_bad_input():
    se = np.ones(3)
    with pytest.raises(InputError, match="length >= 3"):
        fit_floor([1, 2], [0.0, 0.0], [1.0, 1.0], z=2.0)
    with pytest.raises(InputError, match="increase"):
        fit_floor([4, 2, 8], [0.0] * 3, se, z=2.0)
    with pytest.raises(InputError, match="positive"):
        fit_floor([1, 2, 4], [0.0] * 3, [1.0, 0.0, 1.0], z=2.0)
    with pytest.raises(InputError, match="shape"):
        moment_statistics(np.zeros((10, 3)), problems.data("gmm2d-aniso"))
