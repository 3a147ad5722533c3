r"""Objectives assembled by quadrature instead of sampling, in 1D and 2D (MATH.md section 4).

The expectations over :math:`q_t` become sums over a tensor grid :math:`x_i` with weights
:math:`q_t(x_i)\,w_i` (:math:`w_i` the trapezoid rule's cell weights, :func:`tensor_grid`), and
those over :math:`t` sums over Gauss-Legendre nodes :math:`t_k` with weights :math:`W_k`
(:func:`gauss_legendre`): a row per pair :math:`(x_i, t_k)` with weight
:math:`\omega_{ik} = W_k\,\lambda(t_k)\,q_{t_k}(x_i)\,w_i`.

Accuracy: for densities negligible at the box's edges (below :math:`10^{-16}` of their peak,
e.g. every component's mean :math:`\pm 9` standard deviations inside the box) and analytic
integrands the trapezoid rule converges geometrically, :math:`O(e^{-2\pi^2\sigma^2/h^2})` for
Gaussians of width :math:`\sigma` on a step :math:`h`; Gauss-Legendre with :math:`m` nodes is exact
for polynomials of degree :math:`2m - 1` in :math:`t` and converges geometrically for integrands
analytic in :math:`t`.

Denoising score matching needs no quadrature of its own: by quadrature over :math:`(x_0, \varepsilon)`
its :math:`A` and :math:`b` are exactly ESM's with the exact score (the cross terms agree,
:math:`E[\nabla\log k_t(x\mid x_0)\mid x] = \nabla\log q_t(x)`), so :func:`esm_quadrature` with
``target=truth.score`` *is* DSM by quadrature, up to DSM's constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .. import _validation as val
from ..errors import InputError
from ._forms import Block, QuadraticForm, check_model, design_needs, divergence_rows, linear_block, output_design
from .bases import Basis

__all__ = ["Grid", "tensor_grid", "gauss_legendre", "esm_quadrature", "ism_quadrature", "action_matching_quadrature"]


class Grid(NamedTuple):
    r"""Points of a tensor grid and their trapezoid weights: :math:`\int F\,dx \approx \sum_i w_i F(x_i)`.

    Attributes
    ----------
    points : array (N, d)
        The last axis varies fastest.
    weights : array (N,)
        Products of the per-axis trapezoid weights (:math:`h`, :math:`h/2` at the ends).
    """

    points: np.ndarray
    weights: np.ndarray


def tensor_grid(bounds, n) -> Grid:
    r"""A tensor grid on a box in 1D or 2D, with the trapezoid rule's weights.

    Parameters
    ----------
    bounds : (lo, hi) or sequence of (lo, hi)
        The box, one pair per axis.
    n : int or sequence of int
        Points per axis (>= 2), ends included.

    Returns
    -------
    Grid
    """
    arr = val.finite_array(bounds, "bounds")
    if arr.ndim == 1 and arr.shape[0] == 2:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] not in (1, 2):
        raise InputError(
            f"bounds must be a (lo, hi) pair or two of them (1D or 2D grids; use Monte Carlo beyond), got shape {np.shape(bounds)}"
        )
    d = arr.shape[0]
    counts = [n] * d if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else list(n)
    if len(counts) != d or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 2 for c in counts):
        raise InputError(f"n must be an int >= 2 or one per axis ({d}), got {n!r}")
    axes, weights = [], []
    for (lo, hi), m in zip(arr, counts):
        if not lo < hi:
            raise InputError(f"bounds need lo < hi, got ({lo:g}, {hi:g})")
        ax = np.linspace(lo, hi, int(m))
        w = np.full(int(m), ax[1] - ax[0])
        w[[0, -1]] *= 0.5
        axes.append(ax)
        weights.append(w)
    mesh = np.meshgrid(*axes, indexing="ij")
    wmesh = np.meshgrid(*weights, indexing="ij")
    return Grid(np.stack([m.ravel() for m in mesh], axis=1), np.prod([w.ravel() for w in wmesh], axis=0))


def gauss_legendre(t_range, m: int, *, integral: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""Gauss-Legendre nodes and weights on :math:`[t_0, t_1]`.

    Parameters
    ----------
    t_range : (float, float)
    m : int
        The number of nodes (exact for polynomials of degree :math:`2m - 1`).
    integral : bool
        Weights summing to :math:`t_1 - t_0` (the integral :math:`\int dt`); by default they sum to
        1, the mean over :math:`t` uniform on :math:`[t_0, t_1]` that the Monte Carlo objectives
        estimate with uniform times.

    Returns
    -------
    nodes, weights : arrays (m,)
    """
    arr = val.finite_array(t_range, "t_range")
    if arr.shape != (2,) or not arr[0] < arr[1]:
        raise InputError(f"t_range must be a pair (t0, t1) with t0 < t1, got {t_range!r}")
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise InputError(f"m must be a positive integer, got {m!r}")
    u, w = np.polynomial.legendre.leggauss(int(m))
    t0, t1 = float(arr[0]), float(arr[1])
    nodes = 0.5 * (t0 + t1) + 0.5 * (t1 - t0) * u
    return nodes, w * (0.5 * (t1 - t0) if integral else 0.5)


