"""verify_sampler and verify_model: every correct zoo sampler passes, every mutant fails, at fixed seeds.

The verdict's floor tests run at family-wise alpha = 0.01 (Holm over the statistics), so a correct
sampler fails by chance with probability about 0.01 on a fresh seed (measured over many seeds by
benchmarks/bench_verify.py); the seed here is fixed, so every outcome is deterministic.  The
ladder is the default one (25 to 800 steps) at N samples per rung, a 30th of the default n: the
mutants' floors are tens of standard errors at the default n (a floor of 35 se for the weakest,
pf-heun-stops-early, on gmm1d-bimodal), so they stay several se at this n.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.errors import InputError, TargetError
from fpcheck.verify import zoo
from fpcheck.verify.sampler import DEFAULT_STEPS, verify_model, verify_sampler

ALPHA = 0.01
SEED = 7
N = {1: 20_000, 2: 40_000}
DATASETS = ("gmm1d-bimodal", "gmm2d-aniso")
PROCESS = problems.process("vp-linear")

_CASES = [
    (name, data)
    for name in zoo.ZOO
    for data in DATASETS
    if not (name == "ddim-swapped-axes" and data == "gmm1d-bimodal")
]


@pytest.mark.parametrize(("name", "data"), _CASES)
def test_zoo_verdicts(name, data):
    d = problems.data(data).dim
    v = verify_sampler(zoo.zoo_sampler(name, PROCESS), PROCESS, data, n=N[d], alpha=ALPHA, seed=SEED)
    assert v.verdict == ("pass" if zoo.ZOO[name]().correct else "fail"), v.table()
    assert v.steps == list(DEFAULT_STEPS) and v.n == [N[d]] * len(DEFAULT_STEPS)


def test_a_correct_sampler_that_is_still_biased_at_the_top_passes_and_says_so():
    # DDPM ancestral on gmm1d-bimodal at 60-240 steps and n = 2e5: the top rung is rejected by the
    # goodness-of-fit family, but every bias extrapolates to zero
    v = verify_sampler(zoo.zoo_sampler("ddpm", PROCESS), PROCESS, "gmm1d-bimodal", steps=[15, 30, 60, 120, 240],
                       n=200_000, seed=SEED)
    assert v.passed and not v.gof.passed, v.table()
    assert v.order is not None and 0.6 < v.order < 1.5, v.order  # first order
    assert v.detection_steps is not None and v.detection_steps > 240
    assert any("still measurably off" in d and "falls below detection" in d for d in v.diagnosis), v.diagnosis


def test_diagnosis_names_the_wrong_statistic():
    # noise sqrt(2) too large in the reverse SDE: the output is too wide, and the words say so
    v = verify_sampler(zoo.zoo_sampler("reverse-em-noise-sqrt2", PROCESS), PROCESS, "gmm1d-bimodal", n=20_000, seed=SEED)
    assert not v.passed
    text = "\n".join(v.diagnosis)
    assert "variance of x is" in text and "too large" in text, text
    d = v.to_dict()
    assert json.loads(json.dumps(d))["verdict"] == "fail"
    assert {s["name"] for s in d["statistics"]} >= {"mean[0]", "variance[0]", "d2[0]"}


def test_sampler_and_fpcheck_time_are_reported_apart():
    v = verify_sampler(zoo.zoo_sampler("ddim", PROCESS), PROCESS, "gmm1d-bimodal", steps=[5, 10, 20], n=2000)
    assert v.sampler_seconds > 0 and v.fpcheck_seconds > 0


def test_bad_samplers_are_named():
    def global_rng(score, shape, rng, steps):
        return np.random.standard_normal(shape)

    with pytest.raises(TargetError, match="same rng seed differ"):
        verify_sampler(global_rng, PROCESS, "gmm1d-bimodal", steps=[5, 10, 20], n=1000)

    def wrong_shape(score, shape, rng, steps):
        return rng.standard_normal(shape[0])

    with pytest.raises(TargetError, match="shape"):
        verify_sampler(wrong_shape, PROCESS, "gmm1d-bimodal", steps=[5, 10, 20], n=1000)

    class Late:
        t_end = 2.0

        def __call__(self, score, shape, rng, steps):
            return rng.standard_normal(shape)

    with pytest.raises(TargetError, match="t_end"):
        verify_sampler(Late(), PROCESS, "gmm1d-bimodal", steps=[5, 10, 20], n=1000)


def test_bad_arguments():
    s = zoo.zoo_sampler("ddim", PROCESS)
    with pytest.raises(InputError, match="steps"):
        verify_sampler(s, PROCESS, "gmm1d-bimodal", steps=[10, 5, 20])
    with pytest.raises(InputError, match="n must"):
        verify_sampler(s, PROCESS, "gmm1d-bimodal", steps=[5, 10, 20], n=[1000, 1000])
    with pytest.raises(InputError, match="alpha"):
        verify_sampler(s, PROCESS, "gmm1d-bimodal", steps=[5, 10, 20], alpha=1.5)
    with pytest.raises(InputError, match="Gaussian-mixture"):
        verify_sampler(s, PROCESS, "box1d", steps=[5, 10, 20])


def test_model_verdicts():
    data = problems.data("gmm2d-ring8")

    def exact(n, rng):
        return data.sample(n, rng)

    def wide(n, rng):
        return 1.02 * data.sample(n, rng)

    assert verify_model(exact, "gmm2d-ring8", n=100_000, seed=SEED).passed
    v = verify_model(wide, "gmm2d-ring8", n=100_000, seed=SEED)
    assert not v.passed
    assert any("variance of axis" in d and "too large" in d for d in v.diagnosis), v.diagnosis


def test_the_path_says_where_a_sampler_leaves_the_truth():
    # clipping the predicted x0 to [-1, 1] on data with modes at -2 and 2: harmless while q_t is
    # wide, wrong once the modes separate; the states right after T still match q_t
    v = verify_sampler(zoo.zoo_sampler("ddim-clip-x0", PROCESS), PROCESS, "gmm1d-bimodal", steps=[25, 50, 100, 200],
                       n=20_000, seed=SEED)
    path = v.extra["path"]
    assert [p["t"] for p in path] == sorted((p["t"] for p in path), reverse=True)
    assert path[0]["passed"] and not path[-1]["passed"]
    assert any("first leave q_t at t =" in d and "it matches q_t down to" in d for d in v.diagnosis), v.diagnosis
    # an honest sampler matches q_t all along; stopping early shows as a last state at t = 0.05
    v = verify_sampler(zoo.zoo_sampler("pf-heun-stops-early", PROCESS), PROCESS, "gmm1d-bimodal", steps=[25, 50, 100, 200],
                       n=20_000, seed=SEED)
    assert all(p["passed"] for p in v.extra["path"]) and not v.passed
    assert any("it stops early" in d for d in v.diagnosis), v.diagnosis
