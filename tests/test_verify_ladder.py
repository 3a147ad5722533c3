"""The floor test on a ladder of step counts: its fit, its calibration on synthetic ladders, its bad input.

Seeds are fixed.  Synthetic ladders are biases ``C K^-p + sigma eps`` (no floor) or with a floor
added; the likelihood-ratio p-value is referred to chi^2_1, so its false-alarm rate at 0.01 is
checked over 2000 seeds against the 0.999 binomial quantile (the full verdict's rate over many
seeds is measured by benchmarks/bench_verify.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fpcheck.errors import InputError
from fpcheck.verify.ladder import fit_floor

LADDER = np.array([25, 50, 100, 200, 400, 800])
ALPHA = 0.01


def test_noiseless_biases_give_their_order_and_no_floor():
    bias = 0.3 * LADDER.astype(float) ** -2.0
    fit = fit_floor(LADDER, bias, np.full(LADDER.size, 1e-6))
    assert fit.curve_order == pytest.approx(2.0, abs=1e-9) and abs(fit.floor) < 1e-10
    # on 4 rungs (one decay term) the observed order is the power itself
    assert fit_floor(LADDER[:4], bias[:4], np.full(4, 1e-6)).order == pytest.approx(2.0, abs=1e-9)
    assert fit.pvalue > 0.5 and fit.chi2 < 1e-10
    np.testing.assert_allclose(fit.curve(LADDER), bias, rtol=1e-8, atol=1e-14)
    # the same decay on top of a floor of 1e-4 (100 standard errors): found, and its p-value is tiny
    fit = fit_floor(LADDER, bias + 1e-4, np.full(LADDER.size, 1e-6))
    assert fit.floor == pytest.approx(1e-4, rel=1e-6) and fit.pvalue < 1e-100


def test_two_term_decay_is_not_a_floor():
    # a pre-asymptotic first-order bias c1/K - c2/K^2 (local order rising towards 1, as DDPM's tails
    # on gmm1d-bimodal): the second term of the model absorbs it
    K = LADDER.astype(float)
    bias = 40.0 / K - 600.0 / K**2
    fit = fit_floor(LADDER, bias, np.full(K.size, 1e-5))
    assert fit.pvalue > 0.5 and abs(fit.floor) < 1e-9
    assert fit.order == pytest.approx(1.0, abs=1e-9)  # the leading order, not the local slope
    assert fit.order_interval[0] <= 1.0 <= fit.order_interval[1]


@pytest.mark.parametrize("signed", [True, False])
def test_false_alarm_rate_without_a_floor_is_at_most_alpha(signed):
    rng = np.random.default_rng(11 + signed)
    se = 0.01 * np.sqrt(LADDER / LADDER[0])  # rungs with more steps may get fewer samples
    seeds, alarms = 2000, 0
    for _ in range(seeds):
        C, p = rng.uniform(0.05, 5.0), rng.uniform(0.8, 2.5)
        bias = C * LADDER.astype(float) ** -p + se * rng.standard_normal(LADDER.size)
        alarms += fit_floor(LADDER, bias, se, signed=signed).pvalue <= ALPHA
    assert alarms <= stats.binom.ppf(0.999, seeds, ALPHA), alarms


def test_a_constant_floor_of_six_standard_errors_is_found():
    rng = np.random.default_rng(12)
    se = np.full(LADDER.size, 0.01)
    found = sum(
        fit_floor(LADDER, 0.06 + 0.5 / LADDER + se * rng.standard_normal(LADDER.size), se).pvalue <= ALPHA
        for _ in range(200)
    )
    # measured 0.95-0.97 over seeds; 0.85 is the 0.001 binomial quantile of 0.95 at 200 trials, rounded down
    assert found >= 170, found


def test_one_sided_floor_ignores_a_negative_one():
    se = np.full(LADDER.size, 1e-3)
    fit = fit_floor(LADDER, np.full(LADDER.size, -0.05), se, signed=False)
    assert fit.pvalue == 1.0


def test_bad_input():
    se = np.ones(3)
    with pytest.raises(InputError, match="length >= 3"):
        fit_floor([1, 2], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(InputError, match="increase"):
        fit_floor([4, 2, 8], [0.0] * 3, se)
    with pytest.raises(InputError, match="positive"):
        fit_floor([1, 2, 4], [0.0] * 3, [1.0, 0.0, 1.0])
    with pytest.raises(InputError, match="finite"):
        fit_floor([1, 2, 4], [0.0, np.nan, 0.0], se)
