r"""Relaxation rates of 1D Fokker-Planck operators: grid, spectral collocation and Kramers.

For a time-homogeneous 1D process with zero-flux ends on :math:`[a, b]`, the Fokker-Planck operator
:math:`\mathcal{L} q = \partial_x\big(D\,e^{-\Phi}\,\partial_x(e^{\Phi} q)\big)` (:math:`\Phi = U/kT`
for overdamped Langevin :math:`dx = -U'(x)\,dt + \sqrt{2kT}\,dW`, MATH.md section 1) is
self-adjoint in :math:`L^2(1/\pi)`, :math:`\pi \propto e^{-U/kT}`, and negative semi-definite:
its eigenvalues are :math:`0 = -\lambda_0 > -\lambda_1 > -\lambda_2 > \dots`.  A density relaxes
to :math:`\pi` as

.. math::
    q(t) - \pi = \sum_{n \ge 1} c_n\,e^{-\lambda_n t}\,\phi_n, \qquad
    \|q(t) - \pi\|_1 \sim |c_1|\,\|\phi_1\|_1\,e^{-\lambda_1 t} \quad (t \to \infty),

so :math:`\lambda_1`, the smallest non-zero *relaxation rate*, sets how long the grid solver must
run to reach equilibrium.  Three independent computations of the rates live here:

* :func:`relaxation_rates`: eigenvalues of the exponentially fitted finite-volume operator
  :math:`L_0` of :mod:`fpcheck.grid.operators` (the operator the solver exponentiates), second
  order in :math:`h`, with Richardson extrapolation to fourth order and an error estimate;
* :func:`spectral_relaxation_rates`: Chebyshev collocation of the same continuous problem, sharing
  no code with the finite-volume scheme, spectrally accurate;
* :func:`kramers_rate`: the Eyring-Kramers formula for a double well, asymptotic as
  :math:`kT/\Delta U \to 0` with relative error :math:`O(kT/\Delta U)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import _validation as val
from ..errors import InputError
from ..processes import Potential, Process
from .grids import Grid

__all__ = [
    "RelaxationRates",
    "SpectralRates",
    "relaxation_rates",
    "spectral_relaxation_rates",
    "kramers_rate",
    "chebyshev_differentiation",
]

_EPS = float(np.finfo(float).eps)


def _check_potential_1d(potential, why: str) -> None:
    if not isinstance(potential, Potential):
        raise InputError(f"potential must be a fpcheck.processes.Potential, got {type(potential).__name__}")
    if potential.dim not in (None, 1):
        raise InputError(f"the potential is {potential.dim}-dimensional; {why}")


def _count(value, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise InputError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------------ finite volumes


@dataclass(frozen=True)
class RelaxationRates:
    r"""The ``k`` smallest non-zero relaxation rates of a fitted finite-volume operator.

    Attributes
    ----------
    rates : array (k,)
        :math:`\lambda_n(h)` on the requested grid (second order in :math:`h`).
    extrapolated : array (k,)
        Richardson over :math:`h` and :math:`h/2`, :math:`R_h = (4\lambda_n(h/2) - \lambda_n(h))/3`
        (fourth order).
    error_estimate : array (k,)
        Estimated absolute error of ``extrapolated``: :math:`|R_h - R_{2h}|/15` plus the rounding
        bound of the eigensolver (see :func:`relaxation_rates`).
    plain_error_estimate : array (k,)
        Estimated absolute error of ``rates``: :math:`|\lambda_n(h) - \lambda_n(2h)|/3` plus rounding.
    observed_order : array (k,)
        :math:`\log_2\big(|\lambda_n(2h) - \lambda_n(h)| / |\lambda_n(h) - \lambda_n(h/2)|\big)`,
        2 for the second-order scheme in the asymptotic range.
    levels : array (3, k)
        The rates on the grids of widths :math:`2h`, :math:`h` and :math:`h/2`.
    cells : tuple of int
        Cell counts of those three grids.
    grid : Grid
        The requested grid (width :math:`h`).
    """

    rates: np.ndarray
    extrapolated: np.ndarray
    error_estimate: np.ndarray
    plain_error_estimate: np.ndarray
    observed_order: np.ndarray
    levels: np.ndarray
    cells: tuple
    grid: Grid


def _grid_level_rates(process: Process, grid: Grid, k: int) -> tuple[np.ndarray, float]:
    """The rates ``lambda_1..lambda_k`` of ``L0`` on ``grid`` and the eigensolver's rounding bound."""
    from scipy.linalg import eigh_tridiagonal

    from .solver import propagator_axes

    try:
        (op,) = propagator_axes(process, grid)
    except NotImplementedError:
        raise InputError(
            f"relaxation rates need a generator rho(t) L0 with a fixed L0 (VP, VE, OU, Langevin); "
            f"{type(process).__name__}'s is not of that form"
        ) from None
    # -S is symmetric positive semi-definite with the simple eigenvalue 0 (eigenvector pi^{1/2}):
    # indices 0..k in ascending order are 0, lambda_1, ..., lambda_k.
    d, e = -op.diag, -op.sym_offdiag
    w = eigh_tridiagonal(d, e, eigvals_only=True, select="i", select_range=(0, k))
    # bisection (LAPACK stebz) places each eigenvalue within eps * ||S||_1 (its default tolerance)
    norm1 = float(np.max(np.abs(d) + np.concatenate([np.abs(e), [0.0]]) + np.concatenate([[0.0], np.abs(e)])))
    rounding = 2.0 * _EPS * norm1
    if w[1] <= 10.0 * rounding:
        raise InputError(
            f"the smallest non-zero rate on {grid.shape[0]} cells ({w[1]:.3g}) is at the eigensolver's rounding "
            f"level eps ||S|| ({rounding:.2g}): either the rate itself is that small (a barrier of many kT) or "
            "the cells decouple (Peclet numbers h |f| / D in the hundreds); use more cells or a higher temperature"
        )
    return w[1:], rounding


