r"""Exercise 8: denoising score matching equals explicit score matching plus a constant (Vincent 2011).

With :math:`x = a_t x_0 + c_t + s_t\varepsilon` and :math:`\nabla_x\log k_t(x\mid x_0) = -\varepsilon/s_t`,

.. math::
    \text{DSM}(s) = \tfrac12 E\,|s(x) - \nabla_x\log k_t(x\mid x_0)|^2
    = \text{ESM}(s) + \tfrac12\frac{d}{s_t^2} - \tfrac12 E_q|\nabla\log q_t|^2 ,

because the cross terms agree: :math:`E[s(x)\cdot\nabla\log k(x\mid x_0)] = E_q[s\cdot\nabla\log q_t]`.
Two independent routes:

(i) 1D, brute force: the joint expectation over :math:`(x_0, x)` as a 2D quadrature, in the
    variables :math:`(x_0, \varepsilon)` where both factors of the joint density are resolved;
(ii) 1D and 2D, Tweedie: for Gaussian-mixture data
    :math:`E[\nabla\log k(x\mid x_0)\mid x] = -(x - a\,E[x_0\mid x] - c)/s^2` with the posterior mean
    :math:`E[x_0\mid x] = \sum_k r_k(x)\,(m_k + a S_k V_k^{-1}(x - a m_k - c))`, :math:`V_k = a^2 S_k + s^2 I`,
    written here; it must be fpcheck's score, pointwise and inside the cross term.

In both, :math:`\text{DSM} - \text{ESM}` must be the same constant for two different fields.
ESM uses ``ExactMarginals.at(t)`` (its pdf and score).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpcheck import ExactMarginals
from fpcheck import strategies as fst

from ._draws import process_at_time, smooth_fields
from ._helpers import Mixture, QuadratureGrid, kernel_coefficients

GRID_POINTS = {1: 2001, 2: 321}
N_X0, N_EPS = 801, 401  # the (x0, eps) grid of the brute-force route
EPS_GRID = np.linspace(-10.0, 10.0, N_EPS)  # standard normal noise: the cut tails are e^-50
# Quadrature error: as for ISM (test_ex7), geometric convergence leaves only round-off, ~1e-14 of
# the integrals' size; the brute-force cross term E[s eps] / s_t divides that round-off by s_t
# (>= 1e-4 here) against a result of size |s'| ~ |s| / l, so it is ~1e-10 of the scale in the
# worst case.  Hence REL_TOL = 1e-9 of the sum of the terms' magnitudes.
REL_TOL = 1e-9


def esm_terms(q_t, field, grid: QuadratureGrid) -> dict[str, float]:
    r"""The pieces of ESM, with fpcheck's ``q_t`` (its pdf and score).

    :math:`\text{ESM} = \tfrac12 E|s|^2 - E[s\cdot\nabla\log q] + \tfrac12 E|\nabla\log q|^2`.
    """
    x = grid.points
    q, score, s = q_t.pdf(x), q_t.score(x), field(x)
    return {
        "half_s2": grid.integrate(q * 0.5 * np.sum(s * s, axis=1)),
        "cross": grid.integrate(q * np.sum(s * score, axis=1)),
        "half_fisher": grid.integrate(q * 0.5 * np.sum(score * score, axis=1)),
    }


def esm(terms: dict[str, float]) -> float:
    return terms["half_s2"] - terms["cross"] + terms["half_fisher"]


def assert_same_constant(found: list[tuple[float, float]], const: float):
    """``DSM - ESM`` of two fields, each given with its scale, agree.

    Both contain the same float ``const`` = d / (2 s^2), which can be 1e6 or more: adding it
    rounds by eps * const, so that much is allowed on top of the quadrature tolerance.
    """
    (c1, scale1), (c2, scale2) = found
    assert abs(c1 - c2) <= REL_TOL * (scale1 + scale2) + 4.0 * np.finfo(float).eps * const


def magnitude(*term_dicts: dict[str, float]) -> float:
    """The scale of a comparison: the sum of the magnitudes of its pieces (constants excluded)."""
    return sum(abs(v) for terms in term_dicts for k, v in terms.items() if k != "const")


# --------------------------------------------------------------------------- (i) brute force, 1D


def dsm_by_joint_quadrature(data: Mixture, process, t: float, field) -> dict[str, float]:
    r"""The pieces of DSM by quadrature over :math:`(x_0, \varepsilon)`.

    :math:`\text{DSM} = \tfrac12 E|s|^2 - E[s\cdot\nabla\log k] + \tfrac12 E|\nabla\log k|^2`.

    The joint density is :math:`p(x_0)\,\varphi(\varepsilon)`, with :math:`p` from scipy.stats and a
    trapezoid grid on each variable; :math:`x = a x_0 + c + s\varepsilon`, :math:`\nabla\log k = -\varepsilon/s`,
    and :math:`E|\nabla\log k|^2 = d/s^2` (second moment of the standard normal).
    """
    x0_grid = QuadratureGrid(data, N_X0)
    a, c, s2 = kernel_coefficients(process, t, 1)
    s = np.sqrt(s2)
    w0 = np.exp(data.logpdf(x0_grid.points)) * x0_grid.volume
    w_eps = np.exp(-0.5 * EPS_GRID**2) / np.sqrt(2.0 * np.pi) * (EPS_GRID[1] - EPS_GRID[0])
    weights = np.outer(w0, w_eps).ravel()
    eps = np.broadcast_to(EPS_GRID, (len(w0), N_EPS)).ravel()
    x = (a * x0_grid.points[:, 0, None] + c[0] + s * EPS_GRID[None, :]).reshape(-1, 1)
    sx = field(x)[:, 0]
    return {
        "half_s2": float(weights @ (0.5 * sx * sx)),
        "cross": float(weights @ (sx * (-eps / s))),
        "const": 0.5 / s2,
    }


@given(data=st.data())
def test_dsm_is_esm_plus_a_constant_by_joint_quadrature_1d(data):
    process, t = data.draw(process_at_time(1, hi_frac=1.0), label="process, t")
    mixture = data.draw(fst.gaussian_mixtures(1), label="data")
    q_t = ExactMarginals(process, mixture).at(t)
    grid = QuadratureGrid(Mixture.of(q_t), GRID_POINTS[1])
    constants = []
    for label in ("field s1", "field s2"):
        field = data.draw(smooth_fields(Mixture.of(q_t)), label=label)
        D = dsm_by_joint_quadrature(Mixture.of(mixture), process, t, field)
        E = esm_terms(q_t, field, grid)
        scale = magnitude(D, E)
        # the field-dependent parts agree: the cross terms are equal
        assert abs((D["half_s2"] - D["cross"]) - (E["half_s2"] - E["cross"])) <= REL_TOL * scale
        # so DSM - ESM is the predicted constant d / (2 s^2) - (1/2) E|score|^2 ...
        dsm = D["half_s2"] - D["cross"] + D["const"]
        assert abs((dsm - esm(E)) - (D["const"] - E["half_fisher"])) <= REL_TOL * scale + 4e-16 * D["const"]
        constants.append((dsm - esm(E), scale))
    assert_same_constant(constants, D["const"])  # ... the same for both fields


# --------------------------------------------------------------------------- (ii) Tweedie, 1D and 2D


def denoiser_score(data: Mixture, a: float, c: np.ndarray, s2: float, x: np.ndarray) -> np.ndarray:
    r""":math:`E[\nabla_x\log k(x\mid x_0)\mid x] = -(x - a\,E[x_0\mid x] - c)/s^2` for mixture data.

    Per component, :math:`x_0 \mid x, k \sim \mathcal N(m_k + a S_k V_k^{-1}(x - \mu_k),\ \cdot)` with
    :math:`\mu_k = a m_k + c`, :math:`V_k = a^2 S_k + s^2 I`; the component posterior :math:`r_k(x)` is the
    responsibility of :math:`\mathcal N(\mu_k, V_k)` in :math:`q_t`.
    """
    q_t = data.pushed(a, c, s2)
    r = q_t.responsibilities(x)  # (n, K)
    gain = a * np.einsum("kij,kjl->kil", data.covs, np.linalg.inv(q_t.covs))  # a S_k V_k^-1
    post = data.means[None] + np.einsum("kij,nkj->nki", gain, x[:, None, :] - q_t.means[None])
    x0_mean = np.einsum("nk,nki->ni", r, post)
    return -(x - a * x0_mean - c) / s2


@pytest.mark.parametrize("dim", [1, 2])
@given(data=st.data())
def test_dsm_is_esm_plus_a_constant_by_tweedie(dim, data):
    process, t = data.draw(process_at_time(dim, hi_frac=1.0), label="process, t")
    mixture = data.draw(fst.gaussian_mixtures(dim), label="data")
    a, c, s2 = kernel_coefficients(process, t, dim)
    parts = Mixture.of(mixture)
    q_parts = parts.pushed(a, c, s2)
    grid = QuadratureGrid(q_parts, GRID_POINTS[dim])
    x = grid.points
    q_t = ExactMarginals(process, mixture).at(t)
    q = np.exp(q_parts.logpdf(x))  # the density weights, from scipy.stats
    tweedie, score = denoiser_score(parts, a, c, s2, x), q_t.score(x)

    # Pointwise, Tweedie's E[grad log k | x] is the score.  Its formula cancels x - a E[x0|x] - c
    # ~ s^2 |score| out of terms of size |x| + |c|: round-off eps (|x| + |c|) / s^2, times 100
    # for the sums over components.
    mass = q > 1e-12 * q.max()
    err = np.linalg.norm(tweedie - score, axis=1)[mass]
    roundoff = 100.0 * np.finfo(float).eps * (np.abs(x).sum(axis=1) + np.abs(c).sum())[mass] / s2
    assert np.all(err <= roundoff + 1e-10 * np.linalg.norm(score, axis=1)[mass])

    # The cross terms, and so DSM - ESM, agree for two fields.
    constants = []
    for label in ("field s1", "field s2"):
        field = data.draw(smooth_fields(q_parts), label=label)
        s = field(x)
        half_s2 = grid.integrate(q * 0.5 * np.sum(s * s, axis=1))
        cross_dsm = grid.integrate(q * np.sum(s * tweedie, axis=1))
        cross_esm = grid.integrate(q * np.sum(s * score, axis=1))
        half_fisher = grid.integrate(q * 0.5 * np.sum(score * score, axis=1))
        scale = half_s2 + grid.integrate(q * np.abs(np.sum(s * score, axis=1))) + half_fisher
        assert abs(cross_dsm - cross_esm) <= REL_TOL * scale
        dsm = half_s2 - cross_dsm + 0.5 * dim / s2  # E|grad log k|^2 = d / s^2
        constants.append((dsm - (half_s2 - cross_esm + half_fisher), scale))
    assert_same_constant(constants, 0.5 * dim / s2)
