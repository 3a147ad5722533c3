r"""The particle section: simulated particles against the analytic and grid truths.

* **forward** (``vp-linear`` x ``gmm1d-bimodal``): exact transitions and Euler-Maruyama from the
  data to t = 0.05, 0.2, 1, tested against the exact and the grid :math:`q_t`.
* **generation, 1D and 2D** (``gmm1d-bimodal``, ``gmm2d-ring8``): the reverse SDE (stochastic Heun)
  and the probability-flow ODE (RK4) from exact :math:`q_T` samples with the exact score, down to
  t = 0.5, 0.2, 0.
* **weak orders**: the error in :math:`E|x|^2` and :math:`E\cos x` against the step count,
  for the probability-flow ODE by quadrature over :math:`q_T` (no Monte-Carlo error) and for the
  reverse SDE by Monte Carlo; fitted slopes must lie within 0.3 of 1 (Euler, EM), 2 (Heun), 4 (RK4).
* **Langevin** (``langevin-doublewell`` from N(-1, 0.05^2)): Euler-Maruyama particles against the
  grid truth, the only truth there is for this non-affine process.
* **reproducibility**: the same run on 1 and 2 threads and in two chunkings gives the same bits.

Each statistical case is a Holm family at alpha = 0.01 over all its tests (Bonferroni across
times), with fixed seeds: a correct simulator fails it with probability at most 0.01 per seed, and
the seeds are fixed, so the outcome is deterministic.
"""

from __future__ import annotations

import numpy as np

from .. import problems
from .registry import CaseResult, register

SECTION = "Particle truth"
ALPHA = 0.01
_ORDER_SLACK = 0.3


def _family_rows(label: str, checks) -> list[list]:
    rows = []
    for c in checks:
        rows.append(
            [
                label,
                c.t,
                c.family.distance.sqrt(),
                c.family.distance.se,
                float(np.min(c.family.holm.adjusted)),
                "+".join(c.truths),
                "ok" if c.passed else "REJECT",
            ]
        )
    return rows


_COLUMNS = ["run", "t", "cdf distance d", "se of d^2", "min Holm p", "truths", "verdict"]


def _runs_case(process_name: str, data_name: str, runs, n: int, times, *, grid: bool = True) -> CaseResult:
    """Simulate each ``(method, steps)`` in ``runs`` and test every time against the truth."""
    from ..particles.checks import check_against_truth, grid_truth
    from ..particles.plots import plot_histograms
    from ..particles.simulate import simulate

    process, data = problems.process(process_name), problems.data(data_name)
    rows, figures, passed, walls = [], [], True, []
    grids = {}
    for method, steps in runs:
        sol = simulate(process, data, method, n, times, steps=steps, seed=1)
        key = tuple(sol.times)
        if grid and key not in grids:
            grids[key] = grid_truth(process, data, sol.times)[0]
        grid_sol = grids.get(key)
        checks = check_against_truth(
            sol.samples, sol.times, process, data, alpha=ALPHA / len(runs), grid=grid, grid_solution=grid_sol
        )
        rows += _family_rows(f"{method} ({sol.steps} steps)", checks)
        passed &= all(c.passed for c in checks)
        walls.append(sol.wall_time_s)
        figures.append((f"{data_name}-{method}", plot_histograms(sol, process, data, grid_sol)))
    worst = max(r[2] for r in rows)
    return CaseResult(
        bool(passed),
        f"{len(runs)} run(s) of n = {n} on {process_name} x {data_name}: every time {'passes' if passed else 'does NOT pass'} "
        f"the Holm family at alpha = {ALPHA:g}; largest cdf distance d = {worst:.2e}.",
        metrics={"n": n, "wall_time_s": walls, "cdf_distance": [r[2] for r in rows], "min_holm_p": [r[4] for r in rows]},
        table=(_COLUMNS, rows),
        figures=figures,
    )


@register(SECTION, "forward-1d", "Forward SDE: exact transitions and Euler-Maruyama against q_t")
def forward_1d(quick: bool) -> CaseResult:
    n = 20_000 if quick else 200_000
    return _runs_case("vp-linear", "gmm1d-bimodal", [("exact", 1), ("em", 2000)], n, (0.05, 0.2, 1.0))


@register(SECTION, "generation-1d", "Reverse SDE and probability-flow ODE with the exact score, 1D")
def generation_1d(quick: bool) -> CaseResult:
    n = 20_000 if quick else 200_000
    return _runs_case("vp-linear", "gmm1d-bimodal", [("reverse-heun", 400), ("flow-rk4", 100)], n, (0.5, 0.2, 0.0))


@register(SECTION, "generation-2d", "Reverse SDE and probability-flow ODE with the exact score, 2D")
def generation_2d(quick: bool) -> CaseResult:
    n = 10_000 if quick else 100_000
    return _runs_case("vp-linear", "gmm2d-ring8", [("reverse-heun", 400), ("flow-rk4", 100)], n, (0.5, 0.2, 0.0))


