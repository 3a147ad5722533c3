"""Calibration and power of the Holm test family of fpcheck.stats, over many seeds.

S1: gmm1d-bimodal, n = 600 000 exact samples, the family {mean, variance, AD, KS} at alpha = 0.01:
    the false-alarm rate over 2000 seeds and the power over 300 seeds against
      * variance off by 1%  (samples scaled about the mean by sqrt(1.01)),
      * mean shifted by 1% of the standard deviation,
      * a mode weight off by 1% (weights 0.51 / 0.49, sampled from that mixture).
    Rates come with Clopper-Pearson 95% intervals, the rejection rate of each test (its Holm
    decision), the power the z-tests alone predict (normal approximation, Holm's first step at
    alpha / 4, from the exact moments of the alternative), and d = sqrt(mean of the unbiased
    d^2 estimates), the cdf distance in probability units (1D; mean over the projections in 2D).
S2: the variance alternative at smaller n: where the family reaches 99% power.
S3: gmm2d-ring8, n = 50 000, the projection family (axis means and variances, AD on 6 directions) at
    alpha = 0.01: false alarms and power over 200 seeds each (fewer than S1: each 2D seed costs six
    projections), against variance off by 1% (scaled about the mean), a 1%-of-sd shift along
    axis 0, and one mode's weight off by 1% (0.135 instead of 0.125, the others equal).
Printed, never asserted.  Run: python benchmarks/bench_stats.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import special, stats

from fpcheck import problems
from fpcheck.distributions import GaussianMixture
from fpcheck.stats import compare_to_mixture, mixture_moments

ALPHA = 0.01


def _ci(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def _predicted_power(null: GaussianMixture, alt: GaussianMixture, n: int, m_tests: int) -> float:
    """Power of the better of the mean and variance z-tests at Holm's first level alpha / m (normal approx.)."""
    m0, a = mixture_moments(null), mixture_moments(alt)
    se_mean = math.sqrt(m0.var / n)
    se_var = math.sqrt((m0.central_m4 - m0.var**2) / n)
    z_mean = (a.mean - m0.mean) / se_mean
    z_var = (a.var + (a.mean - m0.mean) ** 2 - m0.var) / se_var  # E (x - mu0)^2 under the alternative
    zc = float(special.ndtri(1 - ALPHA / (2 * m_tests)))
    return float(max(special.ndtr(abs(z) - zc) + special.ndtr(-abs(z) - zc) for z in (z_mean, z_var)))


def _scaled(mix: GaussianMixture, s: float) -> GaussianMixture:
    """The law of mu + s (X - mu)."""
    mu = mix.mean()
    return GaussianMixture(mix.weights, mu + s * (mix.means - mu), s * s * mix.covs)


def _shifted(mix: GaussianMixture, shift: np.ndarray) -> GaussianMixture:
    return GaussianMixture(mix.weights, mix.means + shift, mix.covs)


def run_case(label: str, null: GaussianMixture, sampler, n: int, seeds: int, seed0: int, m: int | None = None):
    """Run the family on ``seeds`` samples.

    Returns (rejections, per-test Holm rejections, d from the mean of the unbiased d^2 estimates, wall).
    """
    start = time.perf_counter()
    rejected, per_test, dist = 0, None, 0.0
    names = None
    for s in range(seeds):
        x = sampler(n, np.random.default_rng(seed0 + s))
        r = compare_to_mixture(x, null, alpha=ALPHA, m=m)
        rejected += not r.passed
        per_test = r.holm.rejected.astype(int) if per_test is None else per_test + r.holm.rejected
        names = [t.name for t in r.tests]
        dist += r.distance.value
        if (s + 1) % 250 == 0 or s + 1 == seeds:
            print(f"    {label}: {s + 1}/{seeds} seeds, {rejected} rejected, {time.perf_counter() - start:.0f} s", flush=True)
    return rejected, dict(zip(names, per_test)), math.sqrt(max(dist / seeds, 0.0)), time.perf_counter() - start


def _row(case: str, n: int, seeds: int, k: int, wall: float, dist: float, predicted: float | None) -> str:
    lo, hi = _ci(k, seeds)
    pred = f"{predicted:>9.4f}" if predicted is not None else f"{'-':>9}"
    return f"{case:<34} {n:>8} {seeds:>6} {k:>6} {k / seeds:>7.4f}  [{lo:.4f}, {hi:.4f}] {pred} {dist:>9.2e} {wall:>8.1f}"


HEADER = f"{'case':<34} {'n':>8} {'seeds':>6} {'rej.':>6} {'rate':>7}  {'95% CI (Clopper-Pearson)':<18} {'z-pred.':>9} {'d':>9} {'wall (s)':>8}"


