"""The ``fpcheck`` command line: argument parsing only, composing the layers below.

Exit status: 0 when everything checked passed, 1 when a check failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from ._version import __version__
from .errors import FPCheckError, GridWarning, InputError

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
fpcheck validates diffusion generative models against exact truths: the
analytic transition kernel of affine forward processes, a grid Fokker-Planck
solver and particle simulations.

commands:
  list     the named processes and data sets, with their parameters
  solve    solve the Fokker-Planck equation on a grid and compare with the exact q_t
  simulate simulate particles (forward SDE, reverse SDE, probability-flow ODE) and test them
           against the analytic and grid truths
  verify   verify a sampler, model, score or velocity field of your own against the exact truth:
           a pass/fail verdict with calibrated statistics and a diagnosis in words
  fit      fit a score or velocity by score matching, Action Matching or flow matching on a
           named problem, with the oracle of the same basis beside and the errors against the truth
  report   run the validation cases and write a report (markdown, HTML, JSON, figures)

Run 'fpcheck COMMAND --help' for a command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fpcheck`` command."""
    parser = argparse.ArgumentParser(
        prog="fpcheck", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"fpcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="list named processes and data sets", description="List the named processes and data sets.")

    sol = sub.add_parser(
        "solve",
        help="solve the Fokker-Planck equation on a grid",
        description=(
            "Solve the Fokker-Planck equation of a named process from named data on a grid (exact in "
            "time, Richardson-extrapolated) and print, per time, the L1 error against the exact q_t where "
            "one exists, the solver's error estimate, the mass and the minimum value."
        ),
    )
    sol.add_argument("--process", required=True, help="a process name (fpcheck list)")
    sol.add_argument("--data", required=True, help="a data set name (fpcheck list)")
    sol.add_argument("--grid", required=True, metavar="N[xN[xN]]", help="cells per axis (even), e.g. 1024 or 256x256")
    sol.add_argument("--times", required=True, metavar="t1,t2,...", help="output times")
    sol.add_argument("--bounds", metavar="LO,HI", help="bounds for every axis, written --bounds=-6,6 (default: holding all but 1e-13 of the mass)")
    sol.add_argument("--no-extrapolate", action="store_true", help="the plain second-order solution, no Richardson")
    sol.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    sol.add_argument("--plot", metavar="FILE", help="write a figure of the densities (PNG)")
    sol.add_argument("--save", metavar="FILE.npz", help="write times, values (cell averages) and edges_0, edges_1, ...")

    sim = sub.add_parser(
        "simulate",
        help="simulate particles and test them against the truth",
        description=(
            "Simulate n particles of a named problem with a named method and print, per time, the "
            "cdf distance to the truth with its Monte-Carlo error and the p-values of the test family "
            "(exact-cdf tests in 1D, exact projections in 2D-3D, a binned test against the grid truth), "
            "combined by Holm's method at --alpha (Bonferroni across times). Exits 1 when a test rejects."
        ),
        epilog="methods:\n" + "\n".join(f"  {k:<13} {v}" for k, v in _simulate_methods().items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim.add_argument("--process", required=True, help="a process name (fpcheck list)")
    sim.add_argument("--data", required=True, help="a data set name (fpcheck list)")
    sim.add_argument("--method", required=True, help="a method name (below)")
    sim.add_argument("--n", type=int, default=100_000, help="number of particles (default: %(default)s)")
    sim.add_argument("--steps", type=int, default=200, help="time steps over the run (default: %(default)s)")
    sim.add_argument("--times", required=True, metavar="t1,t2,...", help="output times (generation methods run from T down to them)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the data draw and of the counter-based noise (default: %(default)s)")
    sim.add_argument("--alpha", type=float, default=0.01, help="family-wise significance level (default: %(default)s)")
    sim.add_argument("--no-grid", action="store_true", help="leave out the grid truth where an analytic one exists")
    sim.add_argument("--no-progress", action="store_true", help="no progress line (shown per chunk when stderr is a terminal)")
    sim.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    sim.add_argument("--plot", metavar="FILE", help="write histograms over the truth (PNG)")
    sim.add_argument("--save", metavar="FILE.npz", help="write times and samples (n_times, n, d)")

    ver = sub.add_parser(
        "verify",
        help="verify your sampler, model, score or velocity against the exact truth",
        description=(
            "Verify TARGET against the exact truth of a named process and data set.\n\n"
            "  sampler   sampler(score, shape, rng, steps) -> (n, d), optional attribute t_end (default 0):\n"
            "            run on a ladder of step counts with the exact score; fails when a statistic's bias\n"
            "            converges to a floor instead of zero (Holm at --alpha); the goodness-of-fit family\n"
            "            at the largest step count and the observed order are reported beside\n"
            "  model     model(n, rng) -> (n, d): one draw of --n against the data (Holm family at --alpha)\n"
            "  score     score(x, t) -> (n, d): relative Fisher divergence per time, fails where it exceeds\n"
            "            --tol significantly\n"
            "  velocity  velocity(x, t) -> (n, d): relative error against the probability-flow velocity\n"
            "            per time (fails above --tol), and the density it pushes q_T to at t = 0\n\n"
            "TARGET is package.module:attribute or path/to/file.py:attribute. All randomness must come\n"
            "from the rng argument. Exit status: 0 pass, 1 fail, 2 usage error or a target that cannot\n"
            "be loaded or misbehaves (raises, wrong shape, NaN/inf, ignores its rng, --timeout)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ver.add_argument("target", metavar="TARGET", help="package.module:attribute or path/to/file.py:attribute")
    ver.add_argument("--kind", required=True, choices=("sampler", "model", "score", "velocity"), help="what TARGET is")
    ver.add_argument("--process", required=True, help="an affine process name (fpcheck list)")
    ver.add_argument("--data", required=True, help="a Gaussian-mixture data set name (fpcheck list)")
    ver.add_argument("--steps", metavar="K1,K2,...", help="sampler: the ladder of step counts (default: 25,50,100,200,400,800)")
    ver.add_argument("--n", type=int, help="samples per rung (sampler, default 600000), drawn (model, default 600000) "
                     "or per time (score, velocity, default 100000)")
    ver.add_argument("--alpha", type=float, default=0.01, help="family-wise significance level (default: %(default)s)")
    ver.add_argument("--seed", type=int, default=0, help="seed of every draw (default: %(default)s)")
    ver.add_argument("--tol", type=float, default=1e-2, help="score, velocity: tolerance on the relative error (default: %(default)s)")
    ver.add_argument("--times", metavar="t1,t2,...", help="score, velocity: the times (default: 0.01,0.02,0.05,0.1,0.2,0.5,1 times T)")
    ver.add_argument("--timeout", type=float, help="seconds one call of TARGET may take (default: no limit)")
    ver.add_argument("--json", metavar="FILE", help="write the verdict as JSON (top-level \"verdict\": \"pass\" | \"fail\")")
    ver.add_argument("--report", metavar="DIR", help="write a report (markdown, HTML, JSON, figure) into DIR")
    ver.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")

    fit = sub.add_parser(
        "fit",
        help="fit a score or velocity field and check it against the truth",
        description=(
            "Fit a linear-in-parameters field (Gaussian bumps whose widths follow the kernel's spread, times\n"
            "Chebyshev polynomials in the signal fraction a_t^2/(a_t^2+s_t^2)) by one objective on --n samples,\n"
            "with the ridge chosen on held-out samples, and print its errors against the exact truth per time\n"
            "and integrated over the window, beside the oracle (regression of the same basis on the exact field).\n\n"
            "  dsm  denoising score matching      ism  implicit (Hyvarinen) score matching\n"
            "  ssm  sliced score matching         esm  explicit score matching on the exact score\n"
            "  am   Action Matching (velocity, from samples of q_t alone, on coupled paths)\n"
            "  cfm  conditional flow matching (velocity)\n\n"
            "Scores: relative Fisher divergence E|s - grad log q_t|^2 / E|grad log q_t|^2 per t, and its\n"
            "s_t^2-weighted integral; velocities: the same with the probability-flow velocity, integrated\n"
            "unweighted. Exit status: 0 fitted (and within --tol if given), 1 above --tol, 2 usage error."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("--objective", required=True, choices=("dsm", "ism", "ssm", "esm", "am", "cfm"), help="the objective")
    fit.add_argument("--process", default="vp-linear", help="an affine process name (default: %(default)s)")
    fit.add_argument("--data", default="gmm1d-bimodal", help="a data set name (default: %(default)s); Gaussian mixtures are "
                     "checked against their exact fields, box1d, checkerboard2d and doublewell1d against the grid solver's score")
    fit.add_argument("--n", type=int, default=100_000, help="training samples (default: %(default)s)")
    fit.add_argument("--seed", type=int, default=0, help="seed of every draw (default: %(default)s)")
    fit.add_argument("--tol", type=float, help="exit 1 when the integrated relative error exceeds it")
    fit.add_argument("--json", metavar="FILE", help="write the figures as JSON")

    rep = sub.add_parser(
        "report",
        help="run the validation cases and write a report",
        description=(
            "Run every registered validation case and write DIR/report.md, DIR/index.html "
            "(self-contained), DIR/results.json and DIR/figures/*.png. Exits 1 if any case fails."
        ),
    )
    rep.add_argument("--quick", action="store_true", help="smaller grids and fewer cases (about a minute)")
    rep.add_argument("--out", default="reports/latest", metavar="DIR", help="output directory (default: %(default)s)")
    rep.add_argument("--only", metavar="TEXT", help="run only the cases whose id contains TEXT")
    rep.add_argument("--quiet", action="store_true", help="do not print progress")
    return parser


def _cmd_list(args: argparse.Namespace) -> int:
    from . import problems

    print(problems.describe(), end="")
    return 0


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{what} must be comma-separated numbers, got {text!r}") from None


def _cmd_solve(args: argparse.Namespace) -> int:
    import json
    import time

    import numpy as np

    from . import problems
    from .analytic import ExactMarginals
    from .grid import Grid, cell_averages
    from .grid.bounds import default_bounds
    from .grid.solver import solve_fokker_planck

    process, data = problems.process(args.process), problems.data(args.data)
    times = _floats(args.times, "--times")
    try:
        shape = [int(n) for n in args.grid.lower().split("x")]
    except ValueError:
        raise InputError(f"--grid must look like 1024 or 256x256, got {args.grid!r}") from None
    shape = shape * data.dim if len(shape) == 1 else shape
    if len(shape) != data.dim:
        raise InputError(f"--grid gives {len(shape)} axes but {args.data} is {data.dim}-dimensional")
    if args.bounds:
        lo_hi = _floats(args.bounds, "--bounds")
        if len(lo_hi) != 2:
            raise InputError(f"--bounds must be LO,HI, got {args.bounds!r}")
        bounds = [tuple(lo_hi)] * data.dim
    else:
        bounds = default_bounds(process, data, times)
    grid = Grid(bounds, shape)
    start = time.perf_counter()
    try:
        sol = solve_fokker_planck(process, data, grid, times, extrapolate=not args.no_extrapolate)
    except NotImplementedError as exc:
        raise InputError(str(exc)) from None
    wall = time.perf_counter() - start
    truth = ExactMarginals(process, data) if process.is_affine else None
    rows = []
    for t, dens, est in zip(sol.times, sol.densities, sol.error_estimate):
        l1 = None
        if truth is not None:
            with warnings.catch_warnings():  # exact cell averages need no resolution; the solve already warned
                warnings.simplefilter("ignore", GridWarning)
                exact = cell_averages(truth.at(float(t)), grid).values
            l1 = float(np.abs(dens.values - exact).sum() * grid.cell_volume)
        rows.append({"t": float(t), "l1": l1, "est": float(est), "mass": dens.mass(), "min": float(dens.values.min())})
    print(f"{args.process} x {args.data} on {grid!r}: {sol.method}")
    print(f"{'t':>8} {'L1 error':>11} {'estimate':>11} {'mass':>18} {'min':>11}")
    for r in rows:
        l1 = "n/a" if r["l1"] is None else f"{r['l1']:.3e}"
        print(f"{r['t']:>8g} {l1:>11} {r['est']:>11.3e} {r['mass']:>18.15f} {r['min']:>11.3e}")
    print(f"wall time {wall:.3f} s")
    if args.json:
        payload = {
            "times": [r["t"] for r in rows],
            "l1_error": [r["l1"] for r in rows],
            "error_estimate": [r["est"] for r in rows],
            "mass": [r["mass"] for r in rows],
            "min": [r["min"] for r in rows],
            "wall_time_s": wall,
        }
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)
    if args.save:
        edges = {f"edges_{k}": grid.edges(k) for k in range(grid.ndim)}
        np.savez(args.save, times=sol.times, values=sol.values(), **edges)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from .grid.plots import plot_solution

        plot_solution(sol, truth).savefig(args.plot, dpi=110, bbox_inches="tight")
    return 0


def _simulate_methods() -> dict[str, str]:
    from .particles.methods import METHODS

    return METHODS


def _cmd_simulate(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from . import problems
    from .analytic import ExactMarginals
    from .errors import NotAffineError
    from .particles.checks import check_against_truth, grid_truth
    from .particles.simulate import simulate

    process, data = problems.process(args.process), problems.data(args.data)
    times = _floats(args.times, "--times")
    sol = simulate(
        process, data, args.method, args.n, times, steps=args.steps, seed=args.seed,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    try:
        ExactMarginals(process, data)
        analytic = True
    except NotAffineError:
        analytic = False
    grid_sol, why = grid_truth(process, data, sol.times) if (not args.no_grid or not analytic) else (None, "")
    checks = check_against_truth(
        sol.samples, sol.times, process, data, alpha=args.alpha, seed=args.seed, grid=not args.no_grid, grid_solution=grid_sol
    )
    print(
        f"{args.process} x {args.data}: {args.method}, n = {sol.samples.shape[1]}, {sol.steps} steps, "
        f"seed {sol.seed}, {sol.wall_time_s:.2f} s"
    )
    print("cdf distance d^2 = int (G - F)^2 dF of the particles' law G to the truth F (unbiased, +- its standard error)")
    print(f"{'t':>8} {'d^2 +- se':>22} {'d <= (95%)':>11} {'min Holm p':>11}  verdict  truths")
    for c in checks:
        dist = c.family.distance
        verdict = "ok" if c.passed else "REJECT"
        print(
            f"{c.t:>8g} {f'{dist.value:.2e} +- {dist.se:.1e}':>22} {dist.upper(0.95):>11.2e} "
            f"{float(np.min(c.family.holm.adjusted)):>11.3g}  {verdict:<7}  {'+'.join(c.truths)}"
        )
        if c.note:
            print(f"{'':>8} {c.note}")
    for c in checks:
        print(f"\nt = {c.t:g}\n{c.family.table()}")
    passed = all(c.passed for c in checks)
    print(f"\n{'PASS' if passed else 'FAIL'}: family-wise alpha {args.alpha:g} over {len(checks)} time(s)")
    if args.json:
        payload = {
            "process": args.process,
            "data": args.data,
            "method": args.method,
            "n": int(sol.samples.shape[1]),
            "steps": int(sol.steps),
            "seed": int(sol.seed),
            "alpha": args.alpha,
            "times": [c.t for c in checks],
            "cdf_distance_squared": [c.family.distance.value for c in checks],
            "cdf_distance_se": [c.family.distance.se for c in checks],
            "tests": [
                [{"name": r.name, "statistic": r.statistic, "pvalue": r.pvalue, "holm_p": float(a), "rejected": bool(j)}
                 for r, a, j in zip(c.family.tests, c.family.holm.adjusted, c.family.holm.rejected)]
                for c in checks
            ],
            "passed": passed,
            "wall_time_s": sol.wall_time_s,
        }
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)
    if args.save:
        np.savez(args.save, times=sol.times, samples=sol.samples)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from .particles.plots import plot_histograms

        plot_histograms(sol, process, data, grid_sol).savefig(args.plot, dpi=110, bbox_inches="tight")
    return 0 if passed else 1


def _cmd_verify(args: argparse.Namespace) -> int:
    import json

    from .verify import fields, sampler
    from .verify.targets import load_target

    target = load_target(args.target)
    common = {"alpha": args.alpha, "seed": args.seed, "timeout": args.timeout, "name": args.target}
    if args.kind == "sampler":
        steps = [int(k) for k in _floats(args.steps, "--steps")] if args.steps else sampler.DEFAULT_STEPS
        verdict = sampler.verify_sampler(
            target, args.process, args.data, steps=steps, n=args.n or sampler.DEFAULT_N,
            progress=not args.no_progress, **common,
        )
    elif args.kind == "model":
        verdict = sampler.verify_model(target, args.data, process=args.process, n=args.n or sampler.DEFAULT_N, **common)
    else:
        fn = fields.verify_score if args.kind == "score" else fields.verify_velocity
        times = _floats(args.times, "--times") if args.times else None
        verdict = fn(target, args.process, args.data, times=times, n=args.n or 100_000, tol=args.tol, **common)
    print(verdict.table())
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(verdict.to_dict(), fh, indent=2)
    if args.report:
        from .verify.report import write_verdict_report

        out = write_verdict_report(verdict, args.report)
        print(f"wrote {out / 'index.html'}")
    return 0 if verdict.passed else 1


def _cmd_fit(args: argparse.Namespace) -> int:
    import json

    from .learned.recipes import fit_problem

    result = fit_problem(args.objective, args.process, args.data, args.n, seed=args.seed)
    print(result.table())
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result.to_dict(), fh, indent=2)
    if args.tol is not None and result.errors.integrated > args.tol:
        print(f"integrated relative error {result.errors.integrated:.3e} > --tol {args.tol:g}")
        return 1
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import run_report
    from .report.writers import summary_counts

    select = None if not args.only else (lambda case: args.only in case.id)
    mode = "quick" if args.quick else "full"
    if not args.quiet:
        print(f"fpcheck {__version__}: {mode} report into {args.out}")
    records, out = run_report(args.out, quick=args.quick, select=select, stream=None if args.quiet else sys.stdout)
    if not records:
        print(f"fpcheck report: no case id contains {args.only!r}", file=sys.stderr)
        return 2
    counts = summary_counts(records)
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors; wrote {out / 'index.html'}")
    for r in records:
        if r.status != "pass":
            print(f"  {r.status.upper()}: {r.id}: {r.summary}")
    return 0 if counts["fail"] == counts["error"] == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fpcheck`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {
        "list": _cmd_list, "solve": _cmd_solve, "simulate": _cmd_simulate, "verify": _cmd_verify, "fit": _cmd_fit, "report": _cmd_report,
    }[args.command]
    show = warnings.formatwarning
    warnings.formatwarning = lambda message, category, *rest, **kw: f"fpcheck: {category.__name__}: {message}\n"
    try:
        return handler(args)
    except FPCheckError as exc:
        print(f"fpcheck {args.command}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = show


if __name__ == "__main__":
    sys.exit(main())
