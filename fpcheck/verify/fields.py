r"""Verdicts on learned fields: a score :math:`s(x, t)` or a velocity :math:`v(x, t)` against the exact ones.

**Score.**  At each time :math:`t` of a grid, with :math:`x_i \sim q_t` drawn exactly, the
:math:`q_t`-weighted relative Fisher divergence

.. math::
    D(t) = \frac{E_{q_t}\|s(x, t) - \nabla\log q_t(x)\|^2}{E_{q_t}\|\nabla\log q_t(x)\|^2}
    \approx \hat D = \frac{\bar a}{\bar b}, \qquad
    \mathrm{se}(\hat D)^2 = \frac{\widehat{\operatorname{Var}}(a - \hat D\, b)}{n\, \bar b^2}

(a ratio of means, :math:`a_i = \|s - s^*\|^2`, :math:`b_i = \|s^*\|^2`, delta method), and its
:math:`\lambda`-weighted integral over the grid with :math:`\lambda(t) = s_t^2` (the kernel's
variance, the weighting of denoising score matching), by the trapezoid rule.

**Velocity.**  The same with :math:`v^*_t = f - \tfrac12 g^2\nabla\log q_t`, the probability-flow
velocity (MATH.md 3), unweighted in time; and the density pushed by the user's velocity: exact
samples of :math:`q_T` integrated backward to :math:`t = 0` by RK4
(:func:`~fpcheck.particles.flow.integrate_flow`) and compared with :math:`q_0` by the
goodness-of-fit family.

**Verdict.**  *Fail* when the error exceeds the tolerance ``tol`` significantly at some time: the
one-sided bound :math:`\hat D(t) - z\,\mathrm{se} > \mathrm{tol}` with :math:`z = z_{1 - \alpha/m}`
over the :math:`m` times (Bonferroni), so a field whose true error is at most ``tol`` everywhere
fails with probability at most :math:`\alpha`.  The pushed-forward density is reported beside
(its test sees errors far below any useful tolerance once :math:`n` is large).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy import special

from ..errors import InputError
from .result import SamplerVerdict
from .sampler import _check_alpha, model_verdict
from .targets import Guard
from .truth import resolve_truth

__all__ = ["DEFAULT_TIMES", "DEFAULT_TOL", "relative_error", "verify_score", "verify_velocity"]

DEFAULT_TIMES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
"""Default times, as fractions of the process's horizon T."""

DEFAULT_TOL = 1e-2
"""Default tolerance on the relative error at every time."""


