r"""Exact cell averages of a data distribution on a :class:`~fpcheck.grid.grids.Grid`.

:func:`cell_averages` projects a density onto a grid: :math:`\bar q_i = |C_i|^{-1}\int_{C_i} q`.  It
is the initial condition of the grid solvers and the reference their results are compared with,
so every branch that can be exact is:

========================================  ==================================================================
data                                      method
========================================  ==================================================================
:class:`GaussianMixture`, diagonal covs   :math:`\sum_k w_k\prod_j [\Phi(z^{k j}_{i+1}) - \Phi(z^{k j}_i)]/|C|`, with
                                          :math:`\Phi(-z_i) - \Phi(-z_{i+1})` on the right of each mean, so
                                          far-tail cells keep full relative accuracy
:class:`BoxMixture`                       :math:`\sum_k w_k\prod_j [F_{kj}(e_{i+1}) - F_{kj}(e_i)]/|C|`, :math:`F` the
                                          blurred-box cdf :math:`\frac{s}{u-\ell}[G(\frac{x-\ell}{s}) - G(\frac{x-u}{s})]`,
                                          :math:`G = \int\Phi`; the mirrored survival function on the right;
                                          exact overlap lengths for ``noise_var = 0``
1D distribution with a ``cdf``            cdf differences at the edges (exact up to the cdf's own error)
anything else with a ``pdf``, callables   tensor Gauss-Legendre quadrature, ``nodes`` points per axis per cell
array of shape ``grid.shape``             taken as the cell averages
========================================  ==================================================================

Two warnings (:class:`~fpcheck.errors.GridWarning`) say when the projection cannot stand for the
data: mass outside the box above :data:`OUTSIDE_TOL` (which side, how much, and how far to move the
bound), and fewer than :data:`MIN_CELLS_PER_FEATURE` cells across the narrowest feature of a mixture.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from ..distributions import BoxMixture, Distribution, GaussianMixture, _int_phi
from ..errors import GridWarning, InputError
from .density import GridDensity
from .grids import Grid

__all__ = ["cell_averages", "cells_needed", "OUTSIDE_TOL", "QUADRATURE_OUTSIDE_TOL", "MIN_CELLS_PER_FEATURE", "MAX_NODES"]

OUTSIDE_TOL = 1e-12
"""Largest mass outside the grid that passes without a warning (for data whose tails are known)."""

QUADRATURE_OUTSIDE_TOL = 1e-9
"""The same for distributions whose tails are only known through the quadrature (``1 - mass``)."""

MIN_CELLS_PER_FEATURE = 4.0
"""Fewest cells across the narrowest feature (component std, box blur, noise-free box width)."""

MAX_NODES = 32
"""Largest number of Gauss-Legendre nodes per axis per cell."""

_BLOCK_POINTS = 1 << 16  # quadrature points evaluated at once: bounds the temporaries


# ----------------------------------------------------------------------------- 1D cell probabilities


def _normal_cell_probs(edges: np.ndarray, mean: float, std: float) -> np.ndarray:
    r""":math:`P(e_i < X < e_{i+1})` for :math:`X \sim \mathcal N(m, s^2)`, on the far side of each tail."""
    z = (edges - mean) / std
    left = special.ndtr(z[1:]) - special.ndtr(z[:-1])
    right = special.ndtr(-z[:-1]) - special.ndtr(-z[1:])  # both terms small right of the mean
    return np.where(z[:-1] + z[1:] > 0, right, left)


def _normal_tails(lo: float, hi: float, mean: float, std: float) -> tuple[float, float]:
    """``(P(X < lo), P(X > hi))`` for a normal variable, each from its own tail."""
    return float(special.ndtr((lo - mean) / std)), float(special.ndtr((mean - hi) / std))


def _box_cdf(x: np.ndarray, l: float, u: float, s: float) -> np.ndarray:
    r"""The blurred-box cdf :math:`\frac{s}{u-\ell}[G(\frac{x-\ell}{s}) - G(\frac{x-u}{s})]` (accurate left of the box)."""
    return s / (u - l) * (_int_phi((x - l) / s) - _int_phi((x - u) / s))


def _box_sf(x: np.ndarray, l: float, u: float, s: float) -> np.ndarray:
    """The survival function, the cdf of the mirrored box at ``-x`` (accurate right of the box)."""
    return _box_cdf(-x, -u, -l, s)


def _box_narrow(l: float, u: float, s: float) -> bool:
    return s > 0 and u - l < 1e-5 * s  # as in BoxMixture: a Gaussian at the box's centre


def _box_cell_probs(edges: np.ndarray, l: float, u: float, s: float) -> np.ndarray:
    """``P(e_i < X < e_{i+1})`` for one axis of a (blurred) box."""
    if s == 0:
        return np.clip(np.minimum(edges[1:], u) - np.maximum(edges[:-1], l), 0.0, None) / (u - l)
    if _box_narrow(l, u, s):
        return _normal_cell_probs(edges, 0.5 * (l + u), s)
    left = _box_cdf(edges[1:], l, u, s) - _box_cdf(edges[:-1], l, u, s)
    right = _box_sf(edges[:-1], l, u, s) - _box_sf(edges[1:], l, u, s)
    return np.clip(np.where(edges[:-1] + edges[1:] > l + u, right, left), 0.0, None)


def _box_tails(lo: float, hi: float, l: float, u: float, s: float) -> tuple[float, float]:
    if s == 0:
        return float(np.clip((lo - l) / (u - l), 0, 1)), float(np.clip((u - hi) / (u - l), 0, 1))
    if _box_narrow(l, u, s):
        return _normal_tails(lo, hi, 0.5 * (l + u), s)
    return float(_box_cdf(np.array(lo), l, u, s)), float(_box_sf(np.array(hi), l, u, s))


# ------------------------------------------------------------------------------- exact branches


def _tensor_mass(weights: np.ndarray, probs: list[np.ndarray]) -> np.ndarray:
    r"""Cell masses :math:`\sum_k w_k \prod_j P_{kj}[i_j]` from per-axis probabilities ``(K, n_j)``."""
    letters = "abc"[: len(probs)]
    spec = "k," + ",".join(f"k{c}" for c in letters) + "->" + letters
    return np.einsum(spec, weights, *probs)


def _diagonal(data: GaussianMixture) -> bool:
    off = data.covs * (1.0 - np.eye(data.dim))
    return not np.any(off)


def _gaussian_axis_stds(data: GaussianMixture) -> np.ndarray:
    """Marginal stds ``(K, d)`` of each component along each axis."""
    return np.sqrt(np.diagonal(data.covs, axis1=1, axis2=2))


def _gaussian_exact(data: GaussianMixture, grid: Grid) -> np.ndarray:
    sd = _gaussian_axis_stds(data)
    probs = [
        np.stack([_normal_cell_probs(grid.edges(j), m[j], s[j]) for m, s in zip(data.means, sd)]) for j in range(grid.ndim)
    ]
    return _tensor_mass(data.weights, probs)


def _box_exact(data: BoxMixture, grid: Grid) -> np.ndarray:
    s = float(np.sqrt(data.noise_var))
    probs = [
        np.stack([_box_cell_probs(grid.edges(j), l[j], u[j], s) for l, u in zip(data.lower, data.upper)])
        for j in range(grid.ndim)
    ]
    return _tensor_mass(data.weights, probs)


def _has_cdf(data) -> bool:
    return (
        isinstance(data, Distribution)
        and data.dim == 1
        and type(data).cdf is not Distribution.cdf
    )


# ----------------------------------------------------------------------------- Gauss-Legendre


def _checked_pdf(pdf, x: np.ndarray) -> np.ndarray:
    try:
        out = np.asarray(pdf(x), dtype=float)
    except InputError:
        raise
    except Exception as exc:  # a user's callable: name it, keep its traceback as the cause
        raise InputError(f"the pdf callable raised {type(exc).__name__} on points of shape {x.shape}: {exc}") from exc
    if out.shape != (x.shape[0],):
        raise InputError(f"the pdf callable returned shape {out.shape} for points of shape {x.shape}; expected ({x.shape[0]},)")
    if not np.all(np.isfinite(out)):
        raise InputError(f"the pdf callable returned {int(np.count_nonzero(~np.isfinite(out)))} NaN or inf value(s)")
    return out


def _gauss_legendre(pdf, grid: Grid, nodes: int) -> np.ndarray:
    r"""Cell averages by the tensor ``nodes``-point Gauss-Legendre rule on every cell (block by block)."""
    d = grid.ndim
    x, w = np.polynomial.legendre.leggauss(nodes)
    mesh = np.meshgrid(*([x] * d), indexing="ij")
    offsets = np.stack([m.ravel() for m in mesh], axis=1) * (0.5 * np.asarray(grid.h))  # (nodes^d, d)
    wmesh = np.meshgrid(*([0.5 * w] * d), indexing="ij")
    weights = np.prod(np.stack([m.ravel() for m in wmesh]), axis=0)  # sums to 1: an average
    centres = [grid.centres(j) for j in range(d)]
    out = np.empty(grid.size)
    per_block = max(1, _BLOCK_POINTS // offsets.shape[0])
    for lo in range(0, grid.size, per_block):
        idx = np.unravel_index(np.arange(lo, min(lo + per_block, grid.size)), grid.shape)
        c = np.stack([centres[j][idx[j]] for j in range(d)], axis=1)
        pts = (c[:, None, :] + offsets[None]).reshape(-1, d)
        out[lo : lo + c.shape[0]] = _checked_pdf(pdf, pts).reshape(c.shape[0], -1) @ weights
    return out.reshape(grid.shape)


# ---------------------------------------------------------------------------------- diagnostics


def _side(j: int, upper: bool, bound: float) -> str:
    """``"right of axis 0 (x > 4)"``."""
    return f"{'right' if upper else 'left'} of axis {j} ({'xyz'[j]} {'>' if upper else '<'} {bound:g})"


def _outside_tails(data, grid: Grid):
    """Per axis ``(P(X_j < lo_j), P(X_j > hi_j))`` and suggested bounds, or None if unknown."""
    d = grid.ndim
    if isinstance(data, GaussianMixture):
        sd = _gaussian_axis_stds(data)
        tails = [
            sum(wk * np.array(_normal_tails(*grid.bounds[j], m[j], s[j])) for wk, m, s in zip(data.weights, data.means, sd))
            for j in range(d)
        ]
        z = -special.ndtri(OUTSIDE_TOL / (2 * d))
        reach = [((data.means[:, j] - z * sd[:, j]).min(), (data.means[:, j] + z * sd[:, j]).max()) for j in range(d)]
        return tails, reach
    if isinstance(data, BoxMixture):
        s = float(np.sqrt(data.noise_var))
        tails = [
            sum(wk * np.array(_box_tails(*grid.bounds[j], l[j], u[j], s)) for wk, l, u in zip(data.weights, data.lower, data.upper))
            for j in range(d)
        ]
        z = -special.ndtri(OUTSIDE_TOL / (2 * d)) if s > 0 else 0.0
        reach = [(data.lower[:, j].min() - z * s, data.upper[:, j].max() + z * s) for j in range(d)]
        return tails, reach
    if _has_cdf(data):
        lo, hi = grid.bounds[0]
        f = data.cdf(np.array([lo, hi]))
        return [np.array([f[0], 1.0 - f[1]])], None
    return None


def _warn_outside(data, grid: Grid, density: GridDensity, stacklevel: int) -> None:
    known = _outside_tails(data, grid)
    if known is not None:
        tails, reach = known
        total = float(sum(t.sum() for t in tails))  # an upper bound of P(X outside the box)
        if total <= OUTSIDE_TOL:
            return
        parts = []
        for j, t in enumerate(tails):
            for upper in (False, True):
                if t[int(upper)] > OUTSIDE_TOL / (2 * grid.ndim):
                    bound = grid.bounds[j][int(upper)]
                    hint = f" [move that bound to about {reach[j][int(upper)]:.4g}]" if reach is not None else ""
                    parts.append(f"{t[int(upper)]:.3g} {_side(j, upper, bound)}{hint}")
        msg = (
            f"the grid misses a mass of up to {total:.3g} (above {OUTSIDE_TOL:g}): " + "; ".join(parts)
            + ". The domain is too small for the data: widen the bounds on those sides"
        )
        warnings.warn(msg, GridWarning, stacklevel=stacklevel)
    elif isinstance(data, Distribution):
        missing = 1.0 - density.mass()
        if missing <= QUADRATURE_OUTSIDE_TOL:
            return
        v = density.values
        faces = []
        for j in range(grid.ndim):
            for upper in (False, True):
                layer = np.take(v, -1 if upper else 0, axis=j).sum()
                faces.append((layer, j, upper))
        _, j, upper = max(faces)
        warnings.warn(
            f"the grid holds a mass of {density.mass():.12g}, so about {missing:.3g} of {type(data).__name__} lies "
            f"outside it (above {QUADRATURE_OUTSIDE_TOL:g}), most likely {_side(j, upper, grid.bounds[j][int(upper)])}, "
            "where the boundary cells hold the most mass. The domain is too small: widen the bounds",
            GridWarning,
            stacklevel=stacklevel,
        )


def _feature_widths(data) -> tuple[np.ndarray, str] | None:
    """The narrowest feature's width along each axis, and what it is, for mixtures."""
    if isinstance(data, GaussianMixture):
        prec = np.linalg.inv(data.covs)
        # the density along a line parallel to axis j has the conditional std 1/sqrt(P_jj)
        return 1.0 / np.sqrt(np.diagonal(prec, axis1=1, axis2=2)).max(axis=0), "smallest component std"
    if isinstance(data, BoxMixture):
        if data.noise_var > 0:
            return np.full(data.dim, np.sqrt(data.noise_var)), "box blur (sqrt(noise_var))"
        return (data.upper - data.lower).min(axis=0), "narrowest box width"
    return None


