r"""Samples of the forward kernel and exact fields at one time per sample (MATH.md sections 2 and 3).

* :func:`kernel_samples`: ancestral draws :math:`x_0 \sim p`, :math:`x = a_t x_0 + c_t + s_t\varepsilon`,
  exact draws of :math:`q_t`; :meth:`KernelSamples.at` moves them along their kernel paths;
* :func:`exact_values`: the exact score or probability-flow velocity, vectorised over per-point times;
* :func:`noise_weight`: the time weight :math:`\lambda(t) = s_t^2`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .. import _validation as val
from ..errors import InputError
from ..processes import AffineProcess

__all__ = ["CONSISTENCY_RTOL", "KernelSamples", "kernel_samples", "exact_values", "noise_weight"]

#: Relative accuracy to which the points of :class:`KernelSamples` must be :math:`a x_0 + c + s\varepsilon`.
CONSISTENCY_RTOL = 1e-9


# ---------------------------------------------------------------------------------------------
# samples and exact fields


class KernelSamples(NamedTuple):
    r"""Draws of the forward kernel: :math:`x_r = a_{t_r} x_{0,r} + c_{t_r} + s_{t_r}\varepsilon_r`.

    Attributes
    ----------
    t : array (n,)
    x0 : array (n, d)
        Data samples :math:`x_0 \sim p`.
    eps : array (n, d)
        Standard normal noise.
    x : array (n, d)
        The noised points, distributed as :math:`q_{t_r}`.
    process : AffineProcess
        The process whose kernel :math:`(a_t, c_t, s_t^2)` made them.
    """

    t: np.ndarray
    x0: np.ndarray
    eps: np.ndarray
    x: np.ndarray
    process: AffineProcess

    def at(self, t) -> KernelSamples:
        r"""The same :math:`x_0` and :math:`\varepsilon` at other times: the kernel paths :math:`x_r(t) = a_t x_{0,r} + c_t + s_t\varepsilon_r`.

        Each :math:`x_r(t)` is again an exact draw of :math:`q_t`; points of one path at several
        times are *coupled* (common random numbers), which is what makes the Action Matching
        rows of :func:`action_matching` low-variance (see there).
        """
        n, d = self.x0.shape
        times = self.process.check_time(_times(t, n))
        a, c, s2 = _coefficients(self.process, times, d)
        return KernelSamples(times, self.x0, self.eps, a * self.x0 + c + np.sqrt(s2) * self.eps, self.process)


def _coefficients(process: AffineProcess, t: np.ndarray, d: int, derivative: bool = False):
    """``(a, c, s2)`` (or their time derivatives) at times ``(n,)`` as arrays ``(n, 1)``, ``(n, d)``, ``(n, 1)``."""
    n = t.shape[0]
    k = process.kernel_derivative(t) if derivative else process.kernel(t)
    a = np.broadcast_to(np.asarray(k.a, dtype=float), (n,))[:, None]
    c = np.broadcast_to(np.asarray(k.c, dtype=float).reshape(n, -1), (n, d))
    s2 = np.broadcast_to(np.asarray(k.s2, dtype=float), (n,))[:, None]
    return a, c, s2


def _sample_times(n: int, t, t_range, rng: np.random.Generator) -> np.ndarray:
    if (t is None) == (t_range is None):
        raise InputError("pass exactly one of t (a time, or one per sample) and t_range (times drawn uniformly)")
    if t is not None:
        return _times(t, n)
    lo, hi = _range(t_range)
    return rng.uniform(lo, hi, n)


def kernel_samples(process: AffineProcess, data, n: int, rng: np.random.Generator, *, t=None, t_range=None) -> KernelSamples:
    r"""Ancestral samples :math:`x_0 \sim p`, :math:`x = a_t x_0 + c_t + s_t\varepsilon`, one time per sample.

    Parameters
    ----------
    process : AffineProcess
        A process with a closed-form kernel (VP, sub-VP, VE, OU).
    data : Distribution
        :math:`p = q_0`, anything with ``sample(n, rng)``.
    n : int
        The number of samples.
    rng : numpy.random.Generator
    t : float or array_like (n,), optional
        One time for all samples, or one each.
    t_range : (float, float), optional
        Instead of ``t``: times drawn uniformly on :math:`[t_0, t_1]`.

    Returns
    -------
    KernelSamples
        :math:`x_r` is an exact draw of :math:`q_{t_r}` (MATH.md section 2).
    """
    if not isinstance(process, AffineProcess):
        raise InputError(f"kernel_samples needs an affine process (VP, sub-VP, VE, OU), got {type(process).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}")
    times = process.check_time(_sample_times(int(n), t, t_range, rng))
    x0 = np.asarray(data.sample(int(n), rng), dtype=float)
    d = x0.shape[1]
    eps = rng.standard_normal((int(n), d))
    a, c, s2 = _coefficients(process, times, d)
    return KernelSamples(times, x0, eps, a * x0 + c + np.sqrt(s2) * eps, process)


def exact_values(truth, x, t, field: str = "score") -> np.ndarray:
    r"""The exact score :math:`\nabla\log q_t` or probability-flow velocity :math:`f - \tfrac12 g^2\nabla\log q_t`, one time per point.

    Parameters
    ----------
    truth : ExactMarginals
    x : array_like (n, d)
    t : float or array_like (n,)
    field : {"score", "velocity"}

    Returns
    -------
    array (n, d)

    Notes
    -----
    For Gaussian-mixture data all points are evaluated at once from the per-time tables of
    :func:`fpcheck.particles.fields.build_tables` (each component pushed through the kernel and
    factored, :math:`\Sigma_k = a_t^2 S_k + s_t^2 I = L_k L_k^T`):
    :math:`\nabla\log q_t = -\sum_k r_k L_k^{-T} z_k`, :math:`z_k = L_k^{-1}(x - \mu_k)`, the formula of
    :class:`~fpcheck.distributions.GaussianMixture`.  Other data go through ``truth.score`` once
    per distinct time.
    """
    from ..analytic import ExactMarginals
    from ..distributions import GaussianMixture

    if not isinstance(truth, ExactMarginals):
        raise InputError(f"truth must be an ExactMarginals, got {type(truth).__name__}")
    if field not in ("score", "velocity"):
        raise InputError(f"field must be 'score' or 'velocity', got {field!r}")
    x = val.points(x, truth.dim)
    times = truth.process.check_time(_times(t, x.shape[0]))
    if not isinstance(truth.data, GaussianMixture):
        return _per_time(getattr(truth, field), x, times)
    from scipy import special

    from ..particles.fields import build_tables

    tab = build_tables(truth.process, truth.data, times)
    z = np.einsum("nkij,nkj->nki", tab.linv, x[:, None, :] - tab.mean)
    r = special.softmax(tab.lognorm - 0.5 * np.einsum("nki,nki->nk", z, z), axis=1)
    score = -np.einsum("nk,nkji,nkj->ni", r, tab.linv, z)
    if field == "score":
        return score
    return -tab.rate[:, None] * x + tab.shift - 0.5 * tab.g2[:, None] * score


def noise_weight(process: AffineProcess) -> Callable[[np.ndarray], np.ndarray]:
    r"""The usual score-matching time weight :math:`\lambda(t) = s_t^2`, the kernel's variance.

    With it :math:`\lambda|\nabla\log k_t|^2 = |\varepsilon|^2` is of one size at every time, so DSM's
    variance stays bounded as :math:`t \to 0`.
    """
    if not isinstance(process, AffineProcess):
        raise InputError(f"noise_weight needs an affine process, got {type(process).__name__}")
    return lambda t: np.asarray(process.kernel(t).s2, dtype=float)


# ---------------------------------------------------------------------------------------------
# argument handling shared with the objectives


def _range(t_range) -> tuple[float, float]:
    arr = val.finite_array(t_range, "t_range")
    if arr.shape != (2,) or not arr[0] < arr[1]:
        raise InputError(f"t_range must be a pair (t0, t1) with t0 < t1, got {t_range!r}")
    return float(arr[0]), float(arr[1])


def _times(t, n: int) -> np.ndarray:
    arr = val.finite_array(t, "t")
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise InputError(f"t must be a float or an array of shape ({n},), one time per sample; got shape {arr.shape}")
    return arr.copy()


def _per_time(fn: Callable, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``fn(x, t)`` for a field taking one scalar time, called once per distinct time, as ``(n, d)``."""
    out = np.empty_like(x)
    times, inverse = np.unique(t, return_inverse=True)
    for k, tk in enumerate(times):
        rows = np.flatnonzero(inverse == k)
        value = np.asarray(fn(x[rows], float(tk)), dtype=float)
        if value.shape != (rows.size, x.shape[1]):
            raise InputError(f"the target field returned shape {value.shape} at t = {tk:.6g}, expected {(rows.size, x.shape[1])}")
        out[rows] = value
    if not np.all(np.isfinite(out)):
        raise InputError("the target field returned NaN or inf")
    return out
