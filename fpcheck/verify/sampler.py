r"""Verdicts on samplers and models: does the algorithm converge to the right distribution?

**Sampler.**  The sampler is handed the exact compiled score of :math:`q_t`
(:class:`~fpcheck.particles.fields.ExactField`), so a failure is the algorithm's fault.  It runs on a
ladder of step counts :math:`K_1 < \dots < K_L` (default :data:`DEFAULT_STEPS`), each rung on
independent seeds, and at each rung every statistic of :mod:`fpcheck.verify.statistics` is measured
against :math:`q_{t_{end}}`: a bias with its Monte-Carlo standard error.  Then

1. **floor tests** (:func:`~fpcheck.verify.ladder.fit_floor`): for each statistic, the likelihood
   ratio of "bias :math:`= b_\infty + C K^{-p}`" against ":math:`C K^{-p}`", combined across the
   statistics by Holm's method at ``alpha``.  A rejected statistic converges to the wrong value:
   **fail**, with that value in words.  Otherwise **pass**: every extrapolated bias is consistent
   with zero, even when the largest step count is still measurably biased;
2. the **observed order**: the fitted :math:`p` of the signed statistic with the largest
   signal :math:`\sum_l (\hat b_l/\sigma_l)^2` (when that signal is resolved: above the
   :math:`\chi^2_L` quantile at ``alpha``);
3. at the largest step count, the **goodness-of-fit family**
   (:func:`~fpcheck.stats.family.compare_to_mixture` with the Rosenblatt conditionals in
   :math:`d \ge 2`) at ``alpha``, and, where it rejects a sampler that passes, the step count from
   which each resolved bias :math:`|C| K^{-p}` falls below the detection bound
   :math:`z_{\alpha/(2m)}\,\sigma_L` of the top rung.

**Model.**  One draw ``model(n, rng)`` against :math:`q_0`: the goodness-of-fit family decides, the
statistics (bias :math:`\pm` 95% interval, Bonferroni-flagged at ``alpha``) say how it is off.

**Path.**  A sampler with a method ``states(score, shape, rng, steps) -> (times (m,), states (m, n, d))``
(the zoo's samplers have one) exposes intermediate states; each is compared with its :math:`q_t` by
the goodness-of-fit family (Bonferroni over the times, at most :data:`PATH_N` samples at the top
rung's step count), and the diagnosis says at which time, going down from :math:`T`, the samples
first leave the truth.

Before either, the callable is checked (:mod:`fpcheck.verify.targets`): it must return finite
``(n, d)`` arrays, draw all its randomness from ``rng`` (two runs on one seed agree, on two seeds
differ) and stay within ``timeout`` seconds per call.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy import special, stats

from ..errors import InputError
from ..stats.family import compare_to_mixture
from ..stats.multiple import holm
from .ladder import fit_floor
from .result import SamplerVerdict, StatisticLadder, estimates_to_ladders
from .statistics import null_spreads, sample_statistics
from .targets import Guard, check_model_rng, check_sampler_rng, sampler_t_end
from .truth import Truth, resolve_truth

__all__ = ["DEFAULT_STEPS", "DEFAULT_N", "verify_sampler", "verify_model"]

DEFAULT_STEPS = (25, 50, 100, 200, 400, 800)
"""The default ladder of step counts."""

DEFAULT_N = 600_000
"""Default samples per rung: the Holm family then catches a 1% variance error in 1D with about 99% power."""


def _name(obj) -> str:
    return getattr(obj, "name", None) or getattr(obj, "__qualname__", None) or type(obj).__name__


def _check_ladder(steps: Sequence[int], n: int | Sequence[int]) -> tuple[list[int], list[int]]:
    try:
        ks = [int(k) for k in steps]
    except (TypeError, ValueError):
        raise InputError(f"steps must be a list of positive integers, got {steps!r}") from None
    if len(ks) < 3 or any(k < 1 for k in ks) or any(b <= a for a, b in zip(ks, ks[1:])):
        raise InputError(f"steps must be at least 3 increasing positive integers (the ladder), got {list(steps)!r}")
    ns = [n] * len(ks) if np.ndim(n) == 0 else list(n)
    if len(ns) != len(ks) or any(int(v) != v or int(v) < 100 for v in ns):
        raise InputError(f"n must be an integer >= 100, or one per rung ({len(ks)}), got {n!r}")
    return ks, [int(v) for v in ns]


def _rung_seed(seed: int, k: int) -> np.random.Generator:
    """The rng of the rung with ``k`` steps: independent across rungs and seeds."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(k)]))


def _axis_scale(truth_law, est) -> float | None:
    if est.kind != "mean":
        return None
    i = int(est.name[est.name.index("[") + 1 : -1])
    return float(np.sqrt(truth_law.cov()[i, i]))


