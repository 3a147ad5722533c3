r"""Exercise 1: the transition kernel solves the Fokker-Planck equation.

For every affine process (VP, sub-VP over constant / linear / cosine schedules, VE over
geometric sigma, OU), every time and every start point :math:`x_0`,

.. math::
    \partial_t k_t(x\mid x_0) = -\nabla\cdot\big(f\,k_t\big) + \tfrac12 g(t)^2\,\Delta k_t .

The kernel is rebuilt from the process's :math:`(a_t, c_t, s_t^2)` as a scipy.stats Gaussian, so
what is checked is that the closed-form coefficients, the drift and :math:`g^2` fit together.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from fpcheck import strategies as fst

from ._draws import process_at_time
from ._helpers import (
    Patch,
    central_difference,
    density_precision,
    fokker_planck_residual,
    gaussian_time_step,
    kernel_coefficients,
)

GRID_POINTS = {1: 2001, 2: 161}  # per axis (n = 1 mod 4, see Patch); h / s <= 8 / (n - 1)
HALF_WIDTH = 4.0  # patch half-width, in kernel standard deviations (density 3e-4 of its peak at the faces)


def kernel_on_patch(process, x0: np.ndarray, patch: Patch):
    r""":math:`\tau \mapsto k_\tau(\cdot\mid x_0)` on the patch, as ``scipy.stats.multivariate_normal``."""
    d = x0.size

    def density(tau: float) -> np.ndarray:
        a, c, s2 = kernel_coefficients(process, tau, d)
        return patch.field(stats.multivariate_normal(a * x0 + c, s2 * np.eye(d)).pdf(patch.points))

    return density


def kernel_fp_check(process, x0: np.ndarray, t: float, diffusion: float = 0.5) -> float:
    r"""The Fokker-Planck residual of the kernel on a patch around its mean, in units of its tolerance.

    The patch spans the kernel's mean :math:`\pm 4 s_t` (:math:`h/s_t \le` 0.004 in 1D, 0.05 in 2D).
    The tolerance (:meth:`Residual.in_tolerance_units`) is 4 times the Richardson estimate of
    the stencils' truncation error, from the same residual with step 2h, plus the round-off and
    time-stencil floor of :func:`transport_residual`.  Values below 1 pass.  ``diffusion`` is
    the factor in front of :math:`g^2\Delta k` (1/2 is the truth).
    """
    d = x0.size
    a, c, s2 = kernel_coefficients(process, t, d)
    s = np.sqrt(s2)
    m = a * x0 + c
    z_max = HALF_WIDTH * np.sqrt(d)
    patch = Patch(m, HALF_WIDTH * s, GRID_POINTS[d])
    h_t = gaussian_time_step(process, t, float(np.max(np.abs(x0))), s, d, z_max=z_max)
    eps_q = density_precision(s, float(np.max(np.abs(m))), z_max)
    density = kernel_on_patch(process, x0, patch)
    return fokker_planck_residual(density, process, t, patch, h_t, eps_q, diffusion).in_tolerance_units()


@pytest.mark.parametrize("dim", [1, 2])
@given(data=st.data())
def test_kernel_solves_fokker_planck_on_a_grid(dim, data):
    process, t = data.draw(process_at_time(dim), label="process, t")
    x0 = data.draw(fst.points(dim, n=1), label="x0")[0]
    assert kernel_fp_check(process, x0, t) < 1.0


def log_kernel_fp_terms(process, x0: np.ndarray, t: float, z: np.ndarray, diffusion: float = 0.5):
    r"""Residual and terms of the Fokker-Planck equation divided by :math:`k`, at :math:`x = m + \sqrt v\, z`.

    For :math:`k = \mathcal N(x;\ m(t), v(t) I)` in :math:`d` dimensions, with :math:`r = x - m`:

    .. math::
        \frac{\partial_t k}{k} = -\frac{d\,\dot v}{2v} + \frac{r\cdot\dot m}{v} + \frac{|r|^2 \dot v}{2v^2},\qquad
        \nabla\log k = -\frac{r}{v},\qquad \frac{\Delta k}{k} = \frac{|r|^2}{v^2} - \frac dv,

    and :math:`\nabla\cdot(fk)/k = \nabla\cdot f + f\cdot\nabla\log k`.  :math:`\dot m, \dot v` are 6th-order
    central differences of the process's kernel coefficients; :math:`\nabla\cdot f` is the central
    difference of the drift with unit step, exact for an affine drift up to round-off.
    Returns the residual and the list of terms, each of shape ``(n,)``.
    """
    d = x0.size

    def moments(tau: float) -> np.ndarray:
        a, c, s2 = kernel_coefficients(process, tau, d)
        return np.append(a * x0 + c, s2)

    mv = moments(t)
    m, v = mv[:d], mv[d]
    h = gaussian_time_step(process, t, float(np.max(np.abs(x0))), np.sqrt(v), d)
    dmv = central_difference(moments, t, h)
    dm, dv = dmv[:d], dmv[d]

    r = np.sqrt(v) * z
    x = m + r
    rr = np.sum(r * r, axis=1)
    f = process.drift(x, t)
    eye = np.eye(d)
    div_f = sum((process.drift(x + eye[i], t)[:, i] - process.drift(x - eye[i], t)[:, i]) / 2.0 for i in range(d))
    g2 = float(process.g2(t))
    terms = [
        np.full(len(x), -d * dv / (2 * v)),
        r @ dm / v,
        rr * dv / (2 * v * v),
        div_f,
        -np.sum(f * r, axis=1) / v,
        -diffusion * g2 * rr / v**2,
        np.full(len(x), diffusion * g2 * d / v),
    ]
    return sum(terms), terms


@pytest.mark.parametrize("dim", [1, 2, 3])
@given(data=st.data())
def test_kernel_solves_fokker_planck_at_points(dim, data):
    process, t = data.draw(process_at_time(dim), label="process, t")
    x0 = data.draw(fst.points(dim, n=1), label="x0")[0]
    z = data.draw(fst.points(dim, n=6, bound=4.0), label="z (standardised points)")
    residual, terms = log_kernel_fp_terms(process, x0, t, z)
    scale = max(np.max(np.abs(term)) for term in terms)
    # m', v' carry relative errors ~1e-13 (see gaussian_time_step); the terms cancel to the
    # residual, so 1e-9 of the largest term leaves a margin of 1e3 or more.
    assert np.max(np.abs(residual)) < 1e-9 * scale
