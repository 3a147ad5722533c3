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


# ---------------------------------------------------------------------- 2. reverse SDE and flow


def _numpy_mixture_score(x, weights, means, var):
    """Score of sum_k w_k N(means_k, var_k I) at x (n, d): a lean vectorised NumPy baseline (isotropic components)."""
    diff = x[:, None, :] - means[None]  # (n, K, d)
    logits = np.log(weights) - 0.5 * x.shape[1] * np.log(var) - 0.5 * np.einsum("nkd,nkd->nk", diff, diff) / var
    logits -= logits.max(axis=1, keepdims=True)
    r = np.exp(logits)
    r /= r.sum(axis=1, keepdims=True)
    return -np.einsum("nk,nkd->nd", r / var, diff)


class _NumpyTruth:
    """Per-time isotropic mixture parameters of q_t for the NumPy baseline (VP: a_t, s_t^2 in closed form)."""

    def __init__(self, process, data):
        self.process = process
        self.w, self.m = data.weights, data.means
        self.v0 = data.covs[:, 0, 0]  # isotropic components

    def score(self, x, t):
        a, _, s2 = self.process.kernel(t)
        return _numpy_mixture_score(x, self.w, a * self.m, a * a * self.v0 + s2)

    def velocity(self, x, t):
        rate, _, g2 = self.process.coefficients(t)
        return -rate * x - 0.5 * g2 * self.score(x, t)

    def reverse_drift(self, x, t):
        rate, _, g2 = self.process.coefficients(t)
        return -rate * x - g2 * self.score(x, t)


def _numpy_generation(truth, x, method: str, steps: int, rng) -> np.ndarray:
    """The same steps as fpcheck's kernels, vectorised in NumPy, from T = 1 down to 0."""
    t = np.linspace(1.0, 0.0, steps + 1)
    for k in range(steps):
        t0, t1 = t[k], t[k + 1]
        h = t0 - t1
        if method == "reverse-em":
            g = math.sqrt(float(truth.process.g2(t0)) * h)
            x = x - truth.reverse_drift(x, t0) * h + g * rng.standard_normal(x.shape)
        elif method == "reverse-heun":
            eta = math.sqrt(float(truth.process.g2(0.5 * (t0 + t1))) * h) * rng.standard_normal(x.shape)
            b0 = truth.reverse_drift(x, t0)
            xb = x - b0 * h + eta
            x = x - 0.5 * (b0 + truth.reverse_drift(xb, t1)) * h + eta
        elif method == "flow-euler":
            x = x - truth.velocity(x, t0) * h
        elif method == "flow-heun":
            v0 = truth.velocity(x, t0)
            x = x - 0.5 * (v0 + truth.velocity(x - v0 * h, t1)) * h
        elif method == "flow-rk4":
            tm = 0.5 * (t0 + t1)
            k1 = truth.velocity(x, t0)
            k2 = truth.velocity(x - 0.5 * h * k1, tm)
            k3 = truth.velocity(x - 0.5 * h * k2, tm)
            k4 = truth.velocity(x - h * k3, t1)
            x = x - h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return x


GENERATION = ("reverse-em", "reverse-heun", "flow-euler", "flow-heun", "flow-rk4")


def generation_throughput(n1: int, n2: int, steps: int = 20) -> None:
    from fpcheck.analytic import ExactMarginals
    from fpcheck.particles.simulate import simulate

    process = problems.process("vp-linear")
    print(f"\n2. generation from exact q_T with the exact score (vp-linear, {steps} steps): compiled vs NumPy")
    print(f"   {'data':<14} {'method':<13} {'n':>8} {'fpcheck (s)':>12} {'Mstep/s':>8} {'numpy (s)':>10} {'Mstep/s':>8} {'ratio':>7}")
    for data_name, n in (("gmm1d-bimodal", n1), ("gmm2d-ring8", n2)):
        data = problems.data(data_name)
        base = _NumpyTruth(process, data)
        x_T = ExactMarginals(process, data).sample(n, 1.0, np.random.default_rng(0))
        for method in GENERATION:
            simulate(process, data, method, 100, [0.0], steps=2)  # compile
            ours = best_of(lambda: simulate(process, data, method, n, [0.0], steps=steps, seed=1))
            theirs = best_of(lambda: _numpy_generation(base, x_T, method, steps, np.random.default_rng(1)), repeats=1)
            work = n * steps
            print(
                f"   {data_name:<14} {method:<13} {n:>8.0e} {ours:>12.3f} {work / ours / 1e6:>8.1f} "
                f"{theirs:>10.3f} {work / theirs / 1e6:>8.2f} {theirs / ours:>6.1f}x"
            )
    print("   (fpcheck times include drawing the q_T samples; target: ratio >= 3)")


