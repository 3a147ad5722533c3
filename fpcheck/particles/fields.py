r"""Fields for the particle integrators: compiled exact fields, and checked calls of users' fields.

:class:`ExactField` is the exact score, probability-flow velocity and reverse-SDE drift of
Gaussian-mixture data under an affine process (MATH.md sections 2 and 3),

.. math::
    s_t = \nabla\log q_t, \qquad v_t = f - \tfrac12 g^2 s_t, \qquad b_t = f - g^2 s_t,
    \qquad f(x, t) = -\lambda(t) x + \kappa(t),

evaluated by Numba kernels (:mod:`fpcheck.particles._fields`) from per-time tables built here in
NumPy.  Handed to :func:`~fpcheck.particles.reverse.simulate_reverse` or
:func:`~fpcheck.particles.flow.integrate_flow`, it lets the whole step loop run compiled.  It
agrees with :class:`fpcheck.analytic.ExactMarginals` (its NumPy reference) to round-off.

:func:`flow_velocity` turns any score into the probability-flow velocity of MATH.md section 3.
Users' fields are called through :func:`_call_field`, which turns a wrong shape, NaN or inf into
an :class:`~fpcheck.errors.InputError` naming the field and the time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .. import _validation as val
from ..distributions import Distribution, GaussianMixture
from ..errors import InputError
from ..processes import AffineProcess, Process

__all__ = ["ExactField", "flow_velocity", "FieldTables", "build_tables"]

_LOG_2PI = float(np.log(2.0 * np.pi))


class FieldTables(NamedTuple):
    r"""Per-time tables of an exact mixture field at ``m`` times (see :mod:`fpcheck.particles._fields`).

    Attributes
    ----------
    lognorm : array (m, K)
        :math:`\log w_k - \log\det L_k - \tfrac d2 \log 2\pi`.
    mean : array (m, K, d)
        :math:`\mu_k = a_t m_k + c_t`.
    linv : array (m, K, d, d)
        :math:`L_k^{-1}` (lower triangular), :math:`L_k L_k^T = a_t^2 S_k + s_t^2 I`.
    rate, shift, g2 : arrays (m,), (m, d), (m,)
        :math:`\lambda(t)`, :math:`\kappa(t)`, :math:`g(t)^2`.
    """

    lognorm: np.ndarray
    mean: np.ndarray
    linv: np.ndarray
    rate: np.ndarray
    shift: np.ndarray
    g2: np.ndarray


def coefficient_tables(
    process: AffineProcess, times: np.ndarray, dim: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r""":math:`\lambda` (m,), :math:`\kappa` (m, d) and :math:`g^2` (m,) at ``times`` (:func:`_owned` arrays)."""
    t = np.asarray(times, dtype=float)
    rate, shift, g2 = process.coefficients(t)
    m = t.size
    shift = np.broadcast_to(np.asarray(shift, dtype=float).reshape(m, -1), (m, dim))
    return _owned(np.broadcast_to(rate, (m,))), _owned(shift), _owned(np.broadcast_to(g2, (m,)))


def _owned(a) -> np.ndarray:
    """A fresh C-contiguous, writable float64 copy: the one array type the kernels are compiled for.

    (Numba types read-only arrays, e.g. broadcast views, separately, and would compile again.)
    """
    return np.array(a, dtype=float, order="C")


def build_tables(process: AffineProcess, data: GaussianMixture, times) -> FieldTables:
    r"""The tables of the exact field of ``data`` under ``process`` at each of ``times`` (m,).

    Each component is pushed through the kernel, :math:`\mu_k = a m_k + c`,
    :math:`\Sigma_k = a^2 S_k + s^2 I` (MATH.md section 2), and factored once:
    :math:`\Sigma_k = L_k L_k^T`.  Cost :math:`O(m K d^3)`, in NumPy.
    """
    t = np.atleast_1d(np.asarray(times, dtype=float))
    m, d = t.size, data.dim
    a, c, s2 = process.kernel(t)
    a = np.broadcast_to(np.asarray(a, dtype=float), (m,))
    s2 = np.broadcast_to(np.asarray(s2, dtype=float), (m,))
    c = np.broadcast_to(np.asarray(c, dtype=float).reshape(m, -1), (m, d))
    covs = a[:, None, None, None] ** 2 * data.covs[None] + s2[:, None, None, None] * np.eye(d)
    chol = np.linalg.cholesky(covs)
    linv = np.tril(np.linalg.inv(chol))
    lognorm = (
        np.log(data.weights)[None]
        - np.log(np.diagonal(chol, axis1=2, axis2=3)).sum(axis=2)
        - 0.5 * d * _LOG_2PI
    )
    mean = a[:, None, None] * data.means[None] + c[:, None, :]
    rate, shift, g2 = coefficient_tables(process, t, d)
    return FieldTables(_owned(lognorm), _owned(mean), _owned(linv), rate, shift, g2)


#: Below this many points a field is evaluated on one thread (a parallel launch costs tens of
#: microseconds on an idle machine, milliseconds on a busy one).
SERIAL_BELOW = 4096


def _run_field(x: np.ndarray, tables: FieldTables, alpha: float, score_only: bool) -> np.ndarray:
    from ._fields import exact_field, exact_field_serial

    kernel = exact_field_serial if x.shape[0] < SERIAL_BELOW else exact_field
    return kernel(x, tuple(tables), 0, float(alpha), bool(score_only))


def _same_process(a: Process, b: Process) -> bool:
    return a is b or (type(a) is type(b) and repr(a) == repr(b))


class ExactField:
    r"""The exact score, velocity and reverse drift of Gaussian-mixture data under an affine process, compiled.

    For :math:`q_0 = \sum_k w_k \mathcal{N}(m_k, S_k)` and the kernel :math:`(a_t, c_t, s_t^2)`,

    .. math::
        q_t = \sum_k w_k\, \mathcal{N}(a_t m_k + c_t,\ a_t^2 S_k + s_t^2 I), \qquad
        s_t = \nabla\log q_t, \quad v_t = f - \tfrac12 g^2 s_t, \quad b_t = f - g^2 s_t .

    Parameters
    ----------
    process : AffineProcess
        VP, sub-VP, VE or OU.
    data : GaussianMixture
        :math:`q_0`.  For other data (box, checkerboard) hand
        ``ExactMarginals(process, data).score`` to the integrators as a user callable.

    Notes
    -----
    Each call builds the tables at ``t`` (:func:`build_tables`, :math:`O(K d^3)`) and evaluates
    all points in a parallel Numba kernel; the integrators build the tables at all their stage
    times at once instead.  Round-off: a few ulps of the largest term, as in
    :class:`~fpcheck.analytic.ExactMarginals`, which it is tested against.

    Examples
    --------
    >>> from fpcheck import problems
    >>> field = ExactField(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    >>> field.score([[0.0]], 0.5).shape
    (1, 1)
    """

    def __init__(self, process: Process, data: Distribution):
        if not isinstance(process, AffineProcess):
            raise InputError(
                f"ExactField needs an affine process (VP, sub-VP, VE, OU); {type(process).__name__} has no "
                "closed-form marginals: pass a score of your own as a callable"
            )
        if not isinstance(data, GaussianMixture):
            raise InputError(
                f"ExactField compiles Gaussian-mixture data only, got {type(data).__name__}; pass "
                "ExactMarginals(process, data).score (fpcheck.analytic) to the integrators as a user callable"
            )
        if process.dim is not None and process.dim != data.dim:
            raise InputError(f"process is {process.dim}-dimensional but data is {data.dim}-dimensional")
        self.process, self.data, self.dim = process, data, data.dim

    def __repr__(self) -> str:
        return f"ExactField({self.process!r}, {self.data!r})"

    def tables(self, times) -> FieldTables:
        """The kernel tables at ``times`` (checked against the process's time range)."""
        return build_tables(self.process, self.data, self.process.check_time(np.atleast_1d(np.asarray(times, float))))

    def _evaluate(self, x, t, alpha: float, score_only: bool) -> np.ndarray:
        x = _owned(val.points(x, self.dim))
        return _run_field(x, self.tables([self.process._scalar_time(t)]), alpha, score_only)

    def _batch(self, x: np.ndarray, t: float, alpha: float) -> np.ndarray:
        """:math:`F_\\alpha` at checked points (n, d) (C-contiguous, writable floats) and a time in range: no checks."""
        return _run_field(x, build_tables(self.process, self.data, np.array([t])), alpha, False)

    def score(self, x, t: float) -> np.ndarray:
        r"""The score :math:`\nabla\log q_t(x)`, shape ``(n, d)``."""
        return self._evaluate(x, t, 0.0, True)

    def velocity(self, x, t: float) -> np.ndarray:
        r"""The probability-flow velocity :math:`v_t = f - \frac12 g^2 \nabla\log q_t`, shape ``(n, d)``."""
        return self._evaluate(x, t, 0.5, False)

    def reverse_drift(self, x, t: float) -> np.ndarray:
        r"""The reverse-SDE drift :math:`b_t = f - g^2 \nabla\log q_t`, shape ``(n, d)`` (time runs from T to 0)."""
        return self._evaluate(x, t, 1.0, False)


def _exact_source(field, process: Process, attribute: str) -> ExactField | None:
    """The ExactField behind ``field`` (itself, or its bound ``attribute`` method), checked against ``process``."""
    owner = None
    if isinstance(field, ExactField):
        owner = field
    elif isinstance(getattr(field, "__self__", None), ExactField) and getattr(field, "__name__", None) == attribute:
        owner = field.__self__
    if owner is not None and not _same_process(owner.process, process):
        raise InputError(
            f"the ExactField was built for {owner.process!r} but the integrator was given {process!r}; "
            "build the field for the same process"
        )
    return owner


def _field_name(fn) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) else repr(fn)


def _call_field(fn: Callable, name: str, x: np.ndarray, t: float) -> np.ndarray:
    """``fn(x, t)`` as a float array of the shape of ``x``, or an InputError naming ``name`` and ``t``."""
    value = fn(x, t)
    try:
        out = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the field {name} returned a {type(value).__name__}, not an array, at t = {t:.6g}") from exc
    if out.shape != x.shape:
        raise InputError(
            f"the field {name} returned shape {out.shape} at t = {t:.6g}; it must return an array of the "
            f"shape of x, {x.shape}"
        )
    if not np.all(np.isfinite(out)):
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        raise InputError(f"the field {name} returned {bad} NaN or inf value(s) at t = {t:.6g}")
    return out


def _check_callable(field, what: str) -> str:
    if not callable(field):
        raise InputError(f"{what} must be an ExactField or a callable f(x, t) -> (n, d), got {type(field).__name__}")
    return _field_name(field)


def flow_velocity(process: Process, score) -> Callable[[np.ndarray, float], np.ndarray]:
    r"""The probability-flow velocity of a score: :math:`v(x, t) = f(x, t) - \tfrac12 g(t)^2\, s(x, t)` (MATH.md 3).

    Parameters
    ----------
    process : Process
        Gives the drift :math:`f` and :math:`g^2`.
    score : ExactField or callable
        ``score(x, t) -> (n, d)``.

    Returns
    -------
    callable
        ``v(x, t) -> (n, d)``.  For an :class:`ExactField` this is its compiled
        :meth:`ExactField.velocity`, which :func:`~fpcheck.particles.flow.integrate_flow` runs
        compiled; otherwise a function that checks each value of ``score`` (shape, NaN, inf).
    """
    if not isinstance(process, Process):
        raise InputError(f"process must be a fpcheck Process, got {type(process).__name__}")
    exact = _exact_source(score, process, "score")
    if exact is not None:
        return exact.velocity
    name = _check_callable(score, "score")

    def velocity(x, t):
        x = np.asarray(x, dtype=float)
        return process.drift(x, t) - 0.5 * process.g2(t) * _call_field(score, name, x, float(t))

    velocity.__name__ = velocity.__qualname__ = f"flow_velocity({name})"
    return velocity
