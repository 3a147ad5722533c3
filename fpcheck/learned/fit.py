r"""Exact fits of linear models: one regularised linear solve per objective (MATH.md section 4).

A :class:`~fpcheck.learned._forms.QuadraticForm` :math:`L(\theta) = \tfrac12\theta^T A\theta - b^T\theta + c`
is minimised, with a ridge, by

.. math::
    \theta_\rho = (A + \rho\,\mathrm{diag}(A))^{-1} b .

The ridge is relative to :math:`\mathrm{diag}(A)`, which makes it *scale-invariant*: rescaling
a feature, :math:`\psi_j \to \kappa_j\psi_j`, rescales :math:`\theta_j \to \theta_j/\kappa_j` and
leaves the fitted field unchanged for every :math:`\rho`.  The system is solved as
:math:`(DAD + \rho I)\,y = Db`, :math:`\theta = Dy` with :math:`D = \mathrm{diag}(A)^{-1/2}`
(Jacobi scaling, which improves its conditioning), by Cholesky (``scipy.linalg.cho_factor``).

Choosing :math:`\rho`: the form is assembled on a training split and on a held-out split of
the samples.  For each :math:`\rho` on a log grid (:data:`RIDGE_GRID`, :math:`10^{-12}` to
:math:`10^{-1}`), :math:`\theta_\rho` is fitted on the training part and scored by the held-out
value :math:`\tfrac12\theta_\rho^T A_h\theta_\rho - b_h^T\theta_\rho + c_h`.  Each held-out row is
an independent sample with expectation the population per-sample loss, and
:math:`\theta_\rho` depends on the training samples only, so *conditionally on the training
part* the held-out value is an unbiased estimate of the population objective
:math:`L_\infty(\theta_\rho)`.  Every objective here is its population target's squared error
up to a :math:`\theta`-independent constant (ISM: ESM minus half the Fisher information; DSM:
ESM plus a constant; Action Matching: :math:`\tfrac12\int E|\nabla s - \nabla s^*|^2` plus a
constant), so minimising the held-out value over :math:`\rho` minimises an unbiased estimate
of the fitted field's true error, plus a constant.  (The minimum over a grid of 23 values is
slightly optimistic; its standard error is reported in :class:`RidgeSelection`.)  After the
choice, :func:`fit` refits on all the samples with that :math:`\rho` by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import linalg

from .. import _validation as val
from ..errors import InputError
from ._forms import QuadraticForm
from .bases import Basis

__all__ = ["RIDGE_GRID", "UPPER_Z", "RidgeSelection", "LinearField", "solve", "fit"]

#: Standard errors added to a held-out value by ``rule="upper"`` of :func:`fit`.
UPPER_Z = 2.0

#: The default ridges :math:`\rho` tried by :func:`fit`: every half decade from 1e-12 to 1e-1.
RIDGE_GRID = np.logspace(-12.0, -1.0, 23)


class RidgeSelection(NamedTuple):
    """How :func:`fit` chose the ridge.

    Attributes
    ----------
    grid : array (m,)
        The ridges tried.
    held_out : array (m,)
        The held-out objective of each fit (``inf`` where the system was not positive definite).
    standard_error : array (m,)
        The Monte Carlo standard error of each held-out value.
    index : int
        The chosen ridge, ``grid[index]``: the smallest held-out value.
    """

    grid: np.ndarray
    held_out: np.ndarray
    standard_error: np.ndarray
    index: int


class LinearField:
    r"""A fitted linear model, a plain callable ``field(x, t) -> (n, d)``.

    ``model="gradient"``: :math:`s(x, t) = \sum_j\theta_j\nabla\psi_j(x, t)`, with
    :meth:`potential` :math:`\sum_j\theta_j\psi_j` (Action Matching's :math:`s_t`);
    ``model="vector"``: :math:`s_i = \sum_j\theta_{ij}\psi_j`, ``theta.reshape(d, J)``.

    Attributes
    ----------
    basis : Basis
    theta : array (p,)
    rho : float
        The ridge of the fit.
    model : {"gradient", "vector"}
    dim : int
    kind : {"score", "velocity"}
        What it estimates.
    objective : str
        The objective it was fitted to.
    selection : RidgeSelection or None
        How the ridge was chosen (None for a fixed ridge).
    """

    def __init__(self, basis: Basis, theta: np.ndarray, *, model: str, dim: int, rho: float, kind: str,
                 objective: str, selection: RidgeSelection | None = None):
        self.basis, self.model, self.dim, self.kind, self.objective = basis, model, dim, kind, objective
        self.theta = np.array(theta, dtype=float)
        self.theta.flags.writeable = False
        self.rho, self.selection = float(rho), selection

    def __repr__(self) -> str:
        return f"LinearField({self.kind} by {self.objective}, model={self.model!r}, p={self.theta.size}, rho={self.rho:.3g})"

    def __call__(self, x, t) -> np.ndarray:
        """The field at points ``x`` (n, d) and a time, or one time per point (n,); shape ``(n, d)``."""
        if self.model == "gradient":
            g = self.basis.evaluate(x, t, "gradients").gradients  # (n, J, d)
            if g.shape[2] != self.dim:
                raise InputError(f"x must be {self.dim}-dimensional for {self!r}, got {g.shape[2]}")
            return np.einsum("rjd,j->rd", g, self.theta)
        v = self.basis.evaluate(x, t, "values").values
        return np.einsum("rj,ij->ri", v, self.theta.reshape(self.dim, -1))

    def potential(self, x, t) -> np.ndarray:
        r"""The potential :math:`\sum_j\theta_j\psi_j(x, t)` of a gradient model, shape ``(n,)``."""
        if self.model != "gradient":
            raise InputError("a vector model has no potential: only gradient models (ESM, ISM, DSM, AM, FM with model='gradient') do")
        return np.einsum("rj,j->r", self.basis.evaluate(x, t, "values").values, self.theta)


def _scaling(form: QuadraticForm) -> np.ndarray:
    diag = np.diag(form.A)
    bad = np.flatnonzero(~(diag > 0))
    if bad.size:
        raise InputError(
            f"{form!r} does not constrain parameter(s) {bad[:10].tolist()}: A has zero diagonal entries there "
            "(a feature with zero gradient, e.g. constant in x for a gradient model, or zero on every sample); "
            "drop those features"
        )
    return 1.0 / np.sqrt(diag)


def _solve_scaled(form: QuadraticForm, rho: float, D: np.ndarray) -> np.ndarray:
    K = D[:, None] * form.A * D[None, :]
    K[np.diag_indices_from(K)] += rho
    try:
        factor = linalg.cho_factor(K, lower=True, check_finite=False)
    except linalg.LinAlgError:
        raise InputError(
            f"A + rho diag(A) is not positive definite for {form!r} at rho = {rho:.3g}: the features are "
            "linearly dependent on these samples; raise the ridge, drop features or add samples"
        ) from None
    return D * linalg.cho_solve(factor, D * form.b, check_finite=False)


def solve(form: QuadraticForm, rho: float) -> np.ndarray:
    r""":math:`\theta = (A + \rho\,\mathrm{diag}(A))^{-1} b` by Cholesky.

    Raises
    ------
    InputError
        ``rho < 0``; a zero diagonal entry of :math:`A`; a matrix that is not positive definite.
    """
    if not isinstance(form, QuadraticForm):
        raise InputError(f"form must be a QuadraticForm, got {type(form).__name__}")
    rho = val.positive(rho, "ridge", allow_zero=True)
    return _solve_scaled(form, rho, _scaling(form))


def _pair(objective) -> tuple[QuadraticForm, QuadraticForm | None]:
    if isinstance(objective, QuadraticForm):
        return objective, None
    if isinstance(objective, Sequence) and not isinstance(objective, str) and len(objective) == 2:
        train, held = objective
        if isinstance(train, QuadraticForm) and isinstance(held, QuadraticForm):
            same = (train.basis is held.basis, train.model == held.model, train.size == held.size, train.name == held.name)
            if not all(same):
                raise InputError(f"the training and held-out forms must be one objective on one basis and model, got {train!r}, {held!r}")
            return train, held
    raise InputError(f"objective must be a QuadraticForm or a (train, held-out) pair of them, got {type(objective).__name__}")


def _ridges(ridge) -> np.ndarray | float:
    if isinstance(ridge, str):
        if ridge != "auto":
            raise InputError(f"ridge must be 'auto', a float >= 0 or a sequence of floats > 0, got {ridge!r}")
        return RIDGE_GRID
    if np.ndim(ridge) == 0:
        return val.positive(ridge, "ridge", allow_zero=True)
    grid = val.finite_array(ridge, "ridge")
    if grid.ndim != 1 or grid.size < 1 or np.any(grid <= 0):
        raise InputError(f"a ridge grid must be a non-empty 1-D sequence of values > 0, got {ridge!r}")
    return grid


def fit(objective, ridge="auto", *, held_out: float = 0.25, seed: int | None = 0, refit: bool = True,
        rule: str = "min") -> LinearField:
    r"""Minimise a quadratic objective with a scale-invariant ridge chosen on held-out samples.

    Parameters
    ----------
    objective : QuadraticForm or (QuadraticForm, QuadraticForm)
        One Monte Carlo form, split here (``held_out`` of each block's samples), or a pair
        (training form, held-out form) of the same objective, basis and model.  A quadrature
        form takes a fixed ``ridge`` (or a pair with a Monte Carlo held-out form).
    ridge : "auto", float or sequence of float
        ``"auto"``: choose on :data:`RIDGE_GRID`; a sequence: choose on it; a float: use it
        (no selection, no split).
    held_out : float
        The held-out fraction when ``objective`` is one form.
    seed : int or None
        Seed of the split.
    refit : bool
        After choosing on a split of one form, refit on all its samples with the chosen ridge.
    rule : {"min", "upper"}
        ``"min"``: the ridge of the smallest held-out value; ``"upper"``: of the smallest upper
        bound, held-out value plus :data:`UPPER_Z` standard errors, so that a ridge is not chosen
        on the strength of one noisy held-out value.  Action Matching needs the second: its loss
        cannot see potentials constant in :math:`x`, combinations of features nearly constant on
        the samples are pushed far by noise at small ridges, and there the held-out value is
        heavy-tailed (``vp-linear`` x ``gmm1d-bimodal``, 10^6 samples: standard errors from 0.02 at
        :math:`\rho = 0.1` to 45 at :math:`3\times 10^{-5}`, where the smallest value chose a field
        with relative error 6e4).

    Returns
    -------
    LinearField
        ``field(x, t) -> (n, d)``, with ``.theta``, ``.rho``, ``.basis``, ``.selection``.

    Raises
    ------
    InputError
        Bad arguments; a parameter the objective does not constrain; no positive definite system
        on the grid.
    """
    form, held = _pair(objective)
    ridges = _ridges(ridge)
    meta = dict(model=form.model, dim=form.dim, kind=form.kind, objective=form.name)
    if np.ndim(ridges) == 0:
        return LinearField(form.basis, solve(form, float(ridges)), rho=float(ridges), **meta)
    full = form
    if held is None:
        form, held = form.split(held_out, seed)
    D = _scaling(form)
    values, errors, thetas = np.full(ridges.size, np.inf), np.full(ridges.size, np.nan), [None] * ridges.size
    for i, rho in enumerate(ridges):
        try:
            thetas[i] = _solve_scaled(form, float(rho), D)
        except InputError:
            continue
    ok = [i for i, th in enumerate(thetas) if th is not None]
    if ok:
        values[ok], errors[ok] = held.values(np.stack([thetas[i] for i in ok], axis=1))
    if not np.any(np.isfinite(values)):
        raise InputError(
            f"A + rho diag(A) is not positive definite for any ridge in [{ridges.min():.3g}, {ridges.max():.3g}] "
            f"for {form!r}: drop features, add samples or try larger ridges"
        )
    if rule not in ("min", "upper"):
        raise InputError(f"rule must be 'min' or 'upper', got {rule!r}")
    score = values if rule == "min" else values + UPPER_Z * np.nan_to_num(errors, nan=np.inf)
    best = int(np.argmin(score))
    selection = RidgeSelection(np.array(ridges, dtype=float), values, errors, best)
    rho = float(ridges[best])
    theta = solve(full, rho) if (refit and full is not form) else thetas[best]
    return LinearField(form.basis, theta, rho=rho, selection=selection, **meta)
