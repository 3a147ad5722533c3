r"""Pearson's chi-square test of binned samples against a reference's cell probabilities.

The reference is a grid of cells with probabilities :math:`p_c` (the cell masses of a grid truth:
``GridDensity.values * grid.cell_volume``, see :func:`grid_cells`), one extra "outside" bin of
probability :math:`1 - \sum_c p_c`, and the counts :math:`O_b` of ``n`` samples in those bins:

.. math::
    X^2 = \sum_b \frac{(O_b - n p_b)^2}{n p_b} \ \xrightarrow{\ d\ }\ \chi^2_{B-1}

under the null, for ``B`` bins after pooling those of expected count below ``min_expected``.

**A reference with an error.**  If the reference probabilities are off by :math:`\delta_b` with
:math:`\sum_b|\delta_b| \le \varepsilon` (``ref_l1``), the statistic is asymptotically noncentral
:math:`\chi^2_{B-1}(\lambda)` with

.. math::
    \lambda = n\sum_b \frac{\delta_b^2}{p_b} \le n\,\frac{\max_b|\delta_b|\sum_b|\delta_b|}{\min_b p_b}
            \le \frac{n\,\varepsilon^2}{\min_b p_b}

(pooling only merges the :math:`\delta_b`, so the L1 bound holds after it).  The p-value is then the
largest over that interval null, ``ncx2.sf(X2, B - 1, lambda_max)``.  The bound matters once
:math:`\lambda_{max}` is comparable with the statistic's standard deviation :math:`\sqrt{2(B-1)}`; at
:math:`\lambda_{max} \le 1` it shifts the mean of :math:`X^2` by at most 1, i.e. the reference is
accurate enough for this ``n`` when :math:`\varepsilon \le \sqrt{\min_b p_b / n}`.  Beyond that,
:class:`ReferenceAccuracyWarning` says so: the test has lost power to the reference's error (refine the
grid, or use fewer samples).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from .. import _validation as val
from ..errors import InputError
from .gof import TestResult

__all__ = ["binned_test", "grid_cells", "ReferenceAccuracyWarning", "SUM_TOLERANCE"]

SUM_TOLERANCE = 1e-6
"""How far above 1 the cell probabilities may sum (round-off, a solver's mass error) before it is an error."""


class ReferenceAccuracyWarning(UserWarning):
    """The reference's own error bound is large enough to cost a test its power at this sample size.

    The message gives the bound on the noncentrality it implies and what to change.
    """


def grid_cells(density) -> tuple[np.ndarray, list[np.ndarray]]:
    r"""Cell probabilities and edges of a :class:`~fpcheck.grid.density.GridDensity`, for :func:`binned_test`.

    :math:`p_c = \bar q_c\,|C|` (cell average times cell volume) and the per-axis edges of its grid.
    Negative cell averages (a solver's undershoot) are clipped to 0; their mass belongs in ``ref_l1``.
    """
    try:
        grid, values = density.grid, density.values
        volume = float(grid.cell_volume)
        edges = [np.asarray(grid.edges(j), dtype=float) for j in range(grid.ndim)]
    except AttributeError as exc:
        raise InputError(f"density must be a fpcheck.grid.GridDensity, got {type(density).__name__}") from exc
    return np.clip(np.asarray(values, dtype=float), 0.0, None) * volume, edges


def _edges(edges, shape: tuple[int, ...]) -> list[np.ndarray]:
    d = len(shape)
    if d == 1:
        try:
            single = np.asarray(edges, dtype=float)
        except (TypeError, ValueError):
            single = None
        if single is not None and single.ndim == 1:
            edges = [single]
    try:
        edges = list(edges)
    except TypeError:
        raise InputError(f"edges must be a sequence of {d} 1-D arrays of cell edges, one per axis") from None
    if len(edges) != d:
        raise InputError(f"edges has {len(edges)} axes but probabilities has {d} (shape {shape}); pass one edge array per axis")
    out = []
    for j, e in enumerate(edges):
        e = val.finite_array(e, f"edges[{j}]", ndim=1)
        if e.shape[0] != shape[j] + 1:
            raise InputError(f"edges[{j}] must have {shape[j] + 1} entries for {shape[j]} cells, got {e.shape[0]}")
        if not np.all(np.diff(e) > 0):
            raise InputError(f"edges[{j}] must be strictly increasing")
        out.append(e)
    return out


def _cell_index(x: np.ndarray, edges: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Flat cell index of each sample, ``-1`` outside the grid (cells are closed at the top edge of the last one)."""
    n = x.shape[0]
    inside = np.ones(n, dtype=bool)
    idx = []
    for j, e in enumerate(edges):
        i = np.searchsorted(e, x[:, j], side="right") - 1
        i = np.where(x[:, j] == e[-1], shape[j] - 1, i)
        inside &= (i >= 0) & (i < shape[j])
        idx.append(np.clip(i, 0, shape[j] - 1))
    flat = np.ravel_multi_index(tuple(idx), shape)
    return np.where(inside, flat, -1)


def binned_test(x, probabilities, edges, *, min_expected: float = 5.0, ref_l1: float = 0.0) -> TestResult:
    r"""Chi-square test of the counts of ``x`` in the cells of a grid, against cell probabilities.

    Parameters
    ----------
    x : array (n, d)
        Samples (in 1D, shape ``(n,)`` is accepted).
    probabilities : array of the grid's shape
        Non-negative cell probabilities, :math:`\sum p \le 1` (up to :data:`SUM_TOLERANCE`, beyond
        which they are rescaled to sum to 1); the rest, :math:`1 - \sum p`, is the "outside" bin.
    edges : sequence of d arrays
        Cell edges per axis, strictly increasing, ``shape[j] + 1`` each (in 1D a single array).
    min_expected : float
        Bins (cells and the outside bin) of expected count :math:`n p_b` below this are pooled into one;
        if the pool itself stays below it, it is merged into the smallest remaining bin.  The usual
        rule of thumb for the :math:`\chi^2` approximation is 5.
    ref_l1 : float
        Bound :math:`\varepsilon` on the L1 error :math:`\sum_b |p_b - p_b^{true}|` of the reference
        (module notes: the p-value becomes ``ncx2.sf(X2, B - 1, n eps^2 / min p_b)``, and a
        :class:`ReferenceAccuracyWarning` is issued when that noncentrality bound exceeds 1).

    Returns
    -------
    TestResult
        ``statistic`` is :math:`X^2`; the detail gives the bins, dof and the noncentrality bound.
    """
    try:
        p = np.asarray(probabilities, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"probabilities must be a numeric array, got {type(probabilities).__name__}") from exc
    if p.ndim < 1 or p.size == 0:
        raise InputError(f"probabilities must be a non-empty array of the grid's shape, got shape {p.shape}")
    p = val.finite_array(p, "probabilities")
    if p.min() < 0.0:
        raise InputError(
            f"probabilities must be non-negative, smallest is {p.min():.3g}; clip them "
            "(np.clip(p, 0, None)) and add the clipped mass to ref_l1"
        )
    total = float(p.sum())
    if total > 1.0 + SUM_TOLERANCE:
        raise InputError(f"probabilities sum to {total:.9g} > 1; pass cell probabilities (mass per cell), not densities")
    if total > 1.0:
        p = p / total
        total = 1.0
    shape = p.shape
    edges = _edges(edges, shape)
    x = val.points(x, len(shape), "x")
    n = x.shape[0]
    if n == 0:
        raise InputError("x is empty: pass at least one sample")
    min_expected = val.positive(min_expected, "min_expected", allow_zero=True)
    ref_l1 = val.positive(ref_l1, "ref_l1", allow_zero=True)

    cell = _cell_index(x, edges, shape)
    counts = np.bincount(cell[cell >= 0], minlength=p.size).astype(float)
    obs = np.append(counts, float(np.count_nonzero(cell < 0)))
    prob = np.append(p.ravel(), max(1.0 - total, 0.0))
    small = (n * prob < min_expected) | (prob == 0.0)
    big_obs, big_prob = obs[~small], prob[~small]
    pool_obs, pool_prob = float(obs[small].sum()), float(prob[small].sum())
    if small.any() and n * pool_prob < max(min_expected, np.finfo(float).tiny) and big_prob.size:
        k = int(np.argmin(big_prob))  # too small a pool: merge it into the smallest remaining bin
        big_obs[k] += pool_obs
        big_prob[k] += pool_prob
        pool_obs = pool_prob = 0.0
    if pool_prob > 0.0:
        big_obs, big_prob = np.append(big_obs, pool_obs), np.append(big_prob, pool_prob)
    bins = big_prob.size
    if bins < 2:
        raise InputError(
            f"only {bins} bin(s) with expected count >= min_expected={min_expected:g} at n={n}: "
            "use more samples, a finer grid, or a smaller min_expected"
        )
    expected = n * big_prob
    x2 = float(np.sum((big_obs - expected) ** 2 / expected))
    dof = bins - 1
    lam = n * ref_l1 * ref_l1 / float(big_prob.min())
    if lam > 1.0:
        warnings.warn(
            f"the reference's L1 error bound ref_l1={ref_l1:.3g} allows a noncentrality up to {lam:.3g} "
            f"(> 1) at n={n} with smallest bin probability {big_prob.min():.3g}: the binned test loses power to "
            f"the reference's error; it needs ref_l1 <= {np.sqrt(big_prob.min() / n):.3g} (refine the grid) "
            "or fewer samples",
            ReferenceAccuracyWarning,
            stacklevel=2,
        )
    pvalue = float(stats.ncx2.sf(x2, dof, lam)) if lam > 0 else float(stats.chi2.sf(x2, dof))
    detail = f"n={n}, {bins} bins ({int(small.sum())} pooled), dof={dof}"
    if ref_l1:
        detail += f", ref_l1={ref_l1:.3g}, noncentrality <= {lam:.3g}"
    return TestResult("binned chi2", x2, min(max(pvalue, 0.0), 1.0), detail)