def cells_needed(data, lengths) -> np.ndarray | None:
    """Cells per axis that put :data:`MIN_CELLS_PER_FEATURE` across the data's narrowest feature on a box of ``lengths``.

    ``None`` for data without a closed-form feature width (anything but Gaussian and box mixtures).
    """
    found = _feature_widths(data)
    if found is None:
        return None
    return np.ceil(MIN_CELLS_PER_FEATURE * np.asarray(lengths, dtype=float) / found[0] * (1.0 - 1e-12)).astype(int)


def _warn_resolution(data, grid: Grid, stacklevel: int) -> None:
    found = _feature_widths(data)
    if found is None:
        return
    widths, what = found
    cells = widths / np.asarray(grid.h)
    bad = [j for j in range(grid.ndim) if cells[j] < MIN_CELLS_PER_FEATURE]
    if not bad:
        return
    parts = []
    needed = cells_needed(data, grid.lengths)
    for j in bad:
        need = int(needed[j])
        parts.append(
            f"axis {j}: {cells[j]:.3g} cells of width {grid.h[j]:.3g} across the {what} {widths[j]:.3g}; "
            f"use shape[{j}] >= {need}"
        )
    warnings.warn(
        f"the grid under-resolves the data (fewer than {MIN_CELLS_PER_FEATURE:g} cells across its narrowest feature): "
        + "; ".join(parts)
        + ", or a smaller domain",
        GridWarning,
        stacklevel=stacklevel,
    )


