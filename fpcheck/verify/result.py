r"""What a verdict holds, and how it reads: per-statistic ladders, the goodness-of-fit family, a diagnosis in words.

Effect sizes are written relative to the quantity they belong to, with 95% normal intervals
(:math:`\pm 1.96\,\mathrm{se}`): a mean as a fraction of the axis's standard deviation, a variance
as a fraction of itself, a mode weight or a tail mass as the probability it is, and a distance as the
root-mean-square cdf error :math:`d = \sqrt{d^2}` in probability units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..stats.family import FamilyResult
from .ladder import FloorFit
from .statistics import Estimate

__all__ = ["StatisticLadder", "SamplerVerdict", "describe_effect", "Z95"]

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile, the width of every interval in the words."""


def describe_effect(kind: str, label: str, truth: float, value: float, se: float, scale: float | None = None) -> str:
    r"""One effect in words: ``"variance of x is 3.1% +- 0.4% too large (0.2617 vs 0.2539)"``.

    Parameters
    ----------
    kind, label, truth : as in :class:`~fpcheck.verify.statistics.Estimate`
    value, se : float
        The bias (or floor) and its standard error.
    scale : float, optional
        The standard deviation of the axis, for a mean.
    """
    pm = Z95 * se
    if kind == "distance":
        lo, hi = np.sqrt(max(value - pm, 0.0)), np.sqrt(max(value + pm, 0.0))
        return f"{label} is off: rms cdf error d = {np.sqrt(max(value, 0.0)):.3g} (95% interval [{lo:.3g}, {hi:.3g}])"
    word = "too large" if value > 0 else "too small"
    if kind == "mean" and scale:
        return (f"{label} is off by {value:+.4g} +- {pm:.2g}, {100 * value / scale:+.2f}% +- {100 * pm / scale:.2f}% "
                f"of a standard deviation ({truth + value:.5g} vs {truth:.5g})")
    if kind == "variance" and truth > 0:
        return f"{label} is {100 * abs(value) / truth:.2f}% +- {100 * pm / truth:.2f}% {word} ({truth + value:.5g} vs {truth:.5g})"
    if kind in ("weight", "tail"):
        return f"{label} is {100 * (truth + value):.3f}% +- {100 * pm:.3f}% instead of {100 * truth:.3f}%"
    return f"{label} is {word} by {abs(value):.4g} +- {pm:.2g} ({truth + value:.5g} vs {truth:.5g})"


@dataclass(frozen=True)
class StatisticLadder:
    """One statistic along the ladder: its bias and standard error per rung, and the floor test.

    Attributes
    ----------
    name, kind, label : str
    truth : float
    bias, se : arrays (L,)
    fit : FloorFit
    adjusted_pvalue : float
        The floor test's p-value after Holm's adjustment across every statistic.
    rejected : bool
        Whether Holm rejects "no floor" for this statistic at the verdict's alpha.
    scale : float or None
        The standard deviation of the axis (means), for the words.
    """

    name: str
    kind: str
    label: str
    truth: float
    bias: np.ndarray
    se: np.ndarray
    fit: FloorFit
    adjusted_pvalue: float
    rejected: bool
    scale: float | None = None

    @property
    def signed(self) -> bool:
        """False for a distance (one-sided)."""
        return self.kind != "distance"

    def floor_words(self) -> str:
        """The floor in words: what the statistic converges to, with its 95% interval."""
        return describe_effect(self.kind, self.label, self.truth, self.fit.floor, self.fit.floor_se, self.scale)

    def top_words(self) -> str:
        """The bias at the largest step count in words."""
        return describe_effect(self.kind, self.label, self.truth, float(self.bias[-1]), float(self.se[-1]), self.scale)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "truth": self.truth,
            "bias": [float(b) for b in self.bias],
            "se": [float(s) for s in self.se],
            "order": self.fit.order,
            "floor": self.fit.floor,
            "floor_se": self.fit.floor_se,
            "floor_pvalue": self.fit.pvalue,
            "floor_adjusted_pvalue": self.adjusted_pvalue,
            "floor_rejected": self.rejected,
        }


def estimates_to_ladders(rungs: list[list[Estimate]]):
    """Group per-rung estimates by statistic name: ``{name: (Estimate of rung 0, bias (L,), se (L,))}``."""
    first = rungs[0]
    out = {}
    for j, est in enumerate(first):
        bias = np.array([r[j].bias for r in rungs])
        se = np.array([r[j].se for r in rungs])
        out[est.name] = (est, bias, se)
    return out


