r"""The learning section: fitted scores and velocities against the exact fields, and a learned score as a sampler.

Everything runs on ``vp-linear`` x ``gmm1d-bimodal`` (:func:`fpcheck.learned.recipes.fit_problem`,
window :math:`[t_0, T] = [0.01, 1]`, the default basis of 105 features, seed :data:`SEED`).

* **one case per objective** (dsm, ism, ssm, esm, am, cfm; quick mode: dsm and am only, at
  :data:`N_QUICK` instead of :data:`N_FULL` samples): the relative error :math:`D(t)` of the fit and
  of the *oracle* (the same basis fitted to the exact field) against :math:`t`, and the integrated
  error :math:`\bar D` (:math:`s_t^2`-weighted relative Fisher divergence for scores, relative
  velocity error for velocities).  The 1D evaluation is by quadrature (no Monte-Carlo error), so
  the 95% band of the figure, :math:`\pm 1.96` of the evaluation's standard error, is empty: the
  fit's own randomness, from its training samples, is what :data:`EXCESS` measures over seeds.
  Criterion (:func:`allowed_error`):

  .. math::
      \bar D_{fit} \le \bar D_{oracle} + \text{EXCESS\_MARGIN}\cdot E_{obj}(n),

  where :math:`E_{obj}(n)` is the objective's own excess :math:`\bar D_{fit} - \bar D_{oracle}`
  at that ``n``, measured as a mean over seeds (:data:`EXCESS`).  Factor one on the oracle: it
  minimises the very metric (same weighting, same quadrature nodes) in the same basis and model
  (sliced score matching's vector model has its own, on a basis with the pilot's score components),
  so :math:`\bar D_{fit} \ge \bar D_{oracle}` holds exactly (the case also checks it) and everything
  above it is the estimator's excess.  The summary gives that excess as a
  multiple of the reference estimator's (DSM for scores, conditional flow matching for velocities):
  implicit and sliced score matching need about 90x and 100x DSM's samples here, Action Matching
  about 20x CFM's.
* **learned vs true fields**: the DSM score and the AM velocity against the exact ones at a few
  times, with the region where :math:`q_t` holds its mass.
* **end to end**: exact draws of :math:`q_T` carried down to :math:`t_0 = 0.01` by the reverse SDE
  (stochastic Heun) and the probability-flow ODE (Heun), :data:`E2E_STEPS` steps each, with the
  DSM-learned score, then :func:`~fpcheck.stats.compare_to_mixture` against the exact
  :math:`q_{t_0}` (not the data at :math:`t = 0`: the window stops at :math:`t_0`).  The same runs
  with the exact score (compiled :class:`~fpcheck.particles.fields.ExactField`) and, in full mode,
  with the oracle are the controls: they must pass, or the harness, not the fit, is at fault.  Each
  family is Holm at ``ALPHA / 2`` (Bonferroni over the two integrators).  The verdict is the reverse
  SDE's; the flow's is reported beside (it detects the learned score's error at these sizes, see
  :func:`end_to_end`).  Full mode only: at the quick mode's 3e4 training samples the learned
  score's tails are undetermined.  The learned fields are
  called through :class:`_Tabulated` (a cubic spline of the field over a fine grid, rebuilt at
  every time the integrator asks for; the field itself outside the grid): 10x faster than
  evaluating the 105 basis functions at every particle, and its deviation from the field,
  measured on the particles and reported, is ~1e-8 of the field's size.
"""

from __future__ import annotations

import functools

import numpy as np

from .registry import CaseResult, register

SECTION = "Learning"
PROCESS, DATA = "vp-linear", "gmm1d-bimodal"
SEED = 0
ALPHA = 0.01
OBJECTIVES = ("dsm", "ism", "ssm", "esm", "am", "cfm")
QUICK_OBJECTIVES = ("dsm", "am")
N_FULL, N_QUICK = 200_000, 30_000
#: The start of the window and of the comparison: samples end at q_{T0}.
T0 = 0.01
#: End-to-end particles (quick, full) and steps of each integrator.
E2E_N = {True: 20_000, False: 100_000}
E2E_STEPS = 200
#: Field -> the reference estimator whose excess sets the allowance.
REFERENCE = {"score": "dsm", "velocity": "cfm"}

