r"""A zoo of reference samplers for VP processes: four correct ones, and mutants modelled on real bugs.

Every sampler follows the contract of DESIGN.md: ``sampler(score, shape, rng, steps) -> (n, d)``.
It is handed the exact score :math:`s(x, t) = \nabla\log q_t(x)` (``score(x, t) -> (n, d)``), the
batch shape ``(n, d)``, a :class:`numpy.random.Generator` from which it draws its prior and all its
noise (nothing else), and a number of steps; its attribute ``t_end`` (0 unless stated) is the time at
which it stops, so the truth it must reproduce is :math:`q_{t_{end}}`.

The process is a :class:`~fpcheck.processes.VP`: :math:`f = -\beta_t x/2`, :math:`g^2 = \beta_t`,
:math:`B(t) = \int_0^t \beta`, kernel :math:`a_t = e^{-B/2}`, :math:`s_t^2 = 1 - e^{-B}` (MATH.md 1);
the default is ``problems.process("vp-linear")``, :math:`\beta_t = 0.1 + 19.9\,t` on :math:`[0, 1]`,
:math:`B(1) = 10.05`.

**Prior.**  Every sampler draws :math:`x_T \sim \mathcal N(0, I)` from ``rng``.  The true
:math:`q_T` of data with mean :math:`m` and covariance :math:`C` has mean :math:`a_T m` and
covariance :math:`I + e^{-B(T)}(C - I)`: for vp-linear :math:`a_T = e^{-B/2} = 6.6\cdot10^{-3}` and
:math:`e^{-B} = 4.3\cdot10^{-5}`.  The reverse SDE and DDPM damp this error by a further factor
:math:`\approx e^{-B}`; the probability-flow ODE and DDIM carry it to :math:`t = 0` through their
Lipschitz flow: the output mean is off by about :math:`a_T |m|` times the flow's slope.  For the
named data sets (means of norm at most 0.25) that stays below what :mod:`fpcheck.stats` detects at
the sample sizes of the test suite; for data far from the origin relative to its spread it can
show: for :math:`\mathcal N(1, 0.5^2)` the mean comes out :math:`3.3\cdot10^{-3}` low, a mean z-score
of :math:`0.0066\sqrt n`, which reaches 1 at :math:`n \approx 2\cdot10^4` and 3.5 at
:math:`n \approx 3\cdot10^5`.

**Time grids.**  Euler-Maruyama and Heun take ``steps`` uniform steps from :math:`T` down to
:math:`t_{end}`.  DDPM and DDIM use the discrete schedule matched to the process on the uniform grid
:math:`t_{end} = t_0 < t_1 < \dots < t_N = T` (:math:`N` = ``steps``):

.. math::
    \bar\alpha_i = e^{-B(t_i)}, \qquad \alpha_i = \bar\alpha_i / \bar\alpha_{i-1}, \qquad
    \beta_i = 1 - \alpha_i, \qquad \hat\varepsilon = -\sqrt{1 - \bar\alpha_i}\; s(x, t_i),

so that :math:`x_{t_i} = \sqrt{\bar\alpha_i}\,x_0 + \sqrt{1 - \bar\alpha_i}\,\varepsilon` is the VP
kernel at :math:`t_i` exactly, and :math:`\hat\varepsilon` is the exact noise prediction
:math:`E[\varepsilon \mid x_{t_i}]` (Tweedie).  ``steps`` is :math:`N`, the number of score calls.

**Mutants.**  Each is a subclass of a correct sampler that changes one class attribute or one
method, with ``correct = False`` and a docstring that gives the mathematical error, the real bug
class it models and the size of its effect.  The size is given for 1D data :math:`\mathcal N(1, 0.5^2)`
under vp-linear, where every linear mutant stays Gaussian and its ``steps -> infinity`` limit solves
two moment ODEs (written for the backward drift :math:`b = -c_f\beta' x/2 - c_s\beta' s` and noise
:math:`c_n\sqrt{\beta'}`, :math:`s = -(x - a_t\mu)/v_t`, :math:`v_t = a_t^2\sigma_0^2 + s_t^2`):

.. math::
    \frac{dM}{dt} = -\frac{c_f\beta'}{2} M + \frac{c_s\beta'}{v_t}(M - a_t\mu), \qquad
    \frac{dV}{dt} = 2V\Big(-\frac{c_f\beta'}{2} + \frac{c_s\beta'}{v_t}\Big) - c_n^2\beta',

integrated from :math:`(M, V) = (0, 1)` at :math:`T` down to the stopping time.  The attribute
``gaussian_limit`` holds that limit ``(mean, std)`` (``None`` where it has no closed form); the
correct samplers' limits are the truth :math:`(1, 0.5)` up to the prior error above.

Registry: :data:`CORRECT` and :data:`MUTANTS` map names to factories ``factory(process=None)``,
:data:`ZOO` holds both, and :func:`zoo_sampler` builds one by name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError, UnknownNameError
from ..processes import VP
from ..schedules import Linear

__all__ = [
    "ZooSampler",
    "ReverseEulerMaruyama",
    "ProbabilityFlowHeun",
    "DDPMAncestral",
    "DDIM",
    "ReverseDriftSign",
    "ReverseScoreHalf",
    "ReverseNoiseSqrt2",
    "FlowScoreFactorOne",
    "FlowPriorStdHalf",
    "FlowStopsEarly",
    "DDPMScheduleMismatch",
    "DDPMClipX0",
    "DDPMSharedNoise",
    "DDIMEpsOverVariance",
    "DDIMSwappedAxes",
    "DDIMClipX0",
    "CORRECT",
    "MUTANTS",
    "ZOO",
    "zoo_sampler",
]


def _default_process() -> VP:
    from ..problems import process

    return process("vp-linear")


class ZooSampler:
    r"""The base of the zoo: checks the call and owns the prior, the noise and the score calls.

    Parameters
    ----------
    process : VP, optional
        The forward process whose exact score the sampler will be handed; default
        ``problems.process("vp-linear")``.
    t_end : float
        The time the sampler stops at, in :math:`[0, T)`; the truth is :math:`q_{t_{end}}`.

    Attributes
    ----------
    name : str
        The registry name.
    correct : bool
        Whether the sampler converges to :math:`q_{t_{end}}` as ``steps`` grows.
    gaussian_limit : (float or None, float) or None
        The ``steps -> infinity`` limit (mean, std) for 1D data :math:`\mathcal N(1, 0.5^2)` under
        vp-linear (module notes), or ``None``.

    Subclasses implement :meth:`_run`; mutants override one attribute or one of the hooks
    :meth:`_prior`, :meth:`_noise`, :meth:`_score`.
    """

    name: str = "zoo-sampler"
    correct: bool = True
    gaussian_limit: tuple | None = None
    #: standard deviation of the prior N(0, prior_std^2 I)
    prior_std: float = 1.0

    def __init__(self, process: VP | None = None, *, t_end: float = 0.0):
        process = _default_process() if process is None else process
        if not isinstance(process, VP):
            raise InputError(
                f"the zoo samplers are written for a VP process (f = -beta x/2, g^2 = beta), got "
                f"{type(process).__name__}; build one with fpcheck.processes.VP(schedule)"
            )
        self.process = process
        self.schedule = process.schedule
        self.T = float(process.T)
        try:
            t_end = float(t_end)
        except (TypeError, ValueError):
            raise InputError(f"t_end must be a number in [0, T), got {t_end!r}") from None
        if not (0.0 <= t_end < self.T):
            raise InputError(f"t_end must lie in [0, T) = [0, {self.T:g}), got {t_end!r}")
        self.t_end = t_end

    def __repr__(self) -> str:
        end = f", t_end={self.t_end!r}" if self.t_end else ""
        return f"{type(self).__name__}({self.process!r}{end})"

    @property
    def t_stop(self) -> float:
        """The time the integration actually stops at (``t_end``, unless a mutant says otherwise)."""
        return self.t_end

    #: states kept by :meth:`states` (``None``: not recording)
    _record: list | None = None
    #: how many intermediate states :meth:`states` keeps along a run
    STATES = 8

    def states(self, score: Callable, shape, rng: np.random.Generator, steps: int):
        """Run as :meth:`__call__` and return the intermediate states: ``(times (m,), states (m, n, d))``.

        The states after every ``steps // STATES``-th step (and the last), each with the time the
        sampler believes it is at; :func:`~fpcheck.verify.verify_sampler` compares each with its
        :math:`q_t` to say where along the path a sampler goes wrong.
        """
        self._record, self._stride = [], max(1, int(steps) // self.STATES)
        try:
            self(score, shape, rng, steps)
            times = np.array([t for t, _ in self._record])
            return times, np.stack([x for _, x in self._record])
        finally:
            self._record = None

    def _visit(self, k: int, steps: int, t: float, x: np.ndarray) -> None:
        """After step ``k`` (1-based) of ``steps``, at time ``t``: keep ``x`` when recording."""
        if self._record is not None and (k % self._stride == 0 or k == steps):
            self._record.append((float(t), np.array(x, dtype=float)))

    def __call__(self, score: Callable, shape, rng: np.random.Generator, steps: int) -> np.ndarray:
        """Draw ``shape = (n, d)`` samples of :math:`q_{t_{end}}` in ``steps`` steps (see the class notes)."""
        if not callable(score):
            raise InputError(f"score must be a callable score(x, t) -> (n, d), got {type(score).__name__}")
        shape = _check_shape(shape)
        if not isinstance(rng, np.random.Generator):
            raise InputError(
                f"rng must be a numpy.random.Generator (numpy.random.default_rng(seed)), got {type(rng).__name__}"
            )
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise InputError(f"steps must be a positive integer, got {steps!r}")
        x = self._prior(rng, shape)
        return self._run(score, x, rng, int(steps))

    # hooks ---------------------------------------------------------------------------------------

    def _prior(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        r""":math:`x_T \sim \mathcal N(0, \texttt{prior\_std}^2 I)`."""
        return self.prior_std * rng.standard_normal(shape)

    def _noise(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        r"""One independent :math:`\mathcal N(0, I)` draw per particle and component."""
        return rng.standard_normal(shape)

    def _score(self, score: Callable, x: np.ndarray, t: float) -> np.ndarray:
        """The score at ``x`` and ``t``, as a float array of the shape of ``x``."""
        out = np.asarray(score(x, float(t)), dtype=float)
        if out.shape != x.shape:
            raise InputError(f"score returned shape {out.shape} at t = {t:.6g}; expected {x.shape}")
        return out

    def _run(self, score: Callable, x: np.ndarray, rng: np.random.Generator, steps: int) -> np.ndarray:
        raise NotImplementedError

    def _beta(self, t: float) -> float:
        return float(self.schedule.beta(t))


def _check_shape(shape) -> tuple[int, int]:
    try:
        n, d = (int(v) for v in shape)
        ok = all(float(v) == int(v) for v in shape)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or n < 1 or d < 1:
        raise InputError(f"shape must be a pair (n, d) of positive integers, got {shape!r}")
    return n, d


# ---------------------------------------------------------------------------------------------------
# the correct samplers


class ReverseEulerMaruyama(ZooSampler):
    r"""Euler-Maruyama on the reverse SDE (MATH.md 3), time running from :math:`T` down to :math:`t_{end}`.

    With :math:`h = (T - t_{end})/N`, :math:`t_k = T - k h` and :math:`z_k \sim \mathcal N(0, I)`,

    .. math::
        x_{k+1} = x_k - \big[f(x_k, t_k) - g(t_k)^2 s(x_k, t_k)\big] h + g(t_k)\sqrt h\, z_k,
        \qquad f = -\beta_t x/2,\ g^2 = \beta_t,

    noise on every step, the last included.  Weak order 1: the law of :math:`x_N` converges to
    :math:`q_{t_{end}}` with an :math:`O(h)` error.

    The class attributes ``drift_sign`` (the sign of :math:`f`), ``score_factor`` (the factor on
    :math:`g^2 s`) and ``noise_factor`` (on :math:`g`) are 1; mutants change them.
    """

    name = "reverse-em"
    gaussian_limit = (0.99999, 0.5)
    drift_sign: float = 1.0
    score_factor: float = 1.0
    noise_factor: float = 1.0

    def _run(self, score, x, rng, steps):
        ts = np.linspace(self.T, self.t_stop, steps + 1)
        for k in range(steps):
            t, h = ts[k], ts[k] - ts[k + 1]
            beta = self._beta(t)
            drift = -self.drift_sign * 0.5 * beta * x - self.score_factor * beta * self._score(score, x, t)
            x = x - drift * h + (self.noise_factor * np.sqrt(beta * h)) * self._noise(rng, x.shape)
            self._visit(k + 1, steps, ts[k + 1], x)
        return x


class ProbabilityFlowHeun(ZooSampler):
    r"""Heun's method (explicit trapezoid) on the probability-flow ODE, backward from :math:`T` to :math:`t_{end}`.

    .. math::
        \frac{dx}{dt} = v_t(x) = f(x, t) - \tfrac12 g(t)^2 s(x, t) = -\tfrac12\beta_t\,(x + s(x, t))
        \quad\text{(MATH.md 3)},

    with :math:`h = (T - t_{end})/N`, :math:`t_k = T - k h`:

    .. math::
        \tilde x = x_k - h\, v_{t_k}(x_k), \qquad
        x_{k+1} = x_k - \tfrac h2 \big[v_{t_k}(x_k) + v_{t_{k+1}}(\tilde x)\big].

    Second order; deterministic after the prior, so the prior is the only draw from ``rng``.  Two score
    calls per step.  The class attribute ``score_factor`` (1/2, the factor on :math:`g^2 s`) is what a
    mutant changes.
    """

    name = "pf-heun"
    gaussian_limit = (0.99671, 0.50001)
    score_factor: float = 0.5

    def _velocity(self, score, x, t):
        beta = self._beta(t)
        return -0.5 * beta * x - self.score_factor * beta * self._score(score, x, t)

    def _run(self, score, x, rng, steps):
        ts = np.linspace(self.T, self.t_stop, steps + 1)
        for k in range(steps):
            h = ts[k] - ts[k + 1]
            v0 = self._velocity(score, x, ts[k])
            v1 = self._velocity(score, x - h * v0, ts[k + 1])
            x = x - 0.5 * h * (v0 + v1)
            self._visit(k + 1, steps, ts[k + 1], x)
        return x


class _Discrete(ZooSampler):
    r"""The discrete VP schedule of DDPM and DDIM on the grid :math:`t_0 = t_{end} < \dots < t_N = T` (module notes).

    Class attributes a mutant may change: ``eps_power`` (1/2: :math:`\hat\varepsilon = -(1 - \bar\alpha)^{1/2} s`),
    ``clip`` (``None``: the predicted :math:`x_0` is not clipped) and :meth:`_sampler_schedule`
    (the process's own schedule).
    """

    eps_power: float = 0.5
    clip: float | None = None

    def _sampler_schedule(self):
        """The schedule the sampler's :math:`\\bar\\alpha_i` come from: the process's."""
        return self.schedule

    def _grid(self, steps: int):
        r"""Times :math:`t_i` (N+1,), :math:`\log\bar\alpha_i = -B(t_i)` and :math:`\log\alpha_i` (i >= 1)."""
        ts = np.linspace(self.t_stop, self.T, steps + 1)
        B = np.asarray(self._sampler_schedule().integral(ts), dtype=float)
        log_alpha = np.concatenate([[0.0], -(B[1:] - B[:-1])])
        return ts, -B, log_alpha

    def _eps(self, score, x, t, one_minus_ab):
        r""":math:`\hat\varepsilon = -(1 - \bar\alpha_i)^{\texttt{eps\_power}}\, s(x, t_i)`."""
        return -(one_minus_ab**self.eps_power) * self._score(score, x, t)

    def _x0(self, x, eps, ab, one_minus_ab):
        r""":math:`\hat x_0 = (x - \sqrt{1 - \bar\alpha}\,\hat\varepsilon)/\sqrt{\bar\alpha}`, clipped if ``clip``."""
        x0 = (x - np.sqrt(one_minus_ab) * eps) / np.sqrt(ab)
        return x0 if self.clip is None else np.clip(x0, -self.clip, self.clip)


class DDPMAncestral(_Discrete):
    r"""DDPM ancestral sampling (Ho et al. 2020) on the discrete schedule matched to the process (module notes).

    For :math:`i = N, \dots, 1`, with :math:`\hat\varepsilon = -\sqrt{1 - \bar\alpha_i}\, s(x_i, t_i)`:

    .. math::
        x_{i-1} = \frac{1}{\sqrt{\alpha_i}}\Big(x_i - \frac{\beta_i}{\sqrt{1 - \bar\alpha_i}}\,\hat\varepsilon\Big)
        + \sigma_i z, \qquad
        \sigma_i^2 = \tilde\beta_i = \beta_i\,\frac{1 - \bar\alpha_{i-1}}{1 - \bar\alpha_i},

    the variance of the posterior :math:`q(x_{i-1} \mid x_i, x_0)` (the choice :math:`\sigma_i^2 = \beta_i`
    also converges; the posterior one is exact for a point mass and vanishes on the last step).  With
    :math:`t_{end} = 0`, :math:`\bar\alpha_0 = 1` and so :math:`\sigma_1 = 0`: the last step is
    noiseless and draws nothing.  As :math:`N \to \infty` the chain converges to the reverse SDE,
    error :math:`O(1/N)` (for data N(1, 0.5^2) the output std is 0.7% low at :math:`N = 1536`).

    With ``clip`` set the mean is written in its equivalent :math:`x_0` form, with the predicted
    :math:`\hat x_0` clipped (diffusers' ``clip_sample``):

    .. math::
        \mu_i = \frac{\sqrt{\bar\alpha_{i-1}}\,\beta_i}{1 - \bar\alpha_i}\,\hat x_0
        + \frac{\sqrt{\alpha_i}\,(1 - \bar\alpha_{i-1})}{1 - \bar\alpha_i}\,x_i .
    """

    name = "ddpm"
    gaussian_limit = (0.99999, 0.5)

    def _run(self, score, x, rng, steps):
        ts, log_ab, log_alpha = self._grid(steps)
        for i in range(steps, 0, -1):
            ab, ab_prev = np.exp(log_ab[i]), np.exp(log_ab[i - 1])
            one_minus_ab, one_minus_prev = -np.expm1(log_ab[i]), -np.expm1(log_ab[i - 1])
            alpha, beta = np.exp(log_alpha[i]), -np.expm1(log_alpha[i])
            eps = self._eps(score, x, ts[i], one_minus_ab)
            if self.clip is None:
                mean = (x - beta / np.sqrt(one_minus_ab) * eps) / np.sqrt(alpha)
            else:
                x0 = self._x0(x, eps, ab, one_minus_ab)
                mean = (np.sqrt(ab_prev) * beta * x0 + np.sqrt(alpha) * one_minus_prev * x) / one_minus_ab
            var = beta * one_minus_prev / one_minus_ab
            x = mean + np.sqrt(var) * self._noise(rng, x.shape) if var > 0.0 else mean
            self._visit(steps - i + 1, steps, ts[i - 1], x)
        return x


class DDIM(_Discrete):
    r"""DDIM with :math:`\eta = 0` (Song, Meng & Ermon 2021) on the discrete schedule matched to the process.

    For :math:`i = N, \dots, 1`, with :math:`\hat\varepsilon = -\sqrt{1 - \bar\alpha_i}\, s(x_i, t_i)`:

    .. math::
        \hat x_0 = \frac{x_i - \sqrt{1 - \bar\alpha_i}\,\hat\varepsilon}{\sqrt{\bar\alpha_i}}, \qquad
        x_{i-1} = \sqrt{\bar\alpha_{i-1}}\,\hat x_0 + \sqrt{1 - \bar\alpha_{i-1}}\,\hat\varepsilon .

    Deterministic after the prior; a first-order integrator of the probability-flow ODE (exact for a
    point mass), so it converges to :math:`q_{t_{end}}` as :math:`N \to \infty`.
    """

    name = "ddim"
    gaussian_limit = (0.99671, 0.50001)

    def _run(self, score, x, rng, steps):
        ts, log_ab, _ = self._grid(steps)
        for i in range(steps, 0, -1):
            ab, ab_prev = np.exp(log_ab[i]), np.exp(log_ab[i - 1])
            one_minus_ab, one_minus_prev = -np.expm1(log_ab[i]), -np.expm1(log_ab[i - 1])
            eps = self._eps(score, x, ts[i], one_minus_ab)
            x = np.sqrt(ab_prev) * self._x0(x, eps, ab, one_minus_ab) + np.sqrt(one_minus_prev) * eps
            self._visit(steps - i + 1, steps, ts[i - 1], x)
        return x


# ---------------------------------------------------------------------------------------------------
# mutants of the reverse SDE


class ReverseDriftSign(ReverseEulerMaruyama):
    r"""Mutant: the forward drift :math:`f` enters the reverse SDE with the wrong sign.

    Update :math:`x \leftarrow x - [-f - g^2 s]\,h + g\sqrt h\,z`, i.e. in reverse time
    :math:`\tau = T - t` the drift :math:`+f + g^2 s` instead of :math:`-f + g^2 s`.

    Bug class: rewriting the reverse SDE in reverse time (:math:`d\tau = -dt`) and negating only the
    score term, not :math:`f` (or copying the forward drift into the reverse one).  Where
    :math:`q_t \approx \mathcal N(0, I)` the backward dynamics contract at rate :math:`3\beta_t/2`
    instead of :math:`\beta_t/2`.

    Effect (N(1, 0.5^2) data, steps -> infinity): the output is N(0.717, 0.381^2) instead of N(1, 0.5^2).
    """

    name = "reverse-em-drift-sign"
    correct = False
    gaussian_limit = (0.71720, 0.38053)
    drift_sign = -1.0


class ReverseScoreHalf(ReverseEulerMaruyama):
    r"""Mutant: factor 1/2 instead of 1 on :math:`g^2 s` in the reverse SDE.

    Update :math:`x \leftarrow x - [f - \tfrac12 g^2 s]\,h + g\sqrt h\,z`: the probability-flow drift
    with the reverse SDE's noise.

    Bug class: mixing up the reverse SDE (:math:`f - g^2 s`) and the probability-flow ODE
    (:math:`f - \tfrac12 g^2 s`), the pair of factors the lecture's transcript also confuses.  Too
    little denoising for the noise added: the output is far too wide.

    Effect (N(1, 0.5^2) data, steps -> infinity): N(0.997, 1.763^2) instead of N(1, 0.5^2).
    """

    name = "reverse-em-score-half"
    correct = False
    gaussian_limit = (0.99671, 1.76326)
    score_factor = 0.5


class ReverseNoiseSqrt2(ReverseEulerMaruyama):
    r"""Mutant: noise :math:`\sqrt{2\beta_t h}\,z` instead of :math:`\sqrt{\beta_t h}\,z` in the reverse SDE.

    Bug class: the :math:`\sqrt{2}` of Langevin dynamics (:math:`dx = \nabla\log p\,dt + \sqrt2\,dW`)
    carried over to the VP reverse SDE, whose diffusion is :math:`g = \sqrt{\beta_t}`.

    Effect: with noise :math:`c\,g` the reverse SDE keeps :math:`V_t = c^2 v_t` for Gaussian data, so
    the output converges to N(mu, 2 sigma_0^2): N(1, 0.707^2) for N(1, 0.5^2) data (the prior's own
    variance 1 instead of :math:`2 v_T` is damped by :math:`e^{-B}`).
    """

    name = "reverse-em-noise-sqrt2"
    correct = False
    gaussian_limit = (0.99999, 0.70710)
    noise_factor = float(np.sqrt(2.0))


# ---------------------------------------------------------------------------------------------------
# mutants of the probability-flow ODE


class FlowScoreFactorOne(ProbabilityFlowHeun):
    r"""Mutant: factor 1 instead of 1/2 on :math:`g^2 s` in the probability-flow ODE.

    Integrates :math:`dx/dt = f - g^2 s = -\tfrac12\beta_t x + \beta_t s`, the lecture transcript's
    velocity (:math:`-\tfrac12\beta_t x + \beta_t\nabla\log q_t`, MATH.md introduction); it is the
    reverse SDE's drift without its noise.

    Bug class: the reverse-SDE drift function reused for the ODE sampler without halving its score
    term (score_sde's ``reverse(..., probability_flow=True)`` halves it; hand-written samplers
    forget), the same slip as the lecture's.

    Effect: over-contraction onto the modes.  For Gaussian data
    :math:`x_0 = x_T\,\sigma_0^2 e^{B/2}/(e^B + \sigma_0^2 - 1) \approx x_T\,\sigma_0^2 e^{-B/2}`:
    N(1, 0.5^2) data comes out with std 0.0016 (the correct flow gives 0.5).
    """

    name = "pf-heun-score-factor-1"
    correct = False
    gaussian_limit = (0.99999, 0.0016429)
    score_factor = 1.0


class FlowPriorStdHalf(ProbabilityFlowHeun):
    r"""Mutant: the prior is :math:`\mathcal N(0, 0.5^2 I)` instead of :math:`\mathcal N(0, I)`.

    Update: the correct probability-flow Heun from :math:`x_T = 0.5\,z`.

    Bug class: a prior off by a factor 2 in scale, the size of the usual variance-for-std slip
    (numpy's ``normal(loc, scale)`` and torch's ``normal(mean, std)`` take a std; a prior meant to
    have std 0.5 written ``rng.normal(0, 0.25, shape)``, the sqrt forgotten, has std 0.25).  At the
    unit VP prior that slip is invisible, so the mutant applies the same factor to it: std 0.5
    instead of 1 (also what a sampling "temperature" of 0.5 does).  The reverse SDE would damp a
    prior error by :math:`e^{-B}`; a deterministic flow carries it to :math:`t = 0`.

    Effect: the flow is linear for Gaussian data, :math:`x_0 - \mu = (x_T - a_T\mu)\,\sigma_0/\sqrt{v_T}`,
    so the output std is halved: N(0.997, 0.25^2) for N(1, 0.5^2) data.
    """

    name = "pf-heun-prior-std-half"
    correct = False
    gaussian_limit = (0.99671, 0.25000)
    prior_std = 0.5


class FlowStopsEarly(ProbabilityFlowHeun):
    r"""Mutant: stops at :math:`t = 0.05` while ``t_end`` still claims 0.

    The update is the correct probability-flow Heun one, on the grid from :math:`T` down to 0.05, so
    the samples are (up to :math:`O(h^2)`) exact draws of :math:`q_{0.05}`, not of :math:`q_0`.

    Bug class: the end-time cut-off of score_sde's samplers (``sampling_eps = 1e-3``, larger in
    some codebases), which keeps the integrator away from the stiff score at :math:`t = 0`, left
    without its final denoising step and without reporting the stopping time.

    Effect: for vp-linear :math:`B(0.05) = 0.0299`, :math:`a = 0.985`, :math:`s^2 = 0.0294`:
    N(1, 0.5^2) data comes out as N(0.982, 0.522^2) (:math:`q_{0.05}` has mean 0.985; the flow's prior
    error takes off 0.003 more), and the components of ``gmm1d-bimodal`` of std 0.3 and 0.5 come out
    with std 0.342 and 0.522.  ``ProbabilityFlowHeun(t_end=0.05)`` is the same
    sampler, honest about its ``t_end``.
    """

    name = "pf-heun-stops-early"
    correct = False
    gaussian_limit = (0.98175, 0.52162)
    stop_time: float = 0.05

    @property
    def t_stop(self) -> float:
        return max(self.t_end, self.stop_time)


# ---------------------------------------------------------------------------------------------------
# mutants of DDPM


class DDPMScheduleMismatch(DDPMAncestral):
    r"""Mutant: the sampler discretises a schedule that is not the score's (:math:`\beta_{\max}` = 10 instead of 20).

    The :math:`\bar\alpha_i` come from ``Linear(b0, b1 / 2, T)`` (``Linear(0.1, 10, 1)`` for vp-linear)
    while the score is evaluated at the times :math:`t_i` of the process it was made for.  As
    :math:`N \to \infty` the chain converges to the reverse SDE with :math:`\beta'_t` in place of
    :math:`\beta_t` but the score of :math:`q_t`, which is not a time reversal of anything.

    Bug class: a sampler configured independently of training (a diffusers scheduler with a
    ``beta_end`` different from the one the model was trained with, a default config reloaded).

    Effect (N(1, 0.5^2) data, steps -> infinity): N(0.797, 0.608^2).
    """

    name = "ddpm-schedule-mismatch"
    correct = False
    gaussian_limit = (0.79690, 0.60839)

    def __init__(self, process: VP | None = None, *, t_end: float = 0.0):
        super().__init__(process, t_end=t_end)
        if not isinstance(self.schedule, Linear):
            raise InputError(
                f"{type(self).__name__} halves the b1 of a Linear schedule; the process has "
                f"{type(self.schedule).__name__}"
            )
        s = self.schedule
        self._mismatched = Linear(s.b0, 0.5 * s.b1, s.T)

    def _sampler_schedule(self):
        """``Linear(b0, b1/2, T)``, not the process's schedule."""
        return self._mismatched


class DDPMClipX0(DDPMAncestral):
    r"""Mutant: DDPM with the predicted :math:`\hat x_0` clipped to :math:`[-1, 1]` on data that lies outside it.

    The mean is computed from :math:`\mathrm{clip}(\hat x_0, -1, 1)` (class notes of
    :class:`DDPMAncestral`); on the last step (:math:`\bar\alpha_0 = 1`) it is that clipped
    :math:`\hat x_0`, so every sample lands in :math:`[-1, 1]^d`.

    Bug class: diffusers' ``clip_sample=True`` (the default of ``DDPMScheduler``) and the
    ``clip_denoised`` of the DDPM reference code, made for images scaled to :math:`[-1, 1]`, left on
    for data that is not.

    Effect: no closed form; the whole mass of :math:`q_0` outside :math:`[-1, 1]^d` is moved inside
    (0.920 of ``gmm1d-bimodal``, 0.857 of ``gmm2d-aniso``, all but
    1.8e-4 of ``gmm2d-ring8``).
    """

    name = "ddpm-clip-x0"
    correct = False
    gaussian_limit = None
    clip = 1.0


class DDPMSharedNoise(DDPMAncestral):
    r"""Mutant: one noise draw shared by all particles in each step.

    :math:`x_{i-1} = \mu_i(x_i) + \sigma_i z_i` with a single :math:`z_i \sim \mathcal N(0, I_d)` broadcast
    over the batch.  Each particle's marginal law is still right; their joint law is not: the
    particles move together, and the sample's spread comes from the prior alone, which the reverse
    dynamics damp by :math:`\approx \sigma_0^2 e^{-B/2}`.

    Bug class: noise drawn with a batch dimension of 1 (``torch.randn(1, C, H, W)``, ``randn(d)`` in
    place of ``randn(n, d)``) and broadcast, or a generator re-seeded on every call.

    Effect: for Gaussian data the sample collapses to a point, std
    :math:`\sigma_0^2 e^{B/2}/(e^B + \sigma_0^2 - 1)` = 0.0016 for N(1, 0.5^2) data, at a random place.
    ``gaussian_limit`` gives ``None`` for that mean.
    """

    name = "ddpm-shared-noise"
    correct = False
    gaussian_limit = (None, 0.0016429)

    def _noise(self, rng, shape):
        return np.broadcast_to(rng.standard_normal((1, shape[1])), shape)


# ---------------------------------------------------------------------------------------------------
# mutants of DDIM


class DDIMEpsOverVariance(DDIM):
    r"""Mutant: the score converted to a noise prediction with :math:`1 - \bar\alpha` instead of its square root.

    :math:`\hat\varepsilon = -(1 - \bar\alpha_i)\,s` instead of :math:`-\sqrt{1 - \bar\alpha_i}\,s`, i.e.
    :math:`s = -\hat\varepsilon/\sigma^2` used where :math:`s = -\hat\varepsilon/\sigma` holds.  The
    effective score is :math:`\sqrt{1 - e^{-B(t)}}\,s`, too weak at small :math:`t`.

    Bug class: a wrong conversion between a score model and a noise-prediction model
    (``eps = -sigma**2 * score``), from confusing the DSM target :math:`-\varepsilon/\sigma_t`
    (MATH.md 4) with :math:`-(x - a_t x_0)/\sigma_t^2`, which is the same quantity written in
    :math:`x`.

    Effect: DDIM converges to the probability-flow ODE with that score; N(1, 0.5^2) data comes out
    as N(0.994, 0.915^2).
    """

    name = "ddim-eps-over-variance"
    correct = False
    gaussian_limit = (0.99399, 0.91526)
    eps_power = 1.0


class DDIMSwappedAxes(DDIM):
    r"""Mutant: the score is called on the state with its two coordinates swapped, and read back the same way.

    Each step uses :math:`P\,s(P x, t)` with :math:`P` the reversal of the coordinates (the swap
    :math:`(x, y) \to (y, x)` in 2D); since :math:`f` is isotropic the sampler is exact for the law
    :math:`P_\# q_0`, the mirror image of the data.  The identity in 1D.

    Bug class: a model trained on points in (x, y) order used by code that stores them in (row,
    column) = (y, x) order: ``meshgrid`` ``indexing="ij"`` against ``"xy"``, image height and width.

    Effect: the output is exactly :math:`P_\# q_0`; invisible for data symmetric under the swap
    (``gmm2d-ring8``), large for ``gmm2d-aniso`` (mean (-0.2, 0) comes out at (0, -0.2), the axis
    variances 2.09 and 1.045 are exchanged).
    """

    name = "ddim-swapped-axes"
    correct = False
    gaussian_limit = (0.99671, 0.50001)

    def _score(self, score, x, t):
        return super()._score(score, x[:, ::-1].copy(), t)[:, ::-1]


class DDIMClipX0(DDIM):
    r"""Mutant: DDIM with the predicted :math:`\hat x_0` clipped to :math:`[-1, 1]`, noise prediction not re-derived.

    .. math::
        x_{i-1} = \sqrt{\bar\alpha_{i-1}}\,\mathrm{clip}(\hat x_0, -1, 1)
        + \sqrt{1 - \bar\alpha_{i-1}}\,\hat\varepsilon

    (diffusers' ``DDIMScheduler(clip_sample=True)`` with ``use_clipped_model_output=False``); the
    last step returns the clipped :math:`\hat x_0`.

    Bug class: as :class:`DDPMClipX0`, image-range clipping left on for data outside :math:`[-1, 1]`.

    Effect: every sample lies in :math:`[-1, 1]^d` (no closed form for the law).
    """

    name = "ddim-clip-x0"
    correct = False
    gaussian_limit = None
    clip = 1.0


# ---------------------------------------------------------------------------------------------------
# the registry

_CORRECT_CLASSES = (ReverseEulerMaruyama, ProbabilityFlowHeun, DDPMAncestral, DDIM)
_MUTANT_CLASSES = (
    ReverseDriftSign,
    ReverseScoreHalf,
    ReverseNoiseSqrt2,
    FlowScoreFactorOne,
    FlowPriorStdHalf,
    FlowStopsEarly,
    DDPMScheduleMismatch,
    DDPMClipX0,
    DDPMSharedNoise,
    DDIMEpsOverVariance,
    DDIMSwappedAxes,
    DDIMClipX0,
)

#: The correct samplers: name -> factory(process=None).
CORRECT: dict[str, Callable[..., ZooSampler]] = {c.name: c for c in _CORRECT_CLASSES}
#: The mutants: name -> factory(process=None).
MUTANTS: dict[str, Callable[..., ZooSampler]] = {c.name: c for c in _MUTANT_CLASSES}
#: Every sampler of the zoo, correct ones first.
ZOO: dict[str, Callable[..., ZooSampler]] = {**CORRECT, **MUTANTS}


def zoo_sampler(name: str, process: VP | None = None) -> ZooSampler:
    """Build the zoo's sampler ``name`` for ``process`` (default ``problems.process("vp-linear")``)."""
    try:
        factory = ZOO[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"unknown zoo sampler {name!r}; known: {', '.join(ZOO)}") from None
    return factory(process)
