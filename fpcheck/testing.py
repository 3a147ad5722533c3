r"""Assertions for your own test suite: verify a sampler, model, score or velocity field against the exact truth.

Each assertion runs the matching verdict of :mod:`fpcheck.verify` and raises :class:`AssertionError`
when it fails, with the diagnosis (what is off, by how much, with 95% intervals) as the message,
followed by the full table; on success it returns the verdict, so a test can look further.  Seeds are
fixed by the ``seed`` argument, so a test is deterministic; at the default ``alpha = 0.01`` a correct
sampler fails on a given seed with probability about 0.01 (the rate measured by
``benchmarks/bench_verify.py``): pick the seed once, and never retry a failure on a fresh one.

Sample sizes default to the verdicts' own (600000 per rung for a sampler, minutes of numpy); a unit
test usually passes a smaller ``n`` and a shorter ladder, trading power for time.

Examples
--------
>>> import numpy as np
>>> from fpcheck.testing import assert_sampler_matches
>>> def euler_maruyama(score, shape, rng, steps):  # reverse SDE for vp-linear, beta_t = 0.1 + 19.9 t
...     x = rng.standard_normal(shape)
...     ts = np.linspace(1.0, 0.0, steps + 1)
...     for t, t_next in zip(ts[:-1], ts[1:]):
...         h, beta = t - t_next, 0.1 + 19.9 * t
...         x = x + (0.5 * beta * x + beta * score(x, t)) * h + np.sqrt(beta * h) * rng.standard_normal(shape)
...     return x
>>> verdict = assert_sampler_matches(euler_maruyama, "vp-linear", "gmm1d-bimodal", steps=[20, 40, 80, 160, 320], n=5000)
>>> verdict.verdict
'pass'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .verify.fields import DEFAULT_TOL, verify_score, verify_velocity
from .verify.result import SamplerVerdict
from .verify.sampler import DEFAULT_N, DEFAULT_STEPS, verify_model, verify_sampler

__all__ = ["assert_sampler_matches", "assert_model_matches", "assert_score_close", "assert_velocity_close"]


def _check(verdict: SamplerVerdict) -> SamplerVerdict:
    if not verdict.passed:
        head = f"fpcheck: {verdict.kind} {verdict.target} FAILS against {verdict.truth}:"
        words = "\n".join(f"  - {d}" for d in verdict.diagnosis)
        raise AssertionError(f"{head}\n{words}\n\n{verdict.table()}")
    return verdict


def assert_sampler_matches(
    sampler: Callable,
    process="vp-linear",
    data="gmm1d-bimodal",
    *,
    steps: Sequence[int] = DEFAULT_STEPS,
    n: int | Sequence[int] = DEFAULT_N,
    alpha: float = 0.01,
    seed: int = 0,
    timeout: float | None = None,
) -> SamplerVerdict:
    """Assert that ``sampler(score, shape, rng, steps)`` converges to the truth (:func:`~fpcheck.verify.verify_sampler`)."""
    return _check(verify_sampler(sampler, process, data, steps=steps, n=n, alpha=alpha, seed=seed, timeout=timeout))


def assert_model_matches(
    model: Callable, data="gmm1d-bimodal", *, n: int = DEFAULT_N, alpha: float = 0.01, seed: int = 0,
    timeout: float | None = None,
) -> SamplerVerdict:
    """Assert that ``model(n, rng)`` draws from the data (:func:`~fpcheck.verify.verify_model`)."""
    return _check(verify_model(model, data, n=n, alpha=alpha, seed=seed, timeout=timeout))


def assert_score_close(
    score: Callable,
    process="vp-linear",
    data="gmm1d-bimodal",
    *,
    tol: float = DEFAULT_TOL,
    times: Sequence[float] | None = None,
    n: int = 100_000,
    alpha: float = 0.01,
    seed: int = 0,
) -> SamplerVerdict:
    """Assert that the relative Fisher divergence of ``score(x, t)`` is not significantly above ``tol`` at any time."""
    return _check(verify_score(score, process, data, times=times, n=n, tol=tol, alpha=alpha, seed=seed))


def assert_velocity_close(
    velocity: Callable,
    process="vp-linear",
    data="gmm1d-bimodal",
    *,
    tol: float = DEFAULT_TOL,
    times: Sequence[float] | None = None,
    n: int = 100_000,
    alpha: float = 0.01,
    seed: int = 0,
) -> SamplerVerdict:
    """Assert that ``velocity(x, t)`` is within ``tol`` of the probability-flow velocity (relative, at every time)."""
    return _check(verify_velocity(velocity, process, data, times=times, n=n, tol=tol, alpha=alpha, seed=seed))
