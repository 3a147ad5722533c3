r"""Exercise 3: without noise all mass collapses to a point; with noise :math:`q_t \to \mathcal N(0, I)`.

* Noiseless OU, :math:`f = -\gamma(x - \mu)`, :math:`g = 0`: every path is
  :math:`x_t = \mu + e^{-\gamma t}(x_0 - \mu)`, so
  :math:`\operatorname{mean}(q_t) = \mu + e^{-\gamma t}(\bar x_0 - \mu)`,
  :math:`\operatorname{cov}(q_t) = e^{-2\gamma t}\Sigma_0 \to 0`, and by Chebyshev
  :math:`P(|x_t - \mu| > \delta) \le e^{-2\gamma t}\,E|x_0 - \mu|^2/\delta^2`.
* VP: :math:`q_t` is the mixture :math:`\sum_k w_k \mathcal N(a m_k, a^2 S_k + (1 - a^2) I)`,
  :math:`a = e^{-B/2}`.  By convexity of KL,
  :math:`KL(q_t\|\mathcal N(0,I)) \le \sum_k w_k KL(\mathcal N_k\|\mathcal N(0,I))`,
  and by Pinsker :math:`\|q_t - \mathcal N(0,I)\|_{L^1} \le \sqrt{2\,KL}`.  Since :math:`\mathcal N(0,I)` is
  invariant under every VP transition, the :math:`L^1` distance cannot increase with :math:`t`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import trapezoid

from fpcheck import OU, ExactMarginals
from fpcheck import strategies as fst

from ._helpers import Mixture, gaussian_kl_to_standard

COLLAPSE_TIMES = 15.0  # the noiseless OU runs to T = 15 / gamma, where cov shrinks by e^-30 = 1e-13


@st.composite
def noiseless_ou(draw, dim: int):
    process = draw(fst.ou_processes(dim, beta=(0.0, 0.0), T=1.0))
    return OU(process.gamma, process.mu, 0.0, T=COLLAPSE_TIMES / process.gamma)


@pytest.mark.parametrize("dim", [1, 2, 3])
@given(data=st.data())
def test_noiseless_flow_contracts_onto_the_centre(dim, data):
    process = data.draw(noiseless_ou(dim), label="process")
    mixture = data.draw(fst.gaussian_mixtures(dim), label="data")
    mean0, cov0 = Mixture.of(mixture).moments()
    mu = np.broadcast_to(process.mu, (dim,))
    truth = ExactMarginals(process, mixture)
    for t in (data.draw(fst.times(process), label="t"), process.T):
        a = np.exp(-process.gamma * t)
        # Both sides are a few flops from the same numbers, so they agree to round-off, except
        # that q_t's component means a m_k + mu (1 - a) carry an absolute error ~eps |mu| that
        # does not shrink with a: the covariance's spread term then errs by ~eps |mu| a |m_k|,
        # hence atol = 100 eps (1 + |mu|) a for the covariance (100 for the sums over k).
        np.testing.assert_allclose(truth.mean(t), mu + a * (mean0 - mu), rtol=1e-12, atol=1e-12)
        cov_atol = 100.0 * np.finfo(float).eps * (1.0 + np.max(np.abs(mu))) * a
        np.testing.assert_allclose(truth.cov(t), a * a * cov0, rtol=1e-12, atol=cov_atol)
    assert np.trace(truth.cov(process.T)) <= 1e-12 * np.trace(cov0)


@given(data=st.data())
def test_noiseless_mass_concentrates_by_chebyshev(data):
    process = data.draw(noiseless_ou(1), label="process")
    mixture = data.draw(fst.gaussian_mixtures(1), label="data")
    mean0, cov0 = Mixture.of(mixture).moments()
    mu = float(np.broadcast_to(process.mu, (1,))[0])
    second_moment = float(cov0[0, 0] + (mean0[0] - mu) ** 2)  # E|x0 - mu|^2
    delta = 1e-3
    truth = ExactMarginals(process, mixture)
    for frac in (0.1, 0.3, 0.6, 1.0):
        t = frac * process.T
        q = truth.at(t)
        outside = 1.0 - (q.cdf([mu + delta])[0] - q.cdf([mu - delta])[0])
        bound = np.exp(-2.0 * process.gamma * t) * second_moment / delta**2
        assert outside <= bound + 1e-12  # the cdf is accurate to ~1e-16; 1e-12 is round-off slack
    assert outside < 1e-5  # at T the bound is 1e-13 * E|x0-mu|^2 / 1e-6 < 1e-5: collapsed


def l1_to_standard_normal(truth: ExactMarginals, t: float) -> float:
    r""":math:`\int |q_t - \varphi|\,dx` in 1D by the trapezoid rule on [-16, 16] with 20001 points.

    :math:`q_t` has its components within :math:`|x| \le 3 + 12\sqrt{1.5}` of the origin with widths
    :math:`\ge 0.22`, so the cut tails are below :math:`10^{-20}`; the integrand is smooth except at
    the crossings of :math:`q_t` and :math:`\varphi`, where the rule errs by :math:`O(h^2|\Delta q'|) \approx 10^{-7}`
    (h = 1.6e-3).
    """
    x = np.linspace(-16.0, 16.0, 20001)
    diff = np.abs(truth.pdf(x, t) - np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi))
    return float(trapezoid(diff, x))


QUAD_SLACK = 1e-6  # trapezoid error of l1_to_standard_normal, 10x its estimate


@settings(max_examples=15)
@given(data=st.data())
def test_vp_marginal_tends_to_standard_normal(data):
    process = data.draw(fst.vp_processes(), label="process")
    mixture = data.draw(fst.gaussian_mixtures(1), label="data")
    fracs = sorted(data.draw(st.lists(fst.floats(0.05, 1.0), min_size=3, max_size=3), label="t / T"))
    parts = Mixture.of(mixture)
    truth = ExactMarginals(process, mixture)
    previous = np.inf
    for t in [f * process.T for f in fracs] + [process.T]:
        a2 = float(np.exp(-process.schedule.integral(t)))  # a^2 = e^-B, s^2 = 1 - a^2, computed here
        q_t = parts.pushed(np.sqrt(a2), np.zeros(1), 1.0 - a2)
        kl_bound = sum(w * gaussian_kl_to_standard(m, S) for w, m, S in zip(q_t.weights, q_t.means, q_t.covs))
        l1 = l1_to_standard_normal(truth, t)
        assert l1 <= np.sqrt(2.0 * kl_bound) + QUAD_SLACK  # Pinsker, with the mixture's KL bound
        assert l1 <= previous + QUAD_SLACK  # non-increasing in t
        previous = l1

