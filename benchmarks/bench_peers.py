"""fpcheck's grid solver side by side with a plain SciPy baseline and other Python Fokker-Planck solvers.

Problems (as in bench_grid.py; every row has an exact reference from ExactMarginals):
  B1:  vp-linear x gmm1d-bimodal on [-8, 8], t in {0.05, 0.2, 1.0}   (beta(t) = 0.1 + 19.9 t)
  B2c: VP(Constant(1.0)) x gmm2d-ring8 on [-6, 6]^2, same times    (B2 in its constant-beta form)
The forward equation is dq/dt = beta(t)/2 [div(x q) + lap(q)] (MATH.md section 1).

Tools:
  fpcheck   solve_fokker_planck (exponentially fitted finite volume, exact in time, Richardson).
  scipy-CN  written here: second-order central finite volume, flux F = -(x/2) q_face - (1/2) dq/dx
            times beta, with q_face the mean of the two neighbouring cells and zero flux through the
            outer faces; Crank-Nicolson with a fixed step (beta at the step's midpoint) and
            scipy.sparse.linalg.splu (refactored every step when beta varies, once when it does not).
  fplanck   fokker_planck(temperature=0.5/k_B, drag=1, force=-x/2, reflecting boundaries) on the
            nodes of the cell centres; propagate() = scipy's expm_multiply of its master matrix.
            fplanck has no time-dependent coefficients, but the VP generator is beta(t) L0 with a
            fixed L0, so propagating the beta = 1 operator to the time B(t) = int_0^t beta is its
            exact semi-discrete solution of B1 (the same time change fpcheck uses).
  py-pde    PDE({"q": "beta(t)/2*(d_dx(x*q) + laplace(q))"}) (plus d_dy(y*q) in 2D) on a
            CartesianGrid of the same cells, Neumann boundaries, adaptive explicit Euler (its
            "explicit" solver, numba backend); one run per grid, the states at the three times are
            taken by a CallbackTracker.
B2 is run in its constant-beta form by every tool: the explicit steps of py-pde and the matrix
exponential of fplanck both grow with B(t), ten times larger for the linear schedule at t = 1.

Fairness rules:
  * Each row is the work of getting q_t from the data at t = 0 on that grid: setting up the grid and
    the operator, the initial values, compilation, and the time stepping; computing the exact
    reference is not timed.  py-pde's row at t is the time elapsed in its single run when the
    state at t was handed over (equal to a separate run to t).  Runs under 1 s are repeated three
    times and the median is shown; longer ones are timed once.
  * Compilation counts.  py-pde compiles its operators and stepper with numba in every run (no
    on-disk cache), so that time is in each of its rows.  fpcheck's numba kernels are compiled
    once (cache=True writes them to disk), then loaded once per process: its rows are warm calls,
    after a warm-up in this process, and both start-up costs are measured in child processes and
    printed above the table -- with an empty numba cache (compiles) and with the cache filled.
    The column "100x+start" repeats the verdict with the cached start-up added to every fpcheck
    time, a bound for a process that makes a single solve.
  * Errors are L1 distances to the exact q_t.  Tools whose output is a cell average (fpcheck,
    scipy-CN) start from exact cell averages and are compared with exact cell averages,
    sum |q_i - qbar_i| h^d.  fplanck and py-pde are finite-difference / master-equation schemes on
    nodes: they start from exact point values at the cell centres (fplanck normalises them to
    probabilities, as its propagate() does) and are compared with exact point values,
    sum |q_i - q_t(x_i)| h^d (for fplanck sum |p_i - q_t(x_i) h^d|).  That is the kinder choice
    for them: fplanck's detailed-balance scheme keeps the Gaussian stationary state exactly at the
    nodes, so at t = 1 its error against cell averages would be ~50x larger, dominated by
    h^2 q''/24.  The outer boundary carries a density below 1e-13 on both problems, so zero-flux,
    reflecting and Neumann conditions give the same solution to that level.
  * For each peer row: "faster" = peer time / the shortest fpcheck time among fpcheck rows of the
    same problem and t with an error <= the peer's; "more accurate" = peer error / the smallest
    fpcheck error among rows with a time <= the peer's.  fpcheck is 100x ahead on the row when
    either ratio is >= 100.

Sizes are chosen to keep the run to about five minutes on two cores: fplanck's expm_multiply grows
like N^2 B(t) in 1D (N = 4096 to t = 1 takes about 80 s, so that row is left out), and py-pde
compiles for 30-50 s per grid in 2D (so it runs two 2D grids, with the step tolerance 1e-6, below
which its 2D error no longer drops while its run time doubles).

Run:  pip install ".[bench]"   (fplanck and py-pde; without them their rows say "not installed")
      python benchmarks/bench_peers.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from importlib import metadata

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.grid import Grid, cell_averages
from fpcheck.grid.solver import solve_fokker_planck
from fpcheck.processes import VP
from fpcheck.schedules import Constant

TIMES = (0.05, 0.2, 1.0)
REPEAT_BELOW_S = 1.0
B1 = ("B1", "gmm1d-bimodal", 8.0)
B2 = ("B2c", "gmm2d-ring8", 6.0)

# sizes per tool and problem
FPCHECK_SIZES = {"B1": [64, 128, 256, 512, 1024, 2048], "B2c": [32, 64, 128, 256, 512]}
CN_RUNS = {"B1": [(256, 32), (1024, 128), (4096, 512), (4096, 2048)], "B2c": [(128, 16), (256, 32), (256, 128)]}
FPLANCK_RUNS = {"B1": [(256, TIMES), (1024, TIMES), (4096, (0.05, 0.2))], "B2c": [(128, TIMES), (256, TIMES)]}
PYPDE_RUNS = {"B1": [(1024, 1e-8), (4096, 1e-10)], "B2c": [(128, 1e-6), (256, 1e-6)]}


class Problem:
    """A problem: the process, the data, the grid bounds and the exact references."""

    def __init__(self, label: str, data: str, half_width: float):
        self.label, self.data_name = label, data
        self.data = problems.data(data)
        self.dim = self.data.dim
        self.process = problems.process("vp-linear") if self.dim == 1 else VP(Constant(1.0))
        self.truth = ExactMarginals(self.process, self.data)
        self.bounds = [(-half_width, half_width)] * self.dim
        self.width = 2.0 * half_width

    def grid(self, n: int) -> Grid:
        return Grid(self.bounds, [n] * self.dim)

    def points(self, grid: Grid) -> np.ndarray:
        mesh = np.meshgrid(*[grid.centres(k) for k in range(self.dim)], indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def exact_averages(self, grid: Grid, t: float) -> np.ndarray:
        return cell_averages(self.truth.at(t), grid).values

    def exact_points(self, grid: Grid, t: float) -> np.ndarray:
        return self.truth.at(t).pdf(self.points(grid)).reshape(grid.shape)

    def beta_expr(self) -> str:
        sch = self.process.schedule
        if isinstance(sch, Constant):
            return repr(float(sch.beta_value))
        return f"({sch.b0!r} + {sch.b1 - sch.b0!r} * t / {sch.T!r})"


def timed(fn):
    """``(result, seconds)``; runs under REPEAT_BELOW_S are repeated three times (median)."""
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    if first >= REPEAT_BELOW_S:
        return out, first
    times = [first]
    for _ in range(2):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, float(np.median(times))


def l1(a: np.ndarray, b: np.ndarray, grid: Grid) -> float:
    return float(np.abs(a - b).sum() * grid.cell_volume)


# ------------------------------------------------------------------------------------- fpcheck


def first_call_probe() -> None:
    """Child-process mode: time fpcheck's first solve in a fresh process and print it."""
    warnings.simplefilter("ignore")
    p = Problem(*B1)
    grid = p.grid(512)
    start = time.perf_counter()
    solve_fokker_planck(p.process, p.data, grid, [TIMES[0]])
    first = time.perf_counter() - start
    start = time.perf_counter()
    solve_fokker_planck(p.process, p.data, grid, [TIMES[0]])
    print(f"{first:.6f} {time.perf_counter() - start:.6f}")


