"""Finite-difference residuals: small for solutions, at the stencils' order; O(1) for a wrong equation."""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.errors import InputError
from fpcheck.processes import VP
from fpcheck.residuals import continuity_residual, fokker_planck_residual, residual_order
from fpcheck.schedules import Linear


class _DoubleDiffusionVP(VP):
    """VP with g^2 = 2 beta: the transcript's `beta Δq` slip, seen from the kernel's side."""

    def g2(self, t):
        return 2.0 * super().g2(t)


def _axes(centre, half, n, d):
    return [np.linspace(centre - half, centre + half, n) for _ in range(d)]


@pytest.mark.parametrize("d, n", [(1, 201), (2, 61)])
def test_exact_marginal_solves_fokker_planck_at_the_stencil_order(d, n):
    # q_t of a mixture solves FP exactly, so the residual is truncation error O(h^6) (acc=6):
    # halving h must shrink it by about 2^6; an order >= 4 leaves room for pre-asymptotic terms.
    name = "gmm1d-bimodal" if d == 1 else "gmm2d-aniso"
    truth = ExactMarginals(problems.process("vp-linear"), problems.data(name))
    fine = fokker_planck_residual(truth.process, truth.pdf, _axes(0.0, 6.0, n, d), 0.3)
    coarse = fokker_planck_residual(truth.process, truth.pdf, _axes(0.0, 6.0, (n + 1) // 2, d), 0.3)
    assert fine.relative < coarse.relative
    assert residual_order(fine, coarse) >= 4.0


def test_wrong_diffusion_factor_leaves_an_order_one_residual():
    # The kernel of the true VP does not solve the equation with g^2 doubled: the residual is the
    # size of the diffusion term itself, and refining the grid does not reduce it.
    vp = VP(Linear())
    a_t = lambda x, t: np.exp(-0.5 * ((x[:, 0] - vp.kernel(t).a) ** 2) / vp.kernel(t).s2) / np.sqrt(
        2 * np.pi * vp.kernel(t).s2
    )
    wrong = _DoubleDiffusionVP(Linear())
    fine = fokker_planck_residual(wrong, a_t, _axes(0.5, 5.0, 201, 1), 0.5)
    coarse = fokker_planck_residual(wrong, a_t, _axes(0.5, 5.0, 101, 1), 0.5)
    assert fine.relative > 0.1
    assert abs(residual_order(fine, coarse)) < 0.5
    good = fokker_planck_residual(vp, a_t, _axes(0.5, 5.0, 201, 1), 0.5)
    assert good.relative < 1e-5


@pytest.mark.parametrize("factor, sign", [(1.0, 1.0), (0.5, -1.0), (2.0, 1.0)])
def test_continuity_residual_flags_wrong_probability_flow_velocities(factor, sign):
    # v = f - (g^2/2) score is the only velocity of this family that transports q_t (MATH.md §3);
    # the transcript's score factor 1, a flipped sign, or a factor 2 each leave an O(1) residual.
    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    proc = truth.process

    def velocity(x, t):
        return proc.drift(x, t) - sign * factor * proc.g2(t) * truth.score(x, t)

    axes = _axes(0.0, 6.0, 401, 1)
    exact = continuity_residual(truth.velocity, truth.pdf, axes, 0.4, proc.T)
    slip = continuity_residual(velocity, truth.pdf, axes, 0.4, proc.T)
    assert exact.relative < 1e-6
    assert slip.relative > 0.05


def test_time_stencil_switches_to_one_sided_at_the_ends():
    # At t = 0 and t = T the five-point stencil cannot be centred; the one-sided ones are also
    # order 4 in dt = 1e-5 T, so the residual is still the spatial truncation error
    # and falls at the spatial order when h halves.
    truth = ExactMarginals(problems.process("ou"), problems.data("gmm1d-bimodal"))
    for t in (0.0, truth.T):
        fine, coarse = (
            fokker_planck_residual(truth.process, truth.pdf, _axes(0.5, 6.0, n, 1), t) for n in (601, 301)
        )
        assert residual_order(fine, coarse) >= 4.0


def test_bad_grids_are_rejected():
    proc = problems.process("vp-linear")
    pdf = ExactMarginals(proc, problems.data("gmm1d-bimodal")).pdf
    with pytest.raises(InputError, match="uniform"):
        fokker_planck_residual(proc, pdf, [np.array([0, 1, 3, 4, 5, 6, 7, 8, 9.0])], 0.5)
    with pytest.raises(InputError, match="at least 9"):
        fokker_planck_residual(proc, pdf, [np.linspace(0, 1, 5)], 0.5)
    with pytest.raises(InputError, match="vanishes"):
        fokker_planck_residual(proc, pdf, [np.linspace(1e3, 1e3 + 1, 11)], 0.5)
    with pytest.raises(InputError, match="time range"):
        fokker_planck_residual(proc, pdf, [np.linspace(-1, 1, 11)], 2.0)