# ---------------------------------------------------------------------------------------------
# argument handling


def _grid(grid, basis: Basis) -> Grid:
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a Grid (see tensor_grid), got {type(grid).__name__}")
    if basis.dim is not None and grid.points.shape[1] != basis.dim:
        raise InputError(f"the grid is {grid.points.shape[1]}-dimensional but {basis!r} is {basis.dim}-dimensional")
    return grid


def _nodes(times) -> tuple[np.ndarray, np.ndarray]:
    """``(nodes, weights)`` from a pair of arrays, or one time with weight 1."""
    if np.ndim(times) == 0:
        return np.array([float(val.finite_array(times, "times"))]), np.ones(1)
    try:
        nodes, weights = (val.finite_array(a, "times") for a in times)
    except (TypeError, ValueError):
        raise InputError("times must be a time or a pair (nodes, weights), e.g. gauss_legendre(t_range, m)") from None
    if nodes.ndim != 1 or nodes.shape != weights.shape or nodes.size < 1 or np.any(weights < 0):
        raise InputError(f"times must be a pair (nodes, weights) of equal 1-D shapes with weights >= 0, got {nodes.shape}, {weights.shape}")
    return nodes, weights


def _densities(density, grid: Grid, nodes: np.ndarray) -> np.ndarray:
    r""":math:`q_{t_k}(x_i)` as ``(m, N)``: from an ExactMarginals, a callable ``(x, t) -> (N,)`` or the values."""
    from ..analytic import ExactMarginals

    m, N = nodes.size, grid.points.shape[0]
    if isinstance(density, ExactMarginals):
        q = np.stack([density.pdf(grid.points, float(t)) for t in nodes])
    elif callable(density):
        q = np.stack([np.asarray(density(grid.points, float(t)), dtype=float) for t in nodes])
    else:
        q = val.finite_array(density, "density")
    if q.shape != (m, N):
        raise InputError(f"density must give values of shape (times, points) = ({m}, {N}), got shape {q.shape}")
    if not np.all(np.isfinite(q)) or np.any(q < 0):
        raise InputError("density values must be finite and >= 0")
    return q


