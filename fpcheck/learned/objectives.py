r"""Objectives for models linear in their parameters, as quadratic forms (MATH.md section 4).

For a model :math:`s_\theta` that is linear in :math:`\theta` (``model="gradient"``:
:math:`s = \sum_j\theta_j\nabla\psi_j`; ``model="vector"``: :math:`s_i = \sum_j\theta_{ij}\psi_j`;
see :mod:`fpcheck.learned._forms`) every objective below is a
:class:`~fpcheck.learned._forms.QuadraticForm` :math:`\tfrac12\theta^T A\theta - b^T\theta + c`,
assembled from Monte Carlo means over samples (one time :math:`t_r` per sample), with a time
weight :math:`\lambda(t)` (default 1; :func:`noise_weight` gives :math:`\lambda = s_t^2`):

* :func:`esm`: :math:`\tfrac12 E\,\lambda|s - s^*|^2` against a given field :math:`s^*` (score or velocity);
* :func:`ism`: :math:`E\,\lambda[\tfrac12|s|^2 + \nabla\cdot s]` (Hyvärinen),
  :math:`= \text{ESM} - \tfrac12 E\lambda|\nabla\log q|^2`;
* :func:`dsm`: :math:`\tfrac12 E\,\lambda|s(x) + \varepsilon/s_t|^2` with
  :math:`x = a_t x_0 + c_t + s_t\varepsilon`, :math:`= \text{ESM} + C`;
* :func:`sliced`: :math:`E\,\lambda[v^T\nabla s\,v + \tfrac12(v^T s)^2]`, :math:`v \sim \mathcal N(0, I)`
  (or :math:`\tfrac12|s|^2` for the second term);
* :func:`action_matching`: :math:`E_{q_{t_0}}s_{t_0} - E_{q_{t_1}}s_{t_1}
  + \int_{t_0}^{t_1} E_{q_t}[\tfrac12|\nabla s_t|^2 + \partial_t s_t]\,dt`;
* :func:`flow_matching`: :math:`\tfrac12 E\,\lambda|s(x) - u_t(x\mid x_0)|^2` (conditional flow matching).

Expectations over :math:`t` are means over the samples' times: with times uniform on
:math:`[t_0, t_1]` they estimate :math:`\frac{1}{t_1 - t_0}\int E_{q_t}[\cdot]\,dt` (Action
Matching's time integral is :math:`(t_1 - t_0)` times such a mean, as in its definition).
Assembly by quadrature (1D and 2D grids, Gauss-Legendre in time) is in
:mod:`fpcheck.learned._quadrature`, re-exported here.

Samples (:mod:`fpcheck.learned._samples`, re-exported here): :func:`kernel_samples` draws :math:`t`, :math:`x_0 \sim p`, :math:`\varepsilon` and
:math:`x = a_t x_0 + c_t + s_t\varepsilon`, which is distributed as :math:`q_t` (MATH.md 2), so one
draw serves ESM, ISM, DSM and flow matching on the same points.  :func:`exact_values` evaluates
the exact score or probability-flow velocity at one time per point.
"""

from __future__ import annotations

import numpy as np

from .. import _validation as val
from ..errors import InputError
from ..processes import AffineProcess
from ._forms import (
    Block,
    QuadraticForm,
    check_model,
    design_needs,
    design_transpose,
    divergence_rows,
    linear_block as _linear_block,
    model_design,
    output_design,
)
from ._quadrature import (
    Grid,
    action_matching_quadrature,
    esm_quadrature,
    gauss_legendre,
    ism_quadrature,
    tensor_grid,
)
from ._samples import (
    CONSISTENCY_RTOL,
    KernelSamples,
    _coefficients,
    _per_time,
    _range,
    _times,
    exact_values,
    kernel_samples,
    noise_weight,
)
from .bases import Basis

__all__ = [
    "QuadraticForm",
    "Block",
    "KernelSamples",
    "kernel_samples",
    "exact_values",
    "noise_weight",
    "esm",
    "ism",
    "dsm",
    "sliced",
    "PROJECTIONS",
    "action_matching",
    "flow_matching",
    "Grid",
    "tensor_grid",
    "gauss_legendre",
    "esm_quadrature",
    "ism_quadrature",
    "action_matching_quadrature",
]

# ---------------------------------------------------------------------------------------------
# argument handling


