"""The sampler zoo (fpcheck.verify.zoo): correct samplers pass the exact truth, every mutant fails it.

Verdicts are ``compare_to_mixture(x, ExactMarginals(process, data).at(sampler.t_end), alpha=0.01)``:
a Holm family at family-wise level 0.01, so an exact sampler fails it by chance with probability at
most 0.01 on a fresh seed.  The seed is fixed (``SEED``), so every outcome is deterministic.  The
process is vp-linear; the score is the compiled exact one, ``ExactField(process, data).score``.

Sample sizes and step counts (``N_SAMPLES``, ``STEPS``) are set per family: a correct sampler and
its mutants share both.  The step counts come from measurements over 5 seeds at the test's n on
``gmm1d-bimodal``, ``gmm2d-aniso`` and ``gmm2d-ring8``: the smallest step count from which the family
stops rejecting the correct sampler on all three is 128 for Euler-Maruyama, 48 for Heun (at
n = 40000), 384 for DDPM and 256 for DDIM (first-order methods: bias ~ 1/steps; Heun: 1/steps^2);
the test runs 4 times as many.  At the test's step counts each correct sampler also passes at
16 n (2-3 seeds), so its discretisation bias is at most about a quarter of what the family detects
at n.  The probability-flow family runs at n = 40000 because its stops-early mutant (a shift of
0.05 in time) is weak on ``gmm2d-aniso``: rejected with power about 0.6 at n = 10000, and at
n = 20000 in 20 of 20 seeds but with Holm p up to 2e-3; at n = 40000 the largest of 20 was 1e-6.
The other families run at n = 10000, where each of their mutants is rejected with Holm p below
1e-15.

The swapped-axes mutant is a no-op in 1D and invisible on ``gmm2d-ring8``, which is symmetric under
x <-> y; it is tested on ``gmm2d-aniso``, and shown to reproduce DDIM exactly on the other two.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError, UnknownNameError
from fpcheck.particles.fields import SERIAL_BELOW, ExactField
from fpcheck.processes import VE, VP
from fpcheck.schedules import Cosine
from fpcheck.stats.family import compare_to_mixture
from fpcheck.verify import zoo

ALPHA = 0.01
SEED = 20261125
DATASETS = ("gmm1d-bimodal", "gmm2d-aniso", "gmm2d-ring8")
#: data sets on which swapping the two axes changes nothing (1D, or symmetric under x <-> y)
SWAP_INVISIBLE = ("gmm1d-bimodal", "gmm2d-ring8")
N_SAMPLES = {"reverse-em": 10_000, "pf-heun": 40_000, "ddpm": 10_000, "ddim": 10_000}
STEPS = {"reverse-em": 512, "pf-heun": 192, "ddpm": 1536, "ddim": 1024}

PROCESS = problems.process("vp-linear")


def _family(name: str) -> str:
    """The correct sampler a zoo sampler derives from."""
    for cls in type(zoo.zoo_sampler(name, PROCESS)).__mro__:
        if cls in zoo.CORRECT.values():
            return cls.name
    raise AssertionError(f"{name} derives from no correct sampler")


def _serial(field: ExactField):
    """``field.score`` evaluated in blocks below ``SERIAL_BELOW``, i.e. on the single-threaded kernel.

    Same values; on a busy machine the launch cost of the multithreaded kernel dominates.
    """
    block = SERIAL_BELOW - 1

    def score(x, t):
        if x.shape[0] <= block:
            return field.score(x, t)
        return np.concatenate([field.score(x[i : i + block], t) for i in range(0, x.shape[0], block)])

    return score


_TRUTHS: dict = {}


def _truth(data_name: str):
    """(score, ExactMarginals) of a named data set under vp-linear, built once."""
    if data_name not in _TRUTHS:
        data = problems.data(data_name)
        _TRUTHS[data_name] = (_serial(ExactField(PROCESS, data)), ExactMarginals(PROCESS, data))
    return _TRUTHS[data_name]


def _verdict(sampler, data_name: str, family: str):
    score, truth = _truth(data_name)
    x = sampler(score, (N_SAMPLES[family], truth.dim), np.random.default_rng(SEED), STEPS[family])
    assert x.shape == (N_SAMPLES[family], truth.dim) and np.all(np.isfinite(x))
    return compare_to_mixture(x, truth.at(sampler.t_end), alpha=ALPHA)


# ---------------------------------------------------------------------------------------------------
# the truth: correct samplers pass, mutants fail


@pytest.mark.parametrize("data_name", DATASETS)
@pytest.mark.parametrize("name", list(zoo.CORRECT))
def test_correct_sampler_passes(name, data_name):
    result = _verdict(zoo.zoo_sampler(name, PROCESS), data_name, name)
    assert result.passed, result.table()


_MUTANT_CASES = [
    (name, data_name)
    for name in zoo.MUTANTS
    for data_name in DATASETS
    if not (name == "ddim-swapped-axes" and data_name in SWAP_INVISIBLE)
]


@pytest.mark.parametrize(("name", "data_name"), _MUTANT_CASES)
def test_mutant_fails(name, data_name):
    result = _verdict(zoo.zoo_sampler(name, PROCESS), data_name, _family(name))
    assert not result.passed, result.table()


def test_honest_t_end_passes_against_its_own_marginal():
    """Stopping at 0.05 is correct when ``t_end`` says so: the truth is then q_0.05."""
    sampler = zoo.ProbabilityFlowHeun(PROCESS, t_end=0.05)
    result = _verdict(sampler, "gmm2d-aniso", "pf-heun")
    assert result.passed, result.table()


def test_stops_early_is_the_honest_sampler_with_a_false_t_end():
    score, _ = _truth("gmm2d-aniso")
    honest = zoo.ProbabilityFlowHeun(PROCESS, t_end=0.05)
    mutant = zoo.zoo_sampler("pf-heun-stops-early", PROCESS)
    assert mutant.t_end == 0.0 and mutant.t_stop == 0.05
    a = honest(score, (300, 2), np.random.default_rng(1), 40)
    b = mutant(score, (300, 2), np.random.default_rng(1), 40)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("data_name", SWAP_INVISIBLE)
def test_swapped_axes_reproduces_ddim_on_swap_symmetric_data(data_name):
    """In 1D the swap is the identity; ring8 is mapped to itself, so its score commutes with the swap."""
    score, _ = _truth(data_name)
    d = problems.data(data_name).dim
    a = zoo.zoo_sampler("ddim", PROCESS)(score, (500, d), np.random.default_rng(2), 60)
    b = zoo.zoo_sampler("ddim-swapped-axes", PROCESS)(score, (500, d), np.random.default_rng(2), 60)
    # one score call per step, each exact to a few ulps of |s| <= ~1e2 near t = 0: 1e-9 is generous
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)


def test_ddpm_x0_form_equals_eps_form_without_clipping():
    """The clip mutant's x0-form mean is algebraically the eps-form one; only the clip differs."""

    class Unclipped(zoo.DDPMAncestral):
        clip = np.inf

    score, _ = _truth("gmm2d-aniso")
    a = zoo.DDPMAncestral(PROCESS)(score, (400, 2), np.random.default_rng(3), 80)
    b = Unclipped(PROCESS)(score, (400, 2), np.random.default_rng(3), 80)
    # the x0 form divides by sqrt(alpha_bar) ~ 7e-3 at t = T: round-off ~ 1e-13 * |x| / 7e-3 per step
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------------------------------
# the documented limits (1D data N(1, 0.5^2))

