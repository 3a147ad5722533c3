r"""The grid section: the Fokker-Planck solver against the analytic truth.

* **convergence in h** (B1, ``vp-linear`` x ``gmm1d-bimodal`` on [-8, 8]): L1 error against exact cell
  averages of :math:`q_t` for the plain and the Richardson-extrapolated solution; the fitted orders
  must reach 1.9 and 3.8 and the solver's error estimate must lie within a factor 3 of the error.
* **2D densities** (B2, ``vp-linear`` x ``gmm2d-ring8`` on [-6, 6]^2): grid against analytic, with the
  error map; the error must lie within a factor 3 of the estimate.
* **B5** (``subvp-linear`` x ``gmm1d-bimodal``): the same convergence study on the time-stepping path.
* **Boltzmann** (``langevin-doublewell``): long-time density against the discrete Boltzmann density.
* **B4** (``langevin-doublewell`` from N(-1, 0.05^2) on [-3, 3]): relaxation to the discrete Boltzmann
  density at the rate lambda_1, its order against the continuous one, lambda_1 from the grid (with
  Richardson) against Chebyshev collocation, and Kramers' formula at kT = 0.1.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import problems
from ..analytic import ExactMarginals
from ..errors import GridWarning
from .registry import CaseResult, register

SECTION = "Grid truth"
_TIMES = (0.05, 0.2, 1.0)
_MIN_PLAIN, _MIN_RICH, _EST_FACTOR = 1.9, 3.8, 3.0


def _l1_against_truth(truth, sol, grid):
    from ..grid import cell_averages

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # exact averages need no resolution
        exact = [cell_averages(truth.at(float(t)), grid).values for t in sol.times]
    return np.array([np.abs(d.values - e).sum() * grid.cell_volume for d, e in zip(sol.densities, exact)])


@register(SECTION, "b1-convergence", "B1: convergence in h, plain and Richardson")
def b1_convergence(quick: bool) -> CaseResult:
    return _convergence_case("B1", "vp-linear", (256, 512) if quick else (256, 512, 1024, 2048))


@register(SECTION, "b5-subvp", "B5: sub-VP on the time-stepping path, convergence in h")
def b5_subvp(quick: bool) -> CaseResult:
    # time_tol 1e-10: the time part of the estimate is a bound (a sum of local errors, 3-20 times the
    # actual time error), so it must sit below the spatial error of the finest grid (3e-10 at t = 1)
    sizes = (128, 256) if quick else (128, 256, 512, 1024)
    return _convergence_case("B5", "subvp-linear", sizes, time_tol=1e-10)


def _convergence_case(label: str, process: str, sizes: tuple, **options) -> CaseResult:
    import matplotlib.pyplot as plt

    from ..grid import Grid, solve_fokker_planck

    truth = ExactMarginals(problems.process(process), problems.data("gmm1d-bimodal"))
    plain, rich, est = [], [], []
    for n in sizes:
        grid = Grid([(-8.0, 8.0)], [n])
        for extrapolate, errs in ((False, plain), (True, rich)):
            sol = solve_fokker_planck(truth.process, truth.data, grid, _TIMES, extrapolate=extrapolate, **options)
            errs.append(_l1_against_truth(truth, sol, grid))
            if extrapolate:
                est.append(sol.error_estimate)
                method = sol.method
    plain, rich, est = np.array(plain), np.array(rich), np.array(est)
    h = 16.0 / np.array(sizes)
    order = lambda e: np.polyfit(np.log(h), np.log(e), 1)[0]  # noqa: E731
    orders_plain = [order(plain[:, j]) for j in range(len(_TIMES))]
    orders_rich = [order(rich[:, j]) for j in range(len(_TIMES))]
    ratio = est / rich
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for j, t in enumerate(_TIMES):
        line = ax.loglog(h, plain[:, j], "o-", label=f"plain, t={t:g} (order {orders_plain[j]:.2f})")[0]
        ax.loglog(h, rich[:, j], "s--", color=line.get_color(), label=f"Richardson (order {orders_rich[j]:.2f})")
        ax.loglog(h, est[:, j], "x", color=line.get_color())
    ax.set(
        xlabel="h", ylabel="L1 error vs exact cell averages", title=f"{label}: {process} x gmm1d-bimodal (x: estimate)"
    )
    ax.legend(fontsize=6)
    rows = [[n, t, plain[i, j], rich[i, j], est[i, j]] for i, n in enumerate(sizes) for j, t in enumerate(_TIMES)]
    passed = (
        min(orders_plain) >= _MIN_PLAIN
        and min(orders_rich) >= _MIN_RICH
        and np.all((ratio > 1 / _EST_FACTOR) & (ratio < _EST_FACTOR))
    )
    return CaseResult(
        bool(passed),
        f"Fitted orders: plain {min(orders_plain):.2f}-{max(orders_plain):.2f} (need >= {_MIN_PLAIN}), Richardson "
        f"{min(orders_rich):.2f}-{max(orders_rich):.2f} (need >= {_MIN_RICH}); estimate/error in "
        f"[{ratio.min():.2f}, {ratio.max():.2f}] (need within a factor {_EST_FACTOR:g}). Solver: {method}.",
        metrics={"orders_plain": orders_plain, "orders_richardson": orders_rich, "estimate_ratio": ratio.tolist()},
        table=(["N", "t", "L1 plain", "L1 Richardson", "estimate"], rows),
        figures=[("convergence", fig)],
    )


@register(SECTION, "b2-densities", "B2: 2D densities, grid against analytic")
def b2_densities(quick: bool) -> CaseResult:
    import matplotlib.pyplot as plt

    from ..grid import Grid, solve_fokker_planck

    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm2d-ring8"))
    n = 128 if quick else 256
    grid = Grid([(-6.0, 6.0), (-6.0, 6.0)], [n, n])
    sol = solve_fokker_planck(truth.process, truth.data, grid, _TIMES)
    err = _l1_against_truth(truth, sol, grid)
    ratio = sol.error_estimate / err
    fig, axs = plt.subplots(2, len(_TIMES), figsize=(3.3 * len(_TIMES), 6.4), constrained_layout=True)
    from ..grid import cell_averages

    for j, (t, dens) in enumerate(zip(sol.times, sol.densities)):
        exact = cell_averages(truth.at(float(t)), grid).values
        axs[0, j].imshow(dens.values.T, origin="lower", extent=(-6, 6, -6, 6), cmap="viridis")
        axs[0, j].set(title=f"grid, t = {t:g}")
        im = axs[1, j].imshow((dens.values - exact).T, origin="lower", extent=(-6, 6, -6, 6), cmap="RdBu_r")
        axs[1, j].set(title=f"grid - exact (L1 {err[j]:.1e})")
        fig.colorbar(im, ax=axs[1, j], shrink=0.7)
    ok = np.all((ratio > 1 / _EST_FACTOR) & (ratio < _EST_FACTOR))
    return CaseResult(
        bool(ok),
        f"{n}x{n} cells, Richardson: L1 {', '.join(f'{e:.2e}' for e in err)} at t = {_TIMES}; "
        f"estimate/error in [{ratio.min():.2f}, {ratio.max():.2f}] (need within a factor {_EST_FACTOR:g}).",
        metrics={
            "l1_error": err.tolist(),
            "error_estimate": sol.error_estimate.tolist(),
            "wall_time_s": sol.wall_time_s,
        },
        table=(["t", "L1 error", "estimate"], [[t, e, s] for t, e, s in zip(_TIMES, err, sol.error_estimate)]),
        figures=[("densities", fig)],
    )


@register(SECTION, "boltzmann", "Langevin double well: the long-time density is the discrete Boltzmann density")
def boltzmann(quick: bool) -> CaseResult:
    from ..distributions import GaussianMixture
    from ..grid import Grid, cell_averages
    from ..grid.solver import _propagate, propagator_axes

    process = problems.process("langevin-doublewell")
    grid = Grid([(-3.0, 3.0)], [256 if quick else 1024])
    ops = propagator_axes(process, grid)
    start = GaussianMixture.isotropic([1.0], [[-1.0]], 0.05)  # N(-1, 0.05^2): all mass in the left well
    q0 = cell_averages(start, grid).values
    # the slowest relaxation rate at kT = 0.25 is 0.0298 (b4-kramers), so tau = 1000 leaves ~e^{-30}
    q = _propagate(ops, q0, 1000.0)
    pi = np.exp(ops[0].log_pi) * q0.sum() * grid.h[0]
    dev = float(np.abs(q - pi).max() / pi.max())
    return CaseResult(
        dev <= 1e-12,
        f"max |q(tau = 1000) - pi| / max pi = {dev:.2e} on {grid.shape[0]} cells (tolerance 1e-12, the B4 target): the fitted "
        "scheme's stationary state is the discrete Boltzmann density exactly.",
        metrics={"relative_deviation": dev},
    )


#: B4 targets: long-time L1 distance to the discrete Boltzmann density, and the relative difference
#: between the Richardson-extrapolated grid rate and the spectral rate.
_B4_L1, _B4_RATE = 1e-12, 1e-6


@register(SECTION, "b4-kramers", "B4: double-well relaxation: Boltzmann limit, slowest rate, Kramers")
def b4_kramers(quick: bool) -> CaseResult:
    r"""B4 (``langevin-doublewell`` from N(-1, 0.05^2) on [-3, 3]).

    * the long-time density equals the discrete Boltzmann density :math:`\pi_h` to 1e-12 in L1, and
      the L1 distance decays as :math:`e^{-\lambda_1 t}`: the slope fitted to the points between
      t = 10 (where :math:`e^{-\lambda_2 t} < 10^{-14}`) and L1 = 1e-9 matches the grid's :math:`\lambda_1`
      within 1e-4 (the rounding floor, < 1e-12, moves the smallest log-value by < 1e-3 over a
      log-range of ~20: a slope error of a few 1e-5);
    * :math:`\pi_h` converges to the continuous Boltzmann density at order 2 (within 0.1);
    * :math:`\lambda_1`: grid with Richardson against Chebyshev collocation to 1e-6;
    * Kramers at kT = 0.1 within its :math:`O(kT/\Delta U)` accuracy: :math:`|\lambda_1/\lambda_K - 1| \le kT/\Delta U`
      (the leading correction for this potential is :math:`-\frac38 kT/\Delta U`).
    """
    import matplotlib.pyplot as plt

    from ..distributions import GaussianMixture
    from ..grid import Grid, cell_averages, solve_fokker_planck
    from ..grid.solver import propagator_axes
    from ..grid.spectrum import kramers_rate, relaxation_rates, spectral_relaxation_rates
    from ..processes import DoubleWell, Langevin

    base = problems.process("langevin-doublewell")
    bounds = (-3.0, 3.0)
    # 256 cells: the propagator's rounding on its own fixed point stays below 6e-13 there (it grows
    # with t ||L||, past 1e-12 from about 512 cells at t ~ 1000)
    grid = Grid([bounds], [256])
    rates = relaxation_rates(base, grid)
    lam_h, lam_rich = float(rates.rates[0]), float(rates.extrapolated[0])
    spec = spectral_relaxation_rates(base.potential, base.kT, bounds, n=128 if quick else 192)
    lam_spec = float(spec.rates[0])
    rate_dev = abs(lam_rich / lam_spec - 1.0)

    # long-time solve, until exp(-lambda_1 t) < 1e-13 (the registry's process stops at T = 10)
    t_end = 1.05 * np.log(1e13) / lam_h
    process = Langevin(base.potential, base.kT, T=t_end)
    start = GaussianMixture.isotropic([1.0], [[-1.0]], 0.05)
    times = np.concatenate([[0.5, 1.0, 2.0, 5.0], np.linspace(10.0, t_end, 12 if quick else 30)])
    with warnings.catch_warnings():
        # 256 cells put 2 cells across the start's std: exact averages, and the limit does not depend on it
        warnings.filterwarnings("ignore", "the grid under-resolves", GridWarning)
        sol = solve_fokker_planck(process, start, grid, times, extrapolate=False)
        q0 = cell_averages(start, grid).values
    pi_h = np.exp(propagator_axes(base, grid)[0].log_pi)
    l1 = np.array([np.abs(d.values - pi_h).sum() * grid.h[0] for d in sol.densities])
    fit = (times >= 10.0) & (l1 >= 1e-9)
    slope = -np.polyfit(times[fit], np.log(l1[fit]), 1)[0]
    slope_dev = abs(slope / lam_h - 1.0)

    # discrete against continuous Boltzmann
    boltz = problems.data("doublewell1d")
    sizes = (128, 256) if quick else (128, 256, 512)
    cont = []
    for n in sizes:
        g = Grid([bounds], [n])
        exact = cell_averages(boltz, g).values
        cont.append(np.abs(np.exp(propagator_axes(base, g)[0].log_pi) - exact).sum() * g.h[0])
    order_cont = float(np.polyfit(np.log(6.0 / np.array(sizes)), np.log(cont), 1)[0])

    # Kramers
    lam_01 = float(spectral_relaxation_rates(DoubleWell(1.0), 0.1, bounds, n=160 if quick else 192).rates[0])
    kramers = {kT: (lam, kramers_rate(DoubleWell(1.0), kT)) for kT, lam in ((0.1, lam_01), (0.25, lam_spec))}
    ratio_01 = kramers[0.1][0] / kramers[0.1][1]

    checks = {
        "long-time L1 to pi_h": l1[-1] <= _B4_L1,
        "decay rate": slope_dev <= 1e-4,
        "order vs continuous": abs(order_cont - 2.0) <= 0.1,
        "rate vs spectral": rate_dev <= _B4_RATE,
        "Kramers at kT = 0.1": abs(ratio_01 - 1.0) <= 0.1,  # kT / dU = 0.1
    }

    fig, axs = plt.subplots(1, 2, figsize=(10.0, 3.8), constrained_layout=True)
    ax = axs[0]
    ax.semilogy(times, l1, "o-", ms=3, label=r"$\|q(t) - \pi_h\|_1$")
    ref = np.flatnonzero(fit)[len(np.flatnonzero(fit)) // 2]
    ax.semilogy(
        times,
        l1[ref] * np.exp(-lam_h * (times - times[ref])),
        "--",
        label=rf"$\propto e^{{-\lambda_1 t}}$, $\lambda_1$ = {lam_h:.5f}",
    )
    ax.axhline(_B4_L1, color="k", lw=0.8, ls=":", label="target 1e-12")
    ax.set(
        xlabel="t", ylabel="L1 distance", title="B4: relaxation to the discrete Boltzmann density", ylim=(1e-16, 2.0)
    )
    ax.legend(fontsize=7)
    x = grid.centres()
    ax = axs[1]
    ax.plot(x, sol.densities[-1].values, label=f"grid, t = {t_end:.0f}")
    ax.plot(x, boltz.pdf(x[:, None]), "--", label="exp(-U/kT)/Z")
    ax.plot(x, q0 / 8.0, ":", label="start (/8)")
    ax.set(xlabel="x", ylabel="density", title="U = (x^2-1)^2, kT = 0.25")
    ax.legend(fontsize=7)

    rows = [
        ["L1(q(t_end), pi_h), 256 cells", l1[-1], _B4_L1],
        ["fitted decay rate / lambda_1 - 1", slope / lam_h - 1.0, 1e-4],
        *[[f"L1(pi_h, Boltzmann), {n} cells", c, "-"] for n, c in zip(sizes, cont)],
        ["order vs continuous Boltzmann", order_cont, "2 +- 0.1"],
        ["lambda_1 grid plain (256 cells)", f"{lam_h:.12f}", "-"],
        ["lambda_1 grid Richardson (256/512)", f"{lam_rich:.12f}", "-"],
        ["lambda_1 spectral", f"{lam_spec:.12f}", "-"],
        ["abs(Richardson / spectral - 1)", rate_dev, _B4_RATE],
        ["abs(plain / spectral - 1)", abs(lam_h / lam_spec - 1.0), "-"],
        *[[f"lambda_1 / Kramers at kT = {kT:g}", lam / lk, f"1 +- {kT:g}"] for kT, (lam, lk) in kramers.items()],
    ]
    failed = [name for name, ok in checks.items() if not ok]
    return CaseResult(
        not failed,
        f"L1 to the discrete Boltzmann density {l1[-1]:.1e} at t = {t_end:.0f} (target {_B4_L1:g}), decaying at "
        f"lambda_1 to {slope_dev:.1e}; order {order_cont:.2f} against the continuous density; lambda_1 = "
        f"{lam_rich:.10f} (Richardson) vs {lam_spec:.10f} (spectral), relative {rate_dev:.1e} (target {_B4_RATE:g}); "
        f"Kramers ratio {ratio_01:.4f} at kT = 0.1 (bound 1 +- 0.1)"
        + (f". Failed: {', '.join(failed)}." if failed else "."),
        metrics={
            "l1_discrete_boltzmann": float(l1[-1]),
            "t_end": float(t_end),
            "decay_rate_deviation": float(slope_dev),
            "l1_continuous_boltzmann": [float(c) for c in cont],
            "order_continuous": order_cont,
            "lambda1_plain": lam_h,
            "lambda1_richardson": lam_rich,
            "lambda1_richardson_error_estimate": float(rates.error_estimate[0]),
            "lambda1_spectral": lam_spec,
            "rate_relative_difference": rate_dev,
            "kramers_ratio": {str(kT): lam / lk for kT, (lam, lk) in kramers.items()},
            "checks": {k: bool(v) for k, v in checks.items()},
        },
        table=(["quantity", "value", "target"], rows),
        figures=[("relaxation", fig)],
    )


#: The benchmark problems of the grid truth: (label, process, data, bounds, shape in quick / full
#: mode, L1 target, wall-time target in s).  The benchmark scripts run them at their full sizes.
_BENCHMARKS = (
    ("B1", "vp-linear", "gmm1d-bimodal", (-8.0, 8.0), ([1024], [1024]), 1e-8, 0.02),
    ("B2", "vp-linear", "gmm2d-ring8", (-6.0, 6.0), ([512, 512], [512, 512]), 1e-6, 0.5),
    ("B3", "vp-linear", "gmm3d-tetra", (-6.0, 6.0), (None, [96, 96, 96]), 1e-4, 10.0),
    ("B5", "subvp-linear", "gmm1d-bimodal", (-8.0, 8.0), ([512], [512]), 1e-6, 0.2),
    ("continuity", "vp-linear", "gmm1d-bimodal", (-8.0, 8.0), ([1024], [2048]), 1e-5, None),
)


@register(SECTION, "benchmark-table", "Benchmark problems: L1 error, estimate and wall time against the targets")
def benchmark_table(quick: bool) -> CaseResult:
    """Each benchmark problem solved once here, against its exact solution.

    Passes on the accuracy targets (the largest L1 error over t in {0.05, 0.2, 1}; for the
    continuity equation, transported by the exact probability-flow velocity, at t = 1).  Wall
    times depend on the machine and on the rest of the report's load, so they are shown beside
    their targets (measured on two cores, after compilation) but do not decide the case; the
    benchmark scripts measure them.  The grids are the benchmarks' own except where noted.
    """
    from ..grid import Grid, solve_continuity, solve_fokker_planck

    warm = ExactMarginals(problems.process("subvp-linear"), problems.data("gmm1d-bimodal"))
    solve_fokker_planck(problems.process("vp-linear"), warm.data, Grid([(-8.0, 8.0)], [64]), [0.5])
    solve_fokker_planck(warm.process, warm.data, Grid([(-8.0, 8.0)], [64]), [0.5])  # load the kernels
    solve_continuity(warm.velocity, warm.data, Grid([(-8.0, 8.0)], [64]), [0.05], estimate_error=False)
    rows, failed, metrics = [], [], {}
    for label, process, data, bounds, shapes, target, wall_target in _BENCHMARKS:
        shape = shapes[0] if quick else shapes[1]
        if shape is None:
            rows.append([label, "-", "-", "-", "-", f"{target:g}", wall_target, "skipped in quick mode"])
            continue
        truth = ExactMarginals(problems.process(process), problems.data(data))
        grid = Grid([bounds] * len(shape), shape)
        if label == "continuity":
            sol = solve_continuity(truth.velocity, truth.data, grid, [1.0])
        else:
            sol = solve_fokker_planck(truth.process, truth.data, grid, _TIMES)
        err = _l1_against_truth(truth, sol, grid)
        met = float(err.max()) <= target
        if not met:
            failed.append(label)
        grid_label = "x".join(map(str, shape)) + (" (benchmark: 4096)" if label == "continuity" else "")
        rows.append(
            [
                label,
                f"{process} x {data}",
                grid_label,
                float(err.max()),
                float(sol.error_estimate.max()),
                f"{target:g}",
                f"{sol.wall_time_s:.3f} (target {wall_target:g})" if wall_target else f"{sol.wall_time_s:.3f}",
                "met" if met else "NOT MET",
            ]
        )
        metrics[label] = {
            "l1_max": float(err.max()),
            "estimate_max": float(sol.error_estimate.max()),
            "wall_time_s": sol.wall_time_s,
            "target": target,
        }
    return CaseResult(
        not failed,
        "L1 targets met by "
        + ", ".join(r[0] for r in rows if r[-1] == "met")
        + (f"; NOT met by {', '.join(failed)}." if failed else ".")
        + " Wall times are shown, not judged (see the benchmark scripts).",
        metrics=metrics,
        table=(
            ["problem", "process x data", "grid", "max L1", "max estimate", "L1 target", "wall (s)", "verdict"],
            rows,
        ),
    )
