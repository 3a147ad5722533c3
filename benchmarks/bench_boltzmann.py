"""B4: the Langevin double well on the grid: Boltzmann limit, slowest relaxation rate, Kramers.

Problem (``langevin-doublewell``: U = (x^2-1)^2, kT = 0.25) from N(-1, 0.05^2) on [-3, 3]:
  1. the long-time density against the discrete Boltzmann density pi_h (target L1 <= 1e-12) at
     t_end = 1.05 ln(1e13) / lambda_1(h), where exp(-lambda_1 t_end) = 1.9e-14; also the Richardson
     result against the same combination (4 R pi_{h/2} - pi_h) / 3 of the levels' limits, whose
     rounding floor is that of the h/2 level (the propagator's own rounding on pi_h grows like
     eps t ||L||: about 1e-13 on 256 cells, up to 1.5e-12 on 512 and 4e-12 on 1024 at t ~ 1000);
  2. pi_h against exact cell averages of the continuous Boltzmann density, with the observed order
     (2 plain, 4 for the Richardson combination of pi_h and pi_{h/2});
  3. the smallest non-zero rate lambda_1: fitted grid operator (plain and Richardson over h, h/2)
     against Chebyshev collocation (target relative difference <= 1e-6);
  4. Kramers' formula at kT = 0.1 and 0.25: ratio lambda_1 / lambda_Kramers, within its O(kT/dU)
     accuracy (bound |ratio - 1| <= kT/dU; leading term -3/8 kT/dU for this potential).
Run: python benchmarks/bench_boltzmann.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from fpcheck import problems
from fpcheck.distributions import GaussianMixture
from fpcheck.grid import Grid, cell_averages
from fpcheck.grid.solver import propagator_axes, solve_fokker_planck
from fpcheck.grid.spectrum import kramers_rate, relaxation_rates, spectral_relaxation_rates
from fpcheck.processes import DoubleWell, Langevin

BOUNDS = (-3.0, 3.0)
L1_TARGET, RATE_TARGET = 1e-12, 1e-6


def _restrict(v: np.ndarray) -> np.ndarray:
    return v.reshape(-1, 2).mean(axis=1)


def _pi(process, grid: Grid) -> np.ndarray:
    return np.exp(propagator_axes(process, grid)[0].log_pi)


def long_time(base) -> None:
    print("\n1. long-time density against the discrete Boltzmann density (target L1 <= 1e-12)")
    print(f"{'N':>6} {'lambda_1(h)':>12} {'t_end':>8} {'L1 plain':>10} {'':>5} {'L1 Richardson':>14} {'wall (s)':>9}")
    start = GaussianMixture.isotropic([1.0], [[-1.0]], 0.05)
    for n in (256, 512, 1024):
        grid = Grid([BOUNDS], [n])
        lam = relaxation_rates(base, grid).rates[0]
        t_end = 1.05 * np.log(1e13) / lam
        process = Langevin(base.potential, base.kT, T=t_end)
        t0 = time.perf_counter()
        plain = solve_fokker_planck(process, start, grid, [t_end], extrapolate=False).densities[0].values
        rich = solve_fokker_planck(process, start, grid, [t_end], extrapolate=True).densities[0].values
        wall = time.perf_counter() - t0
        pi_h, pi_h2 = _pi(base, grid), _pi(base, grid.refine())
        e_plain = np.abs(plain - pi_h).sum() * grid.h[0]
        e_rich = np.abs(rich - (4.0 * _restrict(pi_h2) - pi_h) / 3.0).sum() * grid.h[0]
        ok = "ok" if e_plain <= L1_TARGET else "ABOVE"
        print(f"{n:>6} {lam:>12.8f} {t_end:>8.1f} {e_plain:>10.2e} {ok:>5} {e_rich:>14.2e} {wall:>9.3f}")


def continuous(base) -> None:
    print("\n2. discrete Boltzmann pi_h against exact cell averages of exp(-U/kT)/Z")
    print(f"{'N':>6} {'L1 plain':>11} {'order':>6} {'L1 Richardson':>14} {'order':>6}")
    boltz = problems.data("doublewell1d")
    prev = None
    for n in (128, 256, 512, 1024, 2048):
        grid = Grid([BOUNDS], [n])
        exact = cell_averages(boltz, grid).values
        pi_h, pi_h2 = _pi(base, grid), _pi(base, grid.refine())
        e = np.abs(pi_h - exact).sum() * grid.h[0]
        r = np.abs((4.0 * _restrict(pi_h2) - pi_h) / 3.0 - exact).sum() * grid.h[0]
        o = "" if prev is None else f"{np.log2(prev[0] / e):6.2f}"
        o_r = "" if prev is None else f"{np.log2(prev[1] / r):6.2f}"
        print(f"{n:>6} {e:>11.3e} {o:>6} {r:>14.3e} {o_r:>6}")
        prev = (e, r)


def rates() -> None:
    print("\n3. smallest non-zero relaxation rate lambda_1 (target |Richardson / spectral - 1| <= 1e-6)")
    print(
        f"{'kT':>5} {'N':>6} {'grid plain':>16} {'grid Richardson':>16} {'estimate':>9} {'order':>6} "
        f"{'spectral':>16} {'estimate':>9} {'plain/spec-1':>13} {'Rich/spec-1':>12} {'':>5} {'wall (s)':>9}"
    )
    for kT in (0.25, 0.1):
        t0 = time.perf_counter()
        spec = spectral_relaxation_rates(DoubleWell(1.0), kT, BOUNDS, n=192)
        t_spec = time.perf_counter() - t0
        s = spec.rates[0]
        for n in (256, 512, 1024, 2048):
            t0 = time.perf_counter()
            r = relaxation_rates(Langevin(DoubleWell(1.0), kT), Grid([BOUNDS], [n]))
            wall = time.perf_counter() - t0
            dp, dr = r.rates[0] / s - 1.0, r.extrapolated[0] / s - 1.0
            ok = "ok" if abs(dr) <= RATE_TARGET else "ABOVE"
            print(
                f"{kT:>5g} {n:>6} {r.rates[0]:>16.12g} {r.extrapolated[0]:>16.12g} {r.error_estimate[0]:>9.1e} "
                f"{r.observed_order[0]:>6.3f} {s:>16.12g} {spec.error_estimate[0]:>9.1e} {dp:>13.2e} {dr:>12.2e} "
                f"{ok:>5} {wall:>9.4f}"
            )
        print(f"{'':>5} spectral: Chebyshev collocation, n = {spec.n}, {t_spec:.3f} s")


def kramers() -> None:
    print("\n4. Kramers: lambda_K = 2 sqrt(U''(1) |U''(0)|) / (2 pi) exp(-dU/kT), dU = 1 (bound |ratio - 1| <= kT/dU)")
    print(
        f"{'kT':>5} {'lambda_1 spectral':>18} {'estimate':>9} {'Kramers':>14} {'ratio':>8} {'(ratio-1)/(kT/dU)':>18} {'':>5}"
    )
    for kT in (0.25, 0.1, 0.05):
        spec = spectral_relaxation_rates(DoubleWell(1.0), kT, BOUNDS, n=256)
        lam, est = spec.rates[0], spec.error_estimate[0]
        lk = kramers_rate(DoubleWell(1.0), kT)
        ratio = lam / lk
        ok = "ok" if abs(ratio - 1.0) <= kT else "ABOVE"
        print(f"{kT:>5g} {lam:>18.10e} {est:>9.1e} {lk:>14.6e} {ratio:>8.5f} {(ratio - 1.0) / kT:>18.4f} {ok:>5}")
    print(f"{'':>5} first-order Laplace correction for (x^2-1)^2: (ratio - 1)/(kT/dU) -> -3/8 = -0.375")


def main() -> None:
    warnings.simplefilter("ignore")  # 256 cells under-resolve the start, which the limit does not depend on
    base = problems.process("langevin-doublewell")
    print("B4: langevin-doublewell (U = (x^2-1)^2, kT = 0.25) from N(-1, 0.05^2) on [-3, 3]")
    solve_fokker_planck(base, problems.data("gmm1d-bimodal"), Grid([BOUNDS], [64]), [0.5])  # compile
    long_time(base)
    continuous(base)
    rates()
    kramers()


if __name__ == "__main__":
    main()
