r"""Exercise 7: implicit score matching equals explicit score matching minus a constant.

For any smooth field :math:`s` that grows at most polynomially, integration by parts against the
Gaussian-tailed :math:`q_t` gives :math:`E_q[\nabla\cdot s] = -E_q[s\cdot\nabla\log q]`, hence

.. math::
    \underbrace{E_q\big[\tfrac12|s|^2 + \nabla\cdot s\big]}_{\text{ISM}}
    = \underbrace{\tfrac12 E_q|s - \nabla\log q|^2}_{\text{ESM}} - \tfrac12 E_q|\nabla\log q|^2 .

Checked by quadrature on grids in 1D and 2D, with :math:`q_t` and :math:`\nabla\log q_t` from
``ExactMarginals.at(t)`` and random fields :math:`s(x) = Ay + b + c\tanh(w\cdot y + e)` whose
divergence is written out (:class:`~._helpers.SmoothField`).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpcheck import ExactMarginals
from fpcheck import strategies as fst

from ._draws import process_at_time, smooth_fields
from ._helpers import Mixture, QuadratureGrid

GRID_POINTS = {1: 2001, 2: 321}
# Quadrature error: the integrands are a Gaussian mixture times functions analytic in a strip
# around the real axis, so the trapezoid rule converges geometrically (QuadratureGrid): for
# h <= sigma_min / 3 the Gaussian part errs by e^(-2 pi^2 9) and the field's tanh, with poles
# >= pi l / sqrt(d) >= 2.2 sigma_min away (smooth_fields), by ~e^(2.2^2/2 - 2 pi 2.2 3) < 1e-16.
# ESM - (1/2) E|score|^2 cancels the |score|^2 sums exactly.  What remains is the round-off of
# sums over up to 1e5 points, ~1e-14 relative; 1e-12 of the scale leaves a margin of 100.
REL_TOL = 1e-12
MAX_RESOLUTION = 1.0 / 3.0  # largest step / sigma_min for which the estimate above holds

def score_matching_losses(q_t, field, grid: QuadratureGrid) -> dict[str, float]:
    """The mass, ESM, ISM, the Fisher term (1/2) E|score|^2 and a scale, by quadrature over ``grid``."""
    x = grid.points
    q, score, s = q_t.pdf(x), q_t.score(x), field(x)
    div = field.divergence(x)
    half_s2 = 0.5 * np.sum(s * s, axis=1)
    cross = np.sum(s * score, axis=1)
    half_fisher = 0.5 * np.sum(score * score, axis=1)
    return {
        "mass": grid.integrate(q),
        "esm": grid.integrate(q * (half_s2 - cross + half_fisher)),
        "ism": grid.integrate(q * (half_s2 + div)),
        "fisher": grid.integrate(q * half_fisher),
        "scale": grid.integrate(q * (half_s2 + np.abs(div) + np.abs(cross) + half_fisher)),
    }


@pytest.mark.parametrize("dim", [1, 2])
@given(data=st.data())
def test_ism_is_esm_minus_half_the_fisher_information(dim, data):
    process, t = data.draw(process_at_time(dim, hi_frac=1.0), label="process, t")
    mixture = data.draw(fst.gaussian_mixtures(dim), label="data")
    q_t = ExactMarginals(process, mixture).at(t)
    parts = Mixture.of(q_t)
    grid = QuadratureGrid(parts, GRID_POINTS[dim])
    assert grid.resolution() <= MAX_RESOLUTION  # the premise of REL_TOL
    field = data.draw(smooth_fields(parts), label="field s")
    L = score_matching_losses(q_t, field, grid)
    assert abs(L["mass"] - 1.0) <= REL_TOL  # the Fokker-Planck flow conserves mass: q_t is normalised
    assert abs(L["ism"] - (L["esm"] - L["fisher"])) <= REL_TOL * L["scale"]
