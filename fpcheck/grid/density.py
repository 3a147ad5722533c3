r"""Densities on a :class:`~fpcheck.grid.grids.Grid`, held as cell averages.

A :class:`GridDensity` stores :math:`\bar q_i = |C_i|^{-1}\int_{C_i} q\,dx` for every cell :math:`C_i`:
the quantity a finite-volume solver conserves, and the one :func:`~fpcheck.grid.projection.cell_averages`
computes exactly.  Cell averages are not point values: for a smooth density

.. math::
    \bar q_i = q(x_i) + \sum_j \frac{h_j^2}{24}\,\partial_j^2 q(x_i) + O(h^4),

so every reconstruction here first removes that :math:`O(h^2)` term, which would otherwise cap
the order of the point values, their interpolant and the score at 2:

* :meth:`GridDensity.pdf` interpolates the deconvolved centre values
  :math:`q_i \approx \bar q_i - \frac1{24}\sum_j \delta_j^2 \bar q_i` (error :math:`O(h^4)`) with a
  tensor-product cubic spline (not-a-knot, or periodic on periodic axes; error :math:`O(h^4)`):
  **4th order** in :math:`h` for a smooth density.
* :meth:`GridDensity.score` differentiates (findiff, ``acc=4``) the deconvolved log-density
  :math:`\ell_i = L_i - \sum_j \frac{h_j^2}{24}(\partial_j^2 L + (\partial_j L)^2)_i` with
  :math:`L = \log\bar q` (from :math:`\log\bar q = \log q + \frac{h^2}{24}\frac{q''}{q} + O(h^4)` and
  :math:`q''/q = \ell'' + \ell'^2`): **4th order**.
* :meth:`GridDensity.cdf` (1D) is exact at the cell edges (cumulative cell masses) and monotone
  (PCHIP) in between when the values are non-negative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.interpolate import BSpline, PchipInterpolator, make_interp_spline

from .. import _validation as val
from ..errors import InputError
from .grids import Grid

__all__ = ["GridDensity"]

_BLOCK = 1 << 14  # points per block in spline evaluation: bounds the (block, 4^d, ...) temporaries
_K = 3  # cubic splines
_SCORE_MIN_CELLS = 7  # findiff's one-sided acc=4 second derivative spans 7 points


def _second_difference(a: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    r""":math:`\delta^2 a_i = a_{i+1} - 2a_i + a_{i-1}` along ``axis`` (not divided by :math:`h^2`).

    At a non-periodic end, the one-sided ``(2, -5, 4, -1)`` stencil, also :math:`h^2 a'' + O(h^4)`
    (one order less than the central stencil, which is enough where it is multiplied by :math:`h^2`).
    """
    if periodic:
        return np.roll(a, -1, axis) - 2.0 * a + np.roll(a, 1, axis)
    b = np.moveaxis(a, axis, 0)
    out = np.empty_like(b)
    out[1:-1] = b[2:] - 2.0 * b[1:-1] + b[:-2]
    out[0] = 2.0 * b[0] - 5.0 * b[1] + 4.0 * b[2] - b[3]
    out[-1] = 2.0 * b[-1] - 5.0 * b[-2] + 4.0 * b[-3] - b[-4]
    return np.moveaxis(out, 0, axis)


def _deconvolve(values: np.ndarray, grid: Grid) -> np.ndarray:
    r"""Centre values from cell averages: :math:`q_i = \bar q_i - \frac1{24}\sum_j \delta_j^2\bar q_i + O(h^4)`."""
    out = values.copy()
    for j in range(grid.ndim):
        out -= _second_difference(values, j, grid.periodic[j]) / 24.0
    return out


class _TensorSpline:
    """The tensor-product cubic spline through values at the cell centres of a grid.

    Not-a-knot end conditions on open axes, periodic splines on periodic axes.  Values may carry
    trailing dimensions (a vector field).  Evaluation outside the centres extrapolates the end
    polynomials on open axes and wraps on periodic ones; callers mask what lies outside the box.
    """

    def __init__(self, grid: Grid, values: np.ndarray):
        self.grid = grid
        coef, self.knots = values, []
        for j in range(grid.ndim):
            x, arr = grid.centres(j), np.moveaxis(coef, j, 0)
            if grid.periodic[j]:
                x = np.append(x, x[0] + grid.lengths[j])
                arr = np.concatenate([arr, arr[:1]], axis=0)
                spl = make_interp_spline(x, arr, k=_K, bc_type="periodic")
            else:
                spl = make_interp_spline(x, arr, k=_K)
            self.knots.append(spl.t)
            ncoef = spl.t.size - _K - 1
            coef = np.moveaxis(np.asarray(spl.c)[:ncoef], 0, j)
        self.coef = coef

    def _basis(self, x: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values ``(n, 4)`` of the four B-splines that are non-zero at each ``x``."""
        if self.grid.periodic[j]:
            x0 = self.grid.centres(j)[0]
            x = x0 + np.mod(x - x0, self.grid.lengths[j])
        m = BSpline.design_matrix(x, self.knots[j], _K, extrapolate=True).tocsr()
        if not np.all(np.diff(m.indptr) == _K + 1):  # scipy stores k+1 entries per row
            raise RuntimeError("unexpected sparsity pattern from scipy.interpolate.BSpline.design_matrix")
        return m.indices.reshape(-1, _K + 1), m.data.reshape(-1, _K + 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n, d = x.shape
        out = np.empty((n, *self.coef.shape[d:]))
        for lo in range(0, n, _BLOCK):
            xb = x[lo : lo + _BLOCK]
            idx, w = zip(*(self._basis(xb[:, j], j) for j in range(d)))
            if d == 1:
                out[lo : lo + _BLOCK] = np.einsum("na,na...->n...", w[0], self.coef[idx[0]])
            elif d == 2:
                c = self.coef[idx[0][:, :, None], idx[1][:, None, :]]
                out[lo : lo + _BLOCK] = np.einsum("na,nb,nab...->n...", w[0], w[1], c)
            else:
                c = self.coef[idx[0][:, :, None, None], idx[1][:, None, :, None], idx[2][:, None, None, :]]
                out[lo : lo + _BLOCK] = np.einsum("na,nb,nc,nabc...->n...", w[0], w[1], w[2], c)
        return out


class GridDensity:
    r"""Cell averages of a density on a :class:`~fpcheck.grid.grids.Grid`.

    Parameters
    ----------
    grid : Grid
    values : array of shape ``grid.shape``
        Finite cell averages :math:`\bar q_i` (density units, mass per volume).  Negative values
        (from a solver's undershoot) are allowed and reported by :meth:`min`; :meth:`score` needs
        them all positive.

    Notes
    -----
    The values are copied and made read-only, so the cached reconstructions stay valid.
    Mass outside the grid is unknown to a ``GridDensity``: :meth:`mass` is the mass on the grid.
    """

    def __init__(self, grid: Grid, values):
        if not isinstance(grid, Grid):
            raise InputError(f"grid must be a fpcheck.grid.Grid, got {type(grid).__name__}")
        v = np.array(val.finite_array(values, "values"), dtype=float, copy=True)
        if v.shape != grid.shape:
            raise InputError(f"values must have the grid's shape {grid.shape}, got {v.shape}")
        v.setflags(write=False)
        self._grid, self._values = grid, v
        self._pdf_spline: _TensorSpline | None = None
        self._score: np.ndarray | None = None
        self._score_spline: _TensorSpline | None = None
        self._cdf: PchipInterpolator | None = None

    @property
    def grid(self) -> Grid:
        return self._grid

    @property
    def values(self) -> np.ndarray:
        """The cell averages, shape ``grid.shape`` (read-only)."""
        return self._values

    def min(self) -> float:
        """The smallest cell average (negative after a solver's undershoot)."""
        return float(self._values.min())

    def max(self) -> float:
        """The largest cell average."""
        return float(self._values.max())

    def mass(self) -> float:
        r"""The mass on the grid, :math:`\sum_i \bar q_i |C_i|` (exact for exact cell averages)."""
        return float(self._values.sum() * self._grid.cell_volume)

    def marginal(self, axes_to_keep: Sequence[int] | int) -> GridDensity:
        r"""The marginal density of the coordinates ``axes_to_keep``, in the order given.

        Exact on cell averages: :math:`\bar q^{(K)}_{i_K} = \sum_{i_{\bar K}} \bar q_i \prod_{j\notin K} h_j`,
        on the grid made of the kept axes.
        """
        keep = [axes_to_keep] if isinstance(axes_to_keep, (int, np.integer)) else list(axes_to_keep)
        g = self._grid
        if (
            not keep
            or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not 0 <= a < g.ndim for a in keep)
            or len(set(keep)) != len(keep)
        ):
            raise InputError(f"axes_to_keep must be distinct axis indices in [0, {g.ndim}), at least one; got {axes_to_keep!r}")
        keep = [int(a) for a in keep]
        drop = tuple(j for j in range(g.ndim) if j not in keep)
        summed = self._values.sum(axis=drop) * float(np.prod([g.h[j] for j in drop])) if drop else self._values
        remaining = sorted(keep)  # the axes left after the sum, in increasing order
        summed = np.transpose(summed, [remaining.index(a) for a in keep])
        sub = Grid([g.bounds[j] for j in keep], [g.shape[j] for j in keep], [g.periodic[j] for j in keep])
        return GridDensity(sub, summed)

    # -------------------------------------------------------------------------- reconstructions

    def _points(self, x) -> tuple[np.ndarray, np.ndarray]:
        x = val.points(x, self._grid.ndim)
        inside = np.ones(x.shape[0], dtype=bool)
        for j, ((lo, hi), per) in enumerate(zip(self._grid.bounds, self._grid.periodic)):
            if not per:
                inside &= (x[:, j] >= lo) & (x[:, j] <= hi)
        return x, inside

    def pdf(self, x) -> np.ndarray:
        r"""The density at points ``x`` ``(n, d)``, reconstructed from the cell averages; returns ``(n,)``.

        The tensor cubic spline through the deconvolved centre values (module notes): error
        :math:`O(h^4)` for a smooth density, up to the box's faces (the end pieces extrapolate over
        the last half cell).  Points outside the box on a non-periodic axis get density **0** (the
        grid says nothing there, and 0 is what a density truncated to the box has); periodic
        axes wrap.  Near a kink or jump the spline overshoots, so values can be slightly negative.
        """
        x, inside = self._points(x)
        if self._pdf_spline is None:
            self._pdf_spline = _TensorSpline(self._grid, _deconvolve(self._values, self._grid))
        out = np.zeros(x.shape[0])
        if inside.any():
            out[inside] = self._pdf_spline(x[inside])
        return out

    def cdf(self, x) -> np.ndarray:
        r"""The cumulative mass from the lower bound, :math:`F(x) = \int_{\ell}^{x} q` (1D only); returns ``(n,)``.

        At the cell edges :math:`e_k` it is exactly :math:`\sum_{i<k}\bar q_i h`; in between, the PCHIP
        interpolant of those values (monotone wherever the values are non-negative; error
        :math:`O(h^3)` for a smooth density).  Below ``lo`` it is 0, above ``hi`` it is :meth:`mass`:
        mass outside the grid is not counted.
        """
        g = self._grid
        if g.ndim != 1:
            raise InputError(f"cdf is defined on 1-dimensional grids; this one has ndim={g.ndim} (take a marginal first)")
        x = val.points(x, 1)[:, 0]
        if self._cdf is None:
            cum = np.concatenate([[0.0], np.cumsum(self._values) * g.h[0]])
            # slopes of ~1e-300 in the far tails overflow PCHIP's harmonic mean to inf, whose
            # reciprocal is the right derivative there (0): silence that overflow only
            with np.errstate(over="ignore"):
                self._cdf = PchipInterpolator(g.edges(0), cum, extrapolate=False)
        lo, hi = g.bounds[0]
        out = self._cdf(np.clip(x, lo, hi))
        return np.where(x <= lo, 0.0, np.where(x >= hi, self._cdf(hi), out))

    def score(self) -> np.ndarray:
        r"""The score :math:`\nabla\log q` at the cell centres, shape ``(*grid.shape, d)``.

        findiff (``acc=4``, one-sided at the faces of non-periodic axes, wrapped on periodic ones)
        on the deconvolved log-density :math:`\ell = L - \sum_j \frac{h_j^2}{24}(\partial_j^2 L + (\partial_j L)^2)`,
        :math:`L = \log \bar q`: error :math:`O(h^4)` for a smooth positive density.  Differentiating
        :math:`L` alone would leave an :math:`O(h^2)` error, :math:`\frac{h^2}{24}\nabla(q''/q)`.

        Raises
        ------
        InputError
            If any cell average is <= 0, where the log-density is undefined.
        """
        if self._score is None:
            from findiff import Diff

            g, v = self._grid, self._values
            bad = int(np.count_nonzero(v <= 0))
            if bad:
                raise InputError(
                    f"score needs positive cell averages, but {bad} of {v.size} cells are <= 0 (smallest {v.min():.3g}); "
                    "log q is undefined there: restrict the grid to the density's support, or use a density "
                    "with full support (e.g. blurred boxes, noise_var > 0)"
                )
            short = [j for j in range(g.ndim) if not g.periodic[j] and g.shape[j] < _SCORE_MIN_CELLS]
            if short:
                raise InputError(
                    f"score needs at least {_SCORE_MIN_CELLS} cells on each non-periodic axis for its 4th-order "
                    f"one-sided stencils; shape {g.shape} is short on axes {short}"
                )
            g.check_memory(g.ndim + 4, what="score()")
            L = np.log(v)
            d1 = [Diff(j, g.h[j], acc=4, periodic=g.periodic[j]) for j in range(g.ndim)]
            ell = L.copy()
            for j, D in enumerate(d1):
                dL = D(L)
                ell -= g.h[j] ** 2 / 24.0 * ((D**2)(L) + dL * dL)
            score = np.stack([D(ell) for D in d1], axis=-1)
            score.setflags(write=False)
            self._score = score
        return self._score

    def score_at(self, x) -> np.ndarray:
        """The score at points ``x`` ``(n, d)``: the tensor cubic spline of :meth:`score`; returns ``(n, d)``.

        Error :math:`O(h^4)`.  NaN outside the box on non-periodic axes, where the grid holds no
        density.
        """
        x, inside = self._points(x)
        if self._score_spline is None:
            self._score_spline = _TensorSpline(self._grid, self.score())
        out = np.full(x.shape, np.nan)
        if inside.any():
            out[inside] = self._score_spline(x[inside])
        return out

    # ---------------------------------------------------------------------------------- metrics

    def l1_distance(self, other, *, nodes: int = 8) -> float:
        r"""The L1 distance of the cell averages, :math:`\sum_i |\bar q_i - \bar p_i|\,|C_i|`.

        ``other`` is a :class:`GridDensity` on the same grid, or anything
        :func:`~fpcheck.grid.projection.cell_averages` accepts (a distribution, a ``pdf(x)``
        callable, an array of cell averages), projected onto this grid (``nodes`` is passed on).

        Averaging over cells can only bring two densities closer, so this is a lower bound of
        the L1 distance between the continuous densities on the box, which it approaches as
        :math:`O(h^2)` (from where :math:`q - p` changes sign).
        """
        if isinstance(other, GridDensity):
            if other.grid != self._grid:
                raise InputError(f"l1_distance needs both densities on the same grid; got {self._grid!r} and {other.grid!r}")
            p = other
        else:
            from .projection import cell_averages

            p = cell_averages(other, self._grid, nodes=nodes)
        return float(np.abs(self._values - p.values).sum() * self._grid.cell_volume)

    def __repr__(self) -> str:
        return f"GridDensity({self._grid!r}, mass={self.mass():.6g}, min={self.min():.3g})"
