r"""Weak orders of convergence of the particle integrators, measured against exact expectations.

A scheme of weak order :math:`p` with :math:`K` steps has
:math:`|\mathbb{E}\,\varphi(X^{(K)}) - \mathbb{E}_{q}\,\varphi| \approx C K^{-p}` for smooth
:math:`\varphi`.  For mixture data the exact side is closed-form at every :math:`t` (MATH.md
section 2): for a component :math:`\mathcal{N}(m, S)`,

.. math::
    \mathbb{E}|X|^2 = |m|^2 + \operatorname{tr} S, \qquad
    \mathbb{E}\cos(\mathbf{1}\cdot X) = \cos(\mathbf{1}\cdot m)\, e^{-\mathbf{1}^T S \mathbf{1}/2}.

* The probability-flow ODE is deterministic, so its weak error is measured without Monte-Carlo
  noise: the expectation over :math:`q_T` is a quadrature (:func:`quadrature_nodes`: the
  trapezoid rule on a uniform grid), and each node is carried to :math:`t_{end}` by the
  integrator.  The rule converges faster than any power of the spacing while the flow map is
  smooth on that scale; close to :math:`t = 0` the map of multimodal data is steep across the gaps
  between the modes and the rule stalls (``gmm1d-bimodal``, 2001 nodes: about :math:`10^{-3}` at
  :math:`t_{end} = 0`, :math:`6\times10^{-6}` at 0.05, :math:`4\times10^{-12}` at 0.2), so
  studies of high-order schemes stop at 0.2.
* The reverse SDE is random: its weak error is a sample mean minus the exact value, with the
  Monte-Carlo standard error :math:`\hat\sigma_\varphi/\sqrt n` beside it; only errors above
  three standard errors enter the fit.

:func:`fit_order` fits :math:`\log|e| = \log C - p \log K` by least squares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..analytic import ExactMarginals
from ..distributions import GaussianMixture
from ..errors import InputError
from ..processes import AffineProcess

__all__ = ["OrderFit", "WeakStudy", "FUNCTIONALS", "exact_expectation", "fit_order", "quadrature_nodes", "weak_study"]

_STUDY_METHODS = ("flow-euler", "flow-heun", "flow-rk4", "reverse-em", "reverse-heun")

#: Smooth test functions with closed-form expectations under a Gaussian mixture.
FUNCTIONALS = ("second moment", "cos")


def _phi(name: str, x: np.ndarray) -> np.ndarray:
    if name == "second moment":
        return np.einsum("ni,ni->n", x, x)
    if name == "cos":
        return np.cos(x.sum(axis=1))
    raise InputError(f"unknown functional {name!r}; known: {', '.join(FUNCTIONALS)}")


def exact_expectation(name: str, mixture: GaussianMixture) -> float:
    r""":math:`\mathbb{E}\,\varphi(X)` in closed form for ``name`` in :data:`FUNCTIONALS`."""
    w, m, S = mixture.weights, mixture.means, mixture.covs
    if name == "second moment":
        return float(w @ (np.einsum("ki,ki->k", m, m) + np.trace(S, axis1=1, axis2=2)))
    if name == "cos":
        return float(w @ (np.cos(m.sum(axis=1)) * np.exp(-0.5 * S.sum(axis=(1, 2)))))
    raise InputError(f"unknown functional {name!r}; known: {', '.join(FUNCTIONALS)}")


@dataclass(frozen=True)
class OrderFit:
    """A fitted :math:`|e| \\approx C K^{-p}`: ``order`` p with its regression standard error, over ``used`` points."""

    order: float
    order_se: float
    constant: float
    used: int


def fit_order(steps: Sequence[int], errors: Sequence[float], se: Sequence[float] | None = None) -> OrderFit:
    r"""Least-squares fit of :math:`\log|e_K| = \log C - p \log K`.

    Points whose error is not above three Monte-Carlo standard errors (``se``) are left out, as
    are exact zeros; at least two points must remain (else ``order`` is NaN).
    """
    K = np.asarray(steps, dtype=float)
    e = np.abs(np.asarray(errors, dtype=float))
    keep = e > (0.0 if se is None else 3.0 * np.asarray(se, dtype=float))
    if keep.sum() < 2:
        return OrderFit(float("nan"), float("nan"), float("nan"), int(keep.sum()))
    X, y = np.log(K[keep]), np.log(e[keep])
    A = np.column_stack([np.ones_like(X), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    dof = max(keep.sum() - 2, 1)
    cov = (resid @ resid / dof) * np.linalg.inv(A.T @ A)
    return OrderFit(float(-coef[1]), float(np.sqrt(cov[1, 1])), float(np.exp(coef[0])), int(keep.sum()))


def quadrature_nodes(mixture: GaussianMixture, n_nodes: int = 2001, width: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes ``(n_nodes, 1)`` and trapezoid weights for :math:`\int \varphi\, dq` over a 1D mixture.

    The nodes cover every component's mean :math:`\pm` ``width`` standard deviations; beyond them
    the mass is below :math:`10^{-32}`, and the trapezoid rule on a smooth integrand that decays
    like a Gaussian converges faster than any power of the spacing.
    """
    if mixture.dim != 1:
        raise InputError(f"quadrature_nodes takes a 1D mixture, got dimension {mixture.dim}")
    sd = np.sqrt(mixture.covs[:, 0, 0])
    lo, hi = float((mixture.means[:, 0] - width * sd).min()), float((mixture.means[:, 0] + width * sd).max())
    x = np.linspace(lo, hi, int(n_nodes))[:, None]
    w = mixture.pdf(x) * (x[1, 0] - x[0, 0])
    return x, w


