"""Time exp(tau A) v along one axis: the compiled CRAM kernel against its SciPy reference and expm_multiply.

    python benchmarks/bench_expm_tridiag.py [--repeat 21]

A is the symmetrised generator of an Ornstein-Uhlenbeck process (potential x^2/2, D = 1) on
[-8, 8], in the square-root approximation: rates (D/h^2) exp(-+(U_{i+1} - U_i)/2D), so the
symmetrised off-diagonal is D/h^2 and the null vector is sqrt(pi).  Two shapes:

* 1-D: one line of N = 4096 cells (||A|| ~ 2.6e5);
* 2-D: 256 x 256, A applied along the last axis, i.e. to 256 lines of 256 cells.

Printed, not asserted: the best and the median of ``--repeat`` calls (after one warm-up call, which
also loads or compiles the numba kernels), the ratio of the reference's time to the kernel's, and
the agreement of the results.  Ratios are measured in the same run, since the machines are noisy.
The parallel kernel is timed too; when another process keeps a core busy its median degrades
badly, which is why :func:`expm_tridiag` runs serially unless asked.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def ou_operator(n: int, lo: float = -8.0, hi: float = 8.0, diffusion: float = 1.0):
    h = (hi - lo) / n
    x = lo + h * (np.arange(n) + 0.5)
    dU = np.diff(0.5 * x * x)
    k = diffusion / (h * h)
    kp = k * np.exp(-dU / (2 * diffusion))  # i -> i + 1
    km = k * np.exp(dU / (2 * diffusion))  # i + 1 -> i
    d = np.zeros(n)
    d[:-1] -= kp
    d[1:] -= km
    return d, np.sqrt(kp * km)


def timeit(f, repeat: int) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    f()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return first, float(np.min(times)), float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    import numba
    from scipy.sparse import diags
    from scipy.sparse.linalg import expm_multiply

    from fpcheck.grid._rational import cram_coefficients
    from fpcheck.grid._tridiag import expm_tridiag, expm_tridiag_lines, expm_tridiag_lines_parallel, expm_tridiag_reference

    rng = np.random.default_rng(0)
    poles, coef, r_inf = cram_coefficients()
    print(f"numba {numba.__version__}, {numba.get_num_threads()} threads; times in ms (first call / best / median)")
    for label, n, m, tau in (("1-D  N=4096", 4096, 1, 0.01), ("2-D 256x256", 256, 256, 0.1)):
        d, e = ou_operator(n)
        scale = float(np.abs(d).max() + 2 * np.abs(e).max())
        v = rng.standard_normal((m, n))
        print(f"\n{label}: tau = {tau}, tau*||A|| = {tau * scale:.3g}")
        rows = {
            "expm_tridiag (wrapper, serial)": lambda: expm_tridiag(d, e, tau, v),
            "kernel, serial": lambda: expm_tridiag_lines(d, e, tau, v, poles, coef, r_inf),
            "kernel, parallel": lambda: expm_tridiag_lines_parallel(d, e, tau, v, poles, coef, r_inf),
            "reference (solve_banded per pole)": lambda: expm_tridiag_reference(d, e, tau, v),
        }
        a_sparse = diags([e, d, e], [-1, 0, 1], format="csr")
        rows["scipy expm_multiply"] = lambda: expm_multiply(tau * a_sparse, v.T).T
        results = {name: timeit(f, args.repeat) for name, f in rows.items()}
        base = results["kernel, serial"][1]
        for name, (first, best, median) in results.items():
            print(f"  {name:36s} {first * 1e3:9.2f} {best * 1e3:9.3f} {median * 1e3:9.3f}   x{best / base:6.2f} of serial kernel")
        out = expm_tridiag(d, e, tau, v)
        ref = expm_tridiag_reference(d, e, tau, v)
        emu = expm_multiply(tau * a_sparse, v.T).T
        norm = np.linalg.norm(v)
        print(f"  |kernel - reference| / |v| = {np.linalg.norm(out - ref) / norm:.2e}, "
              f"|kernel - expm_multiply| / |v| = {np.linalg.norm(out - emu) / norm:.2e}")


if __name__ == "__main__":
    main()