def _targets(target, grid: Grid, nodes: np.ndarray) -> np.ndarray:
    m, (N, d) = nodes.size, grid.points.shape
    if callable(target):
        y = np.stack([np.asarray(target(grid.points, float(t)), dtype=float) for t in nodes])
    else:
        y = val.finite_array(target, "target")
    if y.shape != (m, N, d):
        raise InputError(f"target must give values of shape (times, points, d) = ({m}, {N}, {d}), got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise InputError("target values must be finite")
    return y


def _lambda(weight, nodes: np.ndarray) -> np.ndarray:
    if weight is None:
        return np.ones(nodes.size)
    lam = val.finite_array(weight(nodes.copy()) if callable(weight) else weight, "weight")
    lam = np.broadcast_to(lam, nodes.shape) if lam.ndim == 0 else lam
    if lam.shape != nodes.shape or np.any(lam < 0):
        raise InputError(f"weight must give one value >= 0 per time node, shape {nodes.shape}")
    return np.asarray(lam, dtype=float)


def _stack(blocks: Sequence[Block]) -> Block:
    return Block(*(np.concatenate([getattr(b, f) for b in blocks]) for f in ("design", "linear", "constant", "weights")), False,
                 blocks[0].outputs)


# ---------------------------------------------------------------------------------------------
# objectives


def esm_quadrature(basis: Basis, grid: Grid, times, density, target, *, model: str = "gradient", weight=None,
                   kind: str = "score") -> QuadraticForm:
    r"""Explicit score matching by quadrature: :math:`\tfrac12\sum_k W_k\lambda(t_k)\sum_i w_i\,q_{t_k}(x_i)\,|s(x_i, t_k) - s^*(x_i, t_k)|^2`.

    The rows of :func:`fpcheck.learned.objectives.esm` at the nodes, weighted by the rule.  With
    ``target=truth.score`` this is also DSM by quadrature (same :math:`A` and :math:`b`; see the
    module docstring).

    Parameters
    ----------
    basis : Basis
    grid : Grid
        From :func:`tensor_grid`.
    times : float or (nodes, weights)
        E.g. :func:`gauss_legendre` (weights summing to 1: the mean over uniform times).
    density : ExactMarginals, callable or array (m, N)
        :math:`q_{t_k}(x_i)`: ``truth.pdf``, any ``density(x, t) -> (N,)``, or the values.
    target : callable or array (m, N, d)
        :math:`s^*`, a field ``(x, t) -> (N, d)`` taking one scalar time, or the values.
    model, weight, kind
        As for :func:`fpcheck.learned.objectives.esm` (``weight`` is evaluated at the nodes).
    """
    basis, model = _check_basis(basis), check_model(model)
    if kind not in ("score", "velocity"):
        raise InputError(f"kind must be 'score' or 'velocity', got {kind!r}")
    grid = _grid(grid, basis)
    nodes, W = _nodes(times)
    q, y, lam = _densities(density, grid, nodes), _targets(target, grid, nodes), _lambda(weight, nodes)
    m = nodes.size
    rows = regression_blocks(basis, model, nodes, [grid.points] * m, list(y), [W[k] * lam[k] * q[k] * grid.weights for k in range(m)])
    return QuadraticForm([rows], basis=basis, model=model, dim=grid.points.shape[1], name="esm-quadrature", kind=kind)


def regression_blocks(basis: Basis, model: str, nodes, points, targets, weights) -> Block:
    r"""One block of the weighted regression :math:`\tfrac12\sum_k\sum_i w_{ki}|s(x_{ki}, t_k) - y_{ki}|^2` (fixed points).

    ``points[k]`` ``(n_k, d)``, ``targets[k]`` ``(n_k, d)`` and ``weights[k]`` ``(n_k,)`` at the
    node ``nodes[k]``: the rows of :func:`fpcheck.learned.objectives.esm` with quadrature weights.
    """
    blocks = []
    for t, x, y, w in zip(nodes, points, targets, weights):
        G = output_design(model, basis.evaluate(x, float(t), design_needs(model)), x.shape[1])
        blocks.append(Block(G, np.einsum("rip,ri->rp", G, y), 0.5 * np.sum(y**2, axis=1), np.asarray(w, dtype=float), False))
    return _stack(blocks)


def ism_quadrature(basis: Basis, grid: Grid, times, density, *, model: str = "gradient", weight=None) -> QuadraticForm:
    r"""Implicit score matching by quadrature: :math:`\sum_k W_k\lambda(t_k)\sum_i w_i\,q_{t_k}(x_i)\,[\tfrac12|s|^2 + \nabla\cdot s](x_i, t_k)`.

    On the same grid, nodes and weight it has exactly :func:`esm_quadrature`'s :math:`A`, and its
    :math:`b` equals ESM's with the exact score to quadrature accuracy (integration by parts,
    :math:`\int q\,\nabla\psi\cdot\nabla\log q = -\int q\,\Delta\psi`, with no boundary terms when
    :math:`q` is negligible at the box's edges).

    Parameters
    ----------
    basis, grid, times, density, model, weight
        As for :func:`esm_quadrature`.
    """
    basis, model = _check_basis(basis), check_model(model)
    grid = _grid(grid, basis)
    nodes, W = _nodes(times)
    q, lam = _densities(density, grid, nodes), _lambda(weight, nodes)
    N, d = grid.points.shape
    blocks = []
    for k, t in enumerate(nodes):
        feats = basis.evaluate(grid.points, float(t), design_needs(model, divergence=True))
        G = output_design(model, feats, d)
        blocks.append(Block(G, -divergence_rows(model, feats, d), np.zeros(N), W[k] * lam[k] * q[k] * grid.weights, False))
    return QuadraticForm([_stack(blocks)], basis=basis, model=model, dim=d, name="ism-quadrature", kind="score")


def action_matching_quadrature(basis: Basis, grid: Grid, t_range, density, n_times: int = 32) -> QuadraticForm:
    r"""Action Matching by quadrature.

    .. math::
        L = \sum_i w_i q_{t_0}(x_i)\,s_{t_0}(x_i) - \sum_i w_i q_{t_1}(x_i)\,s_{t_1}(x_i)
            + \sum_k W_k \sum_i w_i q_{t_k}(x_i)\,[\tfrac12|\nabla s_{t_k}|^2 + \partial_t s_{t_k}](x_i),

    with Gauss-Legendre weights :math:`W_k` summing to :math:`t_1 - t_0` (the time integral).  It
    equals :math:`\tfrac12\int\!E|\nabla s - \nabla s^*|^2\,dt - \tfrac12\int\!E|\nabla s^*|^2\,dt` to
    quadrature accuracy: the same :math:`A` as :func:`esm_quadrature` on the same grid and nodes
    (with the integral's weights), and its :math:`b` equal to ESM-on-:math:`\nabla s^*`'s.

    Parameters
    ----------
    basis, grid, density
        As for :func:`esm_quadrature` (the density is needed at :math:`t_0`, :math:`t_1` and the nodes).
    t_range : (float, float)
        :math:`(t_0, t_1)`.
    n_times : int
        Gauss-Legendre nodes in :math:`(t_0, t_1)`.
    """
    basis = _check_basis(basis)
    grid = _grid(grid, basis)
    nodes, W = gauss_legendre(t_range, n_times, integral=True)
    t0, t1 = (float(v) for v in val.finite_array(t_range, "t_range"))
    q = _densities(density, grid, np.concatenate([[t0, t1], nodes]))
    d = grid.points.shape[1]
    v0 = basis.evaluate(grid.points, t0, "values").values
    v1 = basis.evaluate(grid.points, t1, "values").values
    blocks = [linear_block(-v0, q[0] * grid.weights, False), linear_block(v1, q[1] * grid.weights, False)]
    for k, t in enumerate(nodes):
        feats = basis.evaluate(grid.points, float(t), ("gradients", "time_derivatives"))
        G = output_design("gradient", feats, d)
        blocks.append(Block(G, -feats.time_derivatives, np.zeros(G.shape[0]), W[k] * q[k + 2] * grid.weights, False))
    return QuadraticForm(
        [blocks[0], blocks[1], _stack(blocks[2:])], basis=basis, model="gradient", dim=d, name="am-quadrature", kind="velocity"
    )


def _check_basis(basis) -> Basis:
    if not isinstance(basis, Basis):
        raise InputError(f"basis must be a fpcheck.learned.bases.Basis, got {type(basis).__name__}")
    return basis