def relative_error(values: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    r""":math:`\hat D = \overline{\|v - v^*\|^2} / \overline{\|v^*\|^2}` and its delta-method standard error (module notes)."""
    a = np.sum((values - exact) ** 2, axis=1)
    b = np.sum(exact**2, axis=1)
    bbar = float(b.mean())
    if bbar <= 0.0:
        raise InputError("the exact field vanishes on every sample: the relative error is undefined")
    r = float(a.mean()) / bbar
    se = float(np.std(a - r * b, ddof=1) / (np.sqrt(a.size) * bbar))
    return r, se


def _times(times, T: float) -> np.ndarray:
    ts = np.asarray([T * f for f in DEFAULT_TIMES] if times is None else times, dtype=float)
    if ts.ndim != 1 or ts.size < 1 or not np.all(np.isfinite(ts)) or ts.min() <= 0 or ts.max() > T:
        raise InputError(f"times must be a list of times in (0, T] = (0, {T:g}], got {times!r}")
    return np.sort(ts)


def _field_verdict(kind, fn, process, data, *, times, n, tol, alpha, seed, timeout, name, push_steps):
    start = time.perf_counter()
    alpha = _check_alpha(alpha)
    if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol > 0):
        raise InputError(f"tol must be a positive number, got {tol!r}")
    if int(n) != n or n < 100:
        raise InputError(f"n must be an integer >= 100, got {n!r}")
    truth = resolve_truth(process, data)
    ts = _times(times, truth.T)
    guard = Guard(fn, kind, timeout=timeout, name=name)
    exact = truth.field.score if kind == "score" else truth.field.velocity
    rows, weights, norms = [], [], []
    for j, t in enumerate(ts):
        x = truth.at(t).sample(int(n), np.random.default_rng(np.random.SeedSequence([int(seed), j])))
        e = exact(x, float(t))
        rows.append(relative_error(guard(x, float(t)), e))
        norms.append(float(np.mean(np.sum(e * e, axis=1))))
        weights.append(float(truth.process.kernel(float(t))[2]) if kind == "score" else 1.0)
    err = np.array([r for r, _ in rows])
    se = np.array([s for _, s in rows])
    z = float(-special.ndtri(alpha / ts.size))
    failing = err - z * se > tol
    w = np.array(weights) * np.array(norms)
    if ts.size > 1:  # int lambda E||s - s*||^2 dt / int lambda E||s*||^2 dt, trapezoid over the times
        integral = float(np.trapezoid(w * err, ts) / np.trapezoid(w, ts))
    else:
        integral = float(err[0])
    name_err = "relative_fisher_divergence" if kind == "score" else "relative_velocity_error"
    extra = {
        "times": ts.tolist(),
        name_err: err.tolist(),
        f"{name_err}_se": se.tolist(),
        "tolerance": float(tol),
        ("weighted_relative_fisher_divergence" if kind == "score" else "integrated_relative_velocity_error"): integral,
    }
    table = {f"t = {t:.4g}": f"{e:.3g} +- {s:.2g}{'  > tol' if f else ''}" for t, e, s, f in zip(ts, err, se, failing)}
    what = "relative Fisher divergence" if kind == "score" else "relative velocity error"
    diagnosis = []
    if failing.any():
        worst = int(np.argmax(err - z * se - tol))
        diagnosis.append(
            f"the {what} exceeds the tolerance {tol:g} at {int(failing.sum())} of {ts.size} times; worst at "
            f"t = {ts[worst]:.4g}: {err[worst]:.3g} +- {1.96 * se[worst]:.2g}"
        )
    else:
        diagnosis.append(f"the {what} is within the tolerance {tol:g} at every time (largest {err.max():.3g} at "
                         f"t = {ts[int(np.argmax(err))]:.4g})")
    integral_name = "lambda-weighted (s_t^2) relative Fisher divergence" if kind == "score" else "integrated relative velocity error"
    diagnosis.append(f"{integral_name} over t in [{ts[0]:.3g}, {ts[-1]:.3g}]: {integral:.3g}")
    gof = None
    if kind == "velocity" and push_steps:
        pushed = _push(guard, truth, n, seed, push_steps)
        single = model_verdict(pushed, truth, alpha=alpha, seed=seed, name=guard.name, callable_seconds=0.0,
                               start=time.perf_counter(), kind="velocity")
        gof = single.gof
        extra["pushed_forward"] = {"steps": int(push_steps), "passed": gof.passed,
                                   "min_holm_pvalue": float(np.min(gof.holm.adjusted))}
        words = "indistinguishable from" if gof.passed else "differs from"
        diagnosis.append(f"pushed backward from q_T by RK4 in {push_steps} steps, the density at t = 0 {words} q_0 "
                         f"(n = {n}, smallest Holm p = {float(np.min(gof.holm.adjusted)):.2g})")
        diagnosis += [f"pushed-forward: {d}" for d in single.diagnosis[1:4]]
    extra["table"] = table
    verdict = "fail" if failing.any() else "pass"
    return SamplerVerdict(verdict, kind, guard.name, truth.describe(), 0.0, alpha, int(seed), [0], [int(n)], [], gof,
                          None, None, diagnosis, guard.seconds, time.perf_counter() - start - guard.seconds, extra)


def _push(guard: Guard, truth, n: int, seed: int, steps: int) -> np.ndarray:
    """Exact samples of q_T integrated backward to t = 0 with the user's velocity (RK4)."""
    from ..particles.flow import integrate_flow

    sol = integrate_flow(truth.process, guard, truth.at(truth.T), int(n), t_start=truth.T, times=[0.0],
                         method="rk4", steps=int(steps), seed=int(seed))
    return np.asarray(sol.samples[-1])


def verify_score(
    score: Callable,
    process="vp-linear",
    data="gmm1d-bimodal",
    *,
    times: Sequence[float] | None = None,
    n: int = 100_000,
    tol: float = DEFAULT_TOL,
    alpha: float = 0.01,
    seed: int = 0,
    timeout: float | None = None,
    name: str | None = None,
) -> SamplerVerdict:
    r"""Verify ``score(x, t) -> (n, d)`` against :math:`\nabla\log q_t` (module notes).

    Parameters
    ----------
    score : callable
    process, data : str or object
    times : sequence of float, optional
        Times in :math:`(0, T]`; default :data:`DEFAULT_TIMES` times :math:`T`.
    n : int
        Exact samples of :math:`q_t` per time.
    tol : float
        The tolerance on :math:`D(t)`.
    alpha, seed, timeout, name
        As for :func:`~fpcheck.verify.sampler.verify_sampler`.
    """
    return _field_verdict("score", score, process, data, times=times, n=n, tol=tol, alpha=alpha, seed=seed,
                          timeout=timeout, name=name, push_steps=0)


def verify_velocity(
    velocity: Callable,
    process="vp-linear",
    data="gmm1d-bimodal",
    *,
    times: Sequence[float] | None = None,
    n: int = 100_000,
    tol: float = DEFAULT_TOL,
    alpha: float = 0.01,
    seed: int = 0,
    timeout: float | None = None,
    name: str | None = None,
    push_steps: int = 200,
) -> SamplerVerdict:
    r"""Verify ``velocity(x, t) -> (n, d)`` against the probability-flow velocity (module notes).

    Parameters
    ----------
    push_steps : int
        RK4 steps of the pushed-forward density (0: skip it).
    Others
        As for :func:`verify_score`.
    """
    return _field_verdict("velocity", velocity, process, data, times=times, n=n, tol=tol, alpha=alpha, seed=seed,
                          timeout=timeout, name=name, push_steps=push_steps)
