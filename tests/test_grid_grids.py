"""Unit tests of fpcheck.grid.grids.Grid: geometry against numpy.linspace / meshgrid, coarsening,
the memory check, and the input checks.

Truths: ``np.linspace`` edges and their midpoints, ``np.meshgrid(indexing="ij")`` for the C order of
``points()``, every second fine edge for ``coarsen()``, and the box volume for the cell volumes.
Floating-point tolerances are a few ulps of the largest coordinate (``lo + i h`` against
``linspace``'s ``lo + i (hi - lo)/n``: each is one or two roundings from the exact value).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpcheck.errors import InputError
from fpcheck.grid import MAX_BYTES, Grid

EPS = np.finfo(float).eps


def _ulps(g: Grid, j: int, k: float = 4.0) -> float:
    lo, hi = g.bounds[j]
    return k * EPS * max(abs(lo), abs(hi))


def test_steps_edges_centres_against_linspace():
    g = Grid([(-1.0, 3.0), (0.0, 1.0)], (8, 5))
    assert (g.ndim, g.shape, g.bounds, g.periodic) == (2, (8, 5), ((-1.0, 3.0), (0.0, 1.0)), (False, False))
    np.testing.assert_allclose(g.h, (0.5, 0.2), rtol=EPS)
    assert g.size == 40
    np.testing.assert_allclose(g.cell_volume, 0.1, rtol=2 * EPS)
    for j, (lo, hi) in enumerate(g.bounds):
        ref = np.linspace(lo, hi, g.shape[j] + 1)
        e = g.edges(j)
        assert e[0] == lo and e[-1] == hi  # the box is exactly covered
        np.testing.assert_allclose(e, ref, rtol=0, atol=_ulps(g, j))
        np.testing.assert_allclose(g.centres(j), 0.5 * (ref[1:] + ref[:-1]), rtol=0, atol=_ulps(g, j))
    assert g.lengths == (4.0, 1.0)


def test_points_are_cell_centres_in_c_order():
    g = Grid([(0.0, 1.0), (-2.0, 2.0), (5.0, 6.0)], (4, 6, 5))
    p = g.points()
    assert p.shape == (g.size, 3)
    mesh = np.meshgrid(g.centres(0), g.centres(1), g.centres(2), indexing="ij")
    for j in range(3):
        np.testing.assert_array_equal(p[:, j], mesh[j].ravel())
    flat = np.ravel_multi_index((1, 4, 2), g.shape)  # the cell of values[1, 4, 2]
    np.testing.assert_array_equal(p[flat], [g.centres(0)[1], g.centres(1)[4], g.centres(2)[2]])


@given(
    d=st.integers(1, 3),
    lo=st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False),
    widths=st.lists(st.floats(1e-3, 100.0, allow_nan=False, allow_infinity=False), min_size=3, max_size=3),
    halves=st.lists(st.integers(4, 40), min_size=3, max_size=3),
)
def test_geometry_properties(d, lo, widths, halves):
    bounds = [(lo, lo + widths[j]) for j in range(d)]
    g = Grid(bounds, [2 * n for n in halves[:d]])
    # the cells tile the box: their volumes add up to its volume (products of d roundings; the box's
    # sides are hi - lo of the stored bounds, since lo + width is itself rounded)
    np.testing.assert_allclose(g.size * g.cell_volume, np.prod(g.lengths), rtol=8 * d * EPS)
    c = g.coarsen()
    assert c.shape == tuple(halves[:d]) and c.bounds == g.bounds
    for j in range(d):
        e, ce = g.edges(j), c.edges(j)
        assert np.all(np.diff(e) > 0)
        assert np.all((g.centres(j) > e[:-1]) & (g.centres(j) < e[1:]))
        np.testing.assert_allclose(ce, e[::2], rtol=0, atol=_ulps(g, j, 8) + 8 * EPS * widths[j])
        np.testing.assert_allclose(c.h[j], 2 * g.h[j], rtol=2 * EPS)
    assert c.refine() == g


def test_cube_and_periodic_flags():
    assert Grid.cube(-2.0, 2.0, 16, 3) == Grid([(-2.0, 2.0)] * 3, (16, 16, 16))
    g = Grid([(0.0, 1.0), (0.0, 2.0)], (8, 8), periodic=[True, False])
    assert g.periodic == (True, False)
    assert Grid.cube(0.0, 1.0, 8, 2, periodic=True).periodic == (True, True)
    assert g.coarsen().periodic == (True, False)


def test_one_dimensional_shorthands():
    assert Grid((0.0, 1.0), 8) == Grid([(0.0, 1.0)], (8,))


def test_equality_hash_and_repr_round_trip():
    g = Grid([(-1.5, 2.0), (0.0, 1.0)], (8, 10), periodic=(False, True))
    again = eval(repr(g), {"Grid": Grid})
    assert again == g and hash(again) == hash(g)
    assert Grid.cube(0.0, 1.0, 8, 1) != Grid.cube(0.0, 1.0, 10, 1)
    assert Grid.cube(0.0, 1.0, 8, 1) != Grid.cube(0.0, 1.0, 8, 1, periodic=True)
    assert "Grid(bounds=((0.0, 1.0),), shape=(8,), periodic=False)" == repr(Grid.cube(0.0, 1.0, 8, 1))


def test_memory_estimate_and_refusal():
    g = Grid.cube(0.0, 1.0, 1024, 3)  # 2**30 cells: 8 GiB per float64 copy; nothing is allocated
    assert g.nbytes() == 8 * 2**30 and g.nbytes(3) == 3 * 8 * 2**30
    with pytest.raises(InputError, match=r"needs about 8 GiB \(1 float64 copies of a 1024 x 1024 x 1024 grid\), "
                       r"over the limit of 4 GiB; use fewer cells \(shape \(812, 812, 812\) fits\)"):
        g.check_memory(1)
    assert g.check_memory(1, limit=2**34) == 8 * 2**30
    with pytest.raises(InputError, match="over the limit of 16 GiB"):
        g.check_memory(3, limit=2**34)
    with pytest.raises(InputError, match=r"points\(\) needs about 24 GiB"):
        g.points()
    small = Grid.cube(0.0, 1.0, 64, 2)
    assert small.check_memory(10) == 10 * 8 * 64 * 64 < MAX_BYTES


BAD = [
    ("bounds NaN", lambda: Grid([(0.0, np.nan)], (8,)), r"bounds contains 1 NaN or inf"),
    ("bounds inf", lambda: Grid([(-np.inf, 0.0)], (8,)), r"bounds contains 1 NaN or inf"),
    ("lo == hi", lambda: Grid([(0.0, 1.0), (2.0, 2.0)], (8, 8)), r"bounds\[1\] = \(2, 2\) needs lo < hi"),
    ("lo > hi", lambda: Grid([(1.0, 0.0)], (8,)), r"bounds\[0\] = \(1, 0\) needs lo < hi"),
    ("bounds triple", lambda: Grid([(0.0, 1.0, 2.0)], (8,)), r"bounds must be a sequence of \(lo, hi\) pairs"),
    ("bounds text", lambda: Grid("ab", (8,)), "bounds must be numeric"),
    ("shape float", lambda: Grid([(0.0, 1.0)], (8.0,)), r"shape\[0\] must be an integer number of cells, got 8.0"),
    ("shape bool", lambda: Grid([(0.0, 1.0)], (True,)), r"shape\[0\] must be an integer"),
    ("shape small", lambda: Grid([(0.0, 1.0), (0.0, 1.0)], (8, 3)), r"shape\[1\] = 3: each axis needs at least 4 cells"),
    ("shape negative", lambda: Grid([(0.0, 1.0)], (-8,)), r"shape\[0\] = -8"),
    ("shape not sequence", lambda: Grid([(0.0, 1.0)], 8.5), r"shape must be a sequence of integers"),
    ("lengths differ", lambda: Grid([(0.0, 1.0)] * 2, (8, 8, 8)), r"bounds has 2 axes but shape has 3"),
    ("4-D", lambda: Grid([(0.0, 1.0)] * 4, (8,) * 4), r"a Grid has 1 to 3 dimensions, got 4"),
    ("periodic length", lambda: Grid([(0.0, 1.0)] * 2, (8, 8), periodic=[True]), r"periodic must be a bool or a sequence of 2 bools"),
    ("periodic type", lambda: Grid([(0.0, 1.0)], (8,), periodic=1), r"periodic must be a bool or one bool per axis"),
    ("cube dim", lambda: Grid.cube(0.0, 1.0, 8, 4), r"1 to 3 dimensions, got dim=4"),
    ("cube dim float", lambda: Grid.cube(0.0, 1.0, 8, 2.0), r"dim must be an integer"),
    ("coarsen odd", lambda: Grid([(0.0, 1.0)] * 2, (8, 9)).coarsen(), r"even number of cells on every axis; shape \(8, 9\) is odd on axes \[1\]"),
    ("coarsen small", lambda: Grid([(0.0, 1.0)], (6,)).coarsen(), r"fewer than 4 cells on axes \[0\]; use at least 8 cells per axis"),
    ("axis", lambda: Grid.cube(0.0, 1.0, 8, 2).edges(2), r"axis must be an integer in \[0, 2\)"),
    ("axis type", lambda: Grid.cube(0.0, 1.0, 8, 2).centres(0.5), r"axis must be an integer"),
    ("copies", lambda: Grid.cube(0.0, 1.0, 8, 2).nbytes(-1), "copies must be a non-negative integer"),
    ("limit", lambda: Grid.cube(0.0, 1.0, 8, 2).check_memory(1, limit=0.0), "limit must be > 0"),
]


@pytest.mark.parametrize("make, match", [pytest.param(f, m, id=i) for i, f, m in BAD])
def test_bad_input_raises_input_error(make, match):
    with pytest.raises(InputError, match=match):
        make()