@dataclass
class SamplerVerdict:
    r"""The verdict on a sampler, a model, a score or a velocity field.

    Attributes
    ----------
    verdict : {"pass", "fail"}
    kind : {"sampler", "model", "score", "velocity"}
    target : str
        The name of what was verified.
    truth : str
        ``process x data``.
    t_end : float
        The time whose marginal is the truth.
    alpha : float
    seed : int
    steps : list of int
        The ladder (one entry ``[0]`` for a model).
    n : list of int
        Samples per rung.
    statistics : list of StatisticLadder
    gof : FamilyResult or None
        The Holm family at the largest step count.
    order : float or None
        The observed order of convergence (module :mod:`fpcheck.verify.sampler`), ``None`` when no
        bias is resolved on the ladder.
    detection_steps : int or None
        Where the top rung is still measurably biased: the step count from which the fitted bias
        falls below detection at the top rung's sample size.
    diagnosis : list of str
        Plain sentences.
    sampler_seconds, fpcheck_seconds : float
        Wall time inside the user's callable, and fpcheck's own (truth, statistics, report).
    extra : dict
        Kind-specific results (per-t errors of a score or velocity).
    """

    verdict: str
    kind: str
    target: str
    truth: str
    t_end: float
    alpha: float
    seed: int
    steps: list[int]
    n: list[int]
    statistics: list[StatisticLadder]
    gof: FamilyResult | None
    order: float | None
    detection_steps: int | None
    diagnosis: list[str]
    sampler_seconds: float = 0.0
    fpcheck_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def table(self) -> str:
        """A plain-text report: the ladder table, the floor tests, the top-rung family, the verdict and diagnosis."""
        lines = [f"{self.kind} {self.target} against {self.truth} at t = {self.t_end:g} (alpha = {self.alpha:g}, seed = {self.seed})"]
        if self.statistics and len(self.steps) > 1:
            head = "".join(f"{k:>12}" for k in self.steps)
            lines.append(f"{'bias / se at steps':<22}{head}   order       floor +- se    Holm p")
            for s in self.statistics:
                zs = "".join(f"{b / e:>12.2f}" for b, e in zip(s.bias, s.se))
                mark = "  FLOOR" if s.rejected else ""
                lines.append(f"{s.name:<22}{zs}   {s.fit.order:5.2f}  {s.fit.floor:>+10.3g} +- {s.fit.floor_se:<8.2g}"
                             f"{s.adjusted_pvalue:>8.3g}{mark}")
            lines.append("n per rung: " + ", ".join(str(v) for v in self.n))
        elif self.statistics:
            lines.append(f"{'statistic':<22}{'bias':>12}{'se':>10}{'z':>8}")
            for s in self.statistics:
                lines.append(f"{s.name:<22}{s.bias[-1]:>+12.4g}{s.se[-1]:>10.3g}{s.bias[-1] / s.se[-1]:>8.2f}")
        for key, value in self.extra.get("table", {}).items():
            lines.append(f"{key}: {value}")
        if self.gof is not None:
            where = f"at steps = {self.steps[-1]}" if len(self.steps) > 1 else (
                "of the pushed-forward density" if self.kind == "velocity" else "of the samples")
            lines.append(f"goodness of fit {where}, n = {self.gof.n}:")
            lines += ["  " + line for line in self.gof.table().splitlines()]
        lines.append(f"VERDICT: {self.verdict.upper()}")
        lines += [f"  - {d}" for d in self.diagnosis]
        lines.append(f"time: {self.kind} {self.sampler_seconds:.1f} s, fpcheck {self.fpcheck_seconds:.1f} s")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        """A JSON-ready dictionary with a top-level ``"verdict"``."""
        out = {
            "verdict": self.verdict,
            "kind": self.kind,
            "target": self.target,
            "truth": self.truth,
            "t_end": self.t_end,
            "alpha": self.alpha,
            "seed": self.seed,
            "steps": list(self.steps),
            "n": list(self.n),
            "order": self.order,
            "detection_steps": self.detection_steps,
            "diagnosis": list(self.diagnosis),
            "sampler_seconds": self.sampler_seconds,
            "fpcheck_seconds": self.fpcheck_seconds,
            "statistics": [s.to_dict() for s in self.statistics],
        }
        if self.gof is not None:
            out["gof"] = {
                "passed": self.gof.passed,
                "n": self.gof.n,
                "tests": [
                    {"name": t.name, "statistic": t.statistic, "pvalue": t.pvalue, "holm_pvalue": float(a), "rejected": bool(r)}
                    for t, a, r in zip(self.gof.tests, self.gof.holm.adjusted, self.gof.holm.rejected)
                ],
                "distance": {"value": self.gof.distance.value, "se": self.gof.distance.se},
            }
        out.update({k: v for k, v in self.extra.items() if k != "table"})
        return out
