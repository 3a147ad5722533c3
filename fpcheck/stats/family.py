r"""The family of tests of a sample against an exact Gaussian mixture, combined by Holm's method.

* **1D** :class:`~fpcheck.distributions.GaussianMixture`: the mean z-test, the variance z-test (exact
  4th moment), Anderson-Darling and Kolmogorov-Smirnov on :math:`u = F(x)`; effect size
  :func:`~fpcheck.stats.distance.cdf_distance` of :math:`u`.
* **1D, any law with a** ``cdf``: Anderson-Darling and Kolmogorov-Smirnov only (no closed-form moments).
* :math:`d > 1` **mixture**: a mean and a variance z-test per axis (the axis marginals are 1D mixtures, with
  exact 4th moments), Anderson-Darling
  on the projections of :func:`~fpcheck.stats.projections.directions`, and the binned
  :math:`\chi^2` test when a grid is given.  Effect size: the mean over the directions of the
  per-direction :math:`\hat d^2`, with the mean of their standard errors as its standard error, an
  upper bound (Minkowski: the sd of a mean of correlated estimates is at most the mean of their sds).

All p-values go to :func:`~fpcheck.stats.multiple.holm` at ``alpha``: the family-wise false-alarm
rate is at most ``alpha`` for an exact sampler, whatever the dependence between the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validation as val
from ..errors import InputError
from .binned import binned_test
from .distance import Distance, _distance_sorted
from .gof import TestResult, _ad_sorted, _ks_sorted, mean_test, mixture_moments, variance_test
from .multiple import HolmResult, holm
from .projections import _projection_results
from .rosenblatt import rosenblatt_tests

__all__ = ["FamilyResult", "compare_to_mixture"]


@dataclass(frozen=True)
class FamilyResult:
    """The tests of a sample against an exact law, their Holm combination and an effect size.

    Attributes
    ----------
    tests : tuple of TestResult
    holm : HolmResult
        In the order of ``tests``.
    passed : bool
        True when Holm rejects none of the tests at ``holm.alpha``.
    distance : Distance
        The cdf distance :math:`d^2` (1D) or its mean over the projections (``d > 1``).
    n, dim : int
        Sample size and dimension.
    """

    tests: tuple[TestResult, ...]
    holm: HolmResult
    passed: bool
    distance: Distance
    n: int
    dim: int

    def table(self) -> str:
        """A plain-text table of the tests, Holm's decisions, the effect size and the verdict."""
        name_w = max(12, *(len(t.name) for t in self.tests))
        lines = [
            f"{'test':<{name_w}}  {'statistic':>11}  {'p-value':>9}  {'Holm p':>9}  verdict  detail",
            "-" * (name_w + 53),
        ]
        for t, adj, rej in zip(self.tests, self.holm.adjusted, self.holm.rejected):
            lines.append(
                f"{t.name:<{name_w}}  {t.statistic:>11.4g}  {t.pvalue:>9.3g}  {adj:>9.3g}  "
                f"{'REJECT' if rej else 'ok':<7}  {t.detail}"
            )
        lines.append(str(self.distance))
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(f"{verdict}: Holm at alpha={self.holm.alpha:g}, n={self.n}, dim={self.dim}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _grid_args(grid) -> tuple:
    if not isinstance(grid, (tuple, list)) or len(grid) not in (2, 3):
        raise InputError(
            "grid must be (probabilities, edges) or (probabilities, edges, ref_l1); "
            "fpcheck.stats.grid_cells(density) builds the first two from a GridDensity"
        )
    return tuple(grid) if len(grid) == 3 else (*grid, 0.0)


def compare_to_mixture(
    x, mixture, *, alpha: float = 0.01, seed: int = 0, m: int | None = None, grid=None, rosenblatt: bool = False
) -> FamilyResult:
    r"""Test samples ``x`` against an exact law with the family of the module notes, combined by Holm.

    Parameters
    ----------
    x : array (n, d)
        Samples (in 1D, shape ``(n,)`` is accepted); ``n >= 5``.
    mixture : fpcheck.distributions.GaussianMixture, or in 1D any object with ``cdf(x)``
        The exact law.  In 1D a non-mixture gets only the distribution-free tests (AD, KS).
    alpha : float
        Family-wise significance level.
    seed : int
        Seed of the random projection directions (``d > 1``).
    m : int, optional
        Number of projection directions (``d > 1``); default ``2 d + 2`` (the axes and ``d + 2`` random ones).
    grid : (probabilities, edges) or (probabilities, edges, ref_l1), optional
        Cell probabilities of a grid truth and their edges (see :func:`~fpcheck.stats.binned.grid_cells`);
        adds :func:`~fpcheck.stats.binned.binned_test` to the family.
    rosenblatt : bool
        ``d > 1``: add Anderson-Darling tests of the conditionals of the Rosenblatt transform
        (:func:`~fpcheck.stats.rosenblatt.rosenblatt_tests`), which see a wrong dependence between
        the axes that the marginals and a few projections can miss.

    Returns
    -------
    FamilyResult
    """
    from ..distributions import GaussianMixture

    is_gm = isinstance(mixture, GaussianMixture)
    dim = getattr(mixture, "dim", None)
    if not is_gm and not (dim in (None, 1) and callable(getattr(mixture, "cdf", None))):
        raise InputError(
            f"mixture must be a fpcheck.distributions.GaussianMixture (any dimension) or, for 1D samples, "
            f"an object with a cdf(x) method; got {type(mixture).__name__}"
            + (f" with dim={dim}" if dim is not None else "")
        )
    dim = 1 if dim is None else int(dim)
    x = val.points(x, dim, "x")
    n = x.shape[0]
    if n < 5:
        raise InputError(f"x has {n} sample(s); the family needs at least 5")

    tests: list[TestResult] = []
    if dim == 1:
        u = np.asarray(mixture.cdf(x), dtype=float).ravel()
        if u.shape != (n,) or not np.all(np.isfinite(u)) or u.min() < 0.0 or u.max() > 1.0:
            raise InputError(f"mixture.cdf(x) must return {n} values in [0, 1]; check the object's cdf")
        if is_gm:
            mom = mixture_moments(mixture)
            tests.append(mean_test(x[:, 0], mom.mean, mom.var))
            tests.append(variance_test(x[:, 0], mom.mean, mom.var, mom.central_m4))
        us = np.sort(u)
        tests += [_ad_sorted(us), _ks_sorted(us)]
        distance = _distance_sorted(us, "cdf distance")
    else:
        for i in range(dim):
            mom = mixture_moments(mixture.marginal([i]))
            r = mean_test(x[:, i], mom.mean, mom.var)
            tests.append(TestResult(f"mean z [axis {i}]", r.statistic, r.pvalue, r.detail))
            r = variance_test(x[:, i], mom.mean, mom.var, mom.central_m4)
            tests.append(TestResult(f"variance z [axis {i}]", r.statistic, r.pvalue, r.detail))
        per_dir = _projection_results(x, mixture, m=m, seed=seed)
        tests += [r for r, _ in per_dir]
        dists = [_distance_sorted(us) for _, us in per_dir]
        distance = Distance(
            float(np.mean([dd.value for dd in dists])),
            float(np.mean([dd.se for dd in dists])),
            f"mean projected cdf distance ({len(dists)} directions)",
        )
        if rosenblatt:
            tests += rosenblatt_tests(x, mixture)[1:]  # column 0 is the marginal of axis 0, tested above
    if grid is not None:
        probabilities, edges, ref_l1 = _grid_args(grid)
        tests.append(binned_test(x, probabilities, edges, ref_l1=ref_l1))
    result = holm([t.pvalue for t in tests], alpha)
    return FamilyResult(tuple(tests), result, not result.any_rejected, distance, n, dim)