#: Mean excess :math:`\bar D_{fit} - \bar D_{oracle}` of each estimator over seeds 0-2, (objective, n) -> excess,
#: measured with ``fit_problem`` on vp-linear x gmm1d-bimodal (2026-12-01; the default basis, the pilot
#: mixture's log-density, 12 bumps and a quadratic in x, times 6 Chebyshev polynomials and the inverse
#: spread, 105 parameters; Action Matching on it centred, 16 points per path; ridges by the upper-bound rule;
#: oracle 4e-8 for scores (for sliced score matching the vector model's, Rademacher projections, on the basis with
#: the pilot's score components), 2.4e-4 for velocities):
#:
#: * DSM, n = 30000: 8.23e-4, 5.15e-4, 6.01e-4; n = 200000: 6.30e-5, 1.70e-4, 1.00e-4.
#: * CFM, n = 30000: 9.40e-3, 4.92e-3, 5.26e-3; n = 200000: 1.03e-3, 8.52e-4, 7.43e-4.
#: * AM, n = 30000: 2.78e-2, 6.65e-2, 6.40e-2; n = 200000: 8.69e-3, 4.54e-2, 8.67e-3 (about 20x CFM's; seed 1
#:   at 2e5 is 2.2x the mean).
#: * ISM, n = 30000: 1.24e-1, 5.45e-2, 6.76e-2; n = 200000: 4.64e-3, 6.58e-3, 1.78e-2 (about 90x DSM's).
#: * SSM, n = 30000: 1.01e-1, 4.94e-2, 4.85e-2; n = 200000: 2.26e-2, 7.28e-3, 7.15e-3 (about 100x DSM's; seed 0
#:   at 2e5 is 1.8x the mean).  With Gaussian projections, on the gradient model's basis and against its oracle,
#:   it was 1.77e-1 and 2.76e-2.
#: * ESM regresses on the exact score: it is held to DSM's allowance (its own: 3.2e-9, 1.4e-9, 1.7e-9 at
#:   30000; 2.1e-10, 6.0e-10, 1.5e-10 at 200000).
#:
#: Each objective is held to its *own* measured excess (a check that its estimator still behaves as
#: measured: a wrong factor or sign in an objective moves it by orders of magnitude), and the summary
#: says how many times the reference estimator's (DSM for scores, CFM for velocities) it is.
EXCESS = {
    ("dsm", N_QUICK): 6.46e-4, ("dsm", N_FULL): 1.11e-4,
    ("esm", N_QUICK): 6.46e-4, ("esm", N_FULL): 1.11e-4,
    ("cfm", N_QUICK): 6.53e-3, ("cfm", N_FULL): 8.76e-4,
    ("am", N_QUICK): 5.28e-2, ("am", N_FULL): 2.09e-2,
    ("ism", N_QUICK): 8.21e-2, ("ism", N_FULL): 9.67e-3,
    ("ssm", N_QUICK): 6.61e-2, ("ssm", N_FULL): 1.24e-2,
}
#: Margin on the measured mean excess: the largest excess seen over the seeds was 1.2x to 2.2x the mean
#: (ESM's own, far below its allowance, aside), so 3x leaves at least 1.3x headroom over the worst seed.
EXCESS_MARGIN = 3.0
#: How far below the oracle a fit may come (round-off and the oracle's 1e-10 ridge).
ORACLE_SLACK = 1e-6

_TITLES = {
    "dsm": "denoising score matching",
    "ism": "implicit score matching",
    "ssm": "sliced score matching",
    "esm": "explicit score matching (on the exact score)",
    "am": "Action Matching",
    "cfm": "conditional flow matching",
}


def n_samples(quick: bool) -> int:
    """Training samples of the objective cases."""
    return N_QUICK if quick else N_FULL


@functools.lru_cache(maxsize=16)
def _fit(objective: str, n: int):
    from ..learned.recipes import fit_problem

    return fit_problem(objective, PROCESS, DATA, n, seed=SEED)


def allowed_error(objective: str, n: int, oracle: float) -> float:
    r"""The largest integrated error that passes: the oracle's plus :data:`EXCESS_MARGIN` times the objective's measured excess."""
    return float(oracle) + EXCESS_MARGIN * EXCESS[(objective, int(n))]


def _truth():
    from .. import problems
    from ..analytic import ExactMarginals

    return ExactMarginals(problems.process(PROCESS), problems.data(DATA))