GAUSSIAN = GaussianMixture.isotropic([1.0], [[1.0]], 0.5)
_LIMIT_CASES = [name for name, factory in zoo.ZOO.items() if factory.gaussian_limit is not None]


@pytest.mark.parametrize("name", _LIMIT_CASES)
def test_gaussian_limit(name):
    """The ``gaussian_limit`` (from the moment ODEs of the module notes) against a simulation.

    Tolerance: 5 Monte-Carlo standard errors (std/sqrt(n) for the mean, std/sqrt(2n) for the std),
    plus the discretisation error at these step counts: 0.002 on the mean (measured with n = 2e5:
    at most 1.1e-4 beyond the Monte-Carlo error, for the contracting flow of pf-heun-score-factor-1)
    and 1% of the std (measured: at most 0.75%, DDPM's std low by about 11/N).
    """
    sampler = zoo.zoo_sampler(name, PROCESS)
    family = _family(name)
    n = 20_000
    x = sampler(_serial(ExactField(PROCESS, GAUSSIAN)), (n, 1), np.random.default_rng(SEED), STEPS[family])[:, 0]
    mean, std = sampler.gaussian_limit
    assert abs(x.std() - std) <= 5 * std / np.sqrt(2 * n) + 0.01 * std
    if mean is not None:
        assert abs(x.mean() - mean) <= 5 * std / np.sqrt(n) + 0.002


# ---------------------------------------------------------------------------------------------------
# randomness: only the generator handed in


@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_draws_only_from_the_given_generator(name):
    score, _ = _truth("gmm2d-aniso")
    sampler = zoo.zoo_sampler(name, PROCESS)
    saved = np.random.get_state()
    try:
        np.random.seed(0)
        before = np.random.get_state()[1].copy()
        a = sampler(score, (64, 2), np.random.default_rng(7), 12)
        np.testing.assert_array_equal(np.random.get_state()[1], before)  # the global state is untouched
        np.random.seed(12345)
        b = sampler(score, (64, 2), np.random.default_rng(7), 12)
    finally:
        np.random.set_state(saved)
    c = sampler(score, (64, 2), np.random.default_rng(8), 12)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_the_generator_is_advanced():
    """A sampler consumes its draws from ``rng``: the same generator gives a fresh sample next time."""
    score, _ = _truth("gmm2d-aniso")
    rng = np.random.default_rng(9)
    sampler = zoo.zoo_sampler("ddpm", PROCESS)
    assert not np.allclose(sampler(score, (32, 2), rng, 10), sampler(score, (32, 2), rng, 10))