@dataclass(frozen=True)
class WeakStudy:
    """Weak errors of one method against the step count, per functional.

    Attributes
    ----------
    method : str
    steps : array (L,)
    errors : dict name -> array (L,)
        Estimate minus exact value.
    se : dict name -> array (L,) or None
        Monte-Carlo standard errors (None for quadrature).
    fits : dict name -> OrderFit
    """

    method: str
    steps: np.ndarray
    errors: dict
    se: dict | None
    fits: dict


def weak_study(
    process: AffineProcess,
    data: GaussianMixture,
    method: str,
    steps: Sequence[int],
    *,
    t_end: float = 0.0,
    n: int = 10**6,
    seed: int = 0,
    n_nodes: int = 2001,
) -> WeakStudy:
    r"""Weak errors at :math:`t_{end}` of a generation run from :math:`q_T` with each step count.

    ``method`` is ``"flow-euler"``, ``"flow-heun"``, ``"flow-rk4"`` (probability-flow ODE, 1D
    data, quadrature over :math:`q_T`: no Monte-Carlo error) or ``"reverse-em"``,
    ``"reverse-heun"`` (reverse SDE, ``n`` particles from the exact :math:`q_T`, seeded).  The
    exact score is compiled (:class:`~fpcheck.particles.fields.ExactField`).
    """
    from .fields import ExactField
    from .flow import integrate_flow
    from .reverse import simulate_reverse

    truth = ExactMarginals(process, data)
    field = ExactField(process, data)
    target = truth.at(t_end)
    exact = {name: exact_expectation(name, target) for name in FUNCTIONALS}
    errors = {name: [] for name in FUNCTIONALS}
    se = {name: [] for name in FUNCTIONALS}
    kind, _, scheme = method.partition("-")
    if method not in _STUDY_METHODS:
        raise InputError(f"unknown method {method!r}; use {', '.join(_STUDY_METHODS)} (weak studies take fixed step counts)")
    if kind == "flow":
        nodes, weights = quadrature_nodes(truth.at(truth.T), n_nodes)
        for K in steps:
            sol = integrate_flow(process, field, nodes, t_start=truth.T, times=[t_end], method=scheme, steps=int(K))
            for name in FUNCTIONALS:
                errors[name].append(float(weights @ _phi(name, sol.samples[-1])) - exact[name])
        se = None
    else:
        x_T = truth.sample(int(n), truth.T, np.random.default_rng(seed))
        for K in steps:
            sol = simulate_reverse(process, field, x_T, times=[t_end], method=scheme, steps=int(K), seed=seed)
            for name in FUNCTIONALS:
                values = _phi(name, sol.samples[-1])
                errors[name].append(float(values.mean()) - exact[name])
                se[name].append(float(values.std(ddof=1) / np.sqrt(values.size)))
    K = np.asarray(steps, dtype=int)
    errs = {k: np.asarray(v) for k, v in errors.items()}
    ses = None if se is None else {k: np.asarray(v) for k, v in se.items()}
    fits = {k: fit_order(K, errs[k], None if ses is None else ses[k]) for k in FUNCTIONALS}
    return WeakStudy(method, K, errs, ses, fits)
