r"""Exercise 5: the Fokker-Planck equation is the continuity equation of the probability-flow velocity.

With :math:`v_t = f - \tfrac12 g^2\nabla\log q_t` (MATH.md section 3), on grids in 1D and 2D,

.. math::
    -\nabla\cdot(q_t v_t) = -\nabla\cdot(f q_t) + \tfrac12 g^2 \Delta q_t = \partial_t q_t ,

with :math:`q_t` = ``ExactMarginals.pdf``, :math:`v_t` = ``ExactMarginals.velocity``, the spatial
derivatives by findiff and :math:`\partial_t q_t` by a central difference in time of the pdf, for
random Gaussian-mixture data and for the blurred boxes of ``box1d`` and ``checkerboard2d``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpcheck import ExactMarginals, problems
from fpcheck import strategies as fst

from ._draws import process_at_time
from ._helpers import (
    Mixture,
    Patch,
    continuity_residual,
    density_precision,
    flux_mismatch,
    fokker_planck_residual,
    gaussian_time_step,
    kernel_coefficients,
)

GRID_POINTS = {1: 2001, 2: 161}
BOX_GRID_POINTS = {1: 2001, 2: 81}  # box densities cost 10x more to evaluate; Residual measures the coarser h
HALF_WIDTH = 4.0  # in units of the narrowest component's standard deviation
Z_MAX = 6.0  # deviations within which a component shapes the residual: beyond, it is below e^-18 of its peak


class MarginalPatch:
    r"""A patch where :math:`q_t` has mass and structure, with everything the residual checks need.

    The patch spans ``centre`` :math:`\pm 4\sigma`, where :math:`\sigma` is the narrowest width in
    :math:`q_t` (so the stencils resolve every feature alike), and ``mean_bound`` bounds the
    positions that move with the kernel (component means, box corners), for the time step and
    the round-off of the density values.  ``n`` is the number of points per axis;
    ``cancellation`` multiplies the relative accuracy of the density values where their formula
    loses digits (see :meth:`near_corner`).
    """

    def __init__(self, process, data, t: float, centre, sigma: float, mean_bound: float, n: int, cancellation=1.0):
        d = data.dim
        self.process, self.t, self.sigma = process, t, sigma
        self.truth = ExactMarginals(process, data)
        self.patch = Patch(centre, HALF_WIDTH * sigma, n)
        a, c, _ = kernel_coefficients(process, t, d)
        self.h_t = gaussian_time_step(process, t, mean_bound, sigma, d, z_max=Z_MAX)
        position = a * mean_bound + float(np.max(np.abs(c)))
        self.eps_q = cancellation * density_precision(sigma, position, Z_MAX * np.sqrt(d))
        self._densities: dict[float, np.ndarray] = {}

    @classmethod
    def near_component(cls, process, data, t: float, j: int, offset: np.ndarray) -> MarginalPatch:
        """Gaussian-mixture data: centred at component ``j`` of :math:`q_t` moved by ``offset`` of its deviations."""
        q_t = Mixture.of(data).pushed(*kernel_coefficients(process, t, data.dim))
        j = j % len(q_t.weights)
        centre = q_t.means[j] + np.linalg.cholesky(q_t.covs[j]) @ offset
        return cls(process, data, t, centre, q_t.stds()[0], float(np.max(np.abs(data.means))), GRID_POINTS[data.dim])

    @classmethod
    def near_corner(cls, process, data, t: float, k: int, upper: np.ndarray, offset: np.ndarray) -> MarginalPatch:
        r"""Box data (no initial blur): centred at a corner of box ``k`` moved by ``offset`` blur widths.

        The corner takes the upper edge on the axes where ``upper`` is set; at time :math:`t` it sits
        at :math:`a\,x + c` and its edges are blurred by :math:`s_t`, the density's narrowest width.
        A box :math:`a w` much narrower than :math:`s_t` has its density from the difference
        :math:`\Phi(z_1) - \Phi(z_2)` of nearly equal numbers, which costs a factor :math:`s_t/(a w)` in
        relative accuracy (``cancellation``).
        """
        a, c, s2 = kernel_coefficients(process, t, data.dim)
        k = k % len(data.weights)
        corner = np.where(upper, data.upper[k], data.lower[k])
        s = np.sqrt(s2)
        bound = float(np.max(np.abs([data.lower, data.upper])))
        cancellation = max(1.0, s / (a * float(np.min(data.upper - data.lower))))
        centre = a * corner + c + s * offset
        return cls(process, data, t, centre, s, bound, BOX_GRID_POINTS[data.dim], cancellation)

    def density(self, tau: float) -> np.ndarray:
        r""":math:`q_\tau` on the patch (memoised: the checks share the times of one stencil)."""
        if tau not in self._densities:
            self._densities[tau] = self.patch.field(self.truth.pdf(self.patch.points, tau))
        return self._densities[tau]

    def continuity(self, velocity) -> float:
        r"""Residual of :math:`\partial_t q + \nabla\cdot(q v) = 0` in units of the tolerance."""
        residual = continuity_residual(self.density, velocity, self.t, self.patch, self.h_t, self.eps_q)
        return residual.in_tolerance_units()

    def fokker_planck(self, diffusion: float = 0.5) -> float:
        r"""Residual of :math:`\partial_t q + \nabla\cdot(fq) - \kappa g^2\Delta q = 0` in units of the tolerance."""
        args = (self.density, self.process, self.t, self.patch, self.h_t, self.eps_q, diffusion)
        return fokker_planck_residual(*args).in_tolerance_units()

    def flux(self, velocity) -> float:
        r"""Mismatch of :math:`\nabla\cdot(qv)` and :math:`\nabla\cdot(fq) - \tfrac12 g^2\Delta q` (tolerance units)."""
        return flux_mismatch(self.density, self.process, velocity, self.t, self.patch, self.eps_q).in_tolerance_units()


@st.composite
def marginal_patches(draw, dim: int) -> MarginalPatch:
    """A patch near a component of random Gaussian-mixture data, for a random process and time."""
    process, t = draw(process_at_time(dim))
    data = draw(fst.gaussian_mixtures(dim))
    j = draw(st.integers(0, 3))
    offset = draw(fst.points(dim, n=1, bound=2.0))[0]
    return MarginalPatch.near_component(process, data, t, j, offset)


@st.composite
def box_patches(draw, name: str) -> MarginalPatch:
    """A patch near a blurred corner of a named box data set (``box1d``, ``checkerboard2d``)."""
    data = problems.data(name)
    process, t = draw(process_at_time(data.dim))
    k = draw(st.integers(0, len(data.weights) - 1))
    upper = np.array(draw(st.lists(st.booleans(), min_size=data.dim, max_size=data.dim)))
    offset = draw(fst.points(data.dim, n=1, bound=2.0))[0]
    return MarginalPatch.near_corner(process, data, t, k, upper, offset)


def assert_transport_identities(case: MarginalPatch):
    velocity = case.truth.velocity
    assert case.flux(velocity) < 1.0  # -div(q v) = -div(f q) + g^2/2 lap q
    assert case.continuity(velocity) < 1.0  # ... = d q / dt
    assert case.fokker_planck() < 1.0  # and q_t solves Fokker-Planck


@pytest.mark.parametrize("dim", [1, 2])
@given(data=st.data())
def test_fokker_planck_is_the_continuity_equation(dim, data):
    assert_transport_identities(data.draw(marginal_patches(dim), label="patch"))


@pytest.mark.parametrize("name", ["box1d", "checkerboard2d"])
@settings(max_examples=15)
@given(data=st.data())
def test_box_marginals_obey_the_continuity_equation(name, data):
    """The erf closed forms of blurred boxes (density and score) solve the same equations."""
    assert_transport_identities(data.draw(box_patches(name), label="patch"))