def verify_sampler(
    sampler: Callable,
    process="vp-linear",
    data="gmm1d-bimodal",
    *,
    steps: Sequence[int] = DEFAULT_STEPS,
    n: int | Sequence[int] = DEFAULT_N,
    alpha: float = 0.01,
    seed: int = 0,
    timeout: float | None = None,
    progress: bool = False,
    name: str | None = None,
    path: bool = True,
) -> SamplerVerdict:
    r"""Verify ``sampler(score, shape, rng, steps)`` against the exact :math:`q_{t_{end}}` (module notes).

    Parameters
    ----------
    sampler : callable
        ``sampler(score, (n, d), rng, steps) -> (n, d)``, optional attribute ``t_end`` (default 0).
    process, data : str or object
        An affine process and Gaussian-mixture data, by registry name or as objects.
    steps : sequence of int
        The ladder, at least 3 increasing step counts.
    n : int or sequence of int
        Samples per rung (one number for all, or one per rung).
    alpha : float
        Family-wise level of the floor tests and of the goodness-of-fit family.
    seed : int
        Seeds every rung (independently of the others).
    timeout : float, optional
        Seconds one call of the sampler may take.
    progress : bool
        One line per rung on stderr.
    name : str, optional
        How the report names the sampler.
    path : bool
        Check the intermediate states of a sampler that exposes them (module notes).

    Returns
    -------
    SamplerVerdict

    Raises
    ------
    TargetError
        The sampler raises, returns a wrong shape, NaN or inf, ignores its rng, has a bad ``t_end``,
        or runs past ``timeout``.
    """
    start = time.perf_counter()
    alpha = _check_alpha(alpha)
    ks, ns = _check_ladder(steps, n)
    truth = resolve_truth(process, data)
    guard = Guard(sampler, "sampler", timeout=timeout, name=name)
    t_end = sampler_t_end(sampler, truth.T)
    law = truth.at(t_end)
    score = truth.field.score
    check_sampler_rng(guard, score, truth.dim, steps=ks[0], seed=seed)
    rungs, x, null = [], None, null_spreads(law)
    for k, m in zip(ks, ns):
        x = guard(score, (m, truth.dim), _rung_seed(seed, k), k)
        rungs.append(sample_statistics(x, law, null=null))
        if progress:
            sys.stderr.write(f"steps = {k}: {m} samples, sampler {guard.seconds:.1f} s so far\n")
    ladders = estimates_to_ladders(rungs)
    fits = {key: fit_floor(ks, b, s, signed=est.signed) for key, (est, b, s) in ladders.items()}
    decision = holm([f.pvalue for f in fits.values()], alpha)
    stats_out = [
        StatisticLadder(est.name, est.kind, est.label, est.truth, b, s, fits[key], float(adj), bool(rej), _axis_scale(law, est))
        for (key, (est, b, s)), adj, rej in zip(ladders.items(), decision.adjusted, decision.rejected)
    ]
    gof = compare_to_mixture(x, law, alpha=alpha, seed=seed, rosenblatt=truth.dim > 1)
    leader = _observed_order(stats_out, alpha)
    order = None if leader is None or decision.any_rejected else leader.fit.order
    detection = _detection_steps(stats_out, alpha, ks)
    verdict = "fail" if decision.any_rejected else "pass"
    diagnosis = _sampler_diagnosis(verdict, stats_out, gof, leader, detection, ks, ns)
    extra = {}
    states = getattr(sampler, "states", None)
    if path and callable(states):
        path_start = time.perf_counter()
        extra["path"], own = _path(states, guard, score, truth, ks[-1], min(ns[-1], PATH_N), alpha, seed)
        guard.seconds += time.perf_counter() - path_start - own  # the states call is the sampler's time
        diagnosis.append(_path_words(extra["path"], ks[-1]))
        last = min(p["t"] for p in extra["path"])
        if last > t_end + 1e-9 * truth.T:
            diagnosis.append(f"the last intermediate state is at t = {last:.4g}, but the sampler's t_end is {t_end:g}: "
                             "it stops early (or t_end is wrong)")
    return SamplerVerdict(
        verdict, "sampler", guard.name, truth.describe(), t_end, alpha, int(seed), ks, ns, stats_out, gof, order,
        detection, diagnosis, guard.seconds, time.perf_counter() - start - guard.seconds, extra,
    )


PATH_N = 100_000
"""Samples of the path check (intermediate states at the top rung's step count)."""


