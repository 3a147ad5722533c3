r"""Action Matching on a relaxation: the velocity of double-well Langevin dynamics, learned from particles alone.

The process is ``fpcheck.problems.process("langevin-doublewell")``, overdamped Langevin dynamics
in :math:`U(x) = (x^2 - 1)^2` at :math:`kT = 1/4`,

.. math::
    dx = -U'(x)\,dt + \sqrt{2kT}\,dW, \qquad
    \partial_t q = -\partial_x (q\,v^*_t), \qquad
    v^*_t(x) = -U'(x) - kT\,\partial_x \log q_t(x)

(MATH.md section 3 with :math:`f = -U'`, :math:`g^2 = 2kT`), started from the narrow Gaussian
:math:`q_0 = \mathcal N(-1, 0.05^2)` in the left well.  The law first spreads to the well's local
equilibrium (curvature :math:`U''(-1) = 8`: variance :math:`\to kT/8`, at the rate 16, so the
velocity decays like :math:`e^{-16t}`), then leaks over the barrier at the Kramers rate
:math:`\approx 0.017`: from :math:`t \approx 0.3` on, 60-80 % of :math:`E_q|v^*|^2` sits at
:math:`x > -0.5`, where only 3-4 % of the mass is.

:func:`double_well_action_matching` learns :math:`v^*` by Action Matching (MATH.md section 4,
:func:`fpcheck.learned.objectives.action_matching`) from Euler-Maruyama particles alone
(:func:`fpcheck.particles.forward.simulate_forward`), and scores it against the grid truth
(:func:`fpcheck.grid.solver.solve_fokker_planck`) by quadrature:

.. math::
    e(t) = \frac{E_{q_t}|v_t - v^*_t|^2}{E_{q_t}|v^*_t|^2}, \qquad
    E = \frac{\int_{t_0}^{t_1} E_{q_t}|v_t - v^*_t|^2\,dt}{\int_{t_0}^{t_1} E_{q_t}|v^*_t|^2\,dt},

with :math:`E_{q_t}F \approx \sum_i \bar q_i h\,F(x_i)` over the cells (:math:`\bar q_i` the
Richardson-extrapolated cell averages, :math:`v^*` from :meth:`GridDensity.score`, fourth order)
and the time integrals by Gauss-Legendre (32 nodes: :math:`\int E|v^*|^2` to :math:`10^{-10}`).

Choices, and why
----------------
* **Window** :math:`[t_0, t_1] = [0.05, 1]`.  At :math:`t = 0` the velocity is
  :math:`\approx 92\,(x + 1)` on a law of width 0.05 (:math:`E|v^*|^2 = 21`); by :math:`t_0 = 0.05`
  the law has spread to width 0.135 and :math:`E|v^*|^2 = 0.65`, which fixed bumps of width 0.33
  resolve.  The window holds both regimes: the spreading (:math:`t < 0.3`, most of
  :math:`\int E|v^*|^2`) and the leak.
* **Basis** (:func:`relaxation_basis`): Gaussian bumps on a grid of ``centres`` points in
  :math:`[-2, 2]` (width = spacing) times Legendre polynomials of degree ``degree`` in
  :math:`\log t` (the velocity changes like :math:`e^{-16t}` early and slowly late; in
  :math:`\log t` it changes at an even pace: the oracle fit's error is :math:`2\cdot 10^{-3}`
  with polynomials in :math:`t` and :math:`8\cdot 10^{-6}` in :math:`\log t`, 13 x 6 features),
  *anchored* at :math:`x_{\rm ref} = -1`: :math:`\psi_j(x, t) - \psi_j(x_{\rm ref}, t)`.
  Action Matching does not see :math:`s_t + f(t)`, and bumps of width = spacing sum to a
  constant to :math:`10^{-9}`, so without the anchor the span holds functions of :math:`t`
  alone to that accuracy; their Monte Carlo :math:`b` (the time-sampling error of
  :math:`\int\partial_t f`) over a :math:`10^{-16}` eigenvalue of :math:`A` gave relative errors
  of :math:`10^{8}`.  Anchored features all vanish at :math:`x_{\rm ref}`, so no combination is
  a function of time alone.  Gradients are unchanged.
* **Rows**: each particle's path gives one row, its states at :math:`t_0`, :math:`t_1` and at
  ``interior`` stratified times (one drawn uniformly among the ``time_nodes / interior``
  nodes of each stratum).  The nodes are the midpoints of ``time_nodes`` equal cells of the
  window, so the interior mean estimates the midpoint rule of the time integral, whose error
  :math:`\frac{\Delta t^2}{24}[\partial_t E_q\partial_t\psi]_{t_0}^{t_1}` is large for features
  polynomial in :math:`\log t` (:math:`\partial_t^2\psi \sim 10^3` at :math:`t_0`): about
  :math:`10^{-3}` in :math:`b` with 256 nodes, several standard errors at :math:`n = 10^5` (the
  z-scores of :math:`b` against :func:`~fpcheck.learned.objectives.action_matching_quadrature`
  on the grid truth had rms 1.5 there), hence the default 1024 (:math:`\Delta t = 9\cdot
  10^{-4}`, bias :math:`/16`).  (The fitted errors at :math:`n = 10^5`, mean of 3 seeds: 0.0063,
  0.0044, 0.0051 with 256, 512, 1024 nodes, differ by less than their seed-to-seed spread; at
  :math:`n = 10^6` they do not: :math:`E = 1.17\cdot 10^{-3}` with 256 nodes, :math:`4.5\cdot 10^{-4}`
  with 1024, i.e. :math:`nE` = 1170 against 450, where :math:`n = 10^4 .. 10^5` give 510-550.)
  A grid shifted off the midpoints is
  first order and, shared by all particles, biased :math:`b` by 13 standard errors.  Coupled
  rows cancel the :math:`\partial_t s` terms along each path; what is left is the Itô noise
  :math:`\int\nabla s\cdot\sqrt{2kT}\,dW` and the time-sampling error, which falls like
  ``1/interior`` down to the Itô floor (measured at :math:`n = 10^5`: an unregularised error of
  :math:`1.6\cdot 10^{-3}, 4.2\cdot 10^{-4}, 2.2\cdot 10^{-4}, 1.6\cdot 10^{-4}` in
  :math:`\int E|v - v^*|^2` for 4, 16, 32, 64 interior points; :math:`\int E|v^*|^2 = 0.040`).
  The default, 32, sits near the floor.
* **Ridge**: the scale-invariant ridge of :func:`fpcheck.learned.fit.solve`,
  :math:`(A + \rho\,\mathrm{diag}A)\theta = b`, on :data:`~fpcheck.learned.fit.RIDGE_GRID`,
  fitted on three quarters of the rows and scored on the held-out quarter (an unbiased
  estimate of each candidate's loss, as in :func:`~fpcheck.learned.fit.fit`), then refitted on
  all rows; the choice is the largest ridge within one paired standard error of the best
  held-out loss (:func:`_one_standard_error`: the plain minimum was fooled once in 24 fits).
  The training rows are assembled in chunks and summed (a row's design is
  ``interior x p``; all of them would not fit in memory at :math:`n = 10^6`), entering
  ``solve`` as a form of one pseudo-row (:func:`_summed_form`) with the same :math:`A`, :math:`b`;
  the held-out rows keep their states, and are assembled again to give per-row losses.
* **Euler-Maruyama steps**: 2000 over :math:`[0, t_1]`, :math:`\Delta t \approx 5\cdot
  10^{-4}`, :math:`U''\Delta t = 0.004`.  The weak error moves the velocity by a relative
  :math:`O(U''\Delta t)` and the squared error by its square, :math:`\sim 10^{-5}`, below the
  Monte Carlo error at every :math:`n` reported; the tests check that halving the steps
  changes the error by less than its Monte Carlo spread.

Figures (this machine, 2 cores) are in the docstring of :func:`double_well_action_matching`.
"""