def section_1d(n: int, null_seeds: int, alt_seeds: int) -> None:
    mix = problems.data("gmm1d-bimodal")
    mom = mixture_moments(mix)
    sd = math.sqrt(mom.var)
    alts = {
        "variance +1%": (lambda k, rng: mom.mean + math.sqrt(1.01) * (mix.sample(k, rng) - mom.mean), _scaled(mix, math.sqrt(1.01))),
        "mean + 0.01 sd": (lambda k, rng: mix.sample(k, rng) + 0.01 * sd, _shifted(mix, np.array([0.01 * sd]))),
    }
    heavy = GaussianMixture([0.51, 0.49], mix.means, mix.covs)
    alts["weights 0.51 / 0.49"] = (heavy.sample, heavy)
    print(f"\nS1: gmm1d-bimodal, family {{mean, variance, AD, KS}}, Holm at alpha = {ALPHA}, n = {n}")
    rows, tests = [], []
    k, per, dist, wall = run_case("exact sampler", mix, mix.sample, n, null_seeds, 0)
    rows.append(_row("exact sampler (false alarms)", n, null_seeds, k, wall, dist, None))
    tests.append(("exact sampler", per, null_seeds))
    for i, (name, (sampler, alt)) in enumerate(alts.items()):
        k, per, dist, wall = run_case(name, mix, sampler, n, alt_seeds, 10_000 * (i + 1))
        rows.append(_row(name + " (power)", n, alt_seeds, k, wall, dist, _predicted_power(mix, alt, n, 4)))
        tests.append((name, per, alt_seeds))
    print(HEADER)
    print("\n".join(rows))
    print("  rejection rate of each test (Holm decisions):")
    for name, per, seeds in tests:
        print(f"    {name:<22} " + "  ".join(f"{t}: {c / seeds:.4f}" for t, c in per.items()))


def section_power_vs_n(sizes, seeds: int) -> None:
    mix = problems.data("gmm1d-bimodal")
    mom = mixture_moments(mix)
    alt = _scaled(mix, math.sqrt(1.01))
    se1 = math.sqrt(mom.central_m4 - mom.var**2)
    zc, z99 = float(special.ndtri(1 - ALPHA / 8)), float(special.ndtri(0.99))
    n99 = ((zc + z99) * se1 / (0.01 * mom.var)) ** 2
    print(f"\nS2: variance +1% on gmm1d-bimodal against n (Holm at alpha = {ALPHA}); the variance z-test alone")
    print(f"    reaches 99% power at n = ((z_(alpha/8) + z_0.99) sqrt(m4 - var^2) / (0.01 var))^2 = {n99:.0f}")
    sampler = lambda k, rng: mom.mean + math.sqrt(1.01) * (mix.sample(k, rng) - mom.mean)  # noqa: E731
    rows = []
    for i, n in enumerate(sizes):
        k, per, dist, wall = run_case(f"n = {n}", mix, sampler, n, seeds, 50_000 + 1000 * i)
        rows.append(_row("variance +1% (power)", n, seeds, k, wall, dist, _predicted_power(mix, alt, n, 4)))
        rows.append("    " + "  ".join(f"{t}: {c / seeds:.4f}" for t, c in per.items()))
    print(HEADER)
    print("\n".join(rows))


def section_2d(n: int, seeds: int) -> None:
    mix = problems.data("gmm2d-ring8")
    cov = mix.cov()
    sd0 = math.sqrt(cov[0, 0])
    w = np.full(8, (1 - 0.135) / 7)
    w[0] = 0.135
    heavy = GaussianMixture(w, mix.means, mix.covs)
    mu = mix.mean()
    alts = {
        "variance +1%": lambda k, rng: mu + math.sqrt(1.01) * (mix.sample(k, rng) - mu),
        "axis-0 mean + 0.01 sd": lambda k, rng: mix.sample(k, rng) + np.array([0.01 * sd0, 0.0]),
        "weight[0] 0.135": heavy.sample,
    }
    print(f"\nS3: gmm2d-ring8, projection family (2 axis means and variances + AD on 6 directions), Holm at alpha = {ALPHA}, n = {n}")
    rows, tests = [], []
    k, per, dist, wall = run_case("exact sampler", mix, mix.sample, n, seeds, 0)
    rows.append(_row("exact sampler (false alarms)", n, seeds, k, wall, dist, None))
    tests.append(("exact sampler", per))
    for i, (name, sampler) in enumerate(alts.items()):
        k, per, dist, wall = run_case(name, mix, sampler, n, seeds, 10_000 * (i + 1))
        rows.append(_row(name + " (power)", n, seeds, k, wall, dist, None))
        tests.append((name, per))
    print(HEADER)
    print("\n".join(rows))
    print("  rejection rate of each test (Holm decisions):")
    for name, per in tests:
        print(f"    {name:<22} " + "  ".join(f"{t.split(' (')[0]}: {c / seeds:.3f}" for t, c in per.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few seeds and small n, to check the script runs")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.quick:
        section_1d(20_000, 40, 20)
        section_power_vs_n([20_000], 20)
        section_2d(5_000, 20)
    else:
        section_1d(600_000, 2000, 300)
        section_power_vs_n([20_000, 40_000, 60_000, 80_000], 300)
        section_2d(50_000, 200)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
