r"""The verification section: the sampler zoo's verdicts, one case per data set.

Every zoo sampler (:mod:`fpcheck.verify.zoo`: four correct VP samplers and the mutants modelled on
real bugs) is verified by :func:`~fpcheck.verify.verify_sampler` on ``vp-linear`` with the default
ladder (25 to 800 steps) at a fixed seed.  The case passes when every correct sampler gets
``pass`` and every mutant ``fail``.  The table shows, per sampler, the verdict, the observed order,
the statistic with the smallest floor p-value (its floor and Holm p), the goodness-of-fit family's
smallest Holm p at the top rung, and the first sentence of the diagnosis that says what is off;
the figures are the convergence plots (bias with 95% intervals against the step count).

Sample sizes are below the verdict's default (600000 per rung) so that the section runs in a few
minutes; the mutants' floors are tens of standard errors at the default n, still several here.  In
quick mode each case runs the four correct samplers and one mutant of each (:data:`QUICK_MUTANTS`) on
a ladder up to 400 steps at 10000 samples per rung, without the path check, and says so.
"""

from __future__ import annotations

from .registry import CaseResult, register

SECTION = "Verification"
ALPHA = 0.01
SEED = 7
QUICK_MUTANTS = ("reverse-em-drift-sign", "pf-heun-score-factor-1", "ddpm-schedule-mismatch", "ddim-eps-over-variance")
QUICK_STEPS = (25, 50, 100, 200, 400)
_COLUMNS = ["sampler", "correct", "verdict", "order", "strongest floor", "floor", "floor Holm p", "GOF min Holm p", "diagnosis"]


def _zoo_case(data_name: str, n: int, quick: bool) -> CaseResult:
    import numpy as np

    from .. import problems
    from ..verify import zoo
    from ..verify.plots import plot_verdict
    from ..verify.sampler import DEFAULT_STEPS, verify_sampler

    process = problems.process("vp-linear")
    dim = problems.data(data_name).dim
    rows, figures, right, verdicts = [], [], 0, {}
    names = [k for k in zoo.ZOO if not (dim == 1 and k == "ddim-swapped-axes")]
    steps = QUICK_STEPS if quick else DEFAULT_STEPS
    if quick:
        names = [k for k in names if k in zoo.CORRECT or k in QUICK_MUTANTS]
        n = 10_000
    for name in names:
        sampler = zoo.zoo_sampler(name, process)
        v = verify_sampler(sampler, process, data_name, steps=steps, n=n, alpha=ALPHA, seed=SEED, name=name, path=not quick)
        ok = v.passed == sampler.correct
        right += ok
        top = min(v.statistics, key=lambda s: s.adjusted_pvalue)
        lead = "as steps" if not v.passed else "at steps ="
        what = next((d for d in v.diagnosis if d.startswith(lead)), v.diagnosis[0])
        rows.append([name, "yes" if sampler.correct else "no", v.verdict, v.order if v.order is not None else float("nan"),
                     top.name, top.fit.floor, top.adjusted_pvalue, float(np.min(v.gof.holm.adjusted)), what])
        verdicts[name] = v.verdict
        figures.append((name, plot_verdict(v, panels=3)))
    passed = right == len(names)
    return CaseResult(
        passed,
        f"{right} of {len(names)} zoo samplers{' (quick mode: the correct ones and one mutant each)' if quick else ''} get "
        f"the right verdict on vp-linear x {data_name} (n = {n} per rung, ladder {steps[0]}..{steps[-1]}, "
        f"alpha = {ALPHA:g}, seed {SEED}): correct ones pass, mutants fail.",
        metrics={"n": n, "verdicts": verdicts},
        table=(_COLUMNS, rows),
        figures=figures,
    )


@register(SECTION, "zoo-1d", "The sampler zoo's verdicts on gmm1d-bimodal")
def zoo_1d(quick: bool) -> CaseResult:
    return _zoo_case("gmm1d-bimodal", 20_000, quick)


@register(SECTION, "zoo-2d", "The sampler zoo's verdicts on gmm2d-aniso")
def zoo_2d(quick: bool) -> CaseResult:
    return _zoo_case("gmm2d-aniso", 40_000, quick)
