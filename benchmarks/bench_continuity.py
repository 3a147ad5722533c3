"""Continuity-equation solver with the exact probability-flow velocity: L1 error, estimate, steps, time.

Problem B1 (named as in bench_grid.py): vp-linear x gmm1d-bimodal on [-8, 8].  The exact
probability-flow velocity v_t = f - g^2/2 grad log q_t (ExactMarginals.velocity) carries q_0 to q_t,
so solve_continuity from exact cell averages of q_0 is compared with exact cell averages of q_t at
t in {0.05, 0.2, 1.0}.  Target: L1 at most 1e-5 at t = 1 on N = 4096.

Each row: N, t, the L1 error, the solver's error estimate (coarse grid 2h, order 4) and their ratio,
the observed order against the previous N, the Runge-Kutta steps taken up to t on the grid (the
coarse solve of the estimate takes about as many again, of half the cost each), and the wall time of
the whole solve (all times, estimate included; best of ``REPEATS``), after a warm-up that compiles the
kernels.  The profile line splits that time into the velocity calls (ExactMarginals.velocity, one
per axis per stage on all faces) and the rest (WENO kernel, Runge-Kutta updates, projections).
Run: python benchmarks/bench_continuity.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.grid import Grid, cell_averages
from fpcheck.grid.continuity import solve_continuity

TIMES = (0.05, 0.2, 1.0)
SIZES = (512, 1024, 2048, 4096)
REPEATS = 2
TARGET = (4096, 1.0, 1e-5)


class TimedVelocity:
    """A velocity field that records how long its calls take and how many points they cover."""

    def __init__(self, field):
        self.field, self.seconds, self.calls, self.points = field, 0.0, 0, 0

    def __call__(self, x, t):
        start = time.perf_counter()
        v = self.field(x, t)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        self.points += len(x)
        return v


def main() -> None:
    warnings.simplefilter("ignore")
    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    solve_continuity(truth.velocity, truth.data, Grid([(-8, 8)], [64]), [0.1])  # compile the kernels

    print("B1 continuity: vp-linear x gmm1d-bimodal on [-8, 8], exact probability-flow velocity")
    print(f"{'N':>6} {'t':>6} {'L1 error':>11} {'estimate':>11} {'est/err':>8} {'order':>6} {'steps':>7} {'wall (s)':>9}")
    previous, profiles, met = None, [], None
    for n in SIZES:
        grid = Grid([(-8, 8)], [n])
        best, sol, timed = np.inf, None, None
        for _ in range(REPEATS):
            v = TimedVelocity(truth.velocity)
            start = time.perf_counter()
            s = solve_continuity(v, truth.data, grid, TIMES)
            wall = time.perf_counter() - start
            if wall < best:
                best, sol, timed = wall, s, v
        errors = np.array(
            [np.abs(d.values - cell_averages(truth.at(t), grid).values).sum() * grid.cell_volume for t, d in zip(TIMES, sol.densities)]
        )
        for i, (t, err, est, steps) in enumerate(zip(TIMES, errors, sol.error_estimate, sol.steps)):
            order = f"{np.log2(previous[i] / err):6.2f}" if previous is not None else f"{'':>6}"
            print(f"{n:>6} {t:>6.2f} {err:>11.3e} {est:>11.3e} {est / err:>8.2f} {order} {steps:>7d} {best:>9.3f}")
            if (n, t) == TARGET[:2]:
                met = err
        previous = errors
        profiles.append((n, best, timed, sol))

    print("\nprofile (best run per N): time in velocity calls vs the rest")
    print(f"{'N':>6} {'wall (s)':>9} {'velocity (s)':>13} {'share':>6} {'calls':>7} {'us/call':>8} {'ns/point':>9} {'fine+coarse steps':>18}")
    for n, wall, timed, sol in profiles:
        share = timed.seconds / wall
        per_call = 1e6 * timed.seconds / timed.calls
        per_point = 1e9 * timed.seconds / timed.points
        total_steps = int(sol.steps[-1] + sol.coarse_steps[-1])
        print(f"{n:>6} {wall:>9.3f} {timed.seconds:>13.3f} {share:>6.0%} {timed.calls:>7d} {per_call:>8.0f} {per_point:>9.1f} {total_steps:>18d}")

    n, t, target = TARGET
    verdict = "met" if met is not None and met <= target else "NOT met"
    print(f"\ntarget: L1 <= {target:g} at t = {t:g} on N = {n}: {met:.3e} ({verdict})")


if __name__ == "__main__":
    main()
