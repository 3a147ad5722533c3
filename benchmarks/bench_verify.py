"""Calibration of fpcheck verify: false alarms, power, the zoo's verdicts over seeds, and the time it takes.

Parts (``--part``; all by default), each printing its figures with Clopper-Pearson 95% intervals:

* ``false-alarms``: exact samples of the truth, no sampler.  (a) The goodness-of-fit family of the
  top rung (``compare_to_mixture`` with the Rosenblatt conditionals in 2D) at the default n on
  gmm1d-bimodal and at ``--fa-n2d`` on gmm2d-ring8; (b) the verdict's floor family (every statistic's
  floor test, Holm) on ladders of exact samples (6 rungs at ``--ladder-n`` / ``--ladder-n2d``), 1D and 2D.
* ``power``: against exact samples perturbed by a variance 1% too large (scaled about the mean), a
  mean shifted by 1% of a standard deviation (axis 0), and mode 0's weight one percentage point too
  large (0.51 vs 0.5 in 1D, 0.135 vs 0.125 on ring8; the others scaled down): (a) the top-rung
  family at the default n (1D) and ``--n2d`` (2D); (b) the floor family on ladders whose every rung
  is perturbed (a sampler converging to the perturbed law), 6 rungs at the default n (1D) and
  ``--n2d`` (2D).
* ``zoo``: the verdict of every zoo sampler over ``--zoo-seeds`` seeds at ``--zoo-n`` / ``--zoo-n2d`` per
  rung, 1D (gmm1d-bimodal) and 2D (gmm2d-aniso).
* ``timing``: a default ``verify_sampler`` (ladder 25..800, n = 600000 per rung) of the zoo's
  Euler-Maruyama on gmm1d-bimodal and of a plain numpy Euler-Maruyama on gmm2d-ring8: the sampler's
  seconds and fpcheck's own, apart.

Usage: ``python benchmarks/bench_verify.py [--part NAME] [--seeds N] ...``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from fpcheck import problems
from fpcheck.distributions import GaussianMixture
from fpcheck.stats.family import compare_to_mixture
from fpcheck.stats.multiple import holm
from fpcheck.verify import zoo
from fpcheck.verify.ladder import fit_floor
from fpcheck.verify.result import estimates_to_ladders
from fpcheck.verify.sampler import DEFAULT_N, DEFAULT_STEPS, verify_sampler
from fpcheck.verify.statistics import null_spreads, sample_statistics

ALPHA = 0.01


def cp(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval of a binomial proportion k / n."""
    a = 1.0 - level
    lo = 0.0 if k == 0 else stats.beta.ppf(a / 2, k, n - k + 1)
    hi = 1.0 if k == n else stats.beta.ppf(1 - a / 2, k + 1, n - k)
    return float(lo), float(hi)


def rate(label: str, k: int, n: int) -> None:
    lo, hi = cp(k, n)
    print(f"  {label:<58} {k:>5}/{n:<5} = {k / n:.4f}  [{lo:.4f}, {hi:.4f}]", flush=True)


def gof_rejects(x, law) -> bool:
    return not compare_to_mixture(x, law, alpha=ALPHA, rosenblatt=law.dim > 1).passed


def perturbed(law: GaussianMixture, kind: str) -> GaussianMixture:
    """The law with a variance 1% too large, a mean shifted by 0.01 sd (axis 0), or mode 0's weight +1%."""
    mean, cov = law.mean(), law.cov()
    if kind == "variance":
        c = np.sqrt(1.01)  # x -> mean + c (x - mean): every covariance times 1.01
        return GaussianMixture(law.weights, mean + c * (law.means - mean), c * c * law.covs)
    if kind == "mean":
        shift = np.zeros(law.dim)
        shift[0] = 0.01 * np.sqrt(cov[0, 0])
        return GaussianMixture(law.weights, law.means + shift, law.covs)
    w = law.weights.copy()
    w[0] += 0.01
    w[1:] *= (1.0 - w[0]) / w[1:].sum()
    return GaussianMixture(w, law.means, law.covs)


