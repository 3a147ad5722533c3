"""Grid Fokker-Planck solver against the analytic truth: L1 error, error estimate and wall time.

Problems (named as in the grid issue):
  B1: vp-linear x gmm1d-bimodal on [-8, 8], t in {0.05, 0.2, 1.0}
  B2: vp-linear x gmm2d-ring8 on [-6, 6]^2, same times
  B3: vp-linear x gmm3d-tetra on [-6, 6]^3, same times
  B5: subvp-linear x gmm1d-bimodal on [-8, 8], same times (time-stepping path)
Each row: grid, L1 error of the Richardson result against exact cell averages of q_t, the solver's
own error estimate, their ratio, and the wall time of the solve (after a warm-up that compiles the
kernels).  Run: python benchmarks/bench_grid.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.grid import Grid, cell_averages
from fpcheck.grid.solver import solve_fokker_planck

TIMES = (0.05, 0.2, 1.0)


def run(name: str, data: str, bounds, shapes, process: str = "vp-linear", time_tols=None) -> None:
    """Print the rows of one problem; ``time_tols`` (one per shape) for the time-stepping path."""
    truth = ExactMarginals(problems.process(process), problems.data(data))
    print(f"\n{name}: {process} x {data} on {bounds[0]}^{len(bounds)}")
    print(f"{'grid':>12} {'t':>6} {'L1 error':>11} {'estimate':>11} {'est/err':>8} {'wall (s)':>9}")
    for shape, time_tol in zip(shapes, time_tols or [None] * len(shapes)):
        grid = Grid(bounds, shape)
        options = {} if time_tol is None else {"time_tol": time_tol}
        best = np.inf
        for _ in range(3 if len(shape) < 3 else 1):
            start = time.perf_counter()
            sol = solve_fokker_planck(truth.process, truth.data, grid, TIMES, **options)
            best = min(best, time.perf_counter() - start)
        if sol.time_error is not None:
            print(f"{'':>12} {sol.method}; time-error estimates {', '.join(f'{e:.1e}' for e in sol.time_error)}")
        for t, dens, est in zip(TIMES, sol.densities, sol.error_estimate):
            err = np.abs(dens.values - cell_averages(truth.at(t), grid).values).sum() * grid.cell_volume
            label = "x".join(map(str, shape))
            print(f"{label:>12} {t:>6.2f} {err:>11.3e} {est:>11.3e} {est / err:>8.2f} {best:>9.4f}")


def main() -> None:
    warnings.simplefilter("ignore")
    warm = Grid([(-8, 8)], [64])
    for name in ("vp-linear", "subvp-linear"):
        solve_fokker_planck(problems.process(name), problems.data("gmm1d-bimodal"), warm, [0.5])
    run("B1", "gmm1d-bimodal", [(-8, 8)], [[512], [1024], [2048]])
    run("B2", "gmm2d-ring8", [(-6, 6)] * 2, [[128, 128], [256, 256], [512, 512]])
    run("B3", "gmm3d-tetra", [(-6, 6)] * 3, [[48] * 3, [96] * 3])
    # The time-error estimate is a bound (3-20 times the actual time error), so time_tol is kept
    # below the spatial error per unit time at each size, as solve_fokker_planck's docstring asks:
    # at N = 1024 and t = 1 the default 1e-9 would dominate the 3e-10 spatial error (est/err 4).
    run("B5", "gmm1d-bimodal", [(-8, 8)], [[256], [512], [1024]], process="subvp-linear", time_tols=[1e-9, 1e-9, 1e-10])


if __name__ == "__main__":
    main()