def _basis(basis) -> Basis:
    if not isinstance(basis, Basis):
        raise InputError(f"basis must be a fpcheck.learned.bases.Basis, got {type(basis).__name__}")
    return basis


def _points(x, basis: Basis, name: str = "x") -> np.ndarray:
    arr = val.finite_array(x, name)
    if arr.ndim == 1 and basis.dim in (None, 1):
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1 or (basis.dim is not None and arr.shape[1] != basis.dim):
        want = f"(n, {basis.dim})" if basis.dim is not None else "(n, d)"
        raise InputError(f"{name} must have shape {want} with n >= 1 for {basis!r}, got shape {np.shape(x)}")
    return arr


def _weights(weight, t: np.ndarray) -> np.ndarray:
    r""":math:`\lambda(t_r)` as an ``(n,)`` array: from None (1), a float, an array or a callable of the times."""
    n = t.shape[0]
    if weight is None:
        return np.ones(n)
    lam = val.finite_array(weight(t.copy()) if callable(weight) else weight, "weight")
    if lam.ndim == 0:
        lam = np.full(n, float(lam))
    if lam.shape != (n,):
        raise InputError(f"weight must give one value per sample, shape ({n},); got shape {lam.shape}")
    if np.any(lam < 0):
        raise InputError(f"weight must be >= 0, got {lam.min():g}")
    return np.array(lam, dtype=float)


