"""Grids and densities on them: the data structures of the grid truth.

* :class:`Grid` (``grids.py``): a uniform, cell-centred grid in 1-3D, with coarsening for
  Richardson estimates and a memory check;
* :class:`GridDensity` (``density.py``): cell averages of a density, with mass, marginals,
  4th-order point values and scores, and a 1D cdf exact at the edges;
* :func:`cell_averages` (``projection.py``): exact cell averages of the data distributions;
* :func:`solve_fokker_planck` (``solver.py``): the exact-in-time solver with Richardson
  extrapolation, on the fitted operators of ``operators.py`` and the rational exponential of
  ``_rational.py`` / ``_tridiag.py`` (Numba, imported on first solve); sub-VP by adaptive SDIRK4
  (``stepping.py`` / ``_stepping.py``);
* :func:`solve_continuity` (``continuity.py``): dq/dt = -div(q v) for any
  velocity callable, WENO5 + SSP-RK3 (``_continuity.py``);
* ``spectrum.py``: relaxation rates of the grid operator, Chebyshev collocation, Kramers.

Nothing here compiles: the Numba kernels of the solvers live in modules of their own.
"""

from __future__ import annotations

from .density import GridDensity
from .grids import MAX_BYTES, Grid
from .projection import cell_averages
from .continuity import ContinuitySolution, solve_continuity
from .solver import FokkerPlanckSolution, solve_fokker_planck

__all__ = [
    "Grid",
    "GridDensity",
    "cell_averages",
    "MAX_BYTES",
    "FokkerPlanckSolution",
    "solve_fokker_planck",
    "ContinuitySolution",
    "solve_continuity",
]
