r"""Multiple testing: Holm's step-down procedure.

Holm (1979), "A simple sequentially rejective multiple test procedure", *Scand. J. Statist.* 6:
with the p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`, reject :math:`H_{(1)}, \dots, H_{(k)}`
for the largest :math:`k` such that :math:`p_{(j)} \le \alpha/(m - j + 1)` for every :math:`j \le k`.
It controls the family-wise error rate at :math:`\alpha` for any dependence between the tests,
and rejects everything Bonferroni rejects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validation as val
from ..errors import InputError

__all__ = ["HolmResult", "holm"]


@dataclass(frozen=True)
class HolmResult:
    """Holm's decisions for a family of p-values, in the order they were given.

    Attributes
    ----------
    rejected : bool array (m,)
        ``rejected[i]`` is True when hypothesis ``i`` is rejected at family-wise level ``alpha``.
    adjusted : float array (m,)
        Holm-adjusted p-values: hypothesis ``i`` is rejected exactly when ``adjusted[i] <= alpha``.
    alpha : float
        The family-wise significance level.
    """

    rejected: np.ndarray
    adjusted: np.ndarray
    alpha: float

    @property
    def any_rejected(self) -> bool:
        """True when at least one hypothesis of the family is rejected."""
        return bool(self.rejected.any())


def holm(pvalues, alpha: float = 0.05) -> HolmResult:
    r"""Holm's step-down procedure at family-wise level ``alpha``.

    The adjusted p-values are

    .. math::
        \tilde p_{(j)} = \min\Big(1,\ \max_{i \le j}\,(m - i + 1)\,p_{(i)}\Big),

    monotone in the order of the sorted p-values and capped at 1; :math:`H_{(j)}` is rejected when
    :math:`\tilde p_{(j)} \le \alpha`, which is the step-down rule of the module notes.  Ties are
    broken by position (a stable sort), which does not change any decision.

    Parameters
    ----------
    pvalues : array (m,)
        P-values in ``[0, 1]``, at least one.
    alpha : float
        In ``(0, 1)``.

    Returns
    -------
    HolmResult
    """
    try:
        p = np.asarray(pvalues, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"pvalues must be a numeric array, got {type(pvalues).__name__}") from exc
    if p.ndim != 1 or p.size == 0:
        raise InputError(f"pvalues must be a non-empty 1-D array, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise InputError("pvalues contains NaN or inf; every test must return a p-value in [0, 1]")
    if p.min() < 0.0 or p.max() > 1.0:
        raise InputError(f"pvalues must lie in [0, 1], got values in [{p.min():.6g}, {p.max():.6g}]")
    alpha = val.positive(alpha, "alpha")
    if alpha >= 1.0:
        raise InputError(f"alpha must lie in (0, 1), got {alpha!r}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]  # (m - j + 1) p_(j), j 1-based
    adj_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adj_sorted
    return HolmResult(adjusted <= alpha, adjusted, alpha)