def _target(target, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Target values ``(n, d)``: an array as given, or a field ``(x, t) -> (n, d)`` (exact fields vectorised)."""
    if not callable(target):
        y = val.finite_array(target, "target")
        if y.shape != x.shape:
            raise InputError(f"target must have the shape of x, {x.shape}, got shape {y.shape}")
        return y
    from ..analytic import ExactMarginals

    owner = getattr(target, "__self__", None)
    if isinstance(owner, ExactMarginals) and getattr(target, "__name__", None) in ("score", "velocity"):
        return exact_values(owner, x, t, target.__name__)
    return _per_time(target, x, t)


def _checked_samples(samples, basis: Basis) -> KernelSamples:
    if not isinstance(samples, KernelSamples):
        raise InputError(f"samples must be KernelSamples (see kernel_samples), got {type(samples).__name__}")
    x = _points(samples.x, basis, "samples.x")
    n, d = x.shape
    t = _times(samples.t, n)
    x0, eps = (val.finite_array(getattr(samples, k), f"samples.{k}") for k in ("x0", "eps"))
    if x0.shape != x.shape or eps.shape != x.shape:
        raise InputError(f"samples.x0 and samples.eps must have the shape of samples.x, {x.shape}; got {x0.shape}, {eps.shape}")
    if not isinstance(samples.process, AffineProcess):
        raise InputError(f"samples.process must be an affine process, got {type(samples.process).__name__}")
    a, c, s2 = _coefficients(samples.process, samples.process.check_time(t), d)
    if np.any(s2 <= 0):
        raise InputError("samples include a time where the kernel variance s_t^2 is 0 (t = 0): draw times with t > 0")
    rebuilt = a * x0 + c + np.sqrt(s2) * eps
    if np.any(np.abs(rebuilt - x) > CONSISTENCY_RTOL * (1.0 + np.abs(x))):
        raise InputError("samples.x is not a_t x0 + c_t + s_t eps for samples.process: pass the process that drew them")
    return KernelSamples(t, x0, eps, x, samples.process)


def _regression_form(basis, x, t, y, model, weight, name, kind) -> QuadraticForm:
    r"""The rows of :math:`\tfrac12\lambda|G\theta - y|^2`: :math:`M = \sqrt\lambda G`, :math:`B = \lambda G^T y`, :math:`C = \tfrac12\lambda|y|^2`."""
    n, d = x.shape
    lam = _weights(weight, t)
    G, outputs = model_design(model, basis.evaluate(x, t, design_needs(model)), d)
    block = Block(
        np.sqrt(lam)[:, None, None] * G,
        lam[:, None] * design_transpose(G, outputs, y),
        0.5 * lam * np.sum(y * y, axis=1),
        np.full(n, 1.0 / n),
        True,
        outputs,
    )
    return QuadraticForm([block], basis=basis, model=model, dim=d, name=name, kind=kind)


# ---------------------------------------------------------------------------------------------
# objectives


def esm(basis: Basis, x, t, target, *, model: str = "gradient", weight=None, kind: str = "score") -> QuadraticForm:
    r"""Explicit (oracle) score matching against a given field: :math:`L = \tfrac12\,\overline{\lambda(t_r)|s(x_r, t_r) - s^*(x_r, t_r)|^2}`.

    Rows :math:`M_r = \sqrt{\lambda_r} G_r`, :math:`B_r = \lambda_r G_r^T s^*_r`,
    :math:`C_r = \tfrac12\lambda_r|s^*_r|^2`, where :math:`s_\theta(x_r) = G_r\theta`.

    Parameters
    ----------
    basis : Basis
    x : array_like (n, d)
        Samples, :math:`x_r \sim q_{t_r}`.
    t : float or array_like (n,)
        Their times (inside ``basis.t_range``).
    target : array_like (n, d) or callable
        :math:`s^*(x_r, t_r)`, or a field ``(x, t) -> (n, d)`` taking one scalar time (called once
        per distinct time; ``ExactMarginals.score`` and ``.velocity`` are evaluated for all times at once).
    model : {"gradient", "vector"}
    weight : None, float, array_like (n,) or callable
        :math:`\lambda(t)`: a callable gets the times ``(n,)``; default 1.
    kind : {"score", "velocity"}
        What the target is (recorded on the form and on a fitted field).

    Returns
    -------
    QuadraticForm
        Its constant :math:`c = \tfrac12\overline{\lambda|s^*|^2}` makes ``value`` the ESM loss itself.
    """
    basis, model = _basis(basis), check_model(model)
    if kind not in ("score", "velocity"):
        raise InputError(f"kind must be 'score' or 'velocity', got {kind!r}")
    x = _points(x, basis)
    t = _times(t, x.shape[0])
    return _regression_form(basis, x, t, _target(target, x, t), model, weight, "esm", kind)


def ism(basis: Basis, x, t, *, model: str = "gradient", weight=None) -> QuadraticForm:
    r"""Implicit (Hyvärinen) score matching: :math:`L = \overline{\lambda(t_r)\,[\tfrac12|s(x_r, t_r)|^2 + \nabla\cdot s(x_r, t_r)]}`.

    Rows :math:`M_r = \sqrt{\lambda_r}G_r`, :math:`B_r = -\lambda_r D_r`, :math:`C_r = 0`, with the
    divergence :math:`\nabla\cdot s = D_r\theta`: Laplacians of :math:`\psi` for the gradient model,
    first derivatives :math:`\partial_i\psi_j` for the vector model.  By integration by parts
    :math:`L = \text{ESM} - \tfrac12 E\lambda|\nabla\log q_t|^2` for fields decaying at infinity:
    the same :math:`A` as ESM on the same points, and :math:`b` equal in expectation.

    Parameters
    ----------
    basis, x, t, model, weight
        As for :func:`esm`.
    """
    basis, model = _basis(basis), check_model(model)
    x = _points(x, basis)
    n, d = x.shape
    t = _times(t, n)
    lam = _weights(weight, t)
    feats = basis.evaluate(x, t, design_needs(model, divergence=True))
    G, outputs = model_design(model, feats, d)
    block = Block(np.sqrt(lam)[:, None, None] * G, -lam[:, None] * divergence_rows(model, feats, d), np.zeros(n), np.full(n, 1.0 / n),
                  True, outputs)
    return QuadraticForm([block], basis=basis, model=model, dim=d, name="ism", kind="score")


def dsm(basis: Basis, samples: KernelSamples, *, model: str = "gradient", weight=None) -> QuadraticForm:
    r"""Denoising score matching: :math:`L = \tfrac12\,\overline{\lambda(t_r)|s(x_r, t_r) + \varepsilon_r/s_{t_r}|^2}`.

    The regression of :func:`esm` on :math:`\nabla_x\log k_t(x_r\mid x_{0,r}) = -\varepsilon_r/s_{t_r}`,
    :math:`x_r = a_t x_{0,r} + c_t + s_t\varepsilon_r` (Vincent 2011): on the same points it has
    exactly ESM's :math:`A`, a :math:`b` equal to ESM's in expectation
    (:math:`E[\nabla\log k \mid x] = \nabla\log q_t(x)`), and
    :math:`L_{DSM} = L_{ESM} + \tfrac12 E\lambda\,(d/s_t^2 - |\nabla\log q_t|^2)`.

    Parameters
    ----------
    basis : Basis
    samples : KernelSamples
        From :func:`kernel_samples` (times with :math:`s_t > 0`).
    model, weight
        As for :func:`esm`; :func:`noise_weight` gives the usual :math:`\lambda = s_t^2`.
    """
    basis, model = _basis(basis), check_model(model)
    smp = _checked_samples(samples, basis)
    s2 = _coefficients(smp.process, smp.t, smp.x.shape[1])[2]
    return _regression_form(basis, smp.x, smp.t, -smp.eps / np.sqrt(s2), model, weight, "dsm", "score")


def flow_matching(basis: Basis, samples: KernelSamples, *, model: str = "gradient", weight=None) -> QuadraticForm:
    r"""Conditional flow matching: :math:`L = \tfrac12\,\overline{\lambda(t_r)|s(x_r, t_r) - u_{t_r}(x_r\mid x_{0,r})|^2}`.

    For the kernel path :math:`x = a_t x_0 + c_t + s_t\varepsilon` the conditional velocity is

    .. math::
        u_t(x\mid x_0) = \frac{\dot s_t}{s_t}(x - a_t x_0 - c_t) + \dot a_t x_0 + \dot c_t
                       = \dot s_t\,\varepsilon + \dot a_t x_0 + \dot c_t, \qquad
        \dot s_t = \frac{\dot{(s^2)}_t}{2 s_t},

    from ``process.kernel_derivative``.  :math:`E[u_t \mid x] = v_t(x)`, the probability-flow
    velocity, so on the same points :math:`A` is ESM-on-:math:`v_t`'s and :math:`b` agrees with
    it in expectation.

    Parameters
    ----------
    basis, samples, model, weight
        As for :func:`dsm`.
    """
    basis, model = _basis(basis), check_model(model)
    smp = _checked_samples(samples, basis)
    d = smp.x.shape[1]
    s2 = _coefficients(smp.process, smp.t, d)[2]
    da, dc, ds2 = _coefficients(smp.process, smp.t, d, derivative=True)
    u = ds2 / (2.0 * np.sqrt(s2)) * smp.eps + da * smp.x0 + dc
    return _regression_form(basis, smp.x, smp.t, u, model, weight, "cfm", "velocity")


#: Distributions of the projections of :func:`sliced`, each with :math:`E[vv^T] = I`.
PROJECTIONS = ("rademacher", "gaussian")


def sliced(basis: Basis, x, t, *, rng: np.random.Generator | None = None, v=None, variance_reduced: bool = False,
           projections: str = "rademacher", weight=None) -> QuadraticForm:
    r"""Sliced score matching of a vector model, one random projection :math:`v_r` per sample.

    .. math::
        L = \overline{\lambda(t_r)\,[v_r^T\nabla s(x_r)\,v_r + \tfrac12(v_r^T s(x_r))^2]}
        \quad\text{or, variance-reduced,}\quad
        \overline{\lambda(t_r)\,[v_r^T\nabla s(x_r)\,v_r + \tfrac12|s(x_r)|^2]},

    with :math:`v^T\nabla s\,v = \sum_{ij}\theta_{ij}\,v_i\,(v\cdot\nabla\psi_j)`, so only first
    derivatives of the features enter: rows :math:`B_r[iJ + j] = -\lambda_r v_{ri}(v_r\cdot\nabla\psi_j)`,
    :math:`M_r = \sqrt{\lambda_r}\,v_r^T G_r` (``(1, p)``) or :math:`\sqrt{\lambda_r}\,G_r`.  Since
    :math:`E_v[vv^T] = I`, both equal ISM in expectation over :math:`v`.

    The projections are Rademacher (independent :math:`\pm1` entries) by default: for a fixed
    Jacobian :math:`J` with symmetric part :math:`S`, the variance of :math:`v^TJv` about
    :math:`\operatorname{tr}J` is :math:`2\sum_{i\neq k}S_{ik}^2` against :math:`2\|S\|_F^2` for
    Gaussian :math:`v` (Hutchinson 1990): Rademacher drops the diagonal's share, the smallest
    variance of any :math:`v` with independent entries.  In 1D it is exact, :math:`v^2 = 1`, and
    the variance-reduced objective is ISM of the vector model.  Measured on ``vp-linear`` x
    ``gmm1d-bimodal`` (:func:`~fpcheck.learned.recipes.fit_problem`, 10^6 samples, seed 0): the
    excess over the vector model's oracle is 2.6e-3 with Rademacher projections and 5.7e-3 with
    Gaussian ones.

    Parameters
    ----------
    basis, x, t, weight
        As for :func:`esm`.
    rng : numpy.random.Generator, optional
        Draws the projections (when ``v`` is not given).
    v : array_like (n, d), optional
        The projections.
    variance_reduced : bool
        :math:`\tfrac12|s|^2` in place of :math:`\tfrac12(v^T s)^2`.
    projections : {"rademacher", "gaussian"}
        How ``rng`` draws them: independent :math:`\pm1` entries, or :math:`\mathcal N(0, I)`.

    Raises
    ------
    InputError
        Neither or both of ``rng`` and ``v``; ``v`` of the wrong shape.  (A gradient model's
        Jacobian is the Hessian of :math:`\psi`, which the bases do not provide: sliced score
        matching is for vector models.)
    """
    basis = _basis(basis)
    x = _points(x, basis)
    n, d = x.shape
    t = _times(t, n)
    if projections not in PROJECTIONS:
        raise InputError(f"unknown projections {projections!r}; known: {', '.join(PROJECTIONS)}")
    if (rng is None) == (v is None):
        raise InputError("pass exactly one of rng (to draw the projections) and v (n, d)")
    if v is None:
        if not isinstance(rng, np.random.Generator):
            raise InputError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        v = rng.choice((-1.0, 1.0), size=(n, d)) if projections == "rademacher" else rng.standard_normal((n, d))
    v = val.finite_array(v, "v")
    if v.shape != (n, d):
        raise InputError(f"v must have shape ({n}, {d}), one projection per sample; got shape {v.shape}")
    lam = _weights(weight, t)
    feats = basis.evaluate(x, t, ("values", "gradients"))
    vg = np.einsum("rjk,rk->rj", feats.gradients, v)  # v . grad psi_j
    linear = -(lam[:, None, None] * v[:, :, None] * vg[:, None, :]).reshape(n, d * basis.size)
    if variance_reduced:  # |s|^2: the features shared by the d outputs
        design, outputs = model_design("vector", feats, d)
    else:  # (v . s)^2 = (sum_ij theta_ij v_i psi_j)^2
        design, outputs = np.einsum("ri,rj->rij", v, feats.values).reshape(n, 1, d * basis.size), 1
    block = Block(np.sqrt(lam)[:, None, None] * design, linear, np.zeros(n), np.full(n, 1.0 / n), True, outputs)
    return QuadraticForm([block], basis=basis, model="vector", dim=d, name="sliced", kind="score")


def action_matching(basis: Basis, start, end, x, t, t_range) -> QuadraticForm:
    r"""Action Matching (Neklyudov et al. 2023) for the potential :math:`s_t(x) = \sum_j\theta_j\psi_j(x, t)`, velocity :math:`\nabla s_t`.

    .. math::
        L(s) = \overline{s_{t_0}(x^{(0)})} - \overline{s_{t_1}(x^{(1)})}
               + (t_1 - t_0)\,\overline{\tfrac12|\nabla s_{t_{rk}}(x_{rk})|^2 + \partial_t s_{t_{rk}}(x_{rk})},

    means over samples of :math:`q_{t_0}`, of :math:`q_{t_1}`, and of :math:`q_{t_{rk}}` at times
    uniform on :math:`[t_0, t_1]`: the Monte Carlo estimate of
    :math:`E_{q_{t_0}}s_{t_0} - E_{q_{t_1}}s_{t_1} + \int_{t_0}^{t_1}E_{q_t}[\tfrac12|\nabla s_t|^2 + \partial_t s_t]\,dt`,
    which equals :math:`\tfrac12\int E_{q_t}|\nabla s_t - \nabla s^*_t|^2 dt + C` (MATH.md 4).

    The interior samples come as ``n`` rows of ``m`` points each (``m = 1``: one point per row).
    With ``n`` samples at each end too, row :math:`r` is the triple (start, end, interior points)
    and contributes

    .. math::
        \ell_r = s_{t_0}(x^{(0)}_r) - s_{t_1}(x^{(1)}_r)
                 + \frac{t_1 - t_0}{m}\sum_k \big[\tfrac12|\nabla s(x_{rk}, t_{rk})|^2 + \partial_t s(x_{rk}, t_{rk})\big],

    one block with :math:`M_r = \sqrt{(t_1 - t_0)/m}\,(G_{r1}; \dots; G_{rm})` and
    :math:`B_r = \psi(x^{(1)}_r, t_1) - \psi(x^{(0)}_r, t_0) - \frac{t_1 - t_0}{m}\sum_k\partial_t\psi(x_{rk}, t_{rk})`;
    a split keeps each row together.  Otherwise (other counts) there are three blocks,
    :math:`B^{(0)} = -\psi(x^{(0)}, t_0)`, :math:`B^{(1)} = \psi(x^{(1)}, t_1)` and the interior rows.

    Variance: the rows may be *coupled*, e.g. points of one kernel path
    :math:`x_r(t) = a_t x_{0,r} + c_t + s_t\varepsilon_r` (:meth:`KernelSamples.at`), or one
    trajectory of a simulation, with times stratified along each path.  Each mean is still over
    draws of the marginals, so the estimate stays unbiased; but then
    :math:`s(x^{(1)}_r) - s(x^{(0)}_r) = \int (\partial_t s + \nabla s\cdot\dot x_r)\,dt` along the path,
    the :math:`\partial_t s` terms nearly cancel, and the row's noise is of the size of
    :math:`\nabla s\cdot\dot x`, as in flow matching, instead of that of :math:`s` itself.
    Independent draws are valid too, at a variance larger by the ratio of
    :math:`\mathrm{Var}(s)` to :math:`E|\nabla s|^2` (large for multimodal :math:`q_t`).

    Parameters
    ----------
    basis : Basis
        Must not contain features constant in :math:`x`: :math:`s_t + f(t)` has the same loss
        (:math:`f(t_0) - f(t_1) + \int f' = 0`), so their coefficients are not determined.
    start, end : array_like (n0, d), (n1, d)
        Samples of :math:`q_{t_0}` and :math:`q_{t_1}`.
    x : array_like (n, d) or (n, m, d)
        Samples of :math:`q_{t_{rk}}` at the times ``t``, shape (n,) or (n, m), drawn uniformly
        (or stratified) on ``t_range``.
    t_range : (float, float)
        :math:`(t_0, t_1)`, inside ``basis.t_range``.

    Returns
    -------
    QuadraticForm
        ``model="gradient"``, ``kind="velocity"``; the fitted field is :math:`\nabla s_t`, with
        :math:`s_t` as its ``potential``.
    """
    basis = _basis(basis)
    t0, t1 = _range(t_range)
    start, end = (_points(arr, basis, name) for arr, name in ((start, "start"), (end, "end")))
    pts = val.finite_array(x, "x")
    if pts.ndim == 3:
        n, m, d = pts.shape
        times = val.finite_array(t, "t")
        if times.shape != (n, m):
            raise InputError(f"for interior samples of shape (n, m, d) = {pts.shape}, t must have shape ({n}, {m}); got {times.shape}")
    else:
        flat = _points(pts, basis)
        n, d = flat.shape
        m, pts, times = 1, flat[:, None, :], _times(t, n)[:, None]
    if start.shape[1] != d or end.shape[1] != d or n < 1 or m < 1:
        raise InputError(f"start, end and x must be non-empty and of one dimension, got {start.shape}, {end.shape}, {pts.shape}")
    if np.any(times < t0) or np.any(times > t1):
        raise InputError(f"the interior times t must lie in t_range = [{t0:g}, {t1:g}], got [{times.min():g}, {times.max():g}]")
    v0 = basis.evaluate(start, t0, "values").values
    v1 = basis.evaluate(end, t1, "values").values
    feats = basis.evaluate(pts.reshape(n * m, d), times.reshape(n * m), ("gradients", "time_derivatives"))
    p = basis.size
    G = output_design("gradient", feats, d).reshape(n, m * d, p) * np.sqrt((t1 - t0) / m)
    dt = (t1 - t0) / m * feats.time_derivatives.reshape(n, m, p).sum(axis=1)
    if start.shape[0] == end.shape[0] == n:
        blocks = [Block(G, v1 - v0 - dt, np.zeros(n), np.full(n, 1.0 / n), True)]
    else:
        blocks = [
            _linear_block(-v0, np.full(v0.shape[0], 1.0 / v0.shape[0]), True),
            _linear_block(v1, np.full(v1.shape[0], 1.0 / v1.shape[0]), True),
            Block(G, -dt, np.zeros(n), np.full(n, 1.0 / n), True),
        ]
    return QuadraticForm(blocks, basis=basis, model="gradient", dim=d, name="am", kind="velocity")
