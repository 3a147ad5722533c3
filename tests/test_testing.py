"""fpcheck.testing: the assertions pass a right object, and fail a wrong one with the diagnosis as the message."""

from __future__ import annotations

import pytest

from fpcheck import problems
from fpcheck.testing import assert_model_matches, assert_sampler_matches, assert_score_close, assert_velocity_close
from fpcheck.verify import zoo
from fpcheck.verify.truth import resolve_truth

LADDER = [10, 20, 40, 80, 160]


def test_sampler_assertions():
    v = assert_sampler_matches(zoo.zoo_sampler("ddim"), "vp-linear", "gmm1d-bimodal", steps=LADDER, n=5000)
    assert v.passed
    with pytest.raises(AssertionError, match=r"FAILS against vp-linear x gmm1d-bimodal:\n  - the sampler converges to the wrong"):
        assert_sampler_matches(zoo.zoo_sampler("ddim-eps-over-variance"), "vp-linear", "gmm1d-bimodal", steps=LADDER, n=5000)


def test_model_assertions():
    data = problems.data("gmm1d-bimodal")
    assert_model_matches(lambda n, rng: data.sample(n, rng), "gmm1d-bimodal", n=20_000)
    with pytest.raises(AssertionError, match="variance of x is"):
        assert_model_matches(lambda n, rng: 1.1 * data.sample(n, rng), "gmm1d-bimodal", n=20_000)


def test_field_assertions():
    truth = resolve_truth("vp-linear", "gmm1d-bimodal")
    assert_score_close(truth.field.score, n=2000)
    with pytest.raises(AssertionError, match="relative Fisher divergence exceeds"):
        assert_score_close(lambda x, t: 0.5 * truth.field.score(x, t), n=2000)
    assert_velocity_close(truth.field.velocity, n=2000)
    with pytest.raises(AssertionError, match="relative velocity error exceeds"):
        assert_velocity_close(lambda x, t: 2.0 * truth.field.velocity(x, t), n=2000)
