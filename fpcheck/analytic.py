r"""The analytic truth: exact marginals :math:`q_t`, scores and velocities for affine processes.

For data :math:`p` and an affine kernel :math:`\mathcal{N}(a_t x_0 + c_t, s_t^2 I)`, the marginal
:math:`q_t` is the law of :math:`a_t X_0 + c_t + s_t Z`; for Gaussian mixtures and box data it is
closed-form (MATH.md section 2).  From it (MATH.md section 3):

.. math::
    v_t(x) = f(x,t) - \tfrac12 g(t)^2\,\nabla\log q_t(x)          \quad\text{(probability-flow velocity)}

    b_t(x) = f(x,t) - g(t)^2\,\nabla\log q_t(x)                     \quad\text{(reverse-SDE drift)}

where the reverse SDE, run from :math:`T` down to 0, is :math:`dx = b_t(x)\,dt + g(t)\,d\bar W`.
Every field is a callable ``(x, t) -> (n, d)``, the contract of DESIGN.md.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from . import _validation as val
from .distributions import Distribution
from .errors import InputError, NotAffineError
from .processes import AffineProcess, Process

__all__ = ["ExactMarginals"]


class ExactMarginals:
    r"""Exact :math:`q_t` of an affine process started from closed-form data.

    Parameters
    ----------
    process : AffineProcess
        VP, sub-VP, VE or OU (any process with a closed-form kernel).
    data : Distribution
        :math:`q_0`; it must implement :meth:`~fpcheck.distributions.Distribution.push_affine`
        (Gaussian mixtures, box mixtures).

    Examples
    --------
    >>> from fpcheck import problems
    >>> truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    >>> truth.score([[0.0]], 0.5).shape
    (1, 1)
    """

    _CACHE_SIZE = 64

    def __init__(self, process: Process, data: Distribution):
        if not isinstance(process, AffineProcess):
            raise NotAffineError(
                f"{type(process).__name__} is not affine, so its marginals have no closed form; "
                "use the grid solver or particle simulations"
            )
        if not isinstance(data, Distribution):
            raise InputError(f"data must be a fpcheck Distribution, got {type(data).__name__}")
        if process.dim is not None and process.dim != data.dim:
            raise InputError(f"process is {process.dim}-dimensional but data is {data.dim}-dimensional")
        if type(data).push_affine is Distribution.push_affine:
            raise NotAffineError(
                f"{type(data).__name__} has no closed form under an affine Gaussian kernel; "
                "use the grid solver for its evolution"
            )
        self.process, self.data, self.dim = process, data, data.dim
        self._cache: OrderedDict[float, Distribution] = OrderedDict()

    def __repr__(self) -> str:
        return f"ExactMarginals({self.process!r}, {self.data!r})"

    @property
    def T(self) -> float:
        """The process's final time."""
        return self.process.T

    def at(self, t: float) -> Distribution:
        r"""The marginal :math:`q_t` as a distribution (cached for recently used times)."""
        t = float(self.process.check_time(_scalar(t)))
        if t in self._cache:
            self._cache.move_to_end(t)
            return self._cache[t]
        a, c, s2 = self.process.kernel(t)
        q = self.data if (s2 == 0 and a == 1 and not np.any(c)) else self.data.push_affine(a, c, s2)
        self._cache[t] = q
        if len(self._cache) > self._CACHE_SIZE:
            self._cache.popitem(last=False)
        return q

    def pdf(self, x, t: float) -> np.ndarray:
        """Density :math:`q_t(x)`, shape ``(n,)``."""
        return self.at(t).pdf(x)

    def logpdf(self, x, t: float) -> np.ndarray:
        r""":math:`\log q_t(x)`, shape ``(n,)``."""
        return self.at(t).logpdf(x)

    def score(self, x, t: float) -> np.ndarray:
        r"""The exact score :math:`\nabla\log q_t(x)`, shape ``(n, d)``."""
        return self.at(t).score(x)

    def velocity(self, x, t: float) -> np.ndarray:
        r"""The probability-flow velocity :math:`v_t = f - \frac12 g^2 \nabla\log q_t`, shape ``(n, d)``."""
        x = val.points(x, self.dim)
        return self.process.drift(x, t) - 0.5 * self.process.g2(t) * self.score(x, t)

    def reverse_drift(self, x, t: float) -> np.ndarray:
        r"""The reverse-SDE drift :math:`f - g^2 \nabla\log q_t`, shape ``(n, d)`` (time runs from T to 0)."""
        x = val.points(x, self.dim)
        return self.process.drift(x, t) - self.process.g2(t) * self.score(x, t)

    def sample(self, n: int, t: float, rng: np.random.Generator) -> np.ndarray:
        """Exact samples of :math:`q_t`, shape ``(n, d)``."""
        return self.at(t).sample(n, rng)

    def mean(self, t: float) -> np.ndarray:
        """Mean of :math:`q_t`, shape ``(d,)``."""
        return self.at(t).mean()

    def cov(self, t: float) -> np.ndarray:
        """Covariance of :math:`q_t`, shape ``(d, d)``."""
        return self.at(t).cov()


def _scalar(t) -> float:
    arr = val.finite_array(t, "t")
    if arr.ndim != 0:
        raise InputError(f"t must be a scalar time, got shape {arr.shape}")
    return float(arr)