def _error_figure(fit):
    import matplotlib.pyplot as plt

    e, o = fit.errors, fit.oracle_errors
    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    lo = np.maximum(e.relative - 1.96 * e.standard_error, e.relative * 1e-3)
    hi = e.relative + 1.96 * e.standard_error
    band = "95% band" if np.any(e.standard_error > 0) else "95% band: empty, quadrature evaluation"
    line = ax.loglog(e.times, e.relative, "-", lw=1.6, label=f"{fit.objective}, n = {fit.n} ({band})")[0]
    ax.fill_between(e.times, lo, hi, color=line.get_color(), alpha=0.25, lw=0)
    ax.loglog(o.times, o.relative, "--", color="k", lw=1.2, label="oracle (same basis, exact field)")
    name = "relative Fisher divergence D(t)" if fit.kind == "score" else "relative velocity error D(t)"
    ax.set(xlabel="t", ylabel=name,
           title=f"{fit.objective} on {fit.process} x {fit.data}: integrated {e.integrated:.2e}, oracle {o.integrated:.2e}")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return fig


_COLUMNS = ["objective", "field", "n", "parameters", "ridge", "integrated error", "se", "oracle", "excess",
            "allowed", "x oracle", "fit time (s)", "verdict"]


def _objective_case(objective: str, quick: bool) -> CaseResult:
    n = n_samples(quick)
    if quick and objective not in QUICK_OBJECTIVES:
        return CaseResult(True, f"Skipped in quick mode (only {' and '.join(QUICK_OBJECTIVES)} run, at n = {N_QUICK}); "
                                f"the full report fits {objective} at n = {N_FULL}.", metrics={"skipped": True})
    fit = _fit(objective, n)
    e, o = fit.errors, fit.oracle_errors
    finite = bool(np.all(np.isfinite(e.relative)) and np.isfinite(e.integrated) and np.isfinite(o.integrated))
    allowed = allowed_error(objective, n, o.integrated)
    within = finite and e.integrated <= allowed
    above_oracle = e.integrated >= o.integrated * (1.0 - ORACLE_SLACK)
    passed = bool(finite and within and above_oracle)
    ratio = e.integrated / o.integrated if o.integrated > 0 else float("inf")
    ref = REFERENCE[fit.kind]
    metric = "s_t^2-weighted relative Fisher divergence" if fit.kind == "score" else "integrated relative velocity error"
    if not finite:
        verdict = "non-finite errors"
    elif not above_oracle:
        verdict = f"BELOW the oracle ({o.integrated:.3e}): the oracle is not the basis's best, the comparison is void"
    elif within:
        verdict = f"within the allowance {allowed:.2e} (oracle + {EXCESS_MARGIN:g} x its measured excess at this n)"
    else:
        verdict = (f"ABOVE the allowance {allowed:.2e} (oracle + {EXCESS_MARGIN:g} x its measured excess "
                   f"{EXCESS[(objective, n)]:.1e}): the estimator no longer behaves as measured")
    versus = (e.integrated - o.integrated) / EXCESS[(ref, n)]
    if objective != ref:
        verdict += f"; its excess over the oracle is {versus:.1f}x {ref}'s mean at this n"
    row = [objective, fit.kind, n, fit.parameters, fit.field.rho, e.integrated, e.integrated_se, o.integrated,
           e.integrated - o.integrated, allowed, ratio, fit.fit_time_s, "ok" if passed else "FAIL"]
    return CaseResult(
        passed,
        f"{_TITLES[objective]} on {PROCESS} x {DATA} (n = {n}{', quick mode' if quick else ''}): {metric} "
        f"{e.integrated:.3e} against the oracle's {o.integrated:.3e} ({ratio:.1f}x), {verdict}.",
        metrics={"n": n, "integrated": e.integrated, "integrated_se": e.integrated_se, "oracle": o.integrated,
                 "allowed": allowed, "ratio_to_oracle": ratio, "max_relative": float(np.max(e.relative)),
                 "ridge": fit.field.rho, "fit_time_s": fit.fit_time_s, "oracle_time_s": fit.oracle_time_s},
        table=(_COLUMNS, [row]),
        figures=[("relative-error", _error_figure(fit))],
    )


def _register_objective(objective: str) -> None:
    @register(SECTION, objective, f"{objective}: {_TITLES[objective]} against the exact field and the oracle")
    def run(quick: bool) -> CaseResult:
        return _objective_case(objective, quick)