def relaxation_rates(process: Process, grid: Grid, k: int = 1) -> RelaxationRates:
    r"""The ``k`` smallest non-zero relaxation rates of ``process``'s fitted operator on a 1D ``grid``.

    The rates are :math:`\lambda_n = -\mu_n` for the eigenvalues :math:`0 = \mu_0 > \mu_1 \ge \dots`
    of the exponentially fitted (Scharfetter-Gummel) operator :math:`L_0` with zero-flux ends that
    :func:`~fpcheck.grid.solver.propagator_axes` builds and :func:`~fpcheck.grid.solve_fokker_planck`
    exponentiates.  Detailed balance makes :math:`S = \Pi^{-1/2} L_0\,\Pi^{1/2}` symmetric tridiagonal
    with the same eigenvalues; the ``k + 1`` eigenvalues of :math:`-S` at the bottom of its spectrum
    are found by bisection (:func:`scipy.linalg.eigh_tridiagonal`, selected by index), and the
    first, the exact zero of the equilibrium :math:`\pi^{1/2}`, is dropped.

    **Order and extrapolation.**  The scheme is second order and its eigenvalue errors expand in
    even powers of :math:`h`, :math:`\lambda_n(h) = \lambda_n + C_n h^2 + O(h^4)`, so
    :math:`R_h = (4\lambda_n(h/2) - \lambda_n(h))/3 = \lambda_n + O(h^4)`.  The rates are computed on
    the grids of widths :math:`2h`, :math:`h` and :math:`h/2`: the observed order
    :math:`\log_2[(\lambda(2h) - \lambda(h))/(\lambda(h) - \lambda(h/2))]` checks the :math:`h^2`
    behaviour, and :math:`|R_h - R_{2h}|/15` estimates the error of :math:`R_h` (:math:`R_{2h}`'s
    error is 16 times :math:`R_h`'s).

    **Rounding.**  Bisection places each eigenvalue within about :math:`\varepsilon\|S\|_1`,
    :math:`\|S\|_1 \approx 4D/h^2 + \max|f|/h`, independent of the eigenvalue's size; this bound
    is added to the error estimates.  It limits the relative accuracy of a tiny :math:`\lambda_1`
    on fine grids (the double well at :math:`kT = 0.1`, :math:`\lambda_1 \approx 8\times10^{-5}`:
    about :math:`10^{-7}` on 4000 cells).

    Parameters
    ----------
    process : Process
        A 1D process whose generator is :math:`\rho(t) L_0` (OU, Langevin, VP, VE).  The rates are
        those of :math:`L_0`, per unit of :math:`\tau = \int\rho\,dt`: per unit time for OU and
        Langevin, per unit of :math:`B(t)` for VP, of :math:`\sigma^2(t)` for VE.
    grid : Grid
        A 1D grid, not periodic (the operator has zero-flux ends), with an even number of cells.
    k : int
        How many rates, at most half the cell count minus one.

    Returns
    -------
    RelaxationRates

    Raises
    ------
    InputError
        For a grid that is not 1D, periodic or odd; a process that is not 1D or has no fixed
        :math:`L_0`; ``k`` out of range; or a grid so coarse that :math:`\lambda_1` is lost in rounding.

    Examples
    --------
    >>> from fpcheck.processes import OU
    >>> r = relaxation_rates(OU(gamma=2.0, mu=0.0, beta=2.0), Grid([(-10.0, 10.0)], [800]), k=2)
    >>> np.round(r.extrapolated, 6)
    array([2., 4.])
    """
    if not isinstance(process, Process):
        raise InputError(f"process must be a fpcheck Process, got {type(process).__name__}")
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a fpcheck.grid.Grid, got {type(grid).__name__}")
    if grid.ndim != 1:
        raise InputError(
            f"relaxation rates are computed for 1D operators; the grid is {grid.ndim}D. For a separable "
            "process the rates of a d-D operator are sums of the per-axis rates: pass each axis's 1D grid"
        )
    if process.dim not in (None, 1):
        raise InputError(f"the process is {process.dim}-dimensional; relaxation rates need a 1D process")
    if grid.periodic[0]:
        raise InputError("the fitted operator has zero-flux ends; pass a grid with periodic=False")
    n = grid.shape[0]
    if n % 2:
        raise InputError(f"the grid needs an even cell count (for the coarse grid 2h), got {n}")
    k = _count(k, "k", 1)
    if k > n // 2 - 1:
        raise InputError(f"k = {k} rates need at least {2 * (k + 1)} cells (the coarse grid 2h has {n // 2}); got {n}")

    levels, rounding = [], []
    for g in (grid.coarsen(), grid, grid.refine()):
        w, r = _grid_level_rates(process, g, k)
        levels.append(w)
        rounding.append(r)
    lam = np.array(levels)  # (3, k): widths 2h, h, h/2
    r_h = (4.0 * lam[2] - lam[1]) / 3.0
    r_2h = (4.0 * lam[1] - lam[0]) / 3.0
    round_rich = (4.0 * rounding[2] + rounding[1]) / 3.0
    d_coarse, d_fine = np.abs(lam[0] - lam[1]), np.abs(lam[1] - lam[2])
    with np.errstate(divide="ignore", invalid="ignore"):
        order = np.log2(d_coarse / d_fine)
    return RelaxationRates(
        rates=lam[1],
        extrapolated=r_h,
        error_estimate=np.abs(r_h - r_2h) / 15.0 + round_rich,
        plain_error_estimate=d_coarse / 3.0 + rounding[1],
        observed_order=order,
        levels=lam,
        cells=(n // 2, n, 2 * n),
        grid=grid,
    )


# ------------------------------------------------------------------------ spectral collocation


def chebyshev_differentiation(n: int, bounds: Sequence[float] = (-1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    r"""Chebyshev-Gauss-Lobatto nodes on ``bounds`` and the first-derivative collocation matrix.

    Nodes :math:`x_j = \frac{a+b}{2} + \frac{b-a}{2}\cos(\pi j/n)`, :math:`j = 0..n` (from ``b`` down to
    ``a``); :math:`(D v)_i = p'(x_i)` for the degree-``n`` interpolant :math:`p` of :math:`v`
    (Trefethen, *Spectral Methods in MATLAB*, ch. 6: :math:`D_{ij} = \frac{c_i}{c_j}
    \frac{(-1)^{i+j}}{x_i - x_j}`, :math:`c_0 = c_n = 2`, else 1).  The differences
    :math:`x_i - x_j` are formed as :math:`2\sin\frac{\theta_j+\theta_i}{2}\sin\frac{\theta_j-\theta_i}{2}`
    and the diagonal as minus the off-diagonal row sums, so that constants are differentiated to
    zero up to the rounding of those sums and the rounding of :math:`D` stays :math:`O(\varepsilon n^2)`.

    Returns
    -------
    x : array (n + 1,)
    D : array (n + 1, n + 1)
    """
    n = _count(n, "n", 2)
    a, b = (float(v) for v in val.finite_array(bounds, "bounds", ndim=1))
    theta = np.pi * np.arange(n + 1) / n
    c = np.ones(n + 1)
    c[0] = c[-1] = 2.0
    c *= (-1.0) ** np.arange(n + 1)
    dx = 2.0 * np.sin(0.5 * (theta[None, :] + theta[:, None])) * np.sin(0.5 * (theta[None, :] - theta[:, None]))
    np.fill_diagonal(dx, 1.0)
    D = np.outer(c, 1.0 / c) / dx
    np.fill_diagonal(D, 0.0)
    np.fill_diagonal(D, -D.sum(axis=1))
    scale = 2.0 / (b - a)
    return 0.5 * (a + b) + 0.5 * (b - a) * np.cos(theta), D * scale


@dataclass(frozen=True)
class SpectralRates:
    r"""Relaxation rates from Chebyshev collocation.

    Attributes
    ----------
    rates : array (k,)
        :math:`\lambda_1, \dots, \lambda_k` with ``n + 1`` nodes.
    error_estimate : array (k,)
        :math:`|\lambda_n(n) - \lambda_n(n')|` against a run with :math:`n' \approx 2n/3` nodes: the
        error of the coarser run, an upper bound once both are converged (then it is rounding).
    n : int
        Polynomial degree (``n + 1`` nodes).
    """

    rates: np.ndarray
    error_estimate: np.ndarray
    n: int


def _collocation_rates(grad, kT: float, bounds: tuple[float, float], n: int) -> np.ndarray:
    """All eigenvalues (complex) of the Dirichlet flux problem, sorted by real part."""
    from scipy.linalg import eigvals

    x, D = chebyshev_differentiation(n, bounds)
    u1 = grad(x)
    u2 = D @ u1  # U'' by spectral differentiation of U' (exact up to rounding for polynomial U)
    A = kT * (D @ D) - u1[:, None] * D - np.diag(u2)
    mu = eigvals(A[1:-1, 1:-1], overwrite_a=True, check_finite=False)
    lam = -mu
    return lam[np.argsort(lam.real)]


def spectral_relaxation_rates(
    potential: Potential, kT: float, bounds: Sequence[float], *, k: int = 1, n: int = 192
) -> SpectralRates:
    r"""The ``k`` smallest non-zero relaxation rates of :math:`dx = -U'\,dt + \sqrt{2kT}\,dW` on ``bounds``, by Chebyshev collocation.

    The zero-flux Fokker-Planck operator on :math:`[a, b]` and the backward operator
    :math:`\mathcal{A} f = kT f'' - U' f'` with :math:`f'(a) = f'(b) = 0` (self-adjoint in
    :math:`L^2(\pi)`) share their spectrum.  For :math:`\lambda \neq 0`, :math:`g = f'` turns
    :math:`\mathcal{A} f = -\lambda f` into the Dirichlet problem

    .. math::
        kT\,g'' - U'\,g' - U''\,g = -\lambda\,g, \qquad g(a) = g(b) = 0,

    and back (:math:`f = -(kT g' - U' g)/\lambda` has :math:`f' = g`), so its eigenvalues are exactly
    the non-zero rates: the zero mode, which would pin the smallest rate's absolute rounding to
    that of a unit eigenvalue, is gone.  The problem is collocated at ``n + 1`` Chebyshev-Lobatto
    nodes (:func:`chebyshev_differentiation`; :math:`U''` by differentiating :math:`U'` the same way),
    the boundary values are dropped (Dirichlet), and the ``n - 1`` eigenvalues of the remaining
    matrix come from :func:`scipy.linalg.eigvals`.  For smooth :math:`U` the error falls
    geometrically in ``n`` down to rounding, about :math:`10^{-13}` absolute for the double wells of
    the test suite; nothing is shared with the finite-volume scheme of :func:`relaxation_rates`,
    which solves the same zero-flux problem.

    Parameters
    ----------
    potential : Potential
        A 1D potential; only :meth:`Potential.gradient` (:math:`U'`) is used.
    kT : float
        Temperature, > 0.
    bounds : (float, float)
        The interval :math:`[a, b]`, with zero-flux ends.
    k : int
        How many rates.
    n : int
        Polynomial degree, at least ``k + 16``.  Resolve the narrowest layer: for the double
        well on [-3, 3], ``n = 128`` converges to rounding at :math:`kT = 0.25`, 192 at :math:`kT = 0.1`.

    Returns
    -------
    SpectralRates

    Raises
    ------
    InputError
        For bad arguments, a potential of another dimension, or an under-resolved collocation
        (complex or non-positive rates among the ``k`` smallest): increase ``n``.

    Examples
    --------
    >>> from fpcheck.processes import DoubleWell
    >>> r = spectral_relaxation_rates(DoubleWell(1.0), 0.25, (-3.0, 3.0), k=2, n=128)
    >>> np.round(r.rates, 8)
    array([0.02977959, 3.31039406])
    """
    _check_potential_1d(potential, "spectral rates are computed in 1D")
    kT = val.positive(kT, "kT")
    b = val.finite_array(bounds, "bounds", ndim=1)
    if b.shape != (2,) or not b[1] > b[0]:
        raise InputError(f"bounds must be (a, b) with a < b, got {bounds!r}")
    lo, hi = float(b[0]), float(b[1])
    k = _count(k, "k", 1)
    n = _count(n, "n", k + 16)

    def grad(x):
        return potential.gradient(x[:, None])[:, 0]

    lam = _collocation_rates(grad, kT, (lo, hi), n)[:k]
    bad = (lam.real <= 0) | (np.abs(lam.imag) > 1e-8 * np.abs(lam.real))
    if np.any(bad):
        raise InputError(
            f"n = {n} does not resolve the problem (rates {np.array2string(lam, precision=3)} among the "
            f"{k} smallest are complex or not positive); increase n"
        )
    coarse = _collocation_rates(grad, kT, (lo, hi), max(k + 8, (2 * n) // 3))[:k]
    rates = lam.real
    return SpectralRates(rates, np.abs(rates - coarse.real) + np.abs(coarse.imag), n)


# ----------------------------------------------------------------------------------- Kramers


def _curvature(potential: Potential, x: float) -> tuple[float, float, float]:
    """``U(x)``, ``U'(x)`` and ``U''(x)`` (centred difference of ``U'``, relative error ~1e-8)."""
    step = 1e-4 * max(1.0, abs(x))
    pts = np.array([[x - step], [x], [x + step]])
    g = potential.gradient(pts)[:, 0]
    return float(potential(pts[1:2])[0]), float(g[1]), float((g[2] - g[0]) / (2.0 * step))


def kramers_rate(potential: Potential, kT: float, minima: Sequence[float] = (-1.0, 1.0), saddle: float = 0.0) -> float:
    r"""The Eyring-Kramers relaxation rate of a 1D double well: the sum of the two escape rates.

    For :math:`dx = -U'(x)\,dt + \sqrt{2kT}\,dW` (unit mobility, diffusion :math:`D = kT`), the mean
    first passage time from a minimum :math:`m` to well past the saddle :math:`s` solves
    :math:`kT\tau'' - U'\tau' = -1`:

    .. math::
        \tau = \frac{1}{kT}\int^{\,\cdot} e^{U(y)/kT}\int_{-\infty}^{y} e^{-U(z)/kT}\,dz\,dy
        \;\approx\; \frac{1}{kT}\sqrt{\frac{2\pi kT}{|U''(s)|}}\,e^{U(s)/kT}\,
        \sqrt{\frac{2\pi kT}{U''(m)}}\,e^{-U(m)/kT}
        = \frac{2\pi}{\sqrt{U''(m)\,|U''(s)|}}\,e^{\Delta U/kT},

    by Laplace's method on both integrals, :math:`\Delta U = U(s) - U(m)`, so the escape rate is
    :math:`k = 1/\tau = \frac{\sqrt{U''(m)|U''(s)|}}{2\pi}\,e^{-\Delta U/kT}` (the factor :math:`kT`
    of the Gaussian widths cancels the :math:`1/D`: no :math:`kT` in the prefactor in this
    convention).  The two-state master equation :math:`\dot p_1 = -k_{12}p_1 + k_{21}p_2` relaxes at
    :math:`\lambda_1 \approx k_{12} + k_{21}`, which for a symmetric well is :math:`2k`; for
    :math:`U = h(x^2-1)^2`, :math:`\lambda_1 \approx \frac{\sqrt{32}\,h}{\pi}\,e^{-h/kT}`.

    **Accuracy.**  The two-state reduction is exact up to exponentially small terms (the next rate
    stays :math:`O(U'')` while :math:`\lambda_1` is :math:`O(e^{-\Delta U/kT})`); the error comes from
    Laplace's method, whose corrections form a series in :math:`kT`.  For
    :math:`\int e^{-V/kT}` with :math:`V = \frac a2 y^2 + \frac b6 y^3 + \frac c{24} y^4 + \dots` the
    first is the factor :math:`1 + kT\big(\frac{5b^2}{24a^3} - \frac{c}{8a^2}\big)`; in units of the
    barrier (:math:`y` scaled by the distance between minimum and saddle, :math:`V` by
    :math:`\Delta U`) these coefficients are :math:`O(1)`, so the relative error is
    :math:`O(kT/\Delta U)`.  For :math:`h(x^2-1)^2` the well and the barrier contribute
    :math:`\frac3{16}` each: :math:`\lambda_1 = \lambda_{\rm Kramers}\big(1 - \frac38\frac{kT}{\Delta U}
    + O((kT/\Delta U)^2)\big)`, about :math:`-4\%` at :math:`kT = 0.1`, :math:`-10\%` at 0.25.

    Parameters
    ----------
    potential : Potential
        A 1D potential; curvatures come from centred differences of its gradient (relative
        error about :math:`10^{-8}`, far below the formula's).
    kT : float
        Temperature, > 0.
    minima : (float, float)
        The two minima, either side of ``saddle``.
    saddle : float
        The barrier top between them.

    Returns
    -------
    float
        :math:`k_{12} + k_{21}`.

    Raises
    ------
    InputError
        If a point is not stationary (:math:`|U'/U''| > 10^{-6}`), a minimum has
        :math:`U'' \le 0`, the saddle has :math:`U'' \ge 0`, or the saddle does not lie between
        the minima.
    """
    _check_potential_1d(potential, "the Kramers formula here is 1D")
    kT = val.positive(kT, "kT")
    m = val.finite_array(minima, "minima", ndim=1)
    if m.shape != (2,):
        raise InputError(f"minima must be two points, got {minima!r}")
    s = float(val.finite_array(saddle, "saddle", ndim=0))
    if not min(m) < s < max(m):
        raise InputError(f"the saddle {s:g} must lie between the minima {m[0]:g} and {m[1]:g}")
    u_s, g_s, c_s = _curvature(potential, s)
    if not c_s < 0 or abs(g_s) > 1e-6 * abs(c_s):
        raise InputError(f"{s:g} is not a barrier top of U (U' = {g_s:.3g}, U'' = {c_s:.3g}); pass the exact saddle")
    rate = 0.0
    for x in m:
        u_m, g_m, c_m = _curvature(potential, float(x))
        if not c_m > 0 or abs(g_m) > 1e-6 * c_m:
            raise InputError(f"{x:g} is not a minimum of U (U' = {g_m:.3g}, U'' = {c_m:.3g}); pass the exact minimum")
        rate += np.sqrt(c_m * -c_s) / (2.0 * np.pi) * np.exp(-(u_s - u_m) / kT)
    return float(rate)
