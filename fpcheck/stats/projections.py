r"""One-dimensional projections of samples in :math:`\mathbb R^d` against an exact Gaussian mixture.

A linear image of a Gaussian mixture is a Gaussian mixture: for a direction :math:`u`,
:math:`u\cdot X \sim \sum_k w_k \mathcal N(u\cdot m_k,\ u^T S_k u)` when :math:`X \sim \sum_k w_k \mathcal N(m_k, S_k)`
(:meth:`~fpcheck.distributions.GaussianMixture.project`).  So each direction gives exact PIT values
:math:`F_u(u\cdot x_i)` and a distribution-free test.  By Cramér-Wold, two laws that agree along every
direction are equal; a fixed, finite set of directions catches every error that shows along one of
them (the coordinate axes, then random directions from a fixed seed).
"""

from __future__ import annotations

import numpy as np

from .. import _validation as val
from ..errors import InputError
from .gof import TestResult, _ad_sorted

__all__ = ["directions", "projected_pit", "projection_tests", "default_directions"]


def default_directions(d: int) -> int:
    """The default number of directions in ``d`` dimensions: the ``d`` axes and ``d + 2`` random ones (1 in 1D)."""
    return 1 if d == 1 else 2 * d + 2


def directions(d: int, m: int, seed: int = 0) -> np.ndarray:
    r"""``m`` fixed unit directions in :math:`\mathbb R^d`: the ``d`` coordinate axes, then random ones.

    The random directions are :math:`g / |g|` for :math:`g \sim \mathcal N(0, I_d)` from
    ``np.random.default_rng(seed)`` (uniform on the sphere), so the set is reproducible.

    Parameters
    ----------
    d : int
        Dimension, >= 1.
    m : int
        Number of directions, ``m >= d``; in 1D ``m`` must be 1 (every unit direction is :math:`\pm1`).
    seed : int
        Seed of the random directions.

    Returns
    -------
    array (m, d)
        Unit rows; rows ``0 .. d-1`` are the axes.
    """
    for name, value in (("d", d), ("m", m), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InputError(f"{name} must be an integer, got {value!r}")
    if d < 1:
        raise InputError(f"d must be >= 1, got {d}")
    if m < d:
        raise InputError(f"m must be at least d = {d} (the coordinate axes come first), got m={m}")
    if d == 1 and m != 1:
        raise InputError(f"in 1D there is a single direction (every unit vector is +-1); pass m=1, got m={m}")
    if seed < 0:
        raise InputError(f"seed must be non-negative, got {seed}")
    out = np.zeros((int(m), int(d)))
    out[:d] = np.eye(d)
    if m > d:
        g = np.random.default_rng(int(seed)).standard_normal((int(m) - d, int(d)))
        out[d:] = g / np.linalg.norm(g, axis=1, keepdims=True)
    return out


def projected_pit(x, mixture, direction) -> np.ndarray:
    r"""PIT values :math:`u_i = F_u(u\cdot x_i)` of samples projected on a direction.

    Parameters
    ----------
    x : array (n, d)
        Samples.
    mixture : fpcheck.distributions.GaussianMixture
        The exact law, of dimension ``d``.
    direction : array (d,)
        Non-zero (need not be a unit vector: the projected law is that of :math:`u\cdot X`).

    Returns
    -------
    array (n,)
        ``mixture.project(direction).cdf(x @ direction)``.
    """
    _check_mixture(mixture)
    x = val.points(x, mixture.dim, "x")
    u = val.finite_array(direction, "direction", ndim=1)
    if u.shape[0] != mixture.dim:
        raise InputError(f"direction must have shape ({mixture.dim},) to match the mixture, got {u.shape}")
    return mixture.project(u).cdf(x @ u)


def projection_tests(x, mixture, *, m: int | None = None, seed: int = 0) -> list[TestResult]:
    r"""Anderson-Darling tests of the projections of ``x`` on :func:`directions` ``(d, m, seed)``.

    Parameters
    ----------
    x : array (n, d)
    mixture : fpcheck.distributions.GaussianMixture
    m : int, optional
        Number of directions; default :func:`default_directions` ``(d)``.
    seed : int
        Seed of the random directions.

    Returns
    -------
    list of TestResult
        One per direction, named ``"AD proj[k] (u=(...))"``; combine them with
        :func:`~fpcheck.stats.multiple.holm`.
    """
    return [r for r, _ in _projection_results(x, mixture, m=m, seed=seed)]


def _projection_results(x, mixture, *, m: int | None, seed: int):
    """``(TestResult, sorted PIT values)`` per direction: the family reuses the sorted values."""
    _check_mixture(mixture)
    x = val.points(x, mixture.dim, "x")
    if x.shape[0] == 0:
        raise InputError("x is empty: pass at least one sample")
    dirs = directions(mixture.dim, default_directions(mixture.dim) if m is None else m, seed)
    out = []
    for k, u in enumerate(dirs):
        us = np.sort(mixture.project(u).cdf(x @ u))
        r = _ad_sorted(us)
        label = ", ".join(f"{c:.3g}" for c in u)
        out.append((TestResult(f"AD proj[{k}] (u=({label}))", r.statistic, r.pvalue, r.detail), us))
    return out


def _check_mixture(mixture) -> None:
    from ..distributions import GaussianMixture

    if not isinstance(mixture, GaussianMixture):
        raise InputError(f"mixture must be a fpcheck.distributions.GaussianMixture, got {type(mixture).__name__}")
