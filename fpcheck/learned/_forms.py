r"""Quadratic forms in the parameters of linear models, and the models' designs (MATH.md section 4).

Every objective of a model linear in :math:`\theta` is a quadratic form,

.. math::
    L(\theta) = \tfrac12\,\theta^T A\,\theta - b^T\theta + c,

assembled here from *rows*: a row :math:`r` (a sample, or a quadrature node) carries a design
:math:`M_r` (``(k, p)``), a linear part :math:`B_r` (``(p,)``) and a constant :math:`C_r`, and
contributes :math:`\ell_r(\theta) = \tfrac12|M_r\theta|^2 - B_r\cdot\theta + C_r` with the weight
:math:`\omega_r \ge 0`.  Rows come in :class:`Block` s (an objective with terms over different
sample sets, such as Action Matching, has one block per set), and

.. math::
    A = \sum_r \omega_r M_r^T M_r, \qquad b = \sum_r \omega_r B_r, \qquad c = \sum_r \omega_r C_r .

A Monte Carlo block has equal weights :math:`\omega_r = S/n` (its scale :math:`S` over its
:math:`n` samples, drawn independently): its rows can be split into training and held-out
parts, and its per-sample losses give standard errors.  A quadrature block has the weights of
its rule, and neither.

The sums over rows are ``numpy.einsum`` loops, not BLAS: the bases' compiled kernels run on
Numba's OpenMP threads, whose spinning after each parallel region stalls a multithreaded
OpenBLAS call that follows it by up to a second on a busy machine, while the einsum loop costs
:math:`\approx 10^{-9}` s per multiply-add (0.06 s for :math:`A` from :math:`4\cdot 10^4` rows of
80 parameters) whatever the load.

The two model families (``model=``), for a basis :math:`\psi_j(x, t)`, :math:`j = 1..J`:

* ``"gradient"``: :math:`s(x, t) = \sum_j \theta_j \nabla_x\psi_j`, :math:`p = J`; its divergence
  is :math:`\sum_j \theta_j \Delta\psi_j`, and :math:`\sum_j\theta_j\psi_j` is its potential;
* ``"vector"``: :math:`s_i(x, t) = \sum_j \theta_{ij}\psi_j`, :math:`p = dJ`, with
  :math:`\theta_{ij}` = ``theta[i * J + j]`` (``theta.reshape(d, J)``); its Jacobian is
  :math:`\partial_k s_i = \sum_j \theta_{ij}\partial_k\psi_j`, so divergence and sliced terms need
  first derivatives only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .. import _validation as val
from ..errors import InputError
from .bases import Basis

__all__ = ["MODELS", "Block", "QuadraticForm"]

#: The model families a form can be built for.
MODELS = ("gradient", "vector")


class Block(NamedTuple):
    r"""Rows of a quadratic form: :math:`\sum_r \omega_r\,[\tfrac12|M_r\theta|^2 - B_r\cdot\theta + C_r]`.

    Attributes
    ----------
    design : array (n, k, p) or (n, k, J)
        :math:`M_r`; ``k = 0`` for a block with no quadratic part.  With ``outputs = d > 1`` it is
        the design :math:`m_r` (``(k, J)``) that each of the :math:`d` outputs of a vector model
        shares, :math:`M_r = I_d\otimes m_r` with :math:`\theta_{iJ + j}`: then
        :math:`|M_r\theta|^2 = \sum_i |m_r\theta_i|^2` and :math:`\sum_r\omega_r M_r^TM_r =
        I_d\otimes\sum_r\omega_r m_r^Tm_r`, :math:`d^2` times fewer operations and :math:`d^2`
        times less memory than the full design.
    linear : array (n, p)
        :math:`B_r`.
    constant : array (n,)
        :math:`C_r`.
    weights : array (n,)
        :math:`\omega_r \ge 0`; equal (scale over ``n``) in a Monte Carlo block.
    iid : bool
        Whether the rows are independent samples (Monte Carlo) or nodes of a quadrature rule.
    outputs : int
        1, or the :math:`d` outputs that share ``design``.
    """

    design: np.ndarray
    linear: np.ndarray
    constant: np.ndarray
    weights: np.ndarray
    iid: bool
    outputs: int = 1

    @property
    def n(self) -> int:
        return self.linear.shape[0]

    def losses(self, theta) -> np.ndarray:
        r"""The per-row losses :math:`\ell_r(\theta) = \tfrac12|M_r\theta|^2 - B_r\cdot\theta + C_r`, shape ``(n,)``.

        ``theta`` may also be ``(p, m)``, several parameter vectors: then the losses are ``(n, m)``.
        """
        theta = np.asarray(theta, dtype=float)
        out = (self.constant if theta.ndim == 1 else self.constant[:, None]) - np.einsum("rp,p...->r...", self.linear, theta)
        if self.design.shape[1]:
            if self.outputs == 1:
                m = np.einsum("rkp,p...->rk...", self.design, theta)
                out = out + 0.5 * np.einsum("rk...,rk...->r...", m, m)
            else:
                m = np.einsum("rkj,ij...->rki...", self.design, theta.reshape((self.outputs, -1) + theta.shape[1:]))
                out = out + 0.5 * np.einsum("rki...,rki...->r...", m, m)
        return out

    def matrix(self) -> np.ndarray:
        r"""The block's :math:`\sum_r \omega_r M_r^T M_r`, ``(p, p)``."""
        p = self.linear.shape[1]
        if not self.design.shape[1]:
            return np.zeros((p, p))
        J = self.design.shape[2]
        scaled = (np.sqrt(self.weights)[:, None, None] * self.design).reshape(-1, J)
        shared = np.einsum("ip,iq->pq", scaled, scaled)
        return shared if self.outputs == 1 else np.kron(np.eye(self.outputs), shared)

    def subset(self, index: np.ndarray) -> Block:
        """The rows ``index`` of a Monte Carlo block, reweighted to the same scale (``weights * n / len(index)``)."""
        factor = self.n / len(index)
        return Block(self.design[index], self.linear[index], self.constant[index], self.weights[index] * factor, True, self.outputs)