#: Expected weak orders, the step ladders over which each error is far above its noise floor, and
#: the time the run stops at.  The flows stop at t = 0.2: closer to 0 the flow map of gmm1d-bimodal
#: is so steep across the gap between the modes that the quadrature over q_T (2001 nodes) stalls
#: (~6e-6 at t = 0.05, ~1e-3 at 0) and hides RK4's error; at 0.2 it is accurate to ~4e-12.
_WEAK = {
    "flow-euler": (1.0, (16, 32, 64, 128, 256), 0.2),
    "flow-heun": (2.0, (16, 32, 64, 128, 256), 0.2),
    "flow-rk4": (4.0, (8, 16, 32, 64), 0.2),
    "reverse-em": (1.0, (20, 40, 80, 160), 0.0),
}


@register(SECTION, "weak-orders", "Weak orders of convergence against the step count")
def weak_orders(quick: bool) -> CaseResult:
    import matplotlib.pyplot as plt

    from ..particles.convergence import weak_study

    process, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    n = 1_000_000 if quick else 2_000_000
    fig, axs = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    rows, passed, orders = [], True, {}
    for method, (expected, steps, t_end) in _WEAK.items():
        study = weak_study(process, data, method, steps, t_end=t_end, n=n, seed=3)
        for ax, name in zip(axs, study.errors):
            fit = study.fits[name]
            ok = abs(fit.order - expected) <= _ORDER_SLACK
            passed &= bool(ok)
            orders[f"{method}/{name}"] = fit.order
            label = f"{method} (t = {t_end:g}): slope {fit.order:.2f}"
            line = ax.loglog(study.steps, np.abs(study.errors[name]), "o-", label=label)[0]
            if study.se is not None:
                ax.loglog(study.steps, 3 * study.se[name], ":", color=line.get_color(), lw=0.8)
            ax.set(xlabel="steps", ylabel=f"|error| in E[{name}]", title=name)
            rows.append([method, t_end, name, expected, fit.order, fit.order_se, fit.used, "ok" if ok else "FAIL"])
    for ax in axs:
        ax.legend(fontsize=7)
    return CaseResult(
        bool(passed),
        "Fitted weak orders "
        + ", ".join(f"{k} {v:.2f}" for k, v in orders.items())
        + f" (each within {_ORDER_SLACK} of 1 for Euler and EM, 2 for Heun, 4 for RK4). Flow errors by "
        f"quadrature over q_T; reverse-SDE errors by Monte Carlo with n = {n} (dotted: 3 standard errors).",
        metrics={"orders": orders, "n": n},
        table=(["method", "t_end", "functional", "expected", "fitted order", "se", "points", "verdict"], rows),
        figures=[("weak-orders", fig)],
    )


@register(SECTION, "langevin-grid", "Langevin in the double well: Euler-Maruyama particles against the grid truth")
def langevin_grid(quick: bool) -> CaseResult:
    from ..distributions import GaussianMixture
    from ..particles.checks import check_against_truth, grid_truth
    from ..particles.forward import simulate_forward
    from ..particles.plots import plot_histograms

    process = problems.process("langevin-doublewell")
    start = GaussianMixture.isotropic([1.0], [[-1.0]], [0.05])
    times = (0.5, 2.0, 6.0)
    n = 20_000 if quick else 50_000
    sol = simulate_forward(process, start, n, times, method="em", steps=6000, seed=2)
    grid_sol, why = grid_truth(process, start, sol.times, cells=1024)
    if grid_sol is None:
        return CaseResult(False, f"no grid truth for the double well: {why}")
    checks = check_against_truth(sol.samples, sol.times, process, start, alpha=ALPHA, grid_solution=grid_sol)
    rows = _family_rows(f"em ({sol.steps} steps)", checks)
    passed = all(c.passed for c in checks)
    return CaseResult(
        bool(passed),
        f"n = {n} Euler-Maruyama particles of the double-well Langevin dynamics from N(-1, 0.05^2) "
        f"{'pass' if passed else 'do NOT pass'} the grid truth's family (cdf tests and binned chi2) at every time.",
        metrics={"n": n, "cdf_distance": [r[2] for r in rows], "min_holm_p": [r[4] for r in rows]},
        table=(_COLUMNS, rows),
        figures=[("langevin-em", plot_histograms(sol, process, start, grid_sol))],
    )


@register(SECTION, "reproducibility", "The same bits on 1 and 2 threads and in any chunking")
def reproducibility(quick: bool) -> CaseResult:
    import numba

    from ..particles.fields import ExactField
    from ..particles.reverse import simulate_reverse

    process, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    field = ExactField(process, data)
    x_T = np.random.default_rng(0).standard_normal((20_000, 2))
    run = lambda **kw: simulate_reverse(process, field, x_T, times=(0.2, 0.0), method="em", steps=200, seed=5, **kw).samples  # noqa: E731
    threads = numba.get_num_threads()
    try:
        reference = run()
        numba.set_num_threads(1)
        one_thread = run()
    finally:
        numba.set_num_threads(threads)
    chunked = run(chunk_size=3_333)
    rows = [
        ["default threads (%d), one chunk" % threads, "reference"],
        ["1 thread", "identical" if np.array_equal(one_thread, reference) else "DIFFERENT"],
        ["chunks of 3333 particles", "identical" if np.array_equal(chunked, reference) else "DIFFERENT"],
    ]
    passed = all(r[1] != "DIFFERENT" for r in rows)
    return CaseResult(
        passed,
        "Reverse Euler-Maruyama on gmm2d-ring8 (20000 particles, 200 steps): "
        + ("bitwise identical on 1 thread and in chunks of 3333." if passed else "results DIFFER."),
        table=(["run", "samples"], rows),
    )