# ---------------------------------------------------------------------------------------------------
# shapes and input checks


@pytest.mark.parametrize("name", list(zoo.ZOO))
@pytest.mark.parametrize("data_name", ["gmm1d-bimodal", "gmm2d-aniso", "gmm3d-tetra"])
def test_shape(name, data_name):
    data = problems.data(data_name)
    x = zoo.zoo_sampler(name, PROCESS)(ExactField(PROCESS, data).score, (17, data.dim), np.random.default_rng(0), 5)
    assert x.shape == (17, data.dim) and x.dtype == float and np.all(np.isfinite(x))


def test_bad_calls_raise_input_error():
    score, _ = _truth("gmm2d-aniso")
    sampler = zoo.zoo_sampler("reverse-em", PROCESS)
    rng = np.random.default_rng(0)
    for shape in [(10,), (0, 2), (10, 2.5), "ab", None]:
        with pytest.raises(InputError, match="shape"):
            sampler(score, shape, rng, 5)
    for steps in [0, -3, 1.5, True, "5"]:
        with pytest.raises(InputError, match="steps"):
            sampler(score, (10, 2), rng, steps)
    for bad_rng in [0, np.random.RandomState(0), None]:
        with pytest.raises(InputError, match="Generator"):
            sampler(score, (10, 2), bad_rng, 5)
    with pytest.raises(InputError, match="callable"):
        sampler(np.zeros((10, 2)), (10, 2), rng, 5)
    with pytest.raises(InputError, match="shape"):
        sampler(lambda x, t: np.zeros(x.shape[0]), (10, 2), rng, 5)


def test_bad_construction_raises_input_error():
    with pytest.raises(InputError, match="VP"):
        zoo.zoo_sampler("ddim", VE())
    for t_end in [-0.1, 1.0, 2.0]:
        with pytest.raises(InputError, match="t_end"):
            zoo.ReverseEulerMaruyama(PROCESS, t_end=t_end)
    with pytest.raises(InputError, match="Linear"):
        zoo.zoo_sampler("ddpm-schedule-mismatch", VP(Cosine()))


# ---------------------------------------------------------------------------------------------------
# the registry and the documentation


def test_registry():
    assert len(zoo.CORRECT) == 4 and len(zoo.MUTANTS) >= 11
    assert not set(zoo.CORRECT) & set(zoo.MUTANTS)
    assert list(zoo.ZOO) == [*zoo.CORRECT, *zoo.MUTANTS]
    for name in zoo.ZOO:
        sampler = zoo.zoo_sampler(name)
        assert sampler.name == name
        assert sampler.correct is (name in zoo.CORRECT)
        assert sampler.t_end == 0.0
        assert repr(sampler.process) == repr(PROCESS)
        assert isinstance(zoo.ZOO[name](PROCESS), zoo.ZooSampler)
    with pytest.raises(UnknownNameError, match="ddim"):
        zoo.zoo_sampler("no-such-sampler")


def test_every_mutant_derives_from_a_correct_sampler():
    for name in zoo.MUTANTS:
        assert _family(name) in zoo.CORRECT


@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_docstrings(name):
    doc = inspect.getdoc(zoo.ZOO[name])
    assert doc and doc != inspect.getdoc(zoo.ZooSampler)
    if name in zoo.MUTANTS:
        assert doc.startswith("Mutant:") and "Bug class" in doc and "Effect" in doc
        assert doc != inspect.getdoc(zoo.CORRECT[_family(name)])


def test_module_docstrings_state_the_prior_error():
    assert "e^{-B}" in zoo.__doc__ and "4.3" in zoo.__doc__
    import fpcheck.verify

    assert fpcheck.verify.__doc__


def test_package_import_is_lazy():
    code = (
        "import sys, fpcheck.verify\n"
        "assert 'fpcheck.verify.zoo' not in sys.modules and 'numpy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", list(zoo.CORRECT))
def test_states_end_in_the_output_and_run_down_from_T(name):
    score, _ = _truth("gmm2d-aniso")
    sampler = zoo.zoo_sampler(name, PROCESS)
    out = sampler(score, (200, 2), np.random.default_rng(5), 40)
    times, states = sampler.states(score, (200, 2), np.random.default_rng(5), 40)
    assert states.shape == (times.size, 200, 2) and times.size == zoo.ZooSampler.STATES
    assert np.all(np.diff(times) < 0) and times[-1] == pytest.approx(sampler.t_end, abs=1e-12)
    np.testing.assert_array_equal(states[-1], out)
    assert sampler._record is None  # recording is off again