class QuadraticForm:
    r""":math:`L(\theta) = \tfrac12\theta^T A\theta - b^T\theta + c`, with the rows it was assembled from.

    Parameters
    ----------
    blocks : sequence of Block
        The rows (see the module docstring); all with the same number of parameters ``p``.
    basis : Basis
        The features the model is built on.
    model : {"gradient", "vector"}
        The model family.
    dim : int
        :math:`d`, the dimension of :math:`x`.
    name : str
        The objective (``"esm"``, ``"ism"``, ``"dsm"``, ``"sliced"``, ``"am"``, ``"cfm"``, with a
        ``"-quadrature"`` suffix for quadrature assemblies).
    kind : {"score", "velocity"}
        What the fitted field estimates.

    Attributes
    ----------
    A : array (p, p)
        Symmetric positive semi-definite.
    b : array (p,)
    c : float
        The objective's own constant (e.g. :math:`\tfrac12 E\lambda|\text{target}|^2` for ESM,
        0 for ISM): ``value(theta)`` is the objective's value on these rows, constant included.
    n : int
        The number of rows (samples or quadrature nodes) over all blocks.
    size : int
        ``p``.
    monte_carlo : bool
        Whether every block is a Monte Carlo block (then :meth:`split` and the standard errors apply).
    """

    def __init__(self, blocks: Sequence[Block], *, basis: Basis, model: str, dim: int, name: str, kind: str,
                 _matrices: Sequence[np.ndarray] | None = None):
        self.blocks = tuple(blocks)
        if not self.blocks:
            raise InputError("a QuadraticForm needs at least one block of rows")
        sizes = {blk.linear.shape[1] for blk in self.blocks}
        if len(sizes) != 1:
            raise InputError(f"the blocks of a QuadraticForm must have one number of parameters, got {sorted(sizes)}")
        for blk in self.blocks:
            if blk.design.shape[1] and blk.outputs * blk.design.shape[2] != blk.linear.shape[1]:
                raise InputError(f"a block's design of {blk.design.shape[2]} columns for {blk.outputs} output(s) does not "
                                 f"match its {blk.linear.shape[1]} parameters")
        self.size = sizes.pop()
        self.basis, self.model, self.dim, self.name, self.kind = basis, model, dim, name, kind
        self.n = sum(blk.n for blk in self.blocks)
        self.monte_carlo = all(blk.iid for blk in self.blocks)
        # each block's matrix, kept so that a split assembles only its held-out part
        self._matrices = tuple(_matrices) if _matrices is not None else tuple(blk.matrix() for blk in self.blocks)
        A = sum(self._matrices)
        self.A = 0.5 * (A + A.T)
        self.b = sum(np.einsum("r,rp->p", blk.weights, blk.linear) for blk in self.blocks)
        self.c = float(sum(np.einsum("r,r->", blk.weights, blk.constant) for blk in self.blocks))

    def __repr__(self) -> str:
        return f"QuadraticForm({self.name}, model={self.model!r}, p={self.size}, n={self.n})"

    def value(self, theta) -> float:
        r""":math:`\tfrac12\theta^T A\theta - b^T\theta + c`."""
        theta = self._theta(theta)
        return float(0.5 * np.einsum("p,pq,q->", theta, self.A, theta) - np.einsum("p,p->", self.b, theta) + self.c)

    def values(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`value` and :meth:`standard_error` of several parameter vectors, the columns of ``thetas`` ``(p, m)``, in one pass."""
        thetas = np.asarray(thetas, dtype=float)
        losses = [blk.losses(thetas) for blk in self.blocks]
        value = sum(np.einsum("r,rm->m", blk.weights, ell) for blk, ell in zip(self.blocks, losses))
        var = sum(_variance_weight(blk) * np.var(ell, axis=0, ddof=1) for blk, ell in zip(self.blocks, losses) if blk.iid and blk.n > 1)
        return value, np.sqrt(var + np.zeros(thetas.shape[1]))

    def standard_error(self, theta) -> float:
        r"""The Monte Carlo standard error of :meth:`value` at a fixed ``theta``, from the per-sample losses.

        :math:`\mathrm{se}^2 = \sum_{\text{blocks}} \big(\sum_r \omega_r^2\big)\,\widehat{\mathrm{Var}}(\ell_r)`
        (sample variance, ``ddof = 1``); quadrature blocks add nothing.  Valid for a ``theta``
        chosen independently of these samples.
        """
        theta = self._theta(theta)
        return float(np.sqrt(sum(_variance_weight(blk) * np.var(blk.losses(theta), ddof=1) for blk in self._mc())))

    def linear_standard_error(self) -> np.ndarray:
        r"""The Monte Carlo standard error of each entry of :math:`b`, shape ``(p,)`` (as :meth:`standard_error`)."""
        return np.sqrt(sum((_variance_weight(blk) * np.var(blk.linear, axis=0, ddof=1) for blk in self._mc()), np.zeros(self.size)))

    def split(self, held_out: float = 0.25, rng: np.random.Generator | int | None = 0) -> tuple[QuadraticForm, QuadraticForm]:
        r"""Split the samples of every block at random into a training and a held-out form.

        Each block keeps its scale, so both parts estimate the same population objective.

        Parameters
        ----------
        held_out : float
            The fraction of each block's samples held out, in (0, 1); each part keeps at least
            one sample per block.
        rng : Generator, int or None
            The permutation's generator (or its seed).

        Raises
        ------
        InputError
            For a form with quadrature blocks (its rows are not samples), a fraction outside
            (0, 1), or a block too small to split.
        """
        if not self.monte_carlo:
            raise InputError(
                f"{self!r} has quadrature blocks: its rows are nodes, not samples, and cannot be split; "
                "pass a fixed ridge, or a (train, held-out) pair of Monte Carlo forms"
            )
        frac = float(val.finite_array(held_out, "held_out", ndim=0))
        if not 0.0 < frac < 1.0:
            raise InputError(f"held_out must lie in (0, 1), got {frac!r}")
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        train, held, train_matrices, held_matrices = [], [], [], []
        for blk, whole in zip(self.blocks, self._matrices):
            k = int(round(frac * blk.n))
            if not 1 <= k <= blk.n - 1:
                raise InputError(f"a block of {blk.n} samples cannot be split with held_out = {frac:g}; use more samples")
            perm = gen.permutation(blk.n)
            held.append(blk.subset(perm[:k]))
            train.append(blk.subset(perm[k:]))
            # sum over the training rows = sum over all - sum over the held-out rows, each reweighted
            # to its part's scale (weights S/n become S/n_part)
            held_matrices.append(held[-1].matrix())
            train_matrices.append((blk.n * whole - k * held_matrices[-1]) / (blk.n - k))
        meta = dict(basis=self.basis, model=self.model, dim=self.dim, name=self.name, kind=self.kind)
        return QuadraticForm(train, _matrices=train_matrices, **meta), QuadraticForm(held, _matrices=held_matrices, **meta)

    def _mc(self):
        return [blk for blk in self.blocks if blk.iid and blk.n > 1]

    def _theta(self, theta) -> np.ndarray:
        theta = val.finite_array(theta, "theta")
        if theta.shape != (self.size,):
            raise InputError(f"theta must have shape ({self.size},) for {self!r}, got shape {theta.shape}")
        return theta


def _variance_weight(blk: Block) -> float:
    return float(np.sum(blk.weights**2))


# ---------------------------------------------------------------------------------------------
# model designs


def check_model(model: str) -> str:
    """``model`` if it is one of :data:`MODELS`, else an InputError."""
    if model not in MODELS:
        raise InputError(f"model must be one of {MODELS}, got {model!r}")
    return model


def output_design(model: str, feats, dim: int) -> np.ndarray:
    r"""The model's output as a linear map of :math:`\theta`: ``G`` of shape ``(n, d, p)``, :math:`s(x_r) = G_r\theta`.

    Gradient model: :math:`G_r[i, j] = \partial_i\psi_j`; vector model:
    :math:`G_r[i, i'J + j] = \delta_{ii'}\psi_j`.
    """
    if model == "gradient":
        return np.ascontiguousarray(feats.gradients.transpose(0, 2, 1))
    v = feats.values
    n, J = v.shape
    G = np.zeros((n, dim, dim, J))
    for i in range(dim):
        G[:, i, i, :] = v
    return G.reshape(n, dim, dim * J)


def model_design(model: str, feats, dim: int) -> tuple[np.ndarray, int]:
    r"""The model's output in the form a :class:`Block` holds it: ``(design, outputs)``.

    Gradient model: :func:`output_design`, ``outputs = 1``; vector model: the features
    :math:`\psi_j` as ``(n, 1, J)``, shared by the ``d`` outputs (``outputs = d``).
    """
    if model == "gradient":
        return output_design(model, feats, dim), 1
    return feats.values[:, None, :], dim


def design_transpose(design: np.ndarray, outputs: int, y: np.ndarray) -> np.ndarray:
    r""":math:`G_r^T y_r` for every row, ``(n, p)``, from a :func:`model_design` and ``y`` ``(n, d)``."""
    if outputs == 1:
        return np.einsum("rip,ri->rp", design, y)
    return np.einsum("rj,ri->rij", design[:, 0, :], y).reshape(y.shape[0], -1)


def divergence_rows(model: str, feats, dim: int) -> np.ndarray:
    r"""The divergence as a linear map of :math:`\theta`, ``(n, p)``: :math:`\nabla\cdot s(x_r) = D_r\cdot\theta`.

    Gradient model: :math:`D_r[j] = \Delta\psi_j`; vector model: :math:`D_r[iJ + j] = \partial_i\psi_j`.
    """
    if model == "gradient":
        return feats.laplacians
    g = feats.gradients  # (n, J, d)
    return np.ascontiguousarray(g.transpose(0, 2, 1)).reshape(g.shape[0], dim * g.shape[1])


def design_needs(model: str, divergence: bool = False) -> tuple[str, ...]:
    """The basis outputs a model's output (and, if asked, its divergence) are built from."""
    need = {"gradients"} if model == "gradient" else {"values"}
    if divergence:
        need.add("laplacians" if model == "gradient" else "gradients")
    return tuple(sorted(need))


def linear_block(linear: np.ndarray, weights: np.ndarray, iid: bool) -> Block:
    """A block with no quadratic part (``k = 0``) and no constant: :math:`-\\sum_r \\omega_r B_r\\cdot\\theta`."""
    n, p = linear.shape
    return Block(np.zeros((n, 0, p)), linear, np.zeros(n), weights, iid)
