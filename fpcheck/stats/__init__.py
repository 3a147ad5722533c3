"""Calibrated statistics for checking samples against an exact truth.

* :mod:`~fpcheck.stats.gof`: Kolmogorov-Smirnov and Anderson-Darling tests of PIT values
  :math:`u = F(x)`, z-tests of the mean and the variance with exact reference moments, interval nulls
  for references with an error bound;
* :mod:`~fpcheck.stats.multiple`: Holm's step-down procedure;
* :mod:`~fpcheck.stats.distance`: the unbiased cdf distance :math:`d^2 = \\int (G - F)^2 dF` and its
  standard error, an effect size;
* :mod:`~fpcheck.stats.projections`: tests along fixed directions in :math:`d > 1`;
* :mod:`~fpcheck.stats.binned`: the chi-square test against a grid truth's cell probabilities;
* :mod:`~fpcheck.stats.family`: all of them against an exact Gaussian mixture, combined by Holm.
"""

from __future__ import annotations

from .binned import ReferenceAccuracyWarning, binned_test, grid_cells
from .distance import Distance, cdf_distance
from .family import FamilyResult, compare_to_mixture
from .gof import (
    Moments,
    TestResult,
    ad_sf,
    anderson_darling_test,
    ks_sf,
    ks_test,
    mean_test,
    mixture_moments,
    variance_test,
)
from .multiple import HolmResult, holm
from .projections import directions, projected_pit, projection_tests

__all__ = [
    "TestResult",
    "Moments",
    "ks_test",
    "anderson_darling_test",
    "ad_sf",
    "ks_sf",
    "mean_test",
    "variance_test",
    "mixture_moments",
    "HolmResult",
    "holm",
    "Distance",
    "cdf_distance",
    "directions",
    "projected_pit",
    "projection_tests",
    "binned_test",
    "grid_cells",
    "ReferenceAccuracyWarning",
    "FamilyResult",
    "compare_to_mixture",
]
