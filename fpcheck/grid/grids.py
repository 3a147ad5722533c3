r"""Uniform, cell-centred grids in 1, 2 or 3 dimensions.

A :class:`Grid` splits the box :math:`\prod_j [\ell_j, u_j]` into :math:`n_j` equal cells per axis,
of width :math:`h_j = (u_j - \ell_j)/n_j`.  Values on the grid are **cell averages**
:math:`\bar q_i = |C_i|^{-1}\int_{C_i} q` (see :mod:`fpcheck.grid.density`), held in arrays of
shape ``grid.shape`` in C order, axis ``j`` of the array being coordinate ``j``.  Cell ``i`` of axis
``j`` is :math:`[\ell_j + i h_j,\ \ell_j + (i+1) h_j]`, with centre :math:`\ell_j + (i + \tfrac12) h_j`.

:meth:`Grid.coarsen` halves every cell count, so that a quantity computed on the grid and on its
coarsening gives a Richardson error estimate over :math:`h` and :math:`2h`.  :meth:`Grid.check_memory`
refuses grids whose arrays would not fit, before anything is allocated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import _validation as val
from ..errors import InputError

__all__ = ["Grid", "MAX_BYTES", "MIN_CELLS", "MAX_DIM"]

MAX_BYTES = 4 * 2**30
"""Default memory limit of :meth:`Grid.check_memory`, in bytes (4 GiB)."""

MIN_CELLS = 4
"""Fewest cells per axis: the 4th-order stencils and cubic splines on the grid need four."""

MAX_DIM = 3
"""Largest supported dimension."""

_FLOAT_BYTES = 8


def _fmt_bytes(n: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        items = list(shape)
    except TypeError:
        raise InputError(f"shape must be a sequence of integers (cells per axis), got {shape!r}") from None
    out = []
    for j, n in enumerate(items):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise InputError(f"shape[{j}] must be an integer number of cells, got {n!r}")
        if n < MIN_CELLS:
            raise InputError(f"shape[{j}] = {int(n)}: each axis needs at least {MIN_CELLS} cells")
        out.append(int(n))
    return tuple(out)


def _bounds(bounds) -> tuple[tuple[float, float], ...]:
    arr = val.finite_array(bounds, "bounds")
    if arr.ndim == 1 and arr.shape[0] == 2:  # a single (lo, hi) pair: one axis
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"bounds must be a sequence of (lo, hi) pairs, one per axis; got shape {np.shape(bounds)}")
    for j, (lo, hi) in enumerate(arr):
        if not lo < hi:
            raise InputError(f"bounds[{j}] = ({lo:g}, {hi:g}) needs lo < hi")
    return tuple((float(lo), float(hi)) for lo, hi in arr)


class Grid:
    r"""A uniform, cell-centred grid on a box in 1, 2 or 3 dimensions.

    Parameters
    ----------
    bounds : sequence of (lo, hi)
        One finite pair per axis with ``lo < hi``; in 1D a single pair ``(lo, hi)`` is also accepted.
    shape : sequence of int
        Cells per axis, at least :data:`MIN_CELLS` each; in 1D a single int is also accepted.
    periodic : bool or sequence of bool
        Whether each axis wraps around (one flag for all axes, or one per axis).  Periodic axes
        make :mod:`fpcheck.grid.density` wrap points and stencils instead of cutting them off.

    Attributes
    ----------
    ndim : int
    shape : tuple of int
    bounds : tuple of (float, float)
    periodic : tuple of bool
    h : tuple of float
        Cell widths :math:`h_j = (u_j - \ell_j)/n_j`.
    cell_volume : float
        :math:`\prod_j h_j`.
    size : int
        Number of cells, :math:`\prod_j n_j`.

    Examples
    --------
    >>> g = Grid([(-4.0, 4.0), (-2.0, 2.0)], (64, 32))
    >>> g.h, g.size
    ((0.125, 0.125), 2048)
    >>> g.coarsen().shape
    (32, 16)
    """

    def __init__(self, bounds: Sequence, shape: Sequence[int] | int, periodic: bool | Sequence[bool] = False):
        b = _bounds(bounds)
        s = _shape(shape)
        if len(b) != len(s):
            raise InputError(f"bounds has {len(b)} axes but shape has {len(s)}; give one (lo, hi) pair and one cell count per axis")
        if not 1 <= len(s) <= MAX_DIM:
            raise InputError(f"a Grid has 1 to {MAX_DIM} dimensions, got {len(s)}")
        if isinstance(periodic, (bool, np.bool_)):
            p = (bool(periodic),) * len(s)
        else:
            try:
                p = tuple(periodic)
            except TypeError:
                raise InputError(f"periodic must be a bool or one bool per axis, got {periodic!r}") from None
            if len(p) != len(s) or not all(isinstance(v, (bool, np.bool_)) for v in p):
                raise InputError(f"periodic must be a bool or a sequence of {len(s)} bools, got {periodic!r}")
            p = tuple(bool(v) for v in p)
        self._bounds, self._shape, self._periodic = b, s, p
        self._h = tuple((hi - lo) / n for (lo, hi), n in zip(b, s))

    # ----------------------------------------------------------------------------- construction

    @classmethod
    def cube(cls, lo: float, hi: float, n: int, dim: int, periodic: bool = False) -> Grid:
        """The grid on :math:`[lo, hi]^{dim}` with ``n`` cells per axis."""
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise InputError(f"dim must be an integer from 1 to {MAX_DIM}, got {dim!r}")
        if not 1 <= dim <= MAX_DIM:
            raise InputError(f"a Grid has 1 to {MAX_DIM} dimensions, got dim={dim}")
        return cls([(lo, hi)] * int(dim), (n,) * int(dim), periodic)

    def coarsen(self) -> Grid:
        """The grid with every cell count halved (cells of width ``2h``), on the same box.

        Each coarse cell is the union of :math:`2^d` fine cells, so the coarse cell averages are
        the means of the fine ones; a quantity computed on both gives a Richardson error estimate.
        """
        odd = [j for j, n in enumerate(self._shape) if n % 2]
        if odd:
            raise InputError(f"coarsen needs an even number of cells on every axis; shape {self._shape} is odd on axes {odd}")
        small = [j for j, n in enumerate(self._shape) if n // 2 < MIN_CELLS]
        if small:
            raise InputError(
                f"coarsening shape {self._shape} would leave fewer than {MIN_CELLS} cells on axes {small}; "
                f"use at least {2 * MIN_CELLS} cells per axis"
            )
        return Grid(self._bounds, tuple(n // 2 for n in self._shape), self._periodic)

    def refine(self) -> Grid:
        """The grid with every cell count doubled (the inverse of :meth:`coarsen`)."""
        return Grid(self._bounds, tuple(2 * n for n in self._shape), self._periodic)

    # ------------------------------------------------------------------------------- properties

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def bounds(self) -> tuple[tuple[float, float], ...]:
        return self._bounds

    @property
    def periodic(self) -> tuple[bool, ...]:
        return self._periodic

    @property
    def h(self) -> tuple[float, ...]:
        return self._h

    @property
    def cell_volume(self) -> float:
        return float(math.prod(self._h))

    @property
    def size(self) -> int:
        return int(math.prod(self._shape))

    @property
    def lengths(self) -> tuple[float, ...]:
        """Side lengths :math:`u_j - \\ell_j` of the box."""
        return tuple(hi - lo for lo, hi in self._bounds)

    def _axis(self, axis) -> int:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -self.ndim <= axis < self.ndim:
            raise InputError(f"axis must be an integer in [0, {self.ndim}) for this {self.ndim}-dimensional grid, got {axis!r}")
        return int(axis) % self.ndim

    def edges(self, axis: int = 0) -> np.ndarray:
        """The ``n + 1`` cell edges of ``axis``, from ``lo`` to ``hi`` (both exact)."""
        j = self._axis(axis)
        (lo, hi), n = self._bounds[j], self._shape[j]
        e = lo + self._h[j] * np.arange(n + 1)
        e[-1] = hi
        return e

    def centres(self, axis: int = 0) -> np.ndarray:
        """The ``n`` cell centres of ``axis``, :math:`\\ell + (i + \\frac12) h`."""
        j = self._axis(axis)
        return self._bounds[j][0] + self._h[j] * (np.arange(self._shape[j]) + 0.5)

    def points(self) -> np.ndarray:
        """All cell centres as an array ``(size, ndim)``, in the C order of ``values.ravel()``."""
        self.check_memory(self.ndim, what="points()")
        mesh = np.meshgrid(*(self.centres(j) for j in range(self.ndim)), indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    # ----------------------------------------------------------------------------------- memory

    def nbytes(self, copies: int = 1) -> int:
        """Bytes of ``copies`` float64 arrays of shape ``self.shape``."""
        if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 0:
            raise InputError(f"copies must be a non-negative integer, got {copies!r}")
        return int(copies) * self.size * _FLOAT_BYTES

    def check_memory(self, copies: int = 1, *, limit: float | None = None, what: str = "this computation") -> int:
        """Refuse (``InputError``) a grid whose ``copies`` float64 arrays exceed ``limit`` bytes.

        Parameters
        ----------
        copies : int
            How many grid-sized float64 arrays the caller will hold at once.
        limit : float, optional
            The limit in bytes; :data:`MAX_BYTES` (4 GiB) by default.
        what : str
            Named in the message.

        Returns
        -------
        int
            The estimate, ``self.nbytes(copies)``.
        """
        need = self.nbytes(copies)
        limit = MAX_BYTES if limit is None else val.positive(limit, "limit")
        if need > limit:
            cells = " x ".join(str(n) for n in self._shape)
            factor = (need / limit) ** (1.0 / self.ndim)
            fit = tuple(max(MIN_CELLS, int(n / factor)) for n in self._shape)
            raise InputError(
                f"{what} needs about {_fmt_bytes(need)} ({copies} float64 copies of a {cells} grid), "
                f"over the limit of {_fmt_bytes(limit)}; use fewer cells (shape {fit} fits), "
                "a smaller domain at the same resolution, or pass a larger limit"
            )
        return need

    # ---------------------------------------------------------------------------------- dunders

    def __eq__(self, other) -> bool:
        if not isinstance(other, Grid):
            return NotImplemented
        return (self._bounds, self._shape, self._periodic) == (other._bounds, other._shape, other._periodic)

    def __hash__(self) -> int:
        return hash((self._bounds, self._shape, self._periodic))

    def __repr__(self) -> str:
        per = self._periodic[0] if len(set(self._periodic)) == 1 else self._periodic
        return f"Grid(bounds={self._bounds!r}, shape={self._shape!r}, periodic={per!r})"