for _objective in OBJECTIVES:
    _register_objective(_objective)

#: Times of the learned-vs-true figure.
FIELD_TIMES = (0.01, 0.05, 0.2, 1.0)


@register(SECTION, "fields", "Learned vs true fields: the DSM score and the AM velocity")
def fields(quick: bool) -> CaseResult:
    import matplotlib.pyplot as plt

    truth = _truth()
    n = n_samples(quick)
    fits = {"score": _fit("dsm", n), "velocity": _fit("am", n)}
    fig, axs = plt.subplots(2, len(FIELD_TIMES), figsize=(3.2 * len(FIELD_TIMES), 6.0), constrained_layout=True)
    rows, finite = [], True
    for i, (kind, fit) in enumerate(fits.items()):
        exact = truth.score if kind == "score" else truth.velocity
        for j, t in enumerate(FIELD_TIMES):
            q = truth.at(t)
            sd = np.sqrt(q.covs[:, 0, 0])
            lo, hi = float(np.min(q.means[:, 0] - 6 * sd)), float(np.max(q.means[:, 0] + 6 * sd))
            x = np.linspace(lo, hi, 801)[:, None]
            got, want, dens = fit.field(x, t)[:, 0], np.asarray(exact(x, t))[:, 0], q.pdf(x)
            w = dens / dens.sum()
            rel = float(np.dot(w, (got - want) ** 2) / np.dot(w, want**2))
            ora = float(np.dot(w, (fit.oracle(x, t)[:, 0] - want) ** 2) / np.dot(w, want**2))
            finite &= bool(np.all(np.isfinite(got)))
            rows.append([fit.objective, kind, t, rel, ora])
            ax = axs[i, j]
            mass = dens > 1e-3 * dens.max()
            ax.fill_between(x[:, 0], 0, 1, where=mass, color="0.9", transform=ax.get_xaxis_transform(), lw=0,
                            label="q_t > 1e-3 max")
            ax.plot(x[:, 0], want, "k-", lw=1.4, label=f"exact {kind}")
            ax.plot(x[:, 0], got, "--", lw=1.4, color="C0" if kind == "score" else "C3", label=f"{fit.objective} (n = {n})")
            span = float(np.max(np.abs(want)))
            ax.set_ylim(-1.5 * span, 1.5 * span)  # a diverging fit is clipped here; its D says by how much
            ax.set_title(f"{kind}, t = {t:g}: D = {rel:.1e}", fontsize=9)
            ax.set_xlabel("x")
            if j == 0:
                ax.legend(fontsize=7)
    return CaseResult(
        finite,
        f"The DSM score and the AM velocity (n = {n}) against the exact fields at t = "
        f"{', '.join(f'{t:g}' for t in FIELD_TIMES)}; relative errors on the q_t-weighted line from "
        f"{min(r[3] for r in rows):.1e} to {max(r[3] for r in rows):.1e}. Outside the shaded mass the learned "
        "fields leave the exact ones (they swing at the edge of the bumps and fall to 0 beyond), where the exact score "
        "keeps growing linearly; near t = 1 the exact VP velocity is close to 0, so its relative error there is large "
        "for any fit.",
        metrics={"relative": {f"{r[0]}@{r[2]:g}": r[3] for r in rows}},
        table=(["objective", "field", "t", "relative error", "oracle"], rows),
        figures=[("learned-vs-true", fig)],
    )


class _Tabulated:
    """A 1D field ``f(x, t)``, called by cubic splines of it on ``points`` nodes of ``[lo, hi]`` (built per ``t``).

    Points outside ``[lo, hi]`` get the field itself.  The spline of a smooth field on a grid of
    step ``h`` is off by :math:`O(h^4)`; :meth:`deviation` measures it.
    """

    def __init__(self, field, lo: float = -10.0, hi: float = 10.0, points: int = 4001):
        self.field, self.lo, self.hi = field, float(lo), float(hi)
        self.grid = np.linspace(self.lo, self.hi, int(points))
        self.__name__ = self.__qualname__ = f"tabulated({getattr(field, 'objective', 'field')})"

    def __call__(self, x, t):
        from scipy.interpolate import CubicSpline

        x = np.asarray(x, dtype=float)
        spline = CubicSpline(self.grid, np.asarray(self.field(self.grid[:, None], float(t)))[:, 0])
        out = spline(x[:, 0])[:, None]
        far = (x[:, 0] < self.lo) | (x[:, 0] > self.hi)
        if np.any(far):
            out[far] = self.field(x[far], float(t))
        return out

    def deviation(self, x, times) -> float:
        """The largest ``|spline - field|`` over ``x`` and ``times``, relative to the field's rms there."""
        worst = 0.0
        for t in times:
            a, b = self(x, t), np.asarray(self.field(x, float(t)))
            worst = max(worst, float(np.max(np.abs(a - b)) / np.sqrt(np.mean(b**2))))
        return worst