_NULL: dict = {}


def floor_family_rejects(rungs, law) -> tuple[bool, int]:
    if id(law) not in _NULL:
        _NULL[id(law)] = null_spreads(law)
    null = _NULL[id(law)]
    ladders = estimates_to_ladders([sample_statistics(x, law, null=null) for x in rungs])
    p = [fit_floor(DEFAULT_STEPS, b, se, signed=e.signed).pvalue for e, b, se in ladders.values()]
    return holm(p, ALPHA).any_rejected, len(p)


def part_false_alarms(args) -> None:
    print(f"false alarms at alpha = {ALPHA} on exact samples (Clopper-Pearson 95%)")
    for data_name, n in (("gmm1d-bimodal", DEFAULT_N), ("gmm2d-ring8", args.fa_n2d)):
        if data_name not in args.data:
            continue
        law = problems.data(data_name)
        t0 = time.perf_counter()
        k = sum(gof_rejects(law.sample(n, np.random.default_rng([1, s])), law) for s in range(args.seeds))
        rate(f"GOF family, {data_name}, n = {n}", k, args.seeds)
        print(f"    ({time.perf_counter() - t0:.0f} s)", flush=True)
    for data_name, n in (("gmm1d-bimodal", args.ladder_n), ("gmm2d-ring8", args.ladder_n2d)):
        if data_name not in args.data:
            continue
        law = problems.data(data_name)
        t0, k = time.perf_counter(), 0
        for s in range(args.seeds):
            rungs = [law.sample(n, np.random.default_rng([2, s, j])) for j in range(len(DEFAULT_STEPS))]
            rejected, m = floor_family_rejects(rungs, law)
            k += rejected
        rate(f"floor family ({m} statistics), {data_name}, 6 rungs x {n}", k, args.seeds)
        print(f"    ({time.perf_counter() - t0:.0f} s)", flush=True)


def part_power(args) -> None:
    print(f"power at alpha = {ALPHA} against perturbed exact samples (Clopper-Pearson 95%)")
    for data_name, n in (("gmm1d-bimodal", DEFAULT_N), ("gmm2d-ring8", args.n2d)):
        if data_name not in args.data:
            continue
        law = problems.data(data_name)
        for kind in args.kinds.split(","):
            alt = perturbed(law, kind)
            what = {"variance": "variance +1%", "mean": "mean +0.01 sd", "weight": f"weight[0] {law.weights[0]:.3g} -> {alt.weights[0]:.3g}"}[kind]
            t0 = time.perf_counter()
            k = sum(gof_rejects(alt.sample(n, np.random.default_rng([3, s])), law) for s in range(args.power_seeds))
            rate(f"GOF family: {what}, {data_name}, n = {n}", k, args.power_seeds)
            t1 = time.perf_counter()
            seeds = args.floor_power_seeds if law.dim == 1 else args.floor_power_seeds_2d
            k = sum(floor_family_rejects([alt.sample(n, np.random.default_rng([4, s, j])) for j in range(len(DEFAULT_STEPS))], law)[0]
                    for s in range(seeds))
            rate(f"floor family: {what}, {data_name}, 6 rungs x {n}", k, seeds)
            print(f"    ({t1 - t0:.0f} s, {time.perf_counter() - t1:.0f} s)", flush=True)


def part_zoo(args) -> None:
    print(f"zoo verdicts over {args.zoo_seeds} seeds, vp-linear, ladder {list(DEFAULT_STEPS)}")
    process = problems.process("vp-linear")
    for data_name, n in (("gmm1d-bimodal", args.zoo_n), ("gmm2d-aniso", args.zoo_n2d)):
        if data_name not in args.data:
            continue
        dim = problems.data(data_name).dim
        print(f" {data_name}, n = {n} per rung")
        for name in args.samplers.split(",") if args.samplers else zoo.ZOO:
            if dim == 1 and name == "ddim-swapped-axes":
                continue
            s = zoo.zoo_sampler(name, process)
            t0 = time.perf_counter()
            right = sum(verify_sampler(s, process, data_name, n=n, seed=100 + k, path=not args.no_path).passed == s.correct
                        for k in range(args.zoo_seeds))
            rate(f"{name} ({'correct: pass' if s.correct else 'mutant: fail'})", right, args.zoo_seeds)
            print(f"    ({time.perf_counter() - t0:.0f} s)")


