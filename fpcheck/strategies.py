r"""Hypothesis strategies for fpcheck's objects: schedules, affine processes, data, times, points.

Use them to property-test your own samplers, score models or solvers against fpcheck's
analytic truth over many random but *physically meaningful* set-ups.  Every draw lies in a
range where the exact marginals are well conditioned and nothing overflows:

* rates :math:`\beta_t` of order 0.01 to 30 and final times of order one, so that the
  integrated rate :math:`B(T)` runs from "barely noised" to "pure noise";
* VE noise levels :math:`\sigma_{\min} \in [10^{-3}, 0.1]`, :math:`\sigma_{\max} \in [1, 60]`;
* Gaussian mixtures with 1 to 4 components, weights bounded away from zero, means in
  :math:`[-3, 3]^d` and covariances :math:`R\,\mathrm{diag}(\lambda)\,R^T` with eigenvalues
  :math:`\lambda \in [0.05, 1.5]` (condition number at most 30) and a random rotation :math:`R`.

Hypothesis shrinks every draw towards the simplest case (constant schedules, one isotropic
component, zero rotation angles), so a failing property is reported on a small example.

This module imports hypothesis; ``import fpcheck`` does not load it.

Examples
--------
>>> import numpy as np
>>> from hypothesis import given, settings
>>> from fpcheck import ExactMarginals, strategies as fst
>>> @settings(max_examples=5, deadline=None, derandomize=True, database=None)
... @given(process=fst.affine_processes(dim=2), data=fst.gaussian_mixtures(2))
... def test_covariance_stays_positive_definite(process, data):
...     cov = ExactMarginals(process, data).cov(process.T)
...     assert np.linalg.eigvalsh(cov).min() > 0
>>> test_covariance_stays_positive_definite()
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .distributions import GaussianMixture
from .errors import InputError
from .processes import OU, VE, VP, AffineProcess, SubVP
from .schedules import Constant, Cosine, GeometricSigma, Linear, Schedule

__all__ = [
    "floats",
    "constant_schedules",
    "linear_schedules",
    "cosine_schedules",
    "geometric_sigma_schedules",
    "beta_schedules",
    "schedules",
    "vp_processes",
    "subvp_processes",
    "ve_processes",
    "ou_processes",
    "affine_processes",
    "rotations",
    "spd_matrices",
    "gaussian_mixtures",
    "times",
    "points",
    "seeds",
]

AFFINE_KINDS = ("vp", "subvp", "ve", "ou")


def floats(lo: float, hi: float, **kwargs) -> st.SearchStrategy[float]:
    """Finite floats in ``[lo, hi]``: no NaN, no infinity, no subnormals.

    When the range contains 0, magnitudes below ``1e-9 * max(|lo|, |hi|)`` are drawn as exactly 0:
    a mean of ``1e-160`` means 0 physically, and only its squares underflowing in somebody's
    error norm would tell it apart.
    """
    draws = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False, **kwargs)
    if not lo <= 0.0 <= hi:
        return draws
    tiny = 1e-9 * max(abs(lo), abs(hi))
    return draws.map(lambda v: v if abs(v) >= tiny else 0.0)


def _as_strategy(value) -> st.SearchStrategy:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def _dimension(dim) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise InputError(f"dim must be a positive integer, got {dim!r}")
    return int(dim)


# --------------------------------------------------------------------------- schedules


def constant_schedules(
    beta: tuple[float, float] = (0.1, 20.0), T: float | st.SearchStrategy[float] = 1.0
) -> st.SearchStrategy[Constant]:
    r"""Constant rates :math:`\beta_t = \beta` with :math:`\beta` in the closed interval ``beta``."""
    return st.builds(Constant, beta=floats(*beta), T=_as_strategy(T))


def linear_schedules(
    b0: tuple[float, float] = (0.01, 1.0),
    b1: tuple[float, float] = (1.0, 30.0),
    T: float | st.SearchStrategy[float] = 1.0,
) -> st.SearchStrategy[Linear]:
    r"""Linear rates :math:`\beta_t = b_0 + (b_1 - b_0)\,t/T` with :math:`0 \le b_0 < b_1`.

    ``b0`` and ``b1`` are ranges; the draw of :math:`b_1` is restricted to values above :math:`b_0`.
    """
    if b0[0] < 0 or b0[0] >= b1[1]:
        raise InputError(f"need 0 <= b0 and a b1 range above it, got b0={b0!r}, b1={b1!r}")

    @st.composite
    def build(draw) -> Linear:
        lo = draw(floats(*b0))
        hi = draw(floats(max(b1[0], lo), b1[1], exclude_min=True))
        return Linear(lo, hi, draw(_as_strategy(T)))

    return build()


def cosine_schedules(
    s: tuple[float, float] = (0.002, 0.05),
    beta_max: tuple[float, float] = (5.0, 30.0),
    T: float | st.SearchStrategy[float] = 1.0,
) -> st.SearchStrategy[Cosine]:
    r"""Nichol-Dhariwal cosine schedules with offset ``s`` and a rate capped at ``beta_max``.

    The rate at :math:`t = 0` is :math:`\approx \pi^2 s/2 \le 0.25` for the default ranges, far
    below every cap, so every draw is valid.
    """
    return st.builds(Cosine, s=floats(*s), beta_max=floats(*beta_max), T=_as_strategy(T))


def geometric_sigma_schedules(
    sigma_min: tuple[float, float] = (1e-3, 0.1),
    sigma_max: tuple[float, float] = (1.0, 60.0),
    T: float | st.SearchStrategy[float] = 1.0,
) -> st.SearchStrategy[GeometricSigma]:
    r"""Geometric VE noise levels :math:`\sigma(t) = \sigma_{\min}(\sigma_{\max}/\sigma_{\min})^{t/T}`."""
    if sigma_min[1] >= sigma_max[0]:
        raise InputError(f"the sigma_min range {sigma_min!r} must lie below the sigma_max range {sigma_max!r}")
    return st.builds(GeometricSigma, sigma_min=floats(*sigma_min), sigma_max=floats(*sigma_max), T=_as_strategy(T))


def beta_schedules(T: float | st.SearchStrategy[float] = 1.0) -> st.SearchStrategy[Schedule]:
    r"""Rates for VP and sub-VP: constant, linear or cosine (see their strategies for the ranges)."""
    return st.one_of(constant_schedules(T=T), linear_schedules(T=T), cosine_schedules(T=T))


def schedules(T: float | st.SearchStrategy[float] = 1.0) -> st.SearchStrategy[Schedule]:
    """Any built-in schedule: constant, linear, cosine or geometric sigma."""
    return st.one_of(beta_schedules(T=T), geometric_sigma_schedules(T=T))


# --------------------------------------------------------------------------- processes


def vp_processes(schedules: st.SearchStrategy[Schedule] | None = None) -> st.SearchStrategy[VP]:
    """Variance-preserving processes over ``schedules`` (default :func:`beta_schedules`)."""
    return st.builds(VP, beta_schedules() if schedules is None else schedules)


def subvp_processes(schedules: st.SearchStrategy[Schedule] | None = None) -> st.SearchStrategy[SubVP]:
    """Sub-VP processes over ``schedules`` (default :func:`beta_schedules`)."""
    return st.builds(SubVP, beta_schedules() if schedules is None else schedules)


def ve_processes(schedules: st.SearchStrategy[Schedule] | None = None) -> st.SearchStrategy[VE]:
    """Variance-exploding processes over ``schedules`` (default :func:`geometric_sigma_schedules`)."""
    return st.builds(VE, geometric_sigma_schedules() if schedules is None else schedules)


def ou_processes(
    dim: int | None = None,
    gamma: tuple[float, float] = (0.2, 3.0),
    beta: tuple[float, float] = (0.1, 3.0),
    mu_bound: float = 2.0,
    T: float | st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[OU]:
    r"""Ornstein-Uhlenbeck processes :math:`f = -\gamma(x - \mu)`, :math:`g^2 = \beta`.

    Parameters
    ----------
    dim : int or None
        With ``None`` the centre :math:`\mu` is a scalar (the process works in any dimension);
        with an integer it is a scalar or a vector of shape ``(dim,)``.
    gamma, beta : (float, float)
        Ranges of the relaxation rate and the noise intensity.  ``beta=(0.0, 0.0)`` gives the
        noiseless flow.
    mu_bound : float
        Entries of :math:`\mu` lie in ``[-mu_bound, mu_bound]``.
    T : float, strategy or None
        Final time; ``None`` draws it from ``[1, 5]``.
    """
    scalar_mu = floats(-mu_bound, mu_bound)
    if dim is None:
        mu = scalar_mu
    else:
        d = _dimension(dim)
        mu = st.one_of(scalar_mu, hnp.arrays(np.float64, (d,), elements=scalar_mu))
    t_final = floats(1.0, 5.0) if T is None else _as_strategy(T)
    beta_draw = st.just(float(beta[0])) if beta[0] == beta[1] else floats(*beta)
    return st.builds(OU, gamma=floats(*gamma), mu=mu, beta=beta_draw, T=t_final)


def affine_processes(dim: int | None = None, kinds: Sequence[str] = AFFINE_KINDS) -> st.SearchStrategy[AffineProcess]:
    """Affine processes with a closed-form kernel: VP and sub-VP over beta schedules, VE over
    geometric sigma, OU with random :math:`\\gamma`, :math:`\\mu`, :math:`\\beta`.

    Parameters
    ----------
    dim : int or None
        The dimension the draws must work in (it fixes the shape of a vector OU centre).
    kinds : sequence of str
        A subset of ``("vp", "subvp", "ve", "ou")``.
    """
    builders = {
        "vp": vp_processes,
        "subvp": subvp_processes,
        "ve": ve_processes,
        "ou": lambda: ou_processes(dim),
    }
    unknown = set(kinds) - set(builders)
    if unknown or not kinds:
        raise InputError(f"kinds must be a non-empty subset of {AFFINE_KINDS}, got {kinds!r}")
    return st.one_of(*(builders[k]() for k in kinds))


# --------------------------------------------------------------------------- data


def rotations(dim: int) -> st.SearchStrategy[np.ndarray]:
    r"""Rotation matrices in :math:`SO(d)`, as products of Givens rotations with random angles.

    Every :math:`R \in SO(d)` is such a product; shrinking sends the angles, and so :math:`R`,
    to the identity.
    """
    d = _dimension(dim)
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]

    def build(angles) -> np.ndarray:
        R = np.eye(d)
        for (i, j), th in zip(pairs, angles):
            G = np.eye(d)
            G[i, i] = G[j, j] = np.cos(th)
            G[i, j], G[j, i] = -np.sin(th), np.sin(th)
            R = G @ R
        return R

    return st.lists(floats(0.0, 2.0 * np.pi), min_size=len(pairs), max_size=len(pairs)).map(build)


def spd_matrices(dim: int, eig: tuple[float, float] = (0.05, 1.5)) -> st.SearchStrategy[np.ndarray]:
    r"""Symmetric positive definite :math:`R\,\mathrm{diag}(\lambda)\,R^T`, eigenvalues :math:`\lambda` in ``eig``.

    The condition number is at most ``eig[1] / eig[0]`` (30 by default).
    """
    d = _dimension(dim)
    if not 0 < eig[0] <= eig[1]:
        raise InputError(f"eig must be a range (lo, hi) with 0 < lo <= hi, got {eig!r}")
    eigs = hnp.arrays(np.float64, (d,), elements=floats(*eig))

    def build(args) -> np.ndarray:
        R, lam = args
        S = (R * lam) @ R.T
        return 0.5 * (S + S.T)

    return st.tuples(rotations(d), eigs).map(build)


def gaussian_mixtures(
    dim: int,
    components: tuple[int, int] = (1, 4),
    mean_bound: float = 3.0,
    eig: tuple[float, float] = (0.05, 1.5),
    min_weight_ratio: float = 0.25,
) -> st.SearchStrategy[GaussianMixture]:
    r"""Gaussian mixtures :math:`\sum_k w_k \mathcal{N}(m_k, S_k)` in ``dim`` dimensions.

    Parameters
    ----------
    dim : int
    components : (int, int)
        Range of the number of components :math:`K`.
    mean_bound : float
        Means lie in :math:`[-b, b]^d`.
    eig : (float, float)
        Range of the eigenvalues of every :math:`S_k` (see :func:`spd_matrices`).
    min_weight_ratio : float
        Unnormalised weights are drawn in ``[min_weight_ratio, 1]`` and normalised, so every
        weight is at least ``min_weight_ratio / K`` (0.0625 for the defaults).
    """
    d = _dimension(dim)
    k_lo, k_hi = components
    if not 1 <= k_lo <= k_hi:
        raise InputError(f"components must be a range (lo, hi) with 1 <= lo <= hi, got {components!r}")
    if not 0 < min_weight_ratio <= 1:
        raise InputError(f"min_weight_ratio must lie in (0, 1], got {min_weight_ratio!r}")

    @st.composite
    def build(draw) -> GaussianMixture:
        k = draw(st.integers(k_lo, k_hi))
        raw = np.array(draw(st.lists(floats(min_weight_ratio, 1.0), min_size=k, max_size=k)))
        means = draw(hnp.arrays(np.float64, (k, d), elements=floats(-mean_bound, mean_bound)))
        covs = np.stack([draw(spd_matrices(d, eig)) for _ in range(k)])
        return GaussianMixture(raw / raw.sum(), means, covs)

    return build()


# --------------------------------------------------------------------------- times and points


def times(process, lo_frac: float = 0.01, hi_frac: float = 1.0) -> st.SearchStrategy[float]:
    r"""Times :math:`t \in [\text{lo\_frac}\,T,\ \text{hi\_frac}\,T]` for a process (or schedule) with final time ``T``.

    A positive ``lo_frac`` keeps away from :math:`t = 0`, where the kernel degenerates to a
    point mass; ``hi_frac < 1`` leaves room for central differences in time.
    """
    if not 0 <= lo_frac <= hi_frac <= 1:
        raise InputError(f"need 0 <= lo_frac <= hi_frac <= 1, got {lo_frac!r}, {hi_frac!r}")
    T = float(process.T)
    return floats(lo_frac * T, hi_frac * T)


def points(dim: int, n: int | tuple[int, int] = (1, 8), bound: float = 3.0) -> st.SearchStrategy[np.ndarray]:
    r"""Points as an array of shape ``(n, dim)`` with entries in ``[-bound, bound]``.

    ``n`` is a fixed count or a range ``(lo, hi)``.
    """
    d = _dimension(dim)
    count = st.just(int(n)) if np.isscalar(n) else st.integers(*n)
    return count.flatmap(lambda m: hnp.arrays(np.float64, (m, d), elements=floats(-bound, bound)))


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``np.random.default_rng``: hypothesis manages integers, not generators."""
    return st.integers(0, 2**32 - 1)