_E2E_COLUMNS = ["score", "integrator", "steps", "n", "verdict", "min Holm p", "rejected tests", "cdf distance d",
                "variance / exact", "escaped", "min Holm p without escaped", "wall (s)"]


def _family(y, q, level):
    from ..stats import compare_to_mixture

    fam = compare_to_mixture(y, q, alpha=level, seed=SEED)
    rejected = [t.name for t, r in zip(fam.tests, fam.holm.rejected) if r]
    return fam, rejected


@register(SECTION, "end-to-end", "End to end: the DSM-learned score as a sampler, against q_t0")
def end_to_end(quick: bool) -> CaseResult:
    from .. import problems
    from ..particles.fields import ExactField, flow_velocity
    from ..particles.flow import integrate_flow
    from ..particles.reverse import simulate_reverse
    from ..stats.gof import mixture_moments

    if quick:
        return CaseResult(True, "Skipped in quick mode: a DSM fit on the quick mode's 3e4 samples leaves its tails "
                                "undetermined (43 of 2e4 reverse-SDE particles escaped), so the end-to-end check runs "
                                f"in the full report (fit n = {N_FULL}, {E2E_N[False]} particles).", metrics={"skipped": True})
    process, data = problems.process(PROCESS), problems.data(DATA)
    truth = _truth()
    T = float(process.T)
    q0 = truth.at(T0)
    n = E2E_N[bool(quick)]
    fit = _fit("dsm", n_samples(quick))
    x_T = truth.sample(n, T, np.random.default_rng([SEED, 11]))
    level = ALPHA / 2
    # outside the range holding all but 1e-9 of q_t0's mass a particle has escaped (count expected ~1e-4)
    sd = np.sqrt(q0.covs[:, 0, 0])
    lo, hi = float(np.min(q0.means[:, 0] - 6.1 * sd)), float(np.max(q0.means[:, 0] + 6.1 * sd))
    var0 = mixture_moments(q0).var
    learned, oracle = _Tabulated(fit.field), _Tabulated(fit.oracle)
    probe = np.concatenate([truth.sample(1000, t, np.random.default_rng([SEED, 12])) for t in (T0, 0.1, T)])
    tab_dev = max(f.deviation(probe, (T0, 0.02, 0.1, T)) for f in (learned, oracle))
    # quick mode keeps the compiled exact-score control only: the oracle's runs cost as much as the fit's
    scores = [("exact", ExactField(process, data))] + ([] if quick else [("oracle", oracle)]) + [("dsm", learned)]
    rows, verdicts, metrics, kept = [], {}, {}, {}
    for label, score in scores:
        for method in ("reverse-heun", "flow-heun"):
            if method == "reverse-heun":
                sol = simulate_reverse(process, score, x_T, times=(T0,), method="heun", steps=E2E_STEPS, seed=SEED + 5)
            else:
                sol = integrate_flow(process, flow_velocity(process, score), x_T, t_start=T, times=(T0,), method="heun",
                                     steps=E2E_STEPS)
            y = sol.samples[-1]
            fam, rejected = _family(y, q0, level)
            inside = (y[:, 0] >= lo) & (y[:, 0] <= hi)
            escaped = int(np.count_nonzero(~inside))
            trimmed = float(np.min(_family(y[inside], q0, level)[0].holm.adjusted)) if escaped else float("nan")
            key = f"{label}/{method}"
            if label in ("dsm", "exact"):
                kept[key] = y[:, 0]
            verdicts[key] = fam.passed
            metrics[key] = {"passed": fam.passed, "min_holm_p": float(np.min(fam.holm.adjusted)), "escaped": escaped,
                            "variance_ratio": float(np.var(y) / var0), "rejected": rejected}
            rows.append([label, method, sol.steps, n, "pass" if fam.passed else "REJECT", float(np.min(fam.holm.adjusted)),
                         ", ".join(rejected) or "-", fam.distance.sqrt(), float(np.var(y) / var0), escaped, trimmed,
                         sol.wall_time_s])
    controls = all(v for k, v in verdicts.items() if not k.startswith("dsm/"))
    ok = [k.split("/")[1] for k, v in verdicts.items() if k.startswith("dsm/") and v]
    bad = [r for r in rows if r[0] == "dsm" and r[4] != "pass"]
    # the verdict is the reverse SDE's: its noise forgives a score error that the deterministic flow
    # carries to the end (measured: fit n = 2e5, 1e5 particles: reverse SDE passes, flow rejects by KS/AD;
    # fit n = 1e6: the same, flow min Holm p 4e-4), which the summary reports beside
    passed = bool(controls and not any(r[1] == "reverse-heun" for r in bad))
    what = (f"the DSM-learned score (n = {fit.n}, integrated error {fit.errors.integrated:.2e}, oracle "
            f"{fit.oracle_errors.integrated:.2e}) carries {n} exact draws of q_T down to t0 = {T0:g} "
            f"({E2E_STEPS} Heun steps)")
    if passed and not bad:
        summary = f"End to end, {what}: both the reverse SDE and the probability-flow ODE pass the Holm family against q_t0 at alpha = {ALPHA:g}."
    elif passed:
        r = bad[0]
        summary = (f"End to end, {what}: the reverse SDE passes the Holm family against q_t0 at alpha = {ALPHA:g}; the "
                   f"probability-flow ODE detects the learned score's error (min Holm p {r[5]:.2g}: {r[6]}; variance "
                   f"{r[8]:.3g}x the exact), which the flow carries to t0 without noise to forgive it; the controls pass.")
    else:
        def where(r) -> str:
            if r[9] == 0:
                return "no particle outside it: the bulk is off"
            if r[10] > level:
                return f"without them min Holm p {r[10]:.2g}: only the tails are off"
            return f"without them min Holm p {r[10]:.2g}: the bulk is off too"

        parts = [f"{r[1]} REJECTED (min Holm p {r[5]:.2g}: {r[6]}; variance {r[8]:.3g}x the exact; {r[9]} particle(s) "
                 f"outside [{lo:.1f}, {hi:.1f}], which holds all but 1e-9 of q_t0; {where(r)})" for r in bad]
        summary = f"End to end, {what}: " + "; ".join(parts)
        if ok:
            summary += f"; {', '.join(ok)} passes"
        if not controls:
            summary += "; a CONTROL (exact or oracle score) rejects too, so the harness is at fault"
        else:
            summary += (f"; the {'exact-score and oracle controls pass' if not quick else 'exact-score control passes'}, "
                        "so the learned score is at fault")
            if any(r[9] > 0 for r in bad):
                summary += (" (the escaped particles: at the edge of its bumps the learned score swings and beyond them "
                            "falls to 0, where the exact one keeps pulling in, and the reverse dynamics push them out)")
        summary += "."
    metrics.update({"n": n, "fit_n": fit.n, "steps": E2E_STEPS, "t0": T0, "alpha_per_family": level,
                    "tabulation_deviation": tab_dev, "controls_pass": controls})
    return CaseResult(passed, summary, metrics=metrics, table=(_E2E_COLUMNS, rows),
                      figures=[("histograms", _e2e_figure(kept, q0, lo, hi))])


def _e2e_figure(samples: dict, q0, lo: float, hi: float):
    """Histograms of the end-to-end particles against the exact q_t0, linear and log density."""
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    edges = np.linspace(lo, hi, 121)
    x = np.linspace(lo, hi, 801)[:, None]
    for ax, log in zip(axs, (False, True)):
        for k, (key, y) in enumerate(samples.items()):
            far = int(np.count_nonzero((y < lo) | (y > hi)))
            ax.hist(y, bins=edges, density=True, histtype="step", lw=1.1, color=f"C{k}",
                    label=f"{key} ({far} outside the axis)")
        ax.plot(x[:, 0], q0.pdf(x), "k-", lw=1.0, label=f"exact q_t0, t0 = {T0:g}")
        ax.set(xlabel="x", ylabel="density", yscale="log" if log else "linear")
        if log:
            ax.set_ylim(1e-6, None)
    axs[0].legend(fontsize=7)
    return fig