def _path(states, guard: Guard, score, truth: Truth, k: int, n: int, alpha: float, seed: int) -> tuple[list[dict], float]:
    r"""Each intermediate state :math:`x_t` of ``sampler.states`` against :math:`q_t` (Holm family at alpha/m, Bonferroni over times).

    Returns the per-state results and fpcheck's own seconds spent comparing them.
    """
    from ..errors import TargetError

    try:
        times, xs = states(score, (n, truth.dim), np.random.default_rng(np.random.SeedSequence([int(seed), k, 1])), k)
        times, xs = np.asarray(times, dtype=float), np.asarray(xs, dtype=float)
    except Exception as exc:
        raise TargetError(f"{guard.label}.states raised {type(exc).__name__}: {exc} at steps = {k}") from exc
    if times.ndim != 1 or xs.shape != (times.size, n, truth.dim) or not (np.all(np.isfinite(xs)) and np.all(np.isfinite(times))):
        raise TargetError(f"{guard.label}.states must return finite times (m,) and states (m, {n}, {truth.dim}), "
                          f"got {times.shape} and {xs.shape}")
    if np.any(times < 0) or np.any(times > truth.T):
        raise TargetError(f"{guard.label}.states returned times outside [0, T] = [0, {truth.T:g}]: {times.tolist()}")
    t0 = time.perf_counter()
    out = []
    for t, x in zip(times, xs):
        fam = compare_to_mixture(x, truth.at(float(t)), alpha=alpha / times.size, seed=seed, rosenblatt=truth.dim > 1)
        out.append({"t": float(t), "passed": bool(fam.passed), "min_holm_pvalue": float(min(1.0, np.min(fam.holm.adjusted) * times.size))})
    return out, time.perf_counter() - t0


def _path_words(path: list[dict], k: int) -> str:
    bad = [p for p in path if not p["passed"]]
    if not bad:
        at = ", ".join(f"{p['t']:.3g}" for p in path)
        return f"along the path (steps = {k}), every intermediate state matches its q_t (at t = {at})"
    first = max(bad, key=lambda p: p["t"])  # the sampler runs from T down
    good = [p["t"] for p in path if p["passed"] and p["t"] > first["t"]]
    since = f"; it matches q_t down to t = {min(good):.3g}" if good else "; it is off from the first exposed state"
    return (f"along the path (steps = {k}), the samples first leave q_t at t = {first['t']:.3g} "
            f"(Holm p = {first['min_holm_pvalue']:.2g}){since}")


def _check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        a = float("nan")
    if not 0.0 < a < 0.5:
        raise InputError(f"alpha must lie in (0, 0.5), got {alpha!r}")
    return a


def _observed_order(ladders: list[StatisticLadder], alpha: float) -> StatisticLadder | None:
    """The signed statistic with the largest resolved signal, whose fitted order is the observed one (module notes)."""
    best, signal = None, stats.chi2.isf(alpha, len(ladders[0].bias))
    for s in ladders:
        if s.kind == "distance":
            continue
        snr = float(np.sum((s.bias / s.se) ** 2))
        if snr > signal:
            best, signal = s, snr
    return None if best is None else best


def _detection_bound(alpha: float, m: int) -> float:
    return float(-special.ndtri(alpha / (2.0 * m)))


def _detection_steps(ladders: list[StatisticLadder], alpha: float, ks: list[int]) -> int | None:
    r"""The step count from which every top-rung-resolved bias :math:`|C| K^{-p}` is below :math:`z\,\sigma_L`."""
    z = _detection_bound(alpha, len(ladders))
    worst = None
    for s in ladders:
        top = s.bias[-1] if not s.signed else abs(s.bias[-1])
        if top <= z * s.se[-1] or s.rejected or s.fit.amplitude == 0.0:
            continue
        k_star = (abs(s.fit.amplitude) / (z * s.se[-1])) ** (1.0 / s.fit.curve_order)
        worst = k_star if worst is None else max(worst, k_star)
    return None if worst is None else int(np.ceil(max(worst, ks[-1])))


def _sampler_diagnosis(verdict, ladders, gof, leader, detection, ks, ns) -> list[str]:
    out = []
    floors = sorted((s for s in ladders if s.rejected), key=lambda s: s.adjusted_pvalue)
    if verdict == "fail":
        out.append(
            f"the sampler converges to the wrong distribution: {len(floors)} of {len(ladders)} statistics keep a "
            "floor as the steps grow (Holm p of the floor test in brackets)"
        )
        for s in floors[:6]:
            out.append(f"as steps -> infinity, {s.floor_words()} [p = {s.adjusted_pvalue:.2g}]")
        if len(floors) > 6:
            out.append(f"... and {len(floors) - 6} more statistics with a floor: " + ", ".join(s.name for s in floors[6:]))
    else:
        out.append("every statistic's bias extrapolates to zero as the steps grow: the sampler converges to the truth")
    if leader is not None and verdict == "pass":
        lo, hi = leader.fit.order_interval
        out.append(f"observed order of convergence p = {leader.fit.order:.2f} (68% interval [{lo:.2f}, {hi:.2f}]; "
                   f"bias ~ C steps^-p, from the {leader.label})")
    elif verdict == "pass":
        out.append(f"no bias is resolved on the ladder at n = {ns[-1]}: the order cannot be measured")
    if gof is not None:
        k = ks[-1]
        if gof.passed:
            out.append(f"at steps = {k} the samples are indistinguishable from the truth (n = {ns[-1]}, Holm at alpha)")
        else:
            p = float(np.min(gof.holm.adjusted))
            worst = max(ladders, key=lambda s: abs(s.bias[-1] / s.se[-1]) if s.signed else s.bias[-1] / s.se[-1])
            msg = f"at steps = {k} the samples are still measurably off the truth (smallest Holm p = {p:.2g}); largest: {worst.top_words()}"
            if verdict == "pass" and detection is not None:
                msg += f"; extrapolated, the bias falls below detection at n = {ns[-1]} from about {detection} steps"
            out.append(msg)
    return out