# ---------------------------------------------------------------------------- 3. weak orders


def weak_orders(n: int) -> None:
    from fpcheck.particles.convergence import weak_study

    process, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    print(f"\n3. weak orders on vp-linear x gmm1d-bimodal (flows: quadrature over q_T, 2001 nodes; reverse SDE: n = {n:.0e})")
    print(f"   {'method':<13} {'t_end':>5} {'functional':<14} {'steps':<22} {'errors':<50} {'order':>6}")
    ladder = {
        "flow-euler": ((16, 32, 64, 128, 256), 0.2),
        "flow-heun": ((16, 32, 64, 128, 256), 0.2),
        "flow-rk4": ((8, 16, 32, 64), 0.2),
        "reverse-em": ((20, 40, 80, 160), 0.0),
        "reverse-heun": ((20, 40, 80, 160), 0.0),
    }
    for method, (steps, t_end) in ladder.items():
        study = weak_study(process, data, method, steps, t_end=t_end, n=n, seed=3)
        for name, err in study.errors.items():
            fit = study.fits[name]
            se = "" if study.se is None else f" (se {study.se[name][0]:.1e})"
            errs = " ".join(f"{e:.2e}" for e in err)
            print(
                f"   {method:<13} {t_end:>5g} {name:<14} {','.join(map(str, steps)):<22} {errs:<50} "
                f"{fit.order:>6.2f} +- {fit.order_se:.2f}{se}"
            )
    print("   expected: 1 (Euler, EM), 2 (Heun), 4 (RK4)")


# ---------------------------------------------------------------------- 4. distance to the truth


def distances(n: int) -> None:
    from fpcheck.particles.checks import check_against_truth, grid_truth
    from fpcheck.particles.simulate import simulate

    print(f"\n4. distance to the truth at n = {n:.0e}: cdf distance d^2 +- se, and the test family (Holm, alpha = 0.01)")
    print(f"   {'problem':<28} {'method':<13} {'steps':>5} {'t':>5} {'d^2 +- se':>22} {'min Holm p':>10}  verdict  wall (s)")
    runs = [
        ("vp-linear", "gmm1d-bimodal", "exact", 1, (0.05, 0.2, 1.0)),
        ("vp-linear", "gmm1d-bimodal", "em", 1000, (0.05, 0.2, 1.0)),
        ("vp-linear", "gmm1d-bimodal", "reverse-heun", 400, (0.2, 0.0)),
        ("vp-linear", "gmm1d-bimodal", "flow-rk4", 100, (0.2, 0.0)),
        ("vp-linear", "gmm2d-ring8", "reverse-heun", 400, (0.2, 0.0)),
        ("vp-linear", "gmm2d-ring8", "flow-rk4", 100, (0.2, 0.0)),
    ]
    for proc_name, data_name, method, steps, times in runs:
        process, data = problems.process(proc_name), problems.data(data_name)
        sol = simulate(process, data, method, n, times, steps=steps, seed=11)
        grid_sol, _ = grid_truth(process, data, sol.times)
        checks = check_against_truth(sol.samples, sol.times, process, data, grid_solution=grid_sol)
        for c in checks:
            dist = c.family.distance
            print(
                f"   {proc_name + ' x ' + data_name:<28} {method:<13} {sol.steps:>5} {c.t:>5g} "
                f"{f'{dist.value:.2e} +- {dist.se:.1e}':>22} {float(np.min(c.family.holm.adjusted)):>10.3g}  "
                f"{'ok' if c.passed else 'REJECT':<7}  {sol.wall_time_s:>7.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10^5 particles instead of 10^6")
    args = parser.parse_args()
    n = N_PARTICLES // 10 if args.quick else N_PARTICLES
    forward_throughput(n)
    generation_throughput(n, n // 5)
    weak_orders(2 * n)
    distances(n)


if __name__ == "__main__":
    main()
