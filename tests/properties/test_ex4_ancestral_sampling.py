r"""Exercise 4: ancestral sampling draws from :math:`q_t`.

Drawing :math:`x_0 \sim p`, then :math:`x = a_t x_0 + c_t + s_t\varepsilon`, gives samples of :math:`q_t`.

The samples are drawn here (from the data's parameters, with numpy) and pushed through the
kernel; the exact law is fpcheck's :math:`q_t`, whose cdf is what is tested:

* 1D: Kolmogorov-Smirnov against ``ExactMarginals(...).at(t).cdf``;
* 2D, 3D Gaussian mixtures: KS of random projections :math:`u\cdot x` against the 1D mixture
  :math:`\sum_k w_k \mathcal N(u\cdot m_k,\ u^T S_k u)` built here from :math:`q_t`'s parameters with
  ``ndtr`` (Bonferroni over the projections);
* box data, sampled here from their definitions: ``box1d`` and each axis of ``checkerboard2d``,
  against the erf closed forms of :class:`~fpcheck.distributions.BoxMixture` (``cdf``, ``marginal``).

Significance: every example runs its KS tests at a combined level ``ALPHA = 1e-4``.  The
module runs at most 100 examples, so the chance that any correct example fails is below 1e-2
(and, hypothesis being derandomized with seeds drawn as integers, a run is reproducible).
Power: with n = 20000 samples KS at level 1e-4 detects any cdf error above
:math:`\sqrt{\log(2/\alpha)/(2n)} \approx 0.016`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from fpcheck import ExactMarginals, problems
from fpcheck import strategies as fst

from ._draws import process_at_time
from ._helpers import Mixture, kernel_coefficients

ALPHA = 1e-4
N_SAMPLES = 20_000
N_PROJECTIONS = 3


def ancestral_samples(x0: np.ndarray, process, t: float, rng: np.random.Generator) -> np.ndarray:
    r""":math:`x = a_t x_0 + c_t + s_t\varepsilon`, :math:`\varepsilon \sim \mathcal N(0, I)`."""
    a, c, s2 = kernel_coefficients(process, t, x0.shape[1])
    return a * x0 + c + np.sqrt(s2) * rng.standard_normal(x0.shape)


def ks_pvalue(samples: np.ndarray, cdf) -> float:
    return float(stats.kstest(samples, cdf).pvalue)


@settings(max_examples=20)
@given(case=process_at_time(1, hi_frac=1.0), mixture=fst.gaussian_mixtures(1), seed=fst.seeds())
def test_ancestral_samples_match_the_marginal_cdf_1d(case, mixture, seed):
    process, t = case
    rng = np.random.default_rng(seed)
    x = ancestral_samples(Mixture.of(mixture).sample(N_SAMPLES, rng), process, t, rng)
    assert ks_pvalue(x[:, 0], ExactMarginals(process, mixture).at(t).cdf) > ALPHA


@pytest.mark.parametrize("dim", [2, 3])
@settings(max_examples=20)
@given(data=st.data())
def test_ancestral_samples_match_random_projections(dim, data):
    process, t = data.draw(process_at_time(dim, hi_frac=1.0), label="process, t")
    mixture = data.draw(fst.gaussian_mixtures(dim), label="data")
    rng = np.random.default_rng(data.draw(fst.seeds(), label="seed"))
    x = ancestral_samples(Mixture.of(mixture).sample(N_SAMPLES, rng), process, t, rng)
    q_t = Mixture.of(ExactMarginals(process, mixture).at(t))  # fpcheck's q_t, its parameters only
    for _ in range(N_PROJECTIONS):
        u = rng.standard_normal(dim)
        u /= np.linalg.norm(u)
        assert ks_pvalue(x @ u, lambda y: q_t.projected_cdf(u, y)) > ALPHA / N_PROJECTIONS  # Bonferroni


def uniform_box1d(n: int, rng: np.random.Generator) -> np.ndarray:
    """``box1d`` by its definition: uniform on [-1, 1]."""
    return rng.uniform(-1.0, 1.0, (n, 1))


def uniform_checkerboard(n: int, rng: np.random.Generator) -> np.ndarray:
    """``checkerboard2d`` by its definition: uniform on the unit squares [i-2, i-1] x [j-2, j-1], i + j even."""
    dark = np.array([(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0], dtype=float)
    return dark[rng.integers(len(dark), size=n)] - 2.0 + rng.random((n, 2))


@settings(max_examples=15)
@given(case=process_at_time(1, hi_frac=1.0), seed=fst.seeds())
def test_ancestral_samples_of_box1d_match_the_erf_cdf(case, seed):
    process, t = case
    rng = np.random.default_rng(seed)
    box = problems.data("box1d")
    x = ancestral_samples(uniform_box1d(N_SAMPLES, rng), process, t, rng)
    assert ks_pvalue(x[:, 0], ExactMarginals(process, box).at(t).cdf) > ALPHA


@settings(max_examples=15)
@given(case=process_at_time(2, hi_frac=1.0), seed=fst.seeds())
def test_ancestral_samples_of_checkerboard_match_the_axis_marginals(case, seed):
    process, t = case
    rng = np.random.default_rng(seed)
    board = problems.data("checkerboard2d")
    x = ancestral_samples(uniform_checkerboard(N_SAMPLES, rng), process, t, rng)
    q_t = ExactMarginals(process, board).at(t)
    for axis in range(2):
        assert ks_pvalue(x[:, axis], q_t.marginal([axis]).cdf) > ALPHA / 2  # Bonferroni over the axes