def verify_model(
    model: Callable,
    data="gmm1d-bimodal",
    *,
    process="vp-linear",
    n: int = DEFAULT_N,
    alpha: float = 0.01,
    seed: int = 0,
    timeout: float | None = None,
    name: str | None = None,
) -> SamplerVerdict:
    r"""Verify a finished generator ``model(n, rng) -> (n, d)`` against the data :math:`q_0` (module notes).

    Parameters
    ----------
    model : callable
    data, process : str or object
        The data the model should reproduce (the process only names the truth; :math:`q_0` does
        not depend on it).
    n : int
        Samples drawn.
    alpha, seed, timeout, name
        As for :func:`verify_sampler`.
    """
    start = time.perf_counter()
    alpha = _check_alpha(alpha)
    m = _check_ladder([1, 2, 3], n)[1][0]
    truth = resolve_truth(process, data)
    guard = Guard(model, "model", timeout=timeout, dim=truth.dim, name=name)
    check_model_rng(guard, seed=seed)
    x = guard(m, np.random.default_rng(np.random.SeedSequence([int(seed), 0])))
    return model_verdict(x, truth, alpha=alpha, seed=seed, name=guard.name, callable_seconds=guard.seconds,
                         start=start)


def model_verdict(x: np.ndarray, truth: Truth, *, alpha: float, seed: int, name: str, callable_seconds: float,
                  start: float, t: float = 0.0, kind: str = "model") -> SamplerVerdict:
    """The single-run verdict on samples ``x`` of :math:`q_t` (shared by models and pushed-forward velocities)."""
    law = truth.at(t)
    ests = sample_statistics(x, law)
    z = _detection_bound(alpha, len(ests))
    ladders = []
    for e in ests:
        zz = e.bias / e.se
        flagged = bool(abs(zz) > z) if e.signed else bool(zz > -special.ndtri(alpha / len(ests)))
        fake = fit_floor_single(e)
        ladders.append(StatisticLadder(e.name, e.kind, e.label, e.truth, np.array([e.bias]), np.array([e.se]), fake,
                                       float(min(1.0, 2 * special.ndtr(-abs(zz)) * len(ests))), flagged, _axis_scale(law, e)))
    gof = compare_to_mixture(x, law, alpha=alpha, seed=seed, rosenblatt=truth.dim > 1)
    verdict = "pass" if gof.passed else "fail"
    diagnosis = []
    if gof.passed:
        diagnosis.append(f"the samples are indistinguishable from the truth at n = {x.shape[0]} (Holm at alpha = {alpha:g})")
    else:
        diagnosis.append(f"the samples differ from the truth (smallest Holm p = {float(np.min(gof.holm.adjusted)):.2g})")
    flagged = sorted((s for s in ladders if s.rejected), key=lambda s: s.adjusted_pvalue)
    for s in flagged[:6]:
        diagnosis.append(s.top_words())
    if not gof.passed and not flagged:
        diagnosis.append("no single statistic is off beyond its Bonferroni bound: the error is in the shape of the law "
                         "(see the goodness-of-fit table)")
    return SamplerVerdict(verdict, kind, name, truth.describe(), t, alpha, int(seed), [0], [int(x.shape[0])], ladders,
                          gof, None, None, diagnosis, callable_seconds, time.perf_counter() - start - callable_seconds)


def fit_floor_single(e):
    """A :class:`~fpcheck.verify.ladder.FloorFit` that holds one measurement as its own floor (single-run verdicts)."""
    from .ladder import FloorFit

    p = float(2 * special.ndtr(-abs(e.bias / e.se))) if e.signed else float(special.ndtr(-e.bias / e.se))
    return FloorFit(float("nan"), e.bias, e.se, 0.0, float((e.bias / e.se) ** 2), p, 0.0, e.signed)
