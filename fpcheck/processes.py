r"""Forward processes: Itô SDEs :math:`dx = f(x,t)\,dt + g(t)\,dW` in :math:`\mathbb{R}^d`.

The density obeys the Fokker-Planck equation (MATH.md section 1)

.. math::
    \partial_t q = -\nabla\cdot(f q) + \tfrac{1}{2} g(t)^2 \Delta q .

*Affine* processes have a linear drift :math:`f(x,t) = -\lambda(t)\,x + \kappa(t)` and a
Gaussian transition kernel :math:`k_t(x\mid x_0) = \mathcal{N}(a_t x_0 + c_t,\ s_t^2 I)` with

.. math::
    \dot a = -\lambda a,\quad \dot c = -\lambda c + \kappa,\quad
    \dot{(s^2)} = -2\lambda s^2 + g^2,\qquad a_0 = 1,\ c_0 = 0,\ s_0^2 = 0,

solved in closed form for every built-in schedule:

============  =========================  ============================  ===========================================
process       :math:`f(x,t)`             :math:`g(t)^2`                :math:`(a_t,\ c_t,\ s_t^2)`
============  =========================  ============================  ===========================================
VP            :math:`-\beta_t x/2`       :math:`\beta_t`               :math:`(e^{-B/2},\ 0,\ 1-e^{-B})`
sub-VP        :math:`-\beta_t x/2`       :math:`\beta_t(1-e^{-2B})`    :math:`(e^{-B/2},\ 0,\ (1-e^{-B})^2)`
VE            :math:`0`                  :math:`d\sigma^2/dt`          :math:`(1,\ 0,\ \sigma^2(t)-\sigma^2(0))`
OU            :math:`-\gamma(x-\mu)`     :math:`\beta`                 :math:`(e^{-\gamma t},\ \mu(1-a),\ \tfrac{\beta}{2\gamma}(1-e^{-2\gamma t}))`
============  =========================  ============================  ===========================================

Overdamped Langevin dynamics in a potential, :math:`f = -\nabla U`, :math:`g^2 = 2kT`, is not
affine: it has no closed-form kernel, and :meth:`Process.kernel` says so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import _validation as val
from .errors import InputError, NotAffineError
from .schedules import GeometricSigma, Schedule

__all__ = [
    "Kernel",
    "Process",
    "AffineProcess",
    "VP",
    "SubVP",
    "VE",
    "OU",
    "Potential",
    "DoubleWell",
    "Langevin",
]


class Kernel(NamedTuple):
    r"""Coefficients of the Gaussian kernel :math:`\mathcal{N}(a x_0 + c,\ s^2 I)` (or their time derivatives)."""

    a: np.ndarray
    c: np.ndarray
    s2: np.ndarray


class Process(ABC):
    """A forward diffusion on the time interval ``[0, T]`` in any dimension.

    Attributes
    ----------
    T : float
        Final time; every method rejects ``t`` outside ``[0, T]``.
    dim : int or None
        The dimension the process is tied to, or ``None`` if it works in any.
    is_affine : bool
        Whether :meth:`kernel` has a closed form.
    """

    T: float = 1.0
    dim: int | None = None
    is_affine: bool = False

    @abstractmethod
    def drift(self, x, t: float) -> np.ndarray:
        """The drift :math:`f(x, t)` at points ``x`` of shape ``(n, d)``; returns ``(n, d)``."""

    @abstractmethod
    def g2(self, t) -> np.ndarray:
        """The squared diffusion coefficient :math:`g(t)^2`, vectorised over ``t``."""

    def kernel(self, t) -> Kernel:
        """The transition kernel's coefficients ``(a_t, c_t, s_t^2)`` from time 0."""
        raise NotAffineError(
            f"{type(self).__name__} has no closed-form transition kernel (its drift is not affine); "
            "use the grid solver or particle simulations for its densities"
        )

    def params(self) -> dict:
        """The defining parameters, for listings and reports."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"

    def check_time(self, t, name: str = "t") -> np.ndarray:
        """Return ``t`` as a float array, raising if it lies outside ``[0, T]``."""
        return val.times(t, self.T, name)

    def _scalar_time(self, t) -> float:
        arr = self.check_time(t)
        if arr.ndim != 0:
            raise InputError(f"t must be a scalar time, got shape {arr.shape}")
        return float(arr)

    def _points(self, x, name: str = "x") -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        if arr.ndim != 2 or (self.dim is not None and arr.shape[1] != self.dim):
            want = f"(n, {self.dim})" if self.dim is not None else "(n, d)"
            raise InputError(f"{name} must have shape {want}, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name} contains NaN or inf")
        return arr


class AffineProcess(Process):
    r"""A process with drift :math:`f(x,t) = -\lambda(t)\,x + \kappa(t)` and a Gaussian kernel.

    Subclasses give :math:`\lambda` (:meth:`rate`), :math:`\kappa` (:meth:`shift`),
    :math:`g^2`, and the kernel and its time derivative in closed form.
    """

    is_affine = True

    @abstractmethod
    def rate(self, t) -> np.ndarray:
        r"""The contraction rate :math:`\lambda(t)` of the drift."""

    def shift(self, t) -> np.ndarray:
        r"""The constant part :math:`\kappa(t)` of the drift (zero unless overridden)."""
        return np.zeros_like(self.check_time(t))

    def drift(self, x, t: float) -> np.ndarray:
        t = self._scalar_time(t)
        x = self._points(x)
        return -self.rate(t) * x + self.shift(t)

    def coefficients(self, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r""":math:`\lambda(t)`, :math:`\kappa(t)` and :math:`g^2(t)` at the times ``t``, with one check of ``t``."""
        return self._coefficients(self.check_time(t))

    def _coefficients(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.rate(t), self.shift(t), self.g2(t)

    def kernel(self, t) -> Kernel:
        r"""``(a_t, c_t, s_t^2)`` of :math:`k_t(x\mid x_0) = \mathcal{N}(a_t x_0 + c_t,\ s_t^2 I)`."""
        return self._kernel(self.check_time(t))

    def kernel_derivative(self, t) -> Kernel:
        r"""The time derivatives :math:`(\dot a_t, \dot c_t, \dot{(s^2)}_t)` in closed form."""
        return self._kernel_derivative(self.check_time(t))

    def transition(self, s, t) -> Kernel:
        r"""The kernel from time ``s`` to time ``t >= s``: :math:`x_t \mid x_s \sim \mathcal{N}(a x_s + c,\ s^2 I)`.

        From the composition rule :math:`a_{t|s} = a_t/a_s`, :math:`c_{t|s} = c_t - a_{t|s} c_s`,
        :math:`s^2_{t|s} = s_t^2 - a_{t|s}^2 s_s^2`.
        """
        ks, kt = self.kernel(s), self.kernel(t)
        if np.any(np.asarray(s) > np.asarray(t)):
            raise InputError("transition(s, t) needs s <= t")
        a = kt.a / ks.a
        # c carries a trailing (d,) axis for a vector mu: align a's time axes with c's
        a_c = np.reshape(a, np.shape(a) + (1,) * (max(np.ndim(kt.c), np.ndim(ks.c)) - np.ndim(a)))
        return Kernel(a, kt.c - a_c * ks.c, np.maximum(kt.s2 - a * a * ks.s2, 0.0))

    @abstractmethod
    def _kernel(self, t: np.ndarray) -> Kernel: ...

    @abstractmethod
    def _kernel_derivative(self, t: np.ndarray) -> Kernel: ...


class _ScheduledProcess(AffineProcess):
    """An affine process driven by a :class:`~fpcheck.schedules.Schedule`."""

    def __init__(self, schedule: Schedule):
        if not isinstance(schedule, Schedule):
            raise InputError(f"schedule must be a fpcheck.schedules.Schedule, got {type(schedule).__name__}")
        self.schedule = schedule
        self.T = schedule.T

    def params(self) -> dict:
        return {"schedule": self.schedule}

    def rate(self, t):
        return self._rate(self.check_time(t))

    def g2(self, t):
        return self._g2(self.check_time(t))

    def _coefficients(self, t):
        return self._rate(t), np.zeros_like(t), self._g2(t)

    # _rate and _g2 take times already checked against [0, T] (T is the schedule's), so they call
    # the schedule's unchecked formulas: the time-stepping solver evaluates them at every step
    @abstractmethod
    def _rate(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _g2(self, t: np.ndarray) -> np.ndarray: ...


class VP(_ScheduledProcess):
    r"""Variance-preserving (DDPM) process: :math:`f = -\beta_t x/2`, :math:`g^2 = \beta_t`.

    Kernel :math:`a = e^{-B/2}`, :math:`c = 0`, :math:`s^2 = 1 - e^{-B}` (computed as ``-expm1(-B)``
    so that it keeps full relative accuracy as :math:`t \to 0`).
    """

    def _rate(self, t):
        return 0.5 * self.schedule._beta(t)

    def _g2(self, t):
        return self.schedule._beta(t)

    def _kernel(self, t):
        B = self.schedule.integral(t)
        return Kernel(np.exp(-0.5 * B), np.zeros_like(B), -np.expm1(-B))

    def _kernel_derivative(self, t):
        B, beta = self.schedule.integral(t), self.schedule.beta(t)
        return Kernel(-0.5 * beta * np.exp(-0.5 * B), np.zeros_like(B), beta * np.exp(-B))


class SubVP(_ScheduledProcess):
    r"""Sub-variance-preserving process: :math:`f = -\beta_t x/2`, :math:`g^2 = \beta_t(1 - e^{-2B})`.

    Kernel :math:`a = e^{-B/2}`, :math:`c = 0`, :math:`s^2 = (1 - e^{-B})^2`.
    """

    def _rate(self, t):
        return 0.5 * self.schedule._beta(t)

    def _g2(self, t):
        return -self.schedule._beta(t) * np.expm1(-2.0 * self.schedule._integral(t))

    def _kernel(self, t):
        B = self.schedule.integral(t)
        return Kernel(np.exp(-0.5 * B), np.zeros_like(B), np.expm1(-B) ** 2)

    def _kernel_derivative(self, t):
        B, beta = self.schedule.integral(t), self.schedule.beta(t)
        return Kernel(-0.5 * beta * np.exp(-0.5 * B), np.zeros_like(B), -2.0 * beta * np.exp(-B) * np.expm1(-B))


class VE(_ScheduledProcess):
    r"""Variance-exploding (SMLD) process: :math:`f = 0`, :math:`g^2 = d\sigma^2/dt`.

    Kernel :math:`a = 1`, :math:`c = 0`, :math:`s^2 = \sigma^2(t) - \sigma^2(0)`, which is the
    schedule's integral :math:`B(t)` (see :class:`~fpcheck.schedules.GeometricSigma`).
    """

    def __init__(self, schedule: Schedule | None = None):
        super().__init__(GeometricSigma() if schedule is None else schedule)

    def _rate(self, t):
        return np.zeros_like(t)

    def _g2(self, t):
        return self.schedule._beta(t)

    def _kernel(self, t):
        return Kernel(np.ones_like(t), np.zeros_like(t), self.schedule.integral(t))

    def _kernel_derivative(self, t):
        return Kernel(np.zeros_like(t), np.zeros_like(t), self.schedule.beta(t))


class OU(AffineProcess):
    r"""Ornstein-Uhlenbeck process with constant coefficients: :math:`f = -\gamma(x - \mu)`, :math:`g^2 = \beta`.

    Kernel :math:`a = e^{-\gamma t}`, :math:`c = \mu(1 - a)`,
    :math:`s^2 = \frac{\beta}{2\gamma}(1 - e^{-2\gamma t})`; stationary law :math:`\mathcal{N}(\mu, \frac{\beta}{2\gamma} I)`.
    ``beta = 0`` gives the noiseless flow, which collapses every density onto :math:`\mu`.

    Parameters
    ----------
    gamma : float
        Relaxation rate, > 0.
    mu : float or array of shape (d,)
        Centre; a vector ties the process to dimension ``d``.
    beta : float
        Noise intensity :math:`g^2 \ge 0`.
    T : float
        Final time.
    """

    def __init__(self, gamma: float = 1.0, mu=0.0, beta: float = 2.0, T: float = 5.0):
        self.gamma = val.positive(gamma, "gamma")
        self.beta = val.positive(beta, "beta", allow_zero=True)
        self.T = val.positive(T, "T")
        mu_arr = val.finite_array(mu, "mu")
        if mu_arr.ndim > 1:
            raise InputError(f"mu must be a scalar or a vector of shape (d,), got shape {mu_arr.shape}")
        self.mu = mu_arr
        self.dim = None if mu_arr.ndim == 0 else mu_arr.shape[0]

    def params(self) -> dict:
        mu = float(self.mu) if self.mu.ndim == 0 else self.mu.tolist()
        return {"gamma": self.gamma, "mu": mu, "beta": self.beta, "T": self.T}

    def rate(self, t):
        return np.full_like(self.check_time(t), self.gamma)

    def shift(self, t):
        t = self.check_time(t)
        return np.multiply.outer(np.ones_like(t), self.gamma * self.mu)

    def g2(self, t):
        return np.full_like(self.check_time(t), self.beta)

    def _kernel(self, t):
        a = np.exp(-self.gamma * t)
        s2 = -self.beta / (2.0 * self.gamma) * np.expm1(-2.0 * self.gamma * t)
        return Kernel(a, np.multiply.outer(-np.expm1(-self.gamma * t), self.mu), s2)

    def _kernel_derivative(self, t):
        a = np.exp(-self.gamma * t)
        return Kernel(-self.gamma * a, np.multiply.outer(self.gamma * a, self.mu), self.beta * a * a)


class Potential:
    r"""A potential :math:`U(x)` with its gradient, both vectorised over points ``(n, d)``.

    Parameters
    ----------
    value : callable
        ``value(x) -> (n,)``.
    gradient : callable
        ``gradient(x) -> (n, d)``.
    name : str
        A label for listings.
    dim : int or None
        The dimension it is defined in, or ``None`` for any.
    """

    def __init__(self, value: Callable, gradient: Callable, name: str = "U", dim: int | None = None):
        if not (callable(value) and callable(gradient)):
            raise InputError("a Potential needs callables value(x) -> (n,) and gradient(x) -> (n, d)")
        self._value, self._gradient, self.name, self.dim = value, gradient, name, dim

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return _checked(self._value(x), (x.shape[0],), f"potential {self.name}")

    def gradient(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return _checked(self._gradient(x), x.shape, f"gradient of potential {self.name}")

    def params(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"Potential({self.name})"


class DoubleWell(Potential):
    r"""The separable double well :math:`U(x) = h \sum_i (x_i^2 - 1)^2`, minima at :math:`x_i = \pm 1`, barrier :math:`h`."""

    def __init__(self, height: float = 1.0):
        self.height = val.positive(height, "height")
        h = self.height
        super().__init__(
            lambda x: h * np.sum((x * x - 1.0) ** 2, axis=1),
            lambda x: 4.0 * h * x * (x * x - 1.0),
            name=f"{h:g}*(x^2-1)^2",
        )

    def params(self) -> dict:
        return {"height": self.height}

    def __repr__(self) -> str:
        return f"DoubleWell(height={self.height!r})"


class Langevin(Process):
    r"""Overdamped Langevin dynamics :math:`dx = -\nabla U(x)\,dt + \sqrt{2kT}\,dW`.

    Not affine unless :math:`U` is quadratic: there is no closed-form kernel, and the
    grid solver is the truth.  The stationary density is :math:`e^{-U/kT}/Z`.
    """

    def __init__(self, potential: Potential, kT: float = 1.0, T: float = 10.0):
        if not isinstance(potential, Potential):
            raise InputError(f"potential must be a fpcheck.processes.Potential, got {type(potential).__name__}")
        self.potential = potential
        self.kT = val.positive(kT, "kT")
        self.T = val.positive(T, "T")
        self.dim = potential.dim

    def params(self) -> dict:
        return {"potential": self.potential, "kT": self.kT, "T": self.T}

    def drift(self, x, t: float) -> np.ndarray:
        self._scalar_time(t)
        return -self.potential.gradient(self._points(x))

    def g2(self, t):
        return np.full_like(self.check_time(t), 2.0 * self.kT)

    def log_boltzmann(self, x) -> np.ndarray:
        r"""The unnormalised stationary log-density :math:`-U(x)/kT`."""
        return -self.potential(self._points(x)) / self.kT


def _checked(value, shape: tuple, what: str) -> np.ndarray:
    """Convert a user callable's output and check its shape and finiteness."""
    arr = np.asarray(value, dtype=float)
    if arr.shape != shape:
        raise InputError(f"{what} returned shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} returned NaN or inf")
    return arr