def numpy_euler_maruyama(score, shape, rng, steps):
    """A plain vectorised numpy reverse-SDE Euler-Maruyama for vp-linear (beta_t = 0.1 + 19.9 t on [0, 1])."""
    x = rng.standard_normal(shape)
    ts = np.linspace(1.0, 0.0, steps + 1)
    for t, t_next in zip(ts[:-1], ts[1:]):
        h, beta = t - t_next, 0.1 + 19.9 * t
        x = x + (0.5 * beta * x + beta * score(x, t)) * h + np.sqrt(beta * h) * rng.standard_normal(shape)
    return x


def part_timing(args) -> None:
    print(f"default verify_sampler: ladder {list(DEFAULT_STEPS)}, n = {DEFAULT_N} per rung")
    process = problems.process("vp-linear")
    for label, sampler, data_name in (("zoo reverse-em", zoo.zoo_sampler("reverse-em", process), "gmm1d-bimodal"),
                                      ("numpy Euler-Maruyama", numpy_euler_maruyama, "gmm1d-bimodal"),
                                      ("numpy Euler-Maruyama", numpy_euler_maruyama, "gmm2d-ring8")):
        t0 = time.perf_counter()
        v = verify_sampler(sampler, process, data_name)
        wall = time.perf_counter() - t0
        print(f"  {label:<22} {data_name:<14} verdict {v.verdict}: wall {wall:6.1f} s = sampler {v.sampler_seconds:6.1f} s "
              f"+ fpcheck {v.fpcheck_seconds:5.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("false-alarms", "power", "zoo", "timing"), action="append")
    ap.add_argument("--seeds", type=int, default=1000, help="seeds of the false-alarm part")
    ap.add_argument("--power-seeds", type=int, default=200)
    ap.add_argument("--n2d", type=int, default=DEFAULT_N, help="n of the 2D power part")
    ap.add_argument("--fa-n2d", type=int, default=200_000, help="n of the 2D GOF family's false alarms")
    ap.add_argument("--data", default="gmm1d-bimodal,gmm2d-ring8,gmm2d-aniso", help="data sets of the parts")
    ap.add_argument("--kinds", default="variance,mean,weight", help="perturbations of the power part")
    ap.add_argument("--ladder-n", type=int, default=100_000, help="n per rung of the 1D floor-family false alarms")
    ap.add_argument("--ladder-n2d", type=int, default=20_000, help="n per rung of the 2D floor-family false alarms")
    ap.add_argument("--floor-power-seeds", type=int, default=100, help="seeds of the 1D floor-family power")
    ap.add_argument("--floor-power-seeds-2d", type=int, default=20, help="seeds of the 2D floor-family power")
    ap.add_argument("--zoo-seeds", type=int, default=20)
    ap.add_argument("--zoo-n", type=int, default=20_000, help="n per rung of the 1D zoo part")
    ap.add_argument("--zoo-n2d", type=int, default=40_000, help="n per rung of the 2D zoo part")
    ap.add_argument("--samplers", help="comma-separated zoo names (default: all)")
    ap.add_argument("--no-path", action="store_true", help="zoo part: leave out the path check (it does not enter the verdict)")
    args = ap.parse_args()
    parts = args.part or ["false-alarms", "power", "zoo", "timing"]
    for name in parts:
        {"false-alarms": part_false_alarms, "power": part_power, "zoo": part_zoo, "timing": part_timing}[name](args)


if __name__ == "__main__":
    main()
