r"""Noise schedules: a rate :math:`\beta(t) \ge 0` and its integral in closed form.

A schedule is the time profile of a forward process (MATH.md section 1).  Each
one gives, vectorised over ``t``,

* ``beta(t)``: the rate :math:`\beta_t`;
* ``integral(t)``: :math:`B(t) = \int_0^t \beta_s\,ds`, in closed form;
* ``dbeta(t)``: :math:`d\beta_t/dt`, for processes whose coefficients need it.

For variance-exploding processes the rate is :math:`d\sigma^2(t)/dt`, so that
:math:`B(t) = \sigma^2(t) - \sigma^2(0)` is the kernel variance and
:math:`g(t)^2 = \beta_t`; one interface serves every process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ._validation import finite_array, positive
from .errors import InputError

__all__ = ["Schedule", "Constant", "Linear", "Cosine", "GeometricSigma"]


class Schedule(ABC):
    """A non-negative rate on ``[0, T]`` with a closed-form integral.

    Subclasses implement ``_beta``, ``_integral`` and ``_dbeta`` on float arrays;
    the public methods convert and check ``t``.
    """

    T: float = 1.0

    def beta(self, t) -> np.ndarray:
        r"""The rate :math:`\beta_t` (units: 1 / time)."""
        return self._beta(self._t(t))

    def integral(self, t) -> np.ndarray:
        r""":math:`B(t) = \int_0^t \beta_s\,ds`, in closed form (dimensionless)."""
        return self._integral(self._t(t))

    def dbeta(self, t) -> np.ndarray:
        r"""The derivative :math:`d\beta_t / dt`."""
        return self._dbeta(self._t(t))

    def params(self) -> dict:
        """The schedule's defining parameters, for listings and reports."""
        return dict(vars(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"

    def _t(self, t) -> np.ndarray:
        arr = finite_array(t, "t")
        if np.any(arr < 0) or np.any(arr > self.T):
            raise InputError(
                f"t must lie in the schedule's range [0, {self.T:g}], "
                f"got values in [{arr.min():g}, {arr.max():g}]"
            )
        return arr

    @abstractmethod
    def _beta(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _integral(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _dbeta(self, t: np.ndarray) -> np.ndarray: ...


class Constant(Schedule):
    r"""Constant rate :math:`\beta_t = \beta`, :math:`B(t) = \beta t`."""

    def __init__(self, beta: float = 1.0, T: float = 1.0):
        self.beta_value = positive(beta, "beta", allow_zero=True)
        self.T = positive(T, "T")

    def params(self) -> dict:
        return {"beta": self.beta_value, "T": self.T}

    def _beta(self, t):
        return np.full_like(t, self.beta_value)

    def _integral(self, t):
        return self.beta_value * t

    def _dbeta(self, t):
        return np.zeros_like(t)


class Linear(Schedule):
    r"""Linear rate :math:`\beta_t = b_0 + (b_1 - b_0)\,t/T` (score_sde's VP default).

    :math:`B(t) = b_0 t + (b_1 - b_0)\,t^2 / (2T)`.
    """

    def __init__(self, b0: float = 0.1, b1: float = 20.0, T: float = 1.0):
        self.b0 = positive(b0, "b0", allow_zero=True)
        self.b1 = positive(b1, "b1", allow_zero=True)
        self.T = positive(T, "T")

    def _beta(self, t):
        return self.b0 + (self.b1 - self.b0) * t / self.T

    def _integral(self, t):
        return self.b0 * t + 0.5 * (self.b1 - self.b0) * t * t / self.T

    def _dbeta(self, t):
        return np.full_like(t, (self.b1 - self.b0) / self.T)


class Cosine(Schedule):
    r"""Nichol & Dhariwal's cosine schedule in continuous time, with a capped rate.

    The signal level is :math:`\bar\alpha(t) = e^{-B(t)} = \cos^2\theta(t) / \cos^2\theta(0)`
    with :math:`\theta(t) = \frac{\pi}{2}\,\frac{t/T + s}{1 + s}`, so

    .. math::
        B(t) = 2\log\cos\theta(0) - 2\log\cos\theta(t), \qquad
        \beta_t = 2\theta'\tan\theta(t), \quad \theta' = \frac{\pi}{2T(1+s)}.

    The rate diverges at :math:`t = T` (:math:`\theta = \pi/2`).  As the discrete
    schedule clips its betas, this one caps the rate at ``beta_max``: past the
    time :math:`t^*` where :math:`\beta_{t^*} = \beta_{\max}` the rate is constant and
    :math:`B(t) = B(t^*) + \beta_{\max}(t - t^*)`.  Everything stays closed-form.
    """

    def __init__(self, s: float = 0.008, T: float = 1.0, beta_max: float = 20.0):
        self.s = positive(s, "s")
        self.T = positive(T, "T")
        self.beta_max = positive(beta_max, "beta_max")
        self._dtheta = 0.5 * np.pi / (self.T * (1.0 + self.s))
        theta_star = np.arctan(self.beta_max / (2.0 * self._dtheta))
        self._t_star = self.T * ((1.0 + self.s) * theta_star / (0.5 * np.pi) - self.s)
        if self._t_star <= 0:
            raise InputError(
                f"beta_max={beta_max!r} is below the cosine rate at t=0 "
                f"({2 * self._dtheta * np.tan(self._theta(0.0)):.4g}); raise beta_max"
            )

    def params(self) -> dict:
        return {"s": self.s, "T": self.T, "beta_max": self.beta_max}

    def _theta(self, t):
        return self._dtheta * (t + self.s * self.T)

    def _beta(self, t):
        tc = np.minimum(t, self._t_star)
        return np.where(t < self._t_star, 2.0 * self._dtheta * np.tan(self._theta(tc)), self.beta_max)

    def _integral(self, t):
        tc = np.minimum(t, self._t_star)
        # -2 log(cos theta(t) / cos theta(0)) with d = theta(t) - theta(0): the ratio is
        # cos d - tan theta(0) sin d, written through log1p so B keeps relative accuracy as t -> 0
        d = self._dtheta * tc
        b_cos = -2.0 * np.log1p(-2.0 * np.sin(0.5 * d) ** 2 - np.tan(self._theta(0.0)) * np.sin(d))
        return b_cos + self.beta_max * (t - tc)

    def _dbeta(self, t):
        tc = np.minimum(t, self._t_star)
        curv = 2.0 * self._dtheta**2 / np.cos(self._theta(tc)) ** 2
        return np.where(t < self._t_star, curv, 0.0)


class GeometricSigma(Schedule):
    r"""Geometric noise level for VE (SMLD): :math:`\sigma(t) = \sigma_{\min}(\sigma_{\max}/\sigma_{\min})^{t/T}`.

    As a schedule its rate is :math:`\beta_t = d\sigma^2/dt = 2\sigma^2(t)\log(\sigma_{\max}/\sigma_{\min})/T`
    and :math:`B(t) = \sigma^2(t) - \sigma^2(0)`, the VE kernel variance.
    """

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 50.0, T: float = 1.0):
        self.sigma_min = positive(sigma_min, "sigma_min")
        self.sigma_max = positive(sigma_max, "sigma_max")
        if self.sigma_max <= self.sigma_min:
            raise InputError(f"sigma_max ({sigma_max!r}) must exceed sigma_min ({sigma_min!r})")
        self.T = positive(T, "T")
        self._rate = np.log(self.sigma_max / self.sigma_min) / self.T

    def params(self) -> dict:
        return {"sigma_min": self.sigma_min, "sigma_max": self.sigma_max, "T": self.T}

    def sigma(self, t) -> np.ndarray:
        r"""The noise level :math:`\sigma(t)`."""
        return self.sigma_min * np.exp(self._rate * self._t(t))

    def _beta(self, t):
        return 2.0 * self._rate * self.sigma_min**2 * np.exp(2.0 * self._rate * t)

    def _integral(self, t):
        return self.sigma_min**2 * np.expm1(2.0 * self._rate * t)

    def _dbeta(self, t):
        return 4.0 * self._rate**2 * self.sigma_min**2 * np.exp(2.0 * self._rate * t)