from __future__ import annotations

import dataclasses
import time as _time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .. import _validation as val
from ..errors import InputError
from .bases import Basis, Legendre, RBF, Tensor

__all__ = [
    "PROBLEM",
    "INITIAL_MEAN",
    "INITIAL_STD",
    "VelocityTruth",
    "RelaxationResult",
    "initial_law",
    "relaxation_basis",
    "velocity_truth",
    "relative_velocity_errors",
    "oracle_fit",
    "double_well_action_matching",
]

#: The named problem whose process relaxes (``fpcheck.problems.process``).
PROBLEM = "langevin-doublewell"
#: :math:`q_0 = \mathcal N(\text{INITIAL\_MEAN}, \text{INITIAL\_STD}^2)`.
INITIAL_MEAN, INITIAL_STD = -1.0, 0.05
#: Cells whose average is below this fraction of the largest are left out of the truth (weight 0).
TRUTH_FLOOR = 1e-10
#: Particles per call of the simulator, and rows per assembled form (memory bounds).
SIMULATION_CHUNK, ROW_CHUNK = 1 << 14, 1 << 12


# ---------------------------------------------------------------------------------------------
# set-up


def _process():
    from ..problems import process

    return process(PROBLEM)


def initial_law():
    r""":math:`q_0 = \mathcal N(-1, 0.05^2)`, a :class:`~fpcheck.distributions.GaussianMixture`."""
    from ..distributions import GaussianMixture

    return GaussianMixture.isotropic([1.0], [[INITIAL_MEAN]], [INITIAL_STD])


