r"""Learned fields against the truth: relative errors per time and their weighted integrals (MATH.md sections 3 and 4).

For a field :math:`u(x, t)` (a score or a velocity) and its truth :math:`u^*_t` (the exact score
:math:`\nabla\log q_t`, or the probability-flow velocity :math:`v^*_t = f - \tfrac12 g^2\nabla\log q_t`),

.. math::
    D(t) = \frac{E_{q_t}|u(x, t) - u^*_t(x)|^2}{E_{q_t}|u^*_t(x)|^2}, \qquad
    \bar D_\lambda = \frac{\int \lambda(t)\, E_{q_t}|u - u^*_t|^2\, dt}{\int \lambda(t)\, E_{q_t}|u^*_t|^2\, dt},

the relative Fisher divergence for a score (with :math:`\lambda = s_t^2`, the weighting of
denoising score matching: the headline figure of a score fit) and the relative velocity error
(with :math:`\lambda = 1`, the Action Matching loss's own weighting).  A :class:`Reference` holds,
at each node :math:`t_k` of a time rule (:func:`error_times`), points with weights that integrate
against :math:`q_{t_k}` and the true field there:

* :func:`exact_reference`: exact draws of :math:`q_{t_k}` (weights :math:`1/n`), Gaussian-mixture
  data; the ratios get delta-method standard errors (:func:`fpcheck.verify.fields.relative_error`);
* :func:`grid_reference`: the cells of the grid solver's :math:`q_{t_k}` (weights
  :math:`\bar q_i|C_i|`) and its score (:meth:`~fpcheck.grid.density.GridDensity.score`, error
  :math:`O(h^4)`), for data without a closed form (``box1d``, ``checkerboard2d``, ``doublewell1d``);
  quadrature, no Monte-Carlo error.

:func:`field_errors` evaluates a field on a reference; :func:`pushforward_l1` moves a density with a
learned velocity through the continuity solver and compares it with the true :math:`q_t` in L1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .. import _validation as val
from ..errors import InputError

__all__ = ["Reference", "FieldErrors", "error_times", "exact_reference", "quadrature_reference", "grid_reference", "resample", "oracle_form", "score_weight", "field_errors", "pushforward_l1"]

FIELDS = ("score", "velocity")

#: Ridge of the oracle's solve (scale-invariant, :func:`fpcheck.learned.fit.solve`): it only keeps
#: the nearly collinear bumps of late times solvable, at a cost below 1e-7 relative (measured).
ORACLE_RIDGE = 1e-10

#: Points of the 1D quadrature references, over each node's mixture range (+- 9 component sds).
QUADRATURE_POINTS = 2001


class Reference(NamedTuple):
    r"""Points, weights and the true field at the nodes of a time rule.

    Attributes
    ----------
    times, time_weights : array (m,)
        Nodes :math:`t_k` and weights :math:`W_k` of :math:`\int dt` (from :func:`error_times`).
    points : list of array (n_k, d)
    weights : list of array (n_k,)
        :math:`\sum_i w_{ki} h(x_{ki}) \approx E_{q_{t_k}} h`; they sum to 1.
    values : list of array (n_k, d)
        :math:`u^*_{t_k}(x_{ki})`.
    field : {"score", "velocity"}
    monte_carlo : bool
        Whether the points are random draws (standard errors are then given).
    """

    times: np.ndarray
    time_weights: np.ndarray
    points: list
    weights: list
    values: list
    field: str
    monte_carlo: bool


class FieldErrors(NamedTuple):
    r"""Relative errors of a field on a :class:`Reference`.

    Attributes
    ----------
    times : array (m,)
    relative, standard_error : array (m,)
        :math:`D(t_k)` and its Monte-Carlo standard error (zeros for quadrature references).
    integrated, integrated_se : float
        :math:`\bar D_\lambda` and its standard error (delta method over independent times).
    weight : str
        ``"s_t^2"`` or ``"1"``: the :math:`\lambda` of the integral.
    field : str
    """

    times: np.ndarray
    relative: np.ndarray
    standard_error: np.ndarray
    integrated: float
    integrated_se: float
    weight: str
    field: str

    def at_least(self, t: float) -> float:
        """The largest :math:`D(t_k)` over nodes :math:`t_k \\ge t`."""
        keep = self.times >= t
        if not np.any(keep):
            raise InputError(f"no node at or after t = {t:g}; nodes end at {self.times.max():g}")
        return float(self.relative[keep].max())

    def to_dict(self) -> dict:
        return {
            "times": self.times.tolist(),
            "relative": self.relative.tolist(),
            "standard_error": self.standard_error.tolist(),
            "integrated": self.integrated,
            "integrated_se": self.integrated_se,
            "weight": self.weight,
            "field": self.field,
        }


def error_times(t_range, panels: int = 12, nodes: int = 8) -> tuple[np.ndarray, np.ndarray]:
    r"""A rule for :math:`\int_{t_0}^{t_1} h(t)\,dt`: Gauss-Legendre on geometrically growing panels.

    The diffused fields change fastest near :math:`t_0` (the data's fine structure), so panels
    :math:`[t_0 r^{i}, t_0 r^{i+1}]` with :math:`r = (t_1/t_0)^{1/\text{panels}}` put equal numbers
    of nodes on every factor of :math:`r` in :math:`t` (:math:`t_0 > 0`); each panel's
    ``nodes``-point rule is exact for polynomials of degree :math:`2\,\text{nodes} - 1` in it.

    Returns
    -------
    (times, weights) : arrays (panels * nodes,)
        The weights sum to :math:`t_1 - t_0`.
    """
    lo, hi = (float(v) for v in val.finite_array(t_range, "t_range"))
    if not 0 < lo < hi:
        raise InputError(f"t_range must be (t0, t1) with 0 < t0 < t1 for a geometric rule, got {t_range!r}")
    edges = np.geomspace(lo, hi, int(panels) + 1)
    g, w = np.polynomial.legendre.leggauss(int(nodes))
    half, mid = 0.5 * np.diff(edges), 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * g).ravel(), (half[:, None] * w).ravel()


def _field(field: str) -> str:
    if field not in FIELDS:
        raise InputError(f"field must be one of {FIELDS}, got {field!r}")
    return field


def exact_reference(truth, times, n: int, rng: np.random.Generator, field: str = "score") -> Reference:
    r"""Exact draws of :math:`q_{t_k}` (``n`` per node) and the exact field there.

    Parameters
    ----------
    truth : ExactMarginals
    times : (nodes, weights)
        E.g. :func:`error_times`.
    n : int
        Draws per node.
    rng : numpy.random.Generator
    field : {"score", "velocity"}
    """
    from ._samples import exact_values

    field = _field(field)
    nodes, W = _rule(times)
    pts = [truth.sample(int(n), float(t), rng) for t in nodes]
    vals = [exact_values(truth, x, float(t), field) for x, t in zip(pts, nodes)]
    weights = [np.full(int(n), 1.0 / int(n)) for _ in nodes]
    return Reference(nodes, W, pts, weights, vals, field, True)


def quadrature_reference(truth, times, field: str = "score") -> Reference:
    r"""1D Gaussian-mixture marginals by quadrature: the trapezoid rule on :data:`QUADRATURE_POINTS` points.

    At each node the points span :math:`[\min_k(\mu_k - 9\sigma_k), \max_k(\mu_k + 9\sigma_k)]` of the
    pushed components, with weights :math:`q_t(x_i)\,\Delta x` (normalised).  For smooth integrands
    decaying like Gaussians the trapezoid rule converges geometrically; with at least 10 points per
    component standard deviation it is exact to round-off, and the mass left outside is
    :math:`2\Phi(-9) = 2\times 10^{-19}`.
    """
    from ..distributions import GaussianMixture
    from ._samples import exact_values

    field = _field(field)
    nodes, W = _rule(times)
    if truth.dim != 1 or not isinstance(truth.data, GaussianMixture):
        raise InputError("quadrature_reference is for 1D Gaussian-mixture data; use exact_reference or grid_reference")
    pts, wts, vals = [], [], []
    for t in nodes:
        q = truth.at(float(t))
        sd = np.sqrt(q.covs[:, 0, 0])
        lo, hi = float(np.min(q.means[:, 0] - 9 * sd)), float(np.max(q.means[:, 0] + 9 * sd))
        if (hi - lo) / sd.min() > QUADRATURE_POINTS / 10:
            raise InputError(f"the mixture at t = {t:g} spans {(hi - lo) / sd.min():.0f} of its narrowest sds: too many for the quadrature reference")
        x = np.linspace(lo, hi, QUADRATURE_POINTS)[:, None]
        w = q.pdf(x)
        pts.append(x)
        wts.append(w / w.sum())
        vals.append(exact_values(truth, x, float(t), field))
    return Reference(nodes, W, pts, wts, vals, field, False)


def oracle_form(basis, reference: Reference, weight=None, model: str = "gradient"):
    r"""Explicit matching of the reference's true field: :math:`\tfrac12\sum_k W_k\lambda_k\sum_i w_{ki}|u(x_{ki}, t_k) - u^*_{ki}|^2`.

    Its minimiser is the best field of ``basis`` and ``model`` in the metric of :func:`field_errors`
    with the same ``weight`` (exactly so for quadrature references).  The default is the gradient
    model (the score is a gradient, and so is the VP probability-flow velocity); a fit of the vector
    model (sliced score matching) is measured against the vector model's oracle, a different space
    of fields on the same features.
    """
    from ._quadrature import regression_blocks
    from ._forms import QuadraticForm, check_model

    model = check_model(model)
    m = reference.times.size
    lam = np.ones(m) if weight is None else np.broadcast_to(np.asarray(weight, dtype=float), (m,))
    c = reference.time_weights * lam
    block = regression_blocks(basis, model, reference.times, reference.points, reference.values,
                              [c[k] * w for k, w in enumerate(reference.weights)])
    d = reference.points[0].shape[1]
    return QuadraticForm([block], basis=basis, model=model, dim=d, name="oracle", kind=reference.field)


def grid_reference(process, data, times, grid, field: str = "score", floor: float = 1e-14) -> Reference:
    r"""The grid solver's :math:`q_{t_k}` and its score (or :math:`f - \tfrac12 g^2\nabla\log q`) at the cell centres.

    Parameters
    ----------
    process : Process
    data : Distribution
        :math:`q_0`.
    times : (nodes, weights)
    grid : fpcheck.grid.grids.Grid
        Wide enough to hold the mass (the solver warns otherwise) and fine enough for the data's
        structure at the first node: the score's error is :math:`O(h^4)` in the cell size relative
        to :math:`q_t`'s length scales, and every cell must hold a positive density (a box too wide
        for an early node underflows its tails, and the score raises).
    field : {"score", "velocity"}
    floor : float
        Each time's cells are restricted to the box of those above ``floor`` times the largest
        (:func:`_support`): the far tails are round-off, and hold less than ``floor`` of the mass
        per cell.
    """
    from ..grid.solver import solve_fokker_planck

    field = _field(field)
    nodes, W = _rule(times)
    sol = solve_fokker_planck(process, data, grid, nodes)
    pts, wts, vals = [], [], []
    for t, dens in zip(nodes, sol.densities):
        sub = _support(dens, floor)
        x = sub.grid.points()
        score = np.asarray(sub.score()).reshape(-1, grid.ndim)
        if field == "velocity":
            score = process.drift(x, float(t)) - 0.5 * float(np.asarray(process.g2(float(t)))) * score
        w = np.asarray(sub.values).ravel() * grid.cell_volume
        pts.append(x)
        wts.append(w / w.sum())
        vals.append(score)
    return Reference(nodes, W, pts, wts, vals, field, False)


def _support(dens, floor: float):
    r"""The density on the smallest box of cells holding every cell above ``floor`` times its maximum.

    The solver's far tails are round-off (:math:`|\bar q| \sim 10^{-17}`, of either sign), where
    :math:`\log q` is undefined; the cells left out hold at most ``floor`` :math:`\max\bar q` each,
    and cells inside the box below that (corners, in 2-3D) are set to it.
    """
    from ..grid.density import GridDensity
    from ..grid.grids import Grid

    g, v = dens.grid, np.asarray(dens.values)
    above = v > floor * v.max()
    index, bounds = [], []
    for k in range(g.ndim):
        hit = np.flatnonzero(np.any(above, axis=tuple(j for j in range(g.ndim) if j != k)))
        lo, hi = int(hit[0]), int(hit[-1]) + 1
        index.append(slice(lo, hi))
        edges = g.edges(k)
        bounds.append((float(edges[lo]), float(edges[hi])))
    # in 2-3D the box's corners can lie far from the support: their round-off is lifted to the floor,
    # where the score is wrong but weighs below floor * max|score|^2 per cell
    values = np.maximum(v[tuple(index)], floor * v.max())
    return GridDensity(Grid(bounds, values.shape), values)


def resample(reference: Reference, n: int, rng: np.random.Generator) -> Reference:
    r"""Draws from a quadrature reference: ``n`` points per node with probabilities :math:`w_{ki}`, weights :math:`1/n`.

    For 2-3D grid references, whose cells are too many to fit or evaluate on at every node: the
    points become exact draws of the grid density (on its cell centres), with standard errors.
    """
    if reference.monte_carlo:
        raise InputError("resample needs a quadrature reference")
    pts, wts, vals = [], [], []
    for x, w, v in zip(reference.points, reference.weights, reference.values):
        idx = rng.choice(w.size, size=int(n), p=w / w.sum())
        pts.append(x[idx])
        vals.append(v[idx])
        wts.append(np.full(int(n), 1.0 / int(n)))
    return Reference(reference.times, reference.time_weights, pts, wts, vals, reference.field, True)


def score_weight(process, times) -> np.ndarray:
    r""":math:`\lambda(t) = s_t^2` at the nodes: the kernel's variance (DSM's weighting)."""
    from ._samples import noise_weight

    return np.asarray(noise_weight(process)(np.asarray(times, dtype=float)), dtype=float) * np.ones(np.shape(times))


def field_errors(field: Callable, reference: Reference, weight=None) -> FieldErrors:
    r"""The relative errors :math:`D(t_k)` and :math:`\bar D_\lambda` of ``field`` on ``reference`` (module notes).

    Parameters
    ----------
    field : callable
        ``field(x, t) -> (n, d)`` with one scalar time (a :class:`~fpcheck.learned.fit.LinearField`,
        or any user field).
    reference : Reference
    weight : array_like (m,), optional
        :math:`\lambda(t_k)` at the nodes, e.g. :func:`score_weight`; default 1.

    Notes
    -----
    With :math:`a_k = \sum_i w_{ki}|u - u^*|^2` and :math:`b_k = \sum_i w_{ki}|u^*|^2`,
    :math:`D(t_k) = a_k/b_k` and :math:`\bar D = \sum_k W_k\lambda_k a_k / \sum_k W_k\lambda_k b_k`.
    For draws, the delta method: :math:`\mathrm{Var}\,\bar D \approx \sum_k (W_k\lambda_k)^2
    \widehat{\mathrm{Var}}(|u - u^*|^2 - \bar D|u^*|^2)_k / n_k \,/\, (\sum_k W_k\lambda_k b_k)^2`,
    the nodes' draws being independent.
    """
    if not isinstance(reference, Reference):
        raise InputError(f"reference must be a Reference (exact_reference, grid_reference), got {type(reference).__name__}")
    m = reference.times.size
    lam = np.ones(m) if weight is None else np.broadcast_to(val.finite_array(weight, "weight"), (m,)).astype(float)
    if np.any(lam < 0):
        raise InputError("weight must be >= 0 at every node")
    err, sq = [], []
    for x, t, exact in zip(reference.points, reference.times, reference.values):
        got = np.asarray(field(x, float(t)), dtype=float)
        if got.shape != exact.shape or not np.all(np.isfinite(got)):
            raise InputError(f"the field must return finite values of shape {exact.shape} at t = {t:.6g}, got shape {got.shape}")
        err.append(np.sum((got - exact) ** 2, axis=1))
        sq.append(np.sum(exact**2, axis=1))
    a = np.array([np.dot(w, e) for w, e in zip(reference.weights, err)])
    b = np.array([np.dot(w, q) for w, q in zip(reference.weights, sq)])
    if np.any(b <= 0):
        raise InputError("the true field vanishes at some node: the relative error is undefined there")
    c = reference.time_weights * lam
    total = float(np.dot(c, a) / np.dot(c, b))
    se, total_se = np.zeros(m), 0.0
    if reference.monte_carlo:
        var_k = np.array([np.var(e - (ak / bk) * q, ddof=1) / e.size for e, q, ak, bk in zip(err, sq, a, b)])
        se = np.sqrt(var_k) / b
        var_int = np.array([np.var(e - total * q, ddof=1) / e.size for e, q in zip(err, sq)])
        total_se = float(np.sqrt(np.dot(c**2, var_int)) / np.dot(c, b))
    name = "1" if weight is None else "lambda"
    return FieldErrors(reference.times, a / b, se, total, total_se, name, reference.field)


def _rule(times) -> tuple[np.ndarray, np.ndarray]:
    from ._quadrature import _nodes

    if np.ndim(times) == 0:
        raise InputError("times must be a pair (nodes, weights), e.g. error_times(t_range)")
    return _nodes(times)


def pushforward_l1(velocity: Callable, truth, grid, t_range, times: Sequence[float]) -> np.ndarray:
    r"""Move :math:`q_{t_0}` with a learned velocity by the continuity solver; L1 distances to the true :math:`q_t`.

    Solves :math:`\partial_t q = -\nabla\cdot(q\,v)` from the cell averages of :math:`q_{t_0}`
    (:func:`~fpcheck.grid.continuity.solve_continuity`, WENO5 + SSP-RK3) and returns
    :math:`\|q_t - q^*_t\|_1` over cells at each of ``times``.  For the exact velocity the solver's
    own error is below :math:`10^{-9}` on 4096 cells (the continuity benchmark), so what is left is
    the learned velocity's: to first order :math:`\|q_t - q^*_t\|_1 \le \int_{t_0}^t \|\nabla\cdot(q(v - v^*))\|_1`.

    Parameters
    ----------
    velocity : callable
        ``velocity(x, t) -> (n, d)``.
    truth : ExactMarginals
        Its ``at(t)`` marginals are projected exactly onto ``grid``.
    grid : fpcheck.grid.grids.Grid
    t_range : (float, float)
        :math:`t_0` is the start; the velocity must be defined on the range.
    times : sequence of float
        Output times in ``t_range``.
    """
    from ..grid.continuity import solve_continuity
    from ..grid.projection import cell_averages

    t0, t1 = (float(v) for v in val.finite_array(t_range, "t_range"))
    out = np.asarray(times, dtype=float)
    if out.ndim != 1 or np.any(out < t0) or np.any(out > t1):
        raise InputError(f"times must lie in t_range [{t0:g}, {t1:g}], got {times!r}")
    start = cell_averages(truth.at(t0), grid)

    def shifted(x, t):
        return velocity(x, t0 + float(t))

    sol = solve_continuity(shifted, start, grid, out - t0, estimate_error=False)
    return np.array([dens.l1_distance(truth.at(float(t))) for dens, t in zip(sol.densities, out)])