def fpcheck_start_up() -> dict:
    """First-call times of fresh processes: with an empty numba cache, then with it filled."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for key in ("empty cache", "filled cache"):
            res = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--first-call"],
                env=env, capture_output=True, text=True, check=True,
            )
            first, warm = map(float, res.stdout.split())
            out[key] = (first, warm)
    return out


def run_fpcheck(p: Problem, rows: list) -> None:
    for n in FPCHECK_SIZES[p.label]:
        grid = p.grid(n)
        for t in TIMES:
            sol, wall = timed(lambda: solve_fokker_planck(p.process, p.data, grid, [t]))
            err = l1(sol.densities[0].values, p.exact_averages(grid, t), grid)
            rows.append(("fpcheck", p.label, grid.shape, t, err, wall, "Richardson"))


# ------------------------------------------------------------------------------------ scipy-CN


def central_fv_operator(x: np.ndarray, h: float) -> sparse.csc_matrix:
    """L0 for dq/dt = d/dx(x q / 2 + (1/2) dq/dx): central fluxes at interior faces, zero flux at the ends.

    Face flux F = f q_face - D (q_{i+1} - q_i)/h with f = -x_face/2, D = 1/2, q_face the mean of
    the two cells; dq_i/dt = -(F_{i+1/2} - F_{i-1/2})/h.
    """
    f = -0.25 * (x[1:] + x[:-1])
    a = (0.5 * f + 0.5 / h) / h  # weight of q_i in F_{i+1/2} / h
    b = (0.5 * f - 0.5 / h) / h  # weight of q_{i+1} in F_{i+1/2} / h
    diag = np.zeros(x.size)
    diag[:-1] -= a
    diag[1:] += b
    return sparse.diags([a, diag, -b], [-1, 0, 1], format="csc")


def crank_nicolson(p: Problem, grid: Grid, t: float, steps: int) -> np.ndarray:
    ops = [central_fv_operator(grid.centres(k), grid.h[k]) for k in range(p.dim)]
    L = ops[0]
    for k in range(1, p.dim):
        L = sparse.kron(L, sparse.identity(grid.shape[k])) + sparse.kron(sparse.identity(L.shape[0]), ops[k])
    L = L.tocsc()
    eye = sparse.identity(L.shape[0], format="csc")
    q = cell_averages(p.data, grid).values.ravel()
    dt = t / steps
    schedule = p.process.schedule
    constant = isinstance(schedule, Constant)
    lu = rhs = None
    for k in range(steps):
        if lu is None or not constant:
            b = float(schedule.beta((k + 0.5) * dt))
            lu = splu((eye - 0.5 * dt * b * L).tocsc())
            rhs = (eye + 0.5 * dt * b * L).tocsr()
        q = lu.solve(rhs @ q)
    return q.reshape(grid.shape)


def run_cn(p: Problem, rows: list) -> None:
    for n, steps in CN_RUNS[p.label]:
        grid = p.grid(n)
        for t in TIMES:
            q, wall = timed(lambda: crank_nicolson(p, grid, t, steps))
            err = l1(q, p.exact_averages(grid, t), grid)
            rows.append(("scipy-CN", p.label, grid.shape, t, err, wall, f"{steps} steps"))


# ------------------------------------------------------------------------------------- fplanck


def run_fplanck(p: Problem, rows: list) -> None:
    try:
        import fplanck
    except ImportError:
        rows.append(("fplanck", p.label, None, None, None, None, "not installed"))
        return
    from scipy import constants

    if not hasattr(np, "product"):  # fplanck 0.2.2 calls np.product, removed in NumPy 2.0
        np.product = np.prod
    for n, times in FPLANCK_RUNS[p.label]:
        grid = p.grid(n)
        pts = p.points(grid)
        for t in times:

            def solve():
                fp = fplanck.fokker_planck(
                    temperature=0.5 / constants.k,  # D = k_B T / drag = 1/2
                    drag=1.0,
                    extent=[p.width] * p.dim,
                    resolution=p.width / n,
                    force=lambda *x: -0.5 * np.array(x),  # drift = force / drag = -x/2
                    boundary=fplanck.boundary.reflecting,
                )
                if tuple(fp.Ngrid) != grid.shape or not np.allclose(fp.axes[0], grid.centres(0)):
                    raise RuntimeError("fplanck's nodes are not the cell centres")
                values = p.data.pdf(pts).reshape(grid.shape)
                tau = float(p.process.schedule.integral(t))  # the generator is beta(t) L0
                return fp.propagate(lambda *x: values.copy(), tau)  # normalised to probabilities

            prob, wall = timed(solve)
            err = float(np.abs(prob - p.exact_points(grid, t) * grid.cell_volume).sum())
            rows.append(("fplanck", p.label, grid.shape, t, err, wall, "expm_multiply"))
    if p.label == "B1":
        rows.append(("fplanck", p.label, (4096,), 1.0, None, None, "skipped: ~80 s"))


# -------------------------------------------------------------------------------------- py-pde


def run_pypde(p: Problem, rows: list) -> None:
    try:
        import pde
    except ImportError:
        rows.append(("py-pde", p.label, None, None, None, None, "not installed"))
        return
    axes = "xyz"[: p.dim]
    div = " + ".join(f"d_d{a}({a}*q)" for a in axes)
    expr = f"{p.beta_expr()} / 2 * ({div} + laplace(q))"
    for n, tol in PYPDE_RUNS[p.label]:
        grid = p.grid(n)
        states = []
        start = time.perf_counter()
        cgrid = pde.CartesianGrid(p.bounds, [n] * p.dim)
        if not np.allclose(cgrid.axes_coords[0], grid.centres(0)):
            raise RuntimeError("py-pde's grid points are not the cell centres")
        q0 = pde.ScalarField(cgrid, p.data.pdf(p.points(grid)).reshape(grid.shape))
        eq = pde.PDE({"q": expr}, bc={"derivative": 0})

        def keep(state, t):
            states.append((t, time.perf_counter() - start, state.data.copy()))

        eq.solve(
            q0, t_range=TIMES[-1], solver="explicit", adaptive=True, tolerance=tol,
            tracker=pde.CallbackTracker(keep, interrupts=list(TIMES)),
        )
        for t_req, (t, wall, q) in zip(TIMES, states):
            if abs(t - t_req) > 1e-9:
                raise RuntimeError(f"py-pde reported t = {t} for {t_req}")
            err = l1(q, p.exact_points(grid, t_req), grid)
            rows.append(("py-pde", p.label, grid.shape, t_req, err, wall, f"Euler tol {tol:g}"))


# ---------------------------------------------------------------------------------- comparison


def compare(rows: list, start_up: float) -> list:
    """Per peer row: (faster, more accurate, verdict, verdict with fpcheck's start-up added)."""
    out = []
    for tool, prob, _, t, err, wall, _ in rows:
        if tool == "fpcheck" or err is None:
            out.append(None)
            continue
        ours = [(e, w) for tl, pr, _, tt, e, w, _ in rows if tl == "fpcheck" and pr == prob and tt == t]
        verdicts = []
        for extra in (0.0, start_up):
            fast = [w + extra for e, w in ours if e <= err]
            acc = [e for e, w in ours if w + extra <= wall]
            faster = wall / min(fast) if fast else None
            better = err / min(acc) if acc else None
            verdicts.append((faster, better, max(faster or 0.0, better or 0.0) >= 100.0))
        out.append(verdicts)
    return out


def ratio(x) -> str:
    return "n/a" if x is None else f"{x:.3g}x"


def main() -> None:
    if "--first-call" in sys.argv:
        first_call_probe()
        return
    warnings.simplefilter("ignore")
    print("fpcheck start-up (first solve in a fresh process, B1 at N = 512; child processes):")
    start_up = fpcheck_start_up()
    for key, (first, warm) in start_up.items():
        print(f"  numba {key:<12}: first call {first:7.3f} s, second call {warm:.4f} s")
    cached = max(start_up["filled cache"][0] - start_up["filled cache"][1], 0.0)
    print(f"  -> per-process start-up with the cache filled: {cached:.3f} s (once per process, not per solve)")

    # warm-up: load or compile fpcheck's kernels in this process
    p1 = Problem(*B1)
    solve_fokker_planck(p1.process, p1.data, p1.grid(64), [0.5])
    rows: list = []
    for p in (p1, Problem(*B2)):
        for runner in (run_fpcheck, run_cn, run_fplanck, run_pypde):
            t0 = time.perf_counter()
            runner(p, rows)
            print(f"  ({runner.__name__[4:]} on {p.label}: {time.perf_counter() - t0:.1f} s)", flush=True)

    versions = []
    for name in ("fplanck", "py-pde"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    import numba
    import scipy

    print(f"\nversions: numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}, " + ", ".join(versions))
    print("B1 = vp-linear x gmm1d-bimodal on [-8, 8]; B2c = VP(Constant(1)) x gmm2d-ring8 on [-6, 6]^2")
    print("faster / more accurate: fpcheck against this row (see the module docstring); 100x: either ratio >= 100")
    head = (
        f"{'tool':<9} {'prob':<4} {'grid':>9} {'t':>5} {'L1 error':>10} {'wall (s)':>9}  {'setting':<16}"
        f" {'faster':>9} {'more acc.':>9} {'100x':>5} {'100x+start':>10}"
    )
    print(head)
    print("-" * len(head))
    failures = []
    for row, cmp in zip(rows, compare(rows, cached)):
        tool, prob, shape, t, err, wall, note = row
        label = "x".join(map(str, shape)) if shape else "-"
        ts = f"{t:5.2f}" if t is not None else "    -"
        es = f"{err:10.2e}" if err is not None else f"{'-':>10}"
        ws = f"{wall:9.4f}" if wall is not None else f"{'-':>9}"
        line = f"{tool:<9} {prob:<4} {label:>9} {ts} {es} {ws}  {note:<16}"
        if cmp is not None:
            (fa, be, ok), (_, _, ok_start) = cmp
            line += f" {ratio(fa):>9} {ratio(be):>9} {'yes' if ok else 'NO':>5} {'yes' if ok_start else 'NO':>10}"
            if not ok:
                failures.append(f"{tool} {prob} {label} t={t}")
        print(line)
    print("\nfpcheck 100x ahead (warm) on every peer row:", "yes" if not failures else "NO: " + "; ".join(failures))


if __name__ == "__main__":
    main()