def _integer(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _window(t_range, T: float) -> tuple[float, float]:
    try:
        arr = val.finite_array(t_range, "t_range")
    except InputError:
        raise InputError(f"t_range must be a pair (t0, t1) of finite times, got {t_range!r}") from None
    if arr.shape != (2,) or not 0.0 < arr[0] < arr[1] <= T:
        raise InputError(f"t_range must be a pair (t0, t1) with 0 < t0 < t1 <= {T:g}, got {t_range!r}")
    return float(arr[0]), float(arr[1])


class _Anchored(Basis):
    r"""Features pinned to zero at a reference point: :math:`\psi_j(x, t) - \psi_j(x_{\rm ref}, t)`.

    Gradients and Laplacians are the inner basis's; values and time derivatives lose the
    anchor's, which depends on :math:`t` alone (evaluated once per distinct time).  No nonzero
    combination of the features is a function of time alone, which Action Matching cannot see.
    """

    def __init__(self, inner: Basis, x_ref: float):
        self.inner, self.x_ref = inner, float(x_ref)
        self.dim, self.size, self.t_range = inner.dim, inner.size, inner.t_range
        self.depends_on_x, self.depends_on_t = True, inner.depends_on_t

    def __repr__(self) -> str:
        return f"Anchored({self.inner!r}, x_ref={self.x_ref:g})"

    def _compute(self, x, t, which, compiled):
        out = self.inner._compute(x, t, which, compiled)
        pinned = tuple(w for w in which if w in ("values", "time_derivatives"))
        if pinned:
            if t is None:
                ut, inverse = None, np.zeros(x.shape[0], dtype=np.intp)
                ref = np.full((1, x.shape[1]), self.x_ref)
            else:
                ut, inverse = np.unique(t, return_inverse=True)
                ref = np.full((ut.size, x.shape[1]), self.x_ref)
            at_ref = self.inner._compute(ref, ut, pinned, compiled)
            for w in pinned:
                out[w] = out[w] - at_ref[w][inverse]
        return out


def _log_warp():
    return (np.log, lambda t: 1.0 / np.asarray(t, dtype=float))


def relaxation_basis(t_range=(0.05, 1.0), *, centres: int = 13, degree: int = 5, x_ref: float = INITIAL_MEAN) -> Basis:
    r"""The potential's features: anchored bumps in :math:`x` times Legendre polynomials in :math:`\log t`.

    .. math::
        \psi_{ab}(x, t) = \big(\rho_a(x) - \rho_a(x_{\rm ref})\big)\,P_b(u(t)), \qquad
        \rho_a(x) = e^{-(x - c_a)^2 / 2w^2}, \qquad
        u = \frac{2\log t - \log t_0 - \log t_1}{\log t_1 - \log t_0},

    with ``centres`` equispaced :math:`c_a` on :math:`[-2, 2]`, :math:`w` their spacing, and
    :math:`b = 0..\text{degree}`: :math:`J = \text{centres}\times(\text{degree} + 1)` features.

    Raises
    ------
    InputError
        ``centres < 2``, ``degree < 0``, or a ``t_range`` that is not ``0 < t0 < t1``.
    """
    t0, t1 = _window(t_range, np.inf)
    centres, degree = _integer(centres, "centres", 2), _integer(degree, "degree", 0)
    space = RBF.on_grid((-2.0, 2.0), centres, width_factor=1.0)
    return _Anchored(Tensor(space, Legendre(degree, (t0, t1), warp=_log_warp())), float(val.finite_array(x_ref, "x_ref", ndim=0)))


# ---------------------------------------------------------------------------------------------
# the grid truth


class VelocityTruth(NamedTuple):
    r"""The probability-flow velocity :math:`v^*` on the cells of a grid solution, at quadrature nodes.

    Attributes
    ----------
    times, weights : array (m,)
        Gauss-Legendre nodes on the window and weights summing to :math:`t_1 - t_0`.
    x : array (N,)
        Cell centres.
    mass : array (m, N)
        :math:`\bar q_i h`, the cells' probabilities (0 below :data:`TRUTH_FLOOR` of the peak).
    velocity : array (m, N)
        :math:`v^* = -U' - kT\,\partial_x\log q` at the centres (0 where ``mass`` is 0).
    error_estimate : array (m,)
        The grid solver's L1 error estimate of each density.
    """

    times: np.ndarray
    weights: np.ndarray
    x: np.ndarray
    mass: np.ndarray
    velocity: np.ndarray
    error_estimate: np.ndarray

    def energy(self) -> np.ndarray:
        r""":math:`E_{q_t}|v^*_t|^2` at each node, shape ``(m,)``."""
        return np.sum(self.mass * self.velocity**2, axis=1)


def velocity_truth(t_range=(0.05, 1.0), *, nodes: int = 32, cells: int = 1200, bounds=(-3.0, 3.0)) -> VelocityTruth:
    r"""Solve the Fokker-Planck equation on a grid and take :math:`v^* = -U' - kT\,(\log q)'` at Gauss-Legendre nodes.

    The density is the exact-in-time, Richardson-extrapolated solution (fourth order in
    :math:`h`); the score is :meth:`~fpcheck.grid.density.GridDensity.score` (fourth order) on
    the contiguous cells above :data:`TRUTH_FLOOR` times the peak (the far tails hold
    round-off of :math:`\pm 10^{-16}`, where :math:`\log q` is undefined; the cells left out
    hold less than :math:`10^{-8}` of the mass).

    Parameters
    ----------
    t_range : (float, float)
        The window, ``0 < t0 < t1 <= T``.
    nodes : int
        Gauss-Legendre nodes (>= 2).
    cells : int
        Grid cells (even, >= 16) on ``bounds``.
    bounds : (float, float)
        The box; the default :math:`[-3, 3]` holds :math:`e^{-U/kT}` to :math:`10^{-100}`.

    Returns
    -------
    VelocityTruth
    """
    from ..grid.density import GridDensity
    from ..grid.grids import Grid
    from ..grid.solver import solve_fokker_planck
    from .objectives import gauss_legendre

    proc = _process()
    t0, t1 = _window(t_range, proc.T)
    nodes = _integer(nodes, "nodes", 2)
    cells = _integer(cells, "cells", 16)
    if cells % 2:
        raise InputError(f"cells must be even (Richardson extrapolation coarsens by 2), got {cells}")
    lo, hi = (float(v) for v in val.finite_array(bounds, "bounds"))
    if not lo < INITIAL_MEAN < hi:
        raise InputError(f"bounds must contain the initial mean {INITIAL_MEAN:g}, got {bounds!r}")
    times, weights = gauss_legendre((t0, t1), nodes, integral=True)
    grid = Grid([(lo, hi)], (cells,))
    sol = solve_fokker_planck(proc, initial_law(), grid, times)
    x, h, edges = grid.centres(0), grid.h[0], grid.edges(0)
    mass, velocity = np.zeros((nodes, cells)), np.zeros((nodes, cells))
    for k, dens in enumerate(sol.densities):
        q = dens.values
        keep = np.flatnonzero(q > TRUTH_FLOOR * q.max())
        a, b = int(keep[0]), int(keep[-1]) + 1
        part = GridDensity(Grid([(edges[a], edges[b])], (b - a,)), q[a:b])
        mass[k, a:b] = q[a:b] * h
        velocity[k, a:b] = -proc.potential.gradient(x[a:b, None])[:, 0] - proc.kT * part.score()[:, 0]
    return VelocityTruth(times, weights, x, mass, velocity, np.asarray(sol.error_estimate, dtype=float))


def relative_velocity_errors(field, truth: VelocityTruth) -> tuple[np.ndarray, float]:
    r"""The per-node :math:`e(t_k) = E|v - v^*|^2 / E|v^*|^2` and the integrated :math:`E`, by quadrature.

    ``field(x, t)`` takes points ``(N, 1)`` and one time and returns ``(N, 1)``.
    """
    if not isinstance(truth, VelocityTruth):
        raise InputError(f"truth must be a VelocityTruth (see velocity_truth), got {type(truth).__name__}")
    if not callable(field):
        raise InputError(f"field must be a callable field(x, t), got {type(field).__name__}")
    pts = truth.x[:, None]
    err = np.empty(truth.times.size)
    for k, t in enumerate(truth.times):
        v = np.asarray(field(pts, float(t)), dtype=float).reshape(-1)
        err[k] = np.sum(truth.mass[k] * (v - truth.velocity[k]) ** 2)
    energy = truth.energy()
    return err / energy, float(truth.weights @ err / (truth.weights @ energy))


def oracle_fit(basis: Basis, truth: VelocityTruth, ridge: float = 1e-10):
    r"""The same basis regressed on the grid truth: :math:`\min_\theta \tfrac12\int E_q|\nabla s_\theta - v^*|^2 dt` by quadrature.

    :func:`fpcheck.learned.objectives.esm_quadrature` (``kind="velocity"``) on the truth's cells
    and nodes, solved with a fixed relative ridge: the best the basis can do, the floor under
    any estimate from samples.
    """
    from .fit import fit
    from .objectives import Grid, esm_quadrature

    grid = Grid(truth.x[:, None], np.ones(truth.x.size))
    form = esm_quadrature(basis, grid, (truth.times, truth.weights), truth.mass, truth.velocity[:, :, None], kind="velocity")
    return fit(form, ridge=ridge)


# ---------------------------------------------------------------------------------------------
# Action Matching from particles


def _summed_form(A: np.ndarray, b: np.ndarray, basis: Basis):
    r"""A :class:`QuadraticForm` with the given :math:`A` and :math:`b` and one pseudo-row :math:`M = A^{1/2}`.

    :math:`\tfrac12|A^{1/2}\theta|^2 - b\cdot\theta` is the summed form's value, so a chunked
    assembly can use :func:`fpcheck.learned.fit.fit` (and its held-out selection) unchanged.
    """
    from .objectives import Block, QuadraticForm

    sym = 0.5 * (A + A.T)
    e, U = np.linalg.eigh(sym)
    root = (U * np.sqrt(np.clip(e, 0.0, None))).T
    block = Block(root[None], b[None], np.zeros(1), np.ones(1), False)
    return QuadraticForm([block], basis=basis, model="gradient", dim=1, name="am", kind="velocity")


def _one_standard_error(losses: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    r"""The largest ridge whose held-out loss is within one paired standard error of the smallest.

    ``losses`` ``(n_h, K)``: per held-out row, the loss of each candidate (ridges increasing).
    With :math:`k^*` the smallest mean, the choice is the largest :math:`k` with
    :math:`\bar\ell_k \le \bar\ell_{k^*} + \mathrm{se}(\bar\ell_k - \bar\ell_{k^*})`, the standard
    error of the *paired* difference over the same rows (far smaller than either value's own).
    The held-out minimum alone is not robust here: a field that is wrong only where particles
    are rare (the barrier at intermediate times) barely moves the held-out loss, and at
    :math:`n = 3\cdot 10^4` one fit in 24 took a ridge of :math:`10^{-10}` and an error of 0.72
    where :math:`10^{-3}` gave 0.012.  Returns the index, the means and their standard errors.
    """
    m = losses.shape[0]
    values = losses.mean(axis=0)
    best = int(np.argmin(values))
    diff = losses - losses[:, best : best + 1]
    se_diff = diff.std(axis=0, ddof=1) / np.sqrt(m)
    within = np.flatnonzero(values <= values[best] + se_diff)
    return int(within.max()), values, losses.std(axis=0, ddof=1) / np.sqrt(m)


@dataclasses.dataclass(frozen=True)
class RelaxationResult:
    r"""What :func:`double_well_action_matching` measured.

    Attributes
    ----------
    n, seed, steps, interior : int
        Particles, seed, Euler-Maruyama steps over :math:`[0, t_1]`, interior points per row.
    t_range : (float, float)
    times, weights : array (m,)
        The quadrature nodes of the errors and their Gauss-Legendre weights.
    relative_error : array (m,)
        :math:`e(t_k) = E_{q_t}|v - v^*|^2 / E_{q_t}|v^*|^2`.
    integrated_error : float
        :math:`E = \int E|v - v^*|^2\,dt / \int E|v^*|^2\,dt`.
    oracle_relative_error : array (m,)
    oracle_integrated_error : float
        The same for :func:`oracle_fit` (the basis's floor).
    field : LinearField
        The fitted :math:`v = \nabla s_t`, ``field(x, t)``, with ``.potential`` :math:`s_t`.
    rho : float
        The chosen ridge.
    fit_seconds, simulate_seconds, truth_seconds : float
        Assembly and solve; particle simulation; grid truth and oracle.
    """

    n: int
    seed: int
    steps: int
    interior: int
    t_range: tuple[float, float]
    times: np.ndarray
    weights: np.ndarray
    relative_error: np.ndarray
    integrated_error: float
    oracle_relative_error: np.ndarray
    oracle_integrated_error: float
    field: object
    rho: float
    fit_seconds: float
    simulate_seconds: float
    truth_seconds: float

    def to_dict(self) -> dict:
        """Everything but the field as JSON-ready values (the field as its basis, ridge and parameters)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "field":
                value = {"basis": repr(value.basis), "rho": float(value.rho), "theta": value.theta.tolist()}
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, tuple):
                value = [float(v) for v in value]
            elif isinstance(value, (np.floating, np.integer)):
                value = value.item()
            out[f.name] = value
        return out


def _chunk_seeds(seed: int, count: int) -> list[int]:
    """Independent simulator seeds per particle chunk (the noise is keyed by particle index within a call)."""
    if count == 1:
        return [seed]
    return [int(s >> np.uint64(1)) for s in np.random.SeedSequence(seed).generate_state(count, dtype=np.uint64)]


def double_well_action_matching(
    n: int = 10**5,
    *,
    seed: int = 0,
    t_range: Sequence[float] = (0.05, 1.0),
    interior: int = 32,
    time_nodes: int = 1024,
    steps: int = 2000,
    centres: int = 13,
    degree: int = 5,
    held_out: float = 0.25,
    truth: VelocityTruth | None = None,
) -> RelaxationResult:
    r"""Learn the double-well relaxation's velocity by Action Matching from ``n`` particle paths, and score it.

    The loss, for the potential :math:`s_\theta = \sum_j\theta_j\psi_j` of :func:`relaxation_basis`
    (MATH.md section 4),

    .. math::
        L(\theta) = \frac1n\sum_r\Big[s_{t_0}(x_r(t_0)) - s_{t_1}(x_r(t_1))
            + \frac{t_1 - t_0}{m}\sum_{k=1}^m \big(\tfrac12|\nabla s(x_r(t_{rk}), t_{rk})|^2
            + \partial_t s(x_r(t_{rk}), t_{rk})\big)\Big]
        \;\approx\; \tfrac12\int_{t_0}^{t_1} E_{q_t}|\nabla s_t - v^*_t|^2\,dt + C,

    over Euler-Maruyama paths :math:`x_r` of the Langevin SDE from :math:`q_0` (``steps`` steps
    over :math:`[0, t_1]`, landing on every output time), with :math:`t_{rk}` one of the
    ``time_nodes / interior`` midpoint nodes of stratum :math:`k`, drawn uniformly.  The
    ridge is chosen on a held-out fraction of the rows (one-standard-error rule), then the fit is
    redone on all of them.
    The module docstring says why each choice is what it is.

    Parameters
    ----------
    n : int
        Particles (= rows), at least 64.
    seed : int
        Seeds the particles (data and noise) and the draws of the interior times and the split.
    t_range : (float, float)
        The window :math:`(t_0, t_1)`, ``0 < t0 < t1 <= 10``.
    interior : int
        Interior points per row, :math:`m`; must divide ``time_nodes``.
    time_nodes : int
        Midpoint nodes of the window where the particles are recorded.
    steps : int
        Euler-Maruyama steps over :math:`[0, t_1]`.
    centres, degree : int
        The basis (:func:`relaxation_basis`).
    held_out : float
        The fraction of rows that choose the ridge, in (0, 1).
    truth : VelocityTruth, optional
        A precomputed :func:`velocity_truth` on the same window (default: computed here).

    Returns
    -------
    RelaxationResult

    Raises
    ------
    InputError
        Any argument out of range or of the wrong type; a ``truth`` on another window.

    Notes
    -----
    Measured with the defaults (:math:`\int_{0.05}^1 E|v^*|^2 = 0.0404`; oracle
    :math:`E = 7.9\cdot 10^{-6}`): :math:`E` = 0.051, 0.018, 0.0054 (means over seeds) at
    :math:`n = 10^4, 3\cdot 10^4, 10^5` and 0.00045 at :math:`10^6` (seed 0), i.e.
    :math:`E \approx 500/n`; per node at :math:`10^6`, :math:`e(t)` runs from :math:`8\cdot 10^{-4}`
    at :math:`t_0` through :math:`1`-:math:`6\cdot 10^{-4}` in the middle to :math:`6\cdot 10^{-3}`
    at :math:`t_1`, the window's end, which only the end term constrains.  Fit (assembly and
    solve) 1 s at :math:`10^4`, 9 s at :math:`10^5`, 86 s at :math:`10^6` on 2 shared cores;
    the simulation is 0.4 s at :math:`10^4` on an idle machine (up to 40 times more when the
    cores are shared).  The tests' module docstring (``tests/test_learned_relaxation.py``)
    holds the per-seed figures their bounds are justified from.
    """
    from ..particles.forward import simulate_forward
    from .fit import RIDGE_GRID, LinearField, RidgeSelection, solve
    from .objectives import action_matching

    proc = _process()
    t0, t1 = _window(t_range, proc.T)
    n = _integer(n, "n", 64)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    interior = _integer(interior, "interior", 1)
    time_nodes = _integer(time_nodes, "time_nodes", 1)
    if time_nodes % interior:
        raise InputError(f"interior ({interior}) must divide time_nodes ({time_nodes}): each stratum holds time_nodes / interior nodes")
    steps = _integer(steps, "steps", 1)
    frac = float(val.finite_array(held_out, "held_out", ndim=0))
    if not 0.0 < frac < 1.0:
        raise InputError(f"held_out must lie in (0, 1), got {held_out!r}")
    basis = relaxation_basis((t0, t1), centres=centres, degree=degree)

    start = _time.perf_counter()
    if truth is None:
        truth = velocity_truth((t0, t1))
    elif not isinstance(truth, VelocityTruth):
        raise InputError(f"truth must be a VelocityTruth (see velocity_truth), got {type(truth).__name__}")
    elif not (truth.times.min() > t0 and truth.times.max() < t1 and abs(truth.weights.sum() - (t1 - t0)) < 1e-9 * (t1 - t0)):
        raise InputError(f"truth was computed on another window than t_range = ({t0:g}, {t1:g}); pass velocity_truth(t_range)")
    oracle = oracle_fit(basis, truth)
    oracle_per_t, oracle_total = relative_velocity_errors(oracle, truth)
    truth_seconds = _time.perf_counter() - start

    width = (t1 - t0) / time_nodes
    midpoints = t0 + (np.arange(time_nodes) + 0.5) * width
    outputs = np.concatenate([[t0], midpoints, [t1]])
    per_stratum = time_nodes // interior
    rng = np.random.default_rng([seed, 1])
    A_t, b_t, n_t = np.zeros((basis.size, basis.size)), np.zeros(basis.size), 0
    held_rows = []  # (start, end, interior states, node indices) of the held-out rows
    simulate_seconds = fit_seconds = 0.0
    bounds = list(range(0, n, SIMULATION_CHUNK)) + [n]
    for (lo, hi), chunk_seed in zip(zip(bounds[:-1], bounds[1:]), _chunk_seeds(seed, len(bounds) - 1)):
        tic = _time.perf_counter()
        paths = simulate_forward(proc, initial_law(), hi - lo, outputs, method="em", steps=steps, seed=chunk_seed).samples[:, :, 0]
        simulate_seconds += _time.perf_counter() - tic
        tic = _time.perf_counter()
        size = hi - lo
        pick = np.arange(interior)[None, :] * per_stratum + rng.integers(0, per_stratum, size=(size, interior))
        held = rng.random(size) < frac
        r = np.flatnonzero(held)
        held_rows.append((paths[0, r], paths[-1, r], paths[1 + pick[r], r[:, None]], pick[r]))
        train = np.flatnonzero(~held)
        for a in range(0, train.size, ROW_CHUNK):
            r = train[a : a + ROW_CHUNK]
            form = action_matching(basis, paths[0, r, None], paths[-1, r, None], paths[1 + pick[r], r[:, None]][:, :, None], midpoints[pick[r]], (t0, t1))
            A_t += r.size * form.A
            b_t += r.size * form.b
            n_t += r.size
        fit_seconds += _time.perf_counter() - tic
    tic = _time.perf_counter()
    starts, ends, states, picks = (np.concatenate(parts) for parts in zip(*held_rows))
    n_h = starts.size
    if n_h < 2 or n_t < 1:
        raise InputError(f"n = {n} is too small to hold out {frac:g} of the rows and train on the rest; use more particles")
    train_form = _summed_form(A_t / n_t, b_t / n_t, basis)
    thetas = np.full((basis.size, RIDGE_GRID.size), np.nan)
    for k, rho in enumerate(RIDGE_GRID):
        try:
            thetas[:, k] = solve(train_form, float(rho))
        except InputError:  # not positive definite at this ridge
            continue
    ok = np.flatnonzero(np.all(np.isfinite(thetas), axis=0))
    if ok.size == 0:
        raise InputError(f"the Action Matching system is not positive definite for any ridge in [{RIDGE_GRID[0]:g}, {RIDGE_GRID[-1]:g}]")
    A_h, b_h, losses = np.zeros_like(A_t), np.zeros_like(b_t), []
    for a in range(0, n_h, ROW_CHUNK):
        sl = slice(a, a + ROW_CHUNK)
        form = action_matching(basis, starts[sl, None], ends[sl, None], states[sl, :, None], midpoints[picks[sl]], (t0, t1))
        A_h += form.blocks[0].n * form.A
        b_h += form.blocks[0].n * form.b
        losses.append(form.blocks[0].losses(thetas[:, ok]))
    index, values, errors = _one_standard_error(np.concatenate(losses))
    held_out = np.full(RIDGE_GRID.size, np.inf)
    standard_error = np.full(RIDGE_GRID.size, np.nan)
    held_out[ok], standard_error[ok] = values, errors
    selection = RidgeSelection(RIDGE_GRID.copy(), held_out, standard_error, int(ok[index]))
    rho = float(RIDGE_GRID[ok[index]])
    theta = solve(_summed_form((A_t + A_h) / n, (b_t + b_h) / n, basis), rho)
    field = LinearField(basis, theta, model="gradient", dim=1, rho=rho, kind="velocity", objective="am", selection=selection)
    fit_seconds += _time.perf_counter() - tic
    per_t, total = relative_velocity_errors(field, truth)
    return RelaxationResult(
        n=n, seed=seed, steps=steps, interior=interior, t_range=(t0, t1), times=truth.times, weights=truth.weights,
        relative_error=per_t, integrated_error=total, oracle_relative_error=oracle_per_t, oracle_integrated_error=oracle_total,
        field=field, rho=rho, fit_seconds=fit_seconds, simulate_seconds=simulate_seconds, truth_seconds=truth_seconds,
    )
