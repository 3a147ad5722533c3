r"""Default grid bounds: a box that holds the mass of :math:`q_t` at every requested time.

For an affine process and closed-form data, every component of :math:`q_t` is known
(:math:`\mathcal{N}(a m_k + c, a^2 S_k + s^2 I)`, or a box scaled by :math:`a`, shifted by :math:`c` and
blurred by :math:`s`), so the box ``[min_k(centre - z sd), max_k(centre + z sd)]`` over the times,
with :math:`z` chosen so that each Gaussian tail beyond it is below ``tail``, holds all but
``tail`` of the mass per side and axis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from ..analytic import ExactMarginals
from ..distributions import Boltzmann1D, BoxMixture, Distribution, GaussianMixture
from ..errors import InputError
from ..processes import Langevin, Process

__all__ = ["component_extent", "default_bounds"]


def component_extent(q: Distribution, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis ``(lo, hi)``: every component's centre (or box) widened by ``z`` of its standard deviations (or blur)."""
    if isinstance(q, GaussianMixture):
        sd = np.sqrt(np.diagonal(q.covs, axis1=1, axis2=2))
        return (q.means - z * sd).min(axis=0), (q.means + z * sd).max(axis=0)
    if isinstance(q, BoxMixture):
        s = np.sqrt(q.noise_var)
        return q.lower.min(axis=0) - z * s, q.upper.max(axis=0) + z * s
    raise InputError(f"no default bounds for {type(q).__name__}; pass bounds explicitly")


def default_bounds(
    process: Process, data: Distribution, times: Sequence[float], *, tail: float = 1e-13
) -> list[tuple[float, float]]:
    """Per-axis ``(lo, hi)`` holding all but ``tail`` of the mass per side at t = 0 and every time.

    Boltzmann data keep their own table bounds.  Raises :class:`~fpcheck.errors.InputError` when
    there is no closed form to read the extent from (then pass bounds explicitly).
    """
    if isinstance(data, Boltzmann1D):
        return [data.bounds]
    z = float(-special.ndtri(tail))
    if isinstance(process, Langevin):
        return _langevin_bounds(process, data, z, tail)
    if not process.is_affine:
        raise InputError(f"no default bounds for the non-affine {type(process).__name__}; pass bounds explicitly")
    truth = ExactMarginals(process, data)
    lo, hi = component_extent(data, z)
    for t in times:
        l, h = component_extent(truth.at(float(t)), z)
        lo, hi = np.minimum(lo, l), np.maximum(hi, h)
    return [(float(a), float(b)) for a, b in zip(lo, hi)]


def _langevin_bounds(process: Langevin, data: Distribution, z: float, tail: float) -> list[tuple[float, float]]:
    r"""1D Langevin dynamics: the data's extent joined with the region where the Boltzmann density is not negligible.

    The density relaxes from the data towards :math:`e^{-U/kT}/Z` and, in a confining potential, stays
    between the two: the box holds the data's components to ``z`` standard deviations and the
    points where :math:`(U - \min U)/kT \le \log(1/\text{tail}) + 10` (a Boltzmann weight below
    ``tail`` by :math:`e^{-10}`).  That region is found on scans of :math:`[-L, L]` for
    :math:`L = 10, 100, 1000` (the first that holds it strictly inside), then rescanned on
    :math:`2 \times 10^5` points around it, so wells narrower than the first scan's spacing are held too.
    """
    if data.dim != 1:
        raise InputError(f"default bounds for Langevin dynamics are 1D only (data in {data.dim} dimensions); pass bounds explicitly")
    lo, hi = (float(v[0]) for v in component_extent(data, z))
    level = np.log(1.0 / tail) + 10.0

    def region(a: float, b: float):
        x = np.linspace(a, b, 200_001)
        with np.errstate(over="ignore", invalid="ignore"):
            u = np.asarray(process.potential._value(x[:, None]), dtype=float)
        u = np.where(np.isfinite(u), u, np.inf)
        keep = np.flatnonzero((u - u.min()) / process.kT <= level)
        return x, keep

    for L in (10.0, 100.0, 1000.0):
        a, b = min(lo, -L), max(hi, L)
        x, keep = region(a, b)
        if keep.size and keep[0] > 0 and keep[-1] < x.size - 1:
            step = x[1] - x[0]
            x, keep = region(x[keep[0]] - 2 * step, x[keep[-1]] + 2 * step)
            return [(min(lo, float(x[keep[0]] - (x[1] - x[0]))), max(hi, float(x[keep[-1]] + (x[1] - x[0]))))]
    raise InputError("the potential does not confine the density within |x| <= 1000; pass bounds explicitly")
