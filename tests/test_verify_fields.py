"""verify_score and verify_velocity: the relative errors against an exact truth, their standard errors, the verdicts.

Truths: a score scaled by (1 + e) has relative Fisher divergence exactly e^2 at every time, and a
velocity v* + e v* has relative error e^2; the estimates are ratios of sample means, so they hit
e^2 to rounding.  Fields built by adding a random-direction error have a known error only in
expectation; there the estimate is checked against it within 4 of its standard errors (a two-sided
normal bound whose false-alarm rate is 6e-5 per time; the seeds are fixed).
"""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck.errors import InputError, TargetError
from fpcheck.verify.fields import relative_error, verify_score, verify_velocity
from fpcheck.verify.truth import resolve_truth

TRUTH = resolve_truth("vp-linear", "gmm2d-ring8")


def test_a_scaled_score_has_the_square_of_its_scale_error():
    v = verify_score(lambda x, t: 1.03 * TRUTH.field.score(x, t), "vp-linear", "gmm2d-ring8", n=2000)
    np.testing.assert_allclose(v.extra["relative_fisher_divergence"], 0.03**2, rtol=1e-9)
    assert v.passed  # 9e-4 < the default tolerance 1e-2
    assert v.extra["weighted_relative_fisher_divergence"] == pytest.approx(9e-4, rel=1e-9)
    v = verify_score(lambda x, t: 1.2 * TRUTH.field.score(x, t), "vp-linear", "gmm2d-ring8", n=2000)
    assert not v.passed and "exceeds the tolerance" in v.diagnosis[0]


def test_the_estimate_and_its_standard_error_match_a_known_noise():
    # s = s* + eps |s*| u with u uniform on the circle: E||s - s*||^2 = eps^2 E||s*||^2 exactly
    rng = np.random.default_rng(3)
    for t in (0.05, 0.5):
        x = TRUTH.at(t).sample(50_000, rng)
        exact = TRUTH.field.score(x, t)
        u = rng.standard_normal(x.shape)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        noisy = exact + 0.1 * np.linalg.norm(exact, axis=1, keepdims=True) * u
        r, se = relative_error(noisy, exact)
        assert r == pytest.approx(0.01, rel=1e-12)  # |noise| = 0.1 |s*| on every point: exactly 0.01
        assert se < 1e-12
        noisy = exact + 0.1 * np.sqrt(np.mean(np.sum(exact**2, 1))) * rng.standard_normal(x.shape) / np.sqrt(2)
        r, se = relative_error(noisy, exact)
        assert abs(r - 0.01) < 4 * se and se > 0


def test_velocity_verdict_and_pushed_forward_density():
    v = verify_velocity(TRUTH.field.velocity, "vp-linear", "gmm2d-ring8", n=20_000, push_steps=100)
    assert v.passed and v.extra["pushed_forward"]["passed"]
    assert max(v.extra["relative_velocity_error"]) < 1e-20
    # half the score term (the probability-flow slip in reverse): the error and the density both show it
    def slip(x, t):
        return TRUTH.field.velocity(x, t) - 0.5 * float(TRUTH.process.schedule.beta(t)) * TRUTH.field.score(x, t)

    v = verify_velocity(slip, "vp-linear", "gmm2d-ring8", n=20_000, push_steps=100)
    assert not v.passed and not v.extra["pushed_forward"]["passed"]
    assert "pushed backward" in "\n".join(v.diagnosis)


def test_bad_fields_and_arguments():
    with pytest.raises(TargetError, match="shape"):
        verify_score(lambda x, t: x[:, 0], "vp-linear", "gmm2d-ring8", n=200)
    with pytest.raises(TargetError, match="NaN"):
        verify_score(lambda x, t: np.full(x.shape, np.nan), "vp-linear", "gmm2d-ring8", n=200)
    with pytest.raises(InputError, match="times"):
        verify_score(TRUTH.field.score, "vp-linear", "gmm2d-ring8", times=[0.0, 0.5])
    with pytest.raises(InputError, match="tol"):
        verify_score(TRUTH.field.score, "vp-linear", "gmm2d-ring8", tol=-1)