# ------------------------------------------------------------------------------------- public


def cell_averages(data, grid: Grid, *, nodes: int = 8) -> GridDensity:
    r"""The cell averages :math:`\bar q_i = |C_i|^{-1}\int_{C_i} q\,dx` of ``data`` on ``grid``.

    Parameters
    ----------
    data : Distribution, callable, GridDensity or array
        * :class:`~fpcheck.distributions.GaussianMixture` with diagonal covariances,
          :class:`~fpcheck.distributions.BoxMixture`, and 1D distributions with a ``cdf``
          (:class:`~fpcheck.distributions.Boltzmann1D`): exact, from cdf differences (module table);
        * any other :class:`~fpcheck.distributions.Distribution` (full-covariance mixtures in 2-3D)
          or a callable ``pdf(x) -> (n,)`` on points ``(n, d)``: tensor Gauss-Legendre quadrature;
        * an array of shape ``grid.shape`` (the cell averages themselves) or a :class:`GridDensity`
          on ``grid``: wrapped / returned as they are.
    grid : Grid
    nodes : int
        Gauss-Legendre nodes per axis per cell (1 to :data:`MAX_NODES`), for the quadrature branch.
        The rule is exact for polynomials of degree :math:`2m - 1` in each coordinate, so for a pdf
        analytic around each cell the error of a cell average is :math:`O(h^{2m})`, about
        :math:`(h/2)^{2m}\max|\partial_j^{2m} q|/(2m)!` per axis: once ``h`` is below the
        narrowest feature the default ``m = 8`` is at round-off.  Points are evaluated in blocks of
        :math:`2^{16}`, so memory stays bounded for any grid.

    Returns
    -------
    GridDensity

    Notes
    -----
    On periodic axes the data is not periodised: the cells hold the mass of the data inside the
    box, and mass beyond the box is warned about as on open axes.

    Warns
    -----
    GridWarning
        If the mass outside the grid exceeds :data:`OUTSIDE_TOL` (exact tails of mixtures and
        1D cdfs) or :data:`QUADRATURE_OUTSIDE_TOL` (``1 - mass`` of other distributions; a bare
        callable's normalisation is unknown, so it is not checked); and if fewer than
        :data:`MIN_CELLS_PER_FEATURE` cells cover the narrowest feature of a mixture along some
        axis (a component's std along the axis given the others, the blur of boxes, or the
        narrowest noise-free box).

    Raises
    ------
    InputError
        For a dimension mismatch, an array of the wrong shape, ``nodes`` out of range, a callable
        that returns the wrong shape or non-finite values, or a grid over the memory limit.
    """
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a fpcheck.grid.Grid, got {type(grid).__name__}")
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) or not 1 <= nodes <= MAX_NODES:
        raise InputError(f"nodes must be an integer from 1 to {MAX_NODES} (Gauss-Legendre points per axis per cell), got {nodes!r}")
    if isinstance(data, GridDensity):
        if data.grid != grid:
            raise InputError(f"the GridDensity lives on {data.grid!r}, not on {grid!r}; project its source instead")
        return data
    is_dist = isinstance(data, Distribution)
    if not is_dist and not callable(data):
        try:
            arr = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                f"data must be a Distribution, a callable pdf(x) -> (n,), or an array of cell averages; got {type(data).__name__}"
            ) from None
        if arr.shape != grid.shape:
            raise InputError(f"an array of cell averages must have the grid's shape {grid.shape}, got {arr.shape}")
        return GridDensity(grid, arr)
    if is_dist and data.dim != grid.ndim:
        raise InputError(f"data is {data.dim}-dimensional but the grid is {grid.ndim}-dimensional")
    grid.check_memory(3, what="cell_averages")
    stacklevel = 3  # the warnings point at cell_averages' caller

    if isinstance(data, GaussianMixture) and _diagonal(data):
        values = _gaussian_exact(data, grid) / grid.cell_volume
    elif isinstance(data, BoxMixture):
        values = _box_exact(data, grid) / grid.cell_volume
    elif _has_cdf(data):
        f = np.asarray(data.cdf(grid.edges(0)), dtype=float)
        values = np.diff(f) / grid.cell_volume
    else:
        values = _gauss_legendre(data.pdf if is_dist else data, grid, int(nodes))
    density = GridDensity(grid, values)
    _warn_outside(data, grid, density, stacklevel)
    _warn_resolution(data, grid, stacklevel)
    return density
