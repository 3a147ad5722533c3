r"""Fits of the built-in problems: a default basis, samples, the objective, the fit, the oracle and the checks.

:func:`fit_problem` is what ``fpcheck fit``, the report's learning section and
``benchmarks/bench_learned.py`` run.  For an objective and a (process, data) pair it

1. builds :func:`default_basis` on the time window :math:`[t_0, t_1]` (default :data:`T_RANGE`
   times the horizon);
2. draws ``n`` samples (:func:`training_samples`) and assembles the objective's quadratic form;
3. fits it with the ridge chosen on held-out samples (:func:`fpcheck.learned.fit.fit`);
4. fits the *oracle*, explicit score matching of the same basis and model on the exact field
   (regression on :math:`\nabla\log q_t` or :math:`v^*_t` with the same time weighting), on a
   quadrature reference in 1D and on exact draws in 2-3D: the best the basis can do, which
   separates its capacity from the objective's noise.  Every objective fits the gradient model
   :math:`s = \nabla(\theta\cdot\psi)` but sliced score matching, which fits the vector model
   :math:`s_i = \theta_i\cdot\psi` (:data:`MODELS`: its Jacobian then needs first derivatives
   only), and each fit is measured against its own model's oracle.  The vector model's basis
   carries the pilot's score components in place of its log-density (``default_basis(...,
   model="vector")``): on ``gmm1d-bimodal`` its oracle is 4.3e-8 (the gradient model's 5.0e-8),
   and 1.1e-3 on the gradient model's basis, where the log-density enters as a value, not a score;
5. measures both against the truth (:mod:`fpcheck.learned.checks`).

**The basis** (:func:`default_basis`).  Three families of potentials, each times the same
functions of time:

.. math::
    \log\hat q_t(x), \qquad
    \exp\Big(-\frac{|x - c_j|^2}{2 w_j^2\sigma(t)^2}\Big), \qquad
    x^\alpha\ (|\alpha| \le 2), \qquad\text{times}\quad T_k(u(g(t))), \qquad
    \sigma(t) = \sqrt{a_t^2 r_0^2 + s_t^2} .

*The pilot* :math:`\hat q_t` (:mod:`fpcheck.learned.pilot`) is a Gaussian mixture fitted by EM to
:data:`PILOT_MIXTURE` draws of the data, its number of components chosen by the BIC (at most
:data:`PILOT_COMPONENTS`), and diffused in closed form by the process's kernel.  Its gradient is
its score, so the fit starts from a score with every mode in it and scales it in time; the bumps
and the quadratic carry what the pilot misses.  For mixture data the pilot's family holds the
truth and what is left is the pilot's sampling error (its parameters from 2e5 draws); for data
that are no mixture it is an approximation that the bumps correct.  Measured by DSM at
:math:`n = 2\cdot 10^5` (seed 0, oracle in brackets), with the pilot against the bumps alone
(``pilot=False``, :data:`CENTRES_ALONE`):

* ``gmm1d-bimodal``: 6.3e-5 (5.0e-8) at 105 parameters, against 2.5e-4 (2.9e-5) at 210;
* ``box1d``: 2.8e-5 (3.0e-8) against 9.3e-5 (7.2e-6); ``doublewell1d``: 3.7e-5 (2.2e-7) against
  1.2e-4 (7.0e-6);
* ``gmm2d-ring8``: 8.1e-5 (2.2e-6) at 154 parameters, against 4.8e-3 (4.5e-3) at 483 (with the pilot
  fitted to 2e4 draws: 1.2e-4 (4.4e-5); more bumps lower the oracle and raise the excess: with a
  pilot of 8 components from 2e4 other draws, 16, 32 and 64 bumps gave 9.9e-5 (2.0e-5), 1.4e-4
  (1.1e-5) and 2.2e-4 (5.9e-6));
* ``checkerboard2d``: 1.14e-3 (1.06e-3) against 2.6e-3 (2.3e-3), 6.3 s against 34 s to fit;
* ``gmm3d-tetra``: 1.0e-4 (7.8e-7) at 294 parameters.

Building the pilot takes 1.4 s (``gmm1d-bimodal``) to 16 s (``checkerboard2d``, 12 components).

A generic basis pays for every mode with bumps, and in :math:`d` dimensions the bumps a mode needs
grow like the :math:`d`-th power of what one axis needs: on ``gmm2d-ring8`` (8 components of
width 0.2) 64 bumps leave 4.5e-3 whether with 7 or 13 polynomials or the pole functions below,
128 bumps 1.9e-3 at 931 parameters.  With the pilot the excess over the oracle, about
:math:`0.3\,p/n`, is what is left, so the default spends few parameters on bumps
(:data:`CENTRES`).

*The bumps* have widths that follow the kernel's spread.  The score of diffused data has
structure of size :math:`\sqrt{a_t^2 r^2 + s_t^2}` for data structure of size :math:`r` (each
Gaussian component is pushed to variance :math:`a_t^2 r^2 + s_t^2`), so bumps of width
:math:`w_j\sigma(t)` keep their resolution relative to it at every time; with :math:`w_j r_0 = h`
(the centre spacing) they are as wide as their spacing at :math:`t = 0` and widen with the noise.

*The time functions* are Chebyshev polynomials in the signal fraction
:math:`g = a_t^2/(a_t^2 + s_t^2)`.  The score depends on time only through :math:`(a_t, s_t^2)`;
in :math:`g` it changes at a comparable pace over the whole window, where in :math:`t` it changes
fastest near :math:`t_0`.  Measured without the pilot on ``vp-linear`` x ``gmm1d-bimodal`` by the
quadrature oracle (:math:`s_t^2`-weighted relative Fisher divergence on :math:`[0.01, 1]`), 20
centres x 7 polynomials: 2.9e-4 in :math:`a_t`, 2.4e-4 in :math:`a_t^2`, 3.2e-4 in :math:`t`,
4.3e-4 in :math:`\log s_t^2`; bumps whose centres move with the kernel (:math:`a_t c_j`) all
collapse onto one shape as :math:`a_t \to 0` and reach only 1.3e-1.  A component's score has
slope :math:`1/(a_t^2 r^2 + s_t^2)`, which as a function of :math:`g` has a pole just beyond
:math:`t = 0` (:class:`~fpcheck.learned.bases.InverseSpread`): 7 polynomials leave 3.2e-3 relative
at :math:`t_0` and 12 leave 3.3e-4, so in 1D one time function is :math:`r_0^2/\sigma(t)^2`.

*Without the pilot* (``pilot=False``) the 1D default is 28 bumps over the pilot's 0.1% to 99.9%
quantiles (:data:`CENTRE_QUANTILE`) and a quadratic, times 6 Chebyshev polynomials and the inverse
spread (210 parameters): oracle 2.9e-5, DSM at :math:`10^6` 9.0e-5, 1.3e-4 and 9.4e-5 on seeds 0-2.
Its sizes were chosen by the predicted DSM error at :math:`n = 10^6`, the oracle plus the
asymptotic excess :math:`\mathrm{tr}(A^{-1}\Sigma)/(nD)` (which predicted 1.08e-4 for a fit measured
at 1.07e-4): 26 to 34 bumps x 5 to 7 time functions span 9.6e-5 to 1.6e-4.  34 bumps over the full
pilot range reached 4.3e-5, but their DSM fit at :math:`n = 2\cdot 10^5` let reverse-SDE particles
from the far tail of :math:`q_T` escape (2 of 1e5 beyond :math:`6\sigma` of :math:`q_{t_0}`).
Every objective's figures are printed by ``benchmarks/bench_learned.py``.

**Times** (:func:`training_samples`).  Stratified on the window (one draw per stratum of the
time density), so the time integral is integrated with a variance :math:`O(n^{-3})` instead of
:math:`O(n^{-1})`.  For the score objectives (weighting :math:`\lambda = s_t^2`) the density is
:math:`p(t) \propto \sqrt{g(t)}` (:math:`= a_t` for VP) with weights :math:`\lambda/p`: the
noise of the DSM target is where :math:`x_t` still carries information about :math:`x_0`,
whose size is :math:`a_t`; predicted from the asymptotic covariance
:math:`\mathrm{tr}(A^{-1}\Sigma_b)` for 20 x 7 bumps the optimal density lowers the excess over the oracle 1.9x
and :math:`p \propto a_t` follows it to within 20% (measured with 28 x 7 bumps: excess 5.7e-5
against 8.4e-5 uniform at :math:`n = 10^6`; :math:`p \propto a_t^{1/2}` and :math:`a_t^{3/2}` on 34
bumps x (5 + 1): 1.0e-3 and 5.6e-4 against 5.2e-4 at :math:`10^5`, means over 3 seeds); by the
same prediction on 30 bumps x (5 + 1), :math:`p \propto a_t` is within 6% of the optimal
:math:`p \propto \lambda\sqrt{\mathrm{tr}(A^{-1}C(t))}`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from . import checks as ck
from .bases import (RBF, Basis, Centred, Chebyshev, Concat, InverseSpread, Polynomial, ScaledRBF, Tensor,
                    signal_fraction, spread)

__all__ = [
    "OBJECTIVES",
    "T_RANGE",
    "default_basis",
    "centred_for_action_matching",
    "training_samples",
    "objective_form",
    "LearnedFit",
    "fit_problem",
]

#: Objective name -> the field it learns.
OBJECTIVES = {"dsm": "score", "ism": "score", "ssm": "score", "esm": "score", "am": "velocity", "cfm": "velocity"}

#: Objectives whose model is not the gradient of a potential: sliced score matching's Jacobian
#: :math:`\nabla s` is the vector model's first derivatives (the gradient model's would be Hessians).
MODELS = {"ssm": "vector"}

#: The default window, as fractions of the process's horizon.
T_RANGE = (0.01, 1.0)

#: Interior times per Action Matching path, stratified on the window.  At a fixed number of samples,
#: more per path trade the paths' own noise (about 1/paths) for the noise of the stratified time
#: integral of each path's d/dt terms (about 1/(paths m^3)): at 10^6 samples the integrated error
#: was 1.2e-2 at 8 per path and 1.0e-2 at 16 (uncentred features).
AM_POINTS = 16

#: Pilot draws per time node and Chebyshev degree of the means that centre Action Matching's features.
CENTRING_PILOT = 2000
CENTRING_DEGREE = 24

#: How the ridge is chosen on held-out samples (:func:`fpcheck.learned.fit.fit`): the smallest upper
#: bound (value + 2 se), since for sliced and implicit score matching, as for Action Matching, the
#: held-out values differ between ridges by less than their noise at small ridges (sliced SM at
#: n = 2e5, seed 1: -0.30 +- 0.11 at 3e-8, -0.37 +- 0.07 at 1e-6, -0.35 +- 0.03 at 3e-2), and the
#: smallest value chose a field with relative error 33.
RULE = "upper"

#: Ridges tried: every half decade from 1e-8 to 10 (Action Matching, implicit and sliced score
#: matching chose 0.1, the top of :data:`fpcheck.learned.fit.RIDGE_GRID`).
RIDGES = np.logspace(-8.0, 1.0, 19)

#: Pooled kernel samples that place the centres; the first PILOT of the pilot mixture's draws choose its components.
PILOT = 20000

#: Most components of the pilot mixture, chosen by the BIC on :data:`PILOT` data draws
#: (:func:`fpcheck.learned.pilot.select_mixture`).
PILOT_COMPONENTS = 12

#: Data draws the pilot mixture is then fitted to (besides the training samples).  Its parameters'
#: sampling error is the oracle's floor on mixture data and is first order in the density a sampler
#: makes of the score: on gmm2d-ring8 (16 bumps) the oracle was 4.4e-5 from 2e4 draws and 1.5e-6 from
#: 2e5, and only the latter's probability-flow ODE passed the end-to-end comparison at 1e5 particles.
PILOT_MIXTURE = 200_000

#: Default number of bumps by dimension (3: and above), with the pilot mixture and without it.
CENTRES = {1: 12, 2: 16, 3: 32}
CENTRES_ALONE = {1: 28, 2: 64, 3: 96}

#: In 1D the centres span the pilot's quantiles ``CENTRE_QUANTILE`` to ``1 - CENTRE_QUANTILE``: its extremes
#: are its noisiest part, and beyond the bumps the quadratic potentials carry the tails.  Measured on
#: vp-linear x gmm1d-bimodal, 28 bumps x (6 + 1): oracle 2.9e-5 against 5.9e-5 from the smallest to the
#: largest pilot sample (quantile 3e-3: 2.9e-5; 1e-2: 4.6e-5 at 30 bumps).
CENTRE_QUANTILE = 1e-3


def _window(process, t_range) -> tuple[float, float]:
    T = float(process.T)
    lo, hi = (T_RANGE[0] * T, T_RANGE[1] * T) if t_range is None else (float(t_range[0]), float(t_range[1]))
    if not 0 < lo < hi <= T:
        raise InputError(f"t_range must be (t0, t1) with 0 < t0 < t1 <= T = {T:g}, got ({lo:g}, {hi:g})")
    return lo, hi


def default_basis(process, data, t_range=None, *, centres: int | None = None, degree: int | None = None,
                  seed: int = 0, pilot: bool = True, model: str = "gradient") -> Basis:
    r"""The pilot's diffused log-density and bumps of widths :math:`w_j\sigma(t)`, times Chebyshev polynomials in the signal fraction (module notes).

    Parameters
    ----------
    process : AffineProcess
    data : Distribution
        Used only through samples: :data:`PILOT_MIXTURE` draws fit the pilot mixture
        (:func:`~fpcheck.learned.pilot.fit_mixture`), its number of components chosen by the BIC on
        the first :data:`PILOT` of them (:func:`~fpcheck.learned.pilot.select_mixture`, at most
        :data:`PILOT_COMPONENTS`), and a pilot of :data:`PILOT` kernel samples on the window places the centres
        (in 1D a uniform grid over their quantiles :data:`CENTRE_QUANTILE` to 1 - that, in 2-3D
        k-means, :meth:`~fpcheck.learned.bases.RBF.from_data`).
    t_range : (float, float), optional
        The window; default :data:`T_RANGE` times the horizon.
    centres : int, optional
        Number of centres; default :data:`CENTRES` (with the pilot) or :data:`CENTRES_ALONE`
        (without) by dimension.
    degree : int, optional
        Chebyshev degree in time (``degree + 1`` polynomials); default 5 in 1D, 6 in 2-3D.
    seed : int
        Seed of the pilots.
    pilot : bool
        Include the pilot mixture's log-density :class:`~fpcheck.learned.pilot.MixtureLogDensity`.
    model : {"gradient", "vector"}
        The model the basis is for (:data:`MODELS`).  A vector model takes the pilot's score
        components (:class:`~fpcheck.learned.pilot.MixtureScore`) in place of its log-density,
        so that it holds the pilot's score as a gradient model does.

    Returns
    -------
    Basis
        ``Tensor(MixtureLogDensity, T) + Tensor(ScaledRBF(...), T) + Tensor(Polynomial(d, 2), T)``
        with ``T = Chebyshev(degree, t_range, warp=signal_fraction(process))``, and in 1D also
        :class:`~fpcheck.learned.bases.InverseSpread` at :math:`r_0` among the time functions:
        :math:`r_0 = \tfrac43 h` with :math:`h` the spacing (the median nearest-centre distance in
        2-3D), widths :math:`w_j = h_j / r_0`.  The quadratic potentials give the field its linear
        tails, as a Gaussian's: without them a learned score falls to 0 beyond the outermost bumps
        (at :math:`x = 6`, :math:`t = 1`: -0.9 against the exact -6), and reverse-SDE particles that
        start in the far tail of :math:`q_T` escape to :math:`|x| \sim 10^2`.
    """
    from ._samples import kernel_samples
    from ._forms import check_model
    from .pilot import MixtureLogDensity, MixtureScore, fit_mixture, select_mixture

    model = check_model(model)
    t0, t1 = _window(process, t_range)
    rng = np.random.default_rng(seed)
    samples = kernel_samples(process, data, PILOT, rng, t_range=(t0, t1))
    d = samples.x.shape[1]
    m = int(centres) if centres is not None else (CENTRES if pilot else CENTRES_ALONE)[min(d, 3)]
    if m < 2:
        raise InputError(f"centres must be at least 2, got {m}")
    if d == 1:
        c = np.linspace(*np.quantile(samples.x[:, 0], [CENTRE_QUANTILE, 1.0 - CENTRE_QUANTILE]), m)[:, None]
        h = np.full(m, c[1, 0] - c[0, 0])
    else:
        rbf = RBF.from_data(samples.x, m, seed=seed)
        c, h = np.asarray(rbf.centres), np.asarray(rbf.widths)
    r0 = 4.0 / 3.0 * float(np.median(h))
    space = ScaledRBF(c, h / r0, *spread(process, r0), t_range=(t0, t1))
    k = (5 if d == 1 else 6) if degree is None else degree
    polynomials = Chebyshev(k, (t0, t1), warp=signal_fraction(process))
    times = [polynomials] if d > 1 else [polynomials, InverseSpread(process, [r0], (t0, t1))]
    features = [space, Polynomial(d, 2)]
    if pilot:
        draws = np.asarray(data.sample(PILOT_MIXTURE, rng), dtype=float)
        k = len(select_mixture(draws[:PILOT], PILOT_COMPONENTS, seed=seed).weights)
        feature = MixtureScore if model == "vector" else MixtureLogDensity
        features.insert(0, feature(process, fit_mixture(draws, k, seed=seed), (t0, t1)))
    return Concat(*(Tensor(f, g) for f in features for g in times))


def centred_for_action_matching(basis: Basis, process, data, t_range=None, *, seed: int = 0) -> Basis:
    r"""``basis`` minus pilot estimates of its means :math:`E_{q_t}\psi_j` (:class:`~fpcheck.learned.bases.Centred`).

    The means are fitted by :data:`CENTRING_DEGREE` + 1 Chebyshev polynomials in the signal fraction
    to :data:`CENTRING_PILOT` kernel samples at each node of :func:`fpcheck.learned.checks.error_times`.
    Measured (``vp-linear`` x ``gmm1d-bimodal``, 10^6 samples, 16 per path): integrated relative
    velocity error 4.9e-3 with the ridge chosen at 0.03, against 1.0e-2 at 0.1 uncentred (28 x 7
    bumps); on the default basis 2.9e-3 at 1e-3.
    """
    from ._samples import kernel_samples

    t0, t1 = _window(process, t_range)
    nodes, _ = ck.error_times((t0, t1))
    rng = np.random.default_rng([seed, 3])
    samples = [kernel_samples(process, data, CENTRING_PILOT, rng, t=float(t)).x for t in nodes]
    time_basis = Chebyshev(CENTRING_DEGREE, (t0, t1), warp=signal_fraction(process))
    return Centred.on_samples(basis, time_basis, nodes, samples)


def _stratified(n: int, t_range, density: Callable | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` times stratified on ``t_range`` for the density ``density`` (uniform if None) and ``p/uniform`` at them."""
    t0, t1 = t_range
    u = (np.arange(n) + rng.uniform(size=n)) / n
    rng.shuffle(u)
    if density is None:
        return t0 + (t1 - t0) * u, np.ones(n)
    tt = np.linspace(t0, t1, 4097)
    dens = np.asarray(density(tt), dtype=float)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(tt))])
    t = np.interp(u * cdf[-1], cdf, tt)
    return t, np.interp(t, tt, dens) * (t1 - t0) / cdf[-1]


def training_samples(objective: str, process, data, n: int, rng: np.random.Generator, t_range=None):
    r"""Samples for an objective (module notes): kernel samples at stratified times, or coupled paths for AM.

    Returns
    -------
    (KernelSamples, weights) for dsm, ism, ssm, esm and cfm, where ``weights`` is
    :math:`\lambda(t)/p(t)`; for ``am`` a dict with ``start``, ``end``, ``x`` (n / m, m, d) and
    ``t`` (n / m, m): ``n`` samples of the interior marginals in all, on ``n / m`` kernel paths
    with :data:`AM_POINTS` = m stratified times each, and the paths' ends.
    """
    from ._samples import kernel_samples, noise_weight

    t0, t1 = _window(process, t_range)
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}")
    if objective == "am":
        n = max(1, n // AM_POINTS)
        base = kernel_samples(process, data, n, rng, t=t0)
        k = np.arange(AM_POINTS)
        t = t0 + (t1 - t0) * (k[None, :] + rng.uniform(size=(n, AM_POINTS))) / AM_POINTS
        x = np.stack([base.at(t[:, j]).x for j in range(AM_POINTS)], axis=1)
        return {"start": base.x, "end": base.at(t1).x, "x": x, "t": t, "t_range": (t0, t1)}
    if OBJECTIVES[objective] == "score":
        g = signal_fraction(process)[0]
        times, p = _stratified(n, (t0, t1), lambda s: np.sqrt(g(s)), rng)
        weights = noise_weight(process)(times) / p
    else:
        times, p = _stratified(n, (t0, t1), None, rng)
        weights = 1.0 / p
    return kernel_samples(process, data, n, rng, t=times), weights


def objective_form(objective: str, basis: Basis, samples, truth=None, rng: np.random.Generator | None = None):
    """The quadratic form of ``objective`` on :func:`training_samples` (``truth`` for ``esm``, ``rng`` for ``ssm``)."""
    from . import objectives as ob

    if objective == "am":
        s = samples
        return ob.action_matching(basis, s["start"], s["end"], s["x"], s["t"], s["t_range"])
    smp, w = samples
    if objective == "dsm":
        return ob.dsm(basis, smp, weight=w)
    if objective == "ism":
        return ob.ism(basis, smp.x, smp.t, weight=w)
    if objective == "ssm":
        return ob.sliced(basis, smp.x, smp.t, rng=rng, variance_reduced=True, weight=w)
    if objective == "cfm":
        return ob.flow_matching(basis, smp, weight=w)
    if objective == "esm":
        if truth is None:
            raise InputError("esm needs the truth (the exact score)")
        from ._samples import exact_values

        return ob.esm(basis, smp.x, smp.t, exact_values(truth, smp.x, smp.t, "score"), weight=w)
    raise InputError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}")


@dataclass
class LearnedFit:
    r"""A fit, its oracle and their errors.

    Attributes
    ----------
    objective, process, data : str
    n : int
        Samples: kernel samples, or for AM samples of the interior marginals (:data:`AM_POINTS` per path).
    field : LinearField
    oracle : LinearField
    errors, oracle_errors : FieldErrors
        Against the truth, :math:`\lambda = s_t^2` for scores and 1 for velocities.
    fit_time_s, oracle_time_s : float
    parameters : int
    """

    objective: str
    process: str
    data: str
    n: int
    field: object
    oracle: object
    errors: ck.FieldErrors
    oracle_errors: ck.FieldErrors
    fit_time_s: float
    oracle_time_s: float
    parameters: int

    @property
    def kind(self) -> str:
        return OBJECTIVES[self.objective]

    def to_dict(self) -> dict:
        """The JSON of ``fpcheck fit --json``."""
        e, o = self.errors, self.oracle_errors
        out = {"objective": self.objective, "process": self.process, "data": self.data, "n": int(self.n),
               "parameters": self.parameters, "ridge": self.field.rho, "times": e.times.tolist()}
        if self.kind == "score":
            out.update({
                "relative_fisher_divergence": e.relative.tolist(),
                "relative_fisher_divergence_se": e.standard_error.tolist(),
                "weighted_relative_fisher_divergence": e.integrated,
                "weighted_relative_fisher_divergence_se": e.integrated_se,
                "oracle_relative_fisher_divergence": o.relative.tolist(),
                "oracle_weighted_relative_fisher_divergence": o.integrated,
            })
        else:
            out.update({
                "relative_velocity_error": e.relative.tolist(),
                "relative_velocity_error_se": e.standard_error.tolist(),
                "integrated_relative_velocity_error": e.integrated,
                "integrated_relative_velocity_error_se": e.integrated_se,
                "oracle_relative_velocity_error": o.relative.tolist(),
                "oracle_integrated_relative_velocity_error": o.integrated,
            })
        out.update({"fit_time_s": self.fit_time_s, "oracle_time_s": self.oracle_time_s})
        return out

    def table(self) -> str:
        """Per-time errors of the fit and the oracle, and the integrals."""
        e, o = self.errors, self.oracle_errors
        name = "relative Fisher divergence" if self.kind == "score" else "relative velocity error"
        lines = [f"{self.objective} on {self.process} x {self.data}, n = {self.n}, {self.parameters} parameters, "
                 f"ridge {self.field.rho:.1e}, fit {self.fit_time_s:.1f} s", f"{'t':>8}  {name:>30}  {'oracle':>10}"]
        step = max(1, e.times.size // 12)
        for k in range(0, e.times.size, step):
            lines.append(f"{e.times[k]:8.4f}  {e.relative[k]:18.3e} +- {e.standard_error[k]:8.1e}  {o.relative[k]:10.3e}")
        w = "s_t^2-weighted" if self.kind == "score" else "integrated"
        lines.append(f"{w}: {e.integrated:.3e} +- {e.integrated_se:.1e}   oracle {o.integrated:.3e}")
        return "\n".join(lines)


class _Truth:
    """Where a problem's references come from: the mixture's closed form, or the grid solver (:data:`GRID_TRUTH`)."""

    def __init__(self, process, data, name: str, grid=None):
        from ..analytic import ExactMarginals
        from ..distributions import GaussianMixture

        self.process, self.data, self.dim = process, data, data.dim
        self.exact = ExactMarginals(process, data) if isinstance(data, GaussianMixture) else None
        if self.exact is None and grid is None:
            if name not in GRID_TRUTH:
                raise InputError(f"data {name!r} has no closed-form marginals and no default grid: pass grid=")
            grid = _grid(*GRID_TRUTH[name])
        self.grid = grid

    def reference(self, times, field_name: str, rng, n_points: int, grid_points: bool = True):
        """Quadrature in 1D (closed form or grid), exact draws in 2-3D, draws from the grid density in 2-3D."""
        if self.exact is None:
            ref = ck.grid_reference(self.process, self.data, times, self.grid, field_name)
            return ref if (self.dim == 1 and grid_points) else ck.resample(ref, n_points, rng)
        if self.dim == 1:
            return ck.quadrature_reference(self.exact, times, field_name)
        return ck.exact_reference(self.exact, times, n_points, rng, field_name)


def _grid(bounds, cells):
    from ..grid.grids import Grid

    return Grid(bounds, cells)


#: Data without closed-form marginals (or whose truth is taken from the grid solver on purpose, as
#: for the grid's own score): ``(bounds, cells)`` of the grid, box faces on cell faces.
#: The window starts at :data:`GRID_T0` times the horizon there: at ``vp-linear``'s t = 0.05 the
#: kernel's width s_t = 0.17 is 7 cells of 0.025 (2D) and 34 of 0.005 (1D), so the grid score's
#: O((h/s_t)^4) error is below 5e-4 relative (1D: below 1e-6).
GRID_TRUTH = {
    "box1d": ([(-6.0, 6.0)], 2400),
    "doublewell1d": ([(-6.0, 6.0)], 2400),
    "checkerboard2d": ([(-6.0, 6.0), (-6.0, 6.0)], (480, 480)),
}
GRID_T0 = 0.05


def fit_problem(objective: str, process: str = "vp-linear", data: str = "gmm1d-bimodal", n: int = 100_000, *,
                seed: int = 0, t_range=None, basis: Basis | None = None, reference_n: int = 4000, grid=None,
                ridge="auto") -> LearnedFit:
    r"""Fit ``objective`` on a built-in problem and check it and its oracle against the truth (module notes).

    Parameters
    ----------
    objective : {"dsm", "ism", "ssm", "esm", "am", "cfm"}
    process, data : str
        Names from :mod:`fpcheck.problems` (an affine process).
    n : int
        Training samples.
    seed : int
    t_range : (float, float), optional
    basis : Basis, optional
        Default :func:`default_basis`.
    reference_n : int
        Exact draws per time node of the 2-3D references (the oracle's and, independent of it, the
        evaluation's); 1D references are by quadrature.
    grid : Grid, optional
        For data that are not Gaussian mixtures, the grid of the solver's truth (default
        :data:`GRID_TRUTH`; their window starts at :data:`GRID_T0` times the horizon).
    ridge : "auto", float or sequence
        As for :func:`fpcheck.learned.fit.fit`.
    """
    from .. import problems
    from .fit import LinearField, fit, solve

    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 100:
        raise InputError(f"n must be an integer >= 100, got {n!r}")
    proc, dist = problems.process(process), problems.data(data)
    truth = _Truth(proc, dist, data, grid)
    if t_range is None and truth.exact is None:
        t_range = (GRID_T0 * float(proc.T), float(proc.T))
    t0, t1 = _window(proc, t_range)
    kind = OBJECTIVES[objective]
    if basis is None:
        basis = default_basis(proc, dist, (t0, t1), seed=seed, model=MODELS.get(objective, "gradient"))
        if objective == "am":
            basis = centred_for_action_matching(basis, proc, dist, (t0, t1), seed=seed)
    rng = np.random.default_rng(seed)
    times = ck.error_times((t0, t1))
    lam = ck.score_weight(proc, times[0]) if kind == "score" else None
    if objective == "esm" and truth.exact is None:
        raise InputError(f"esm regresses on the exact score, which data {data!r} does not have in closed form")
    evaluation = truth.reference(times, kind, np.random.default_rng([seed, 1]), reference_n)
    tic = time.perf_counter()
    samples = training_samples(objective, proc, dist, int(n), rng, (t0, t1))
    form = objective_form(objective, basis, samples, truth=truth.exact, rng=rng)
    if isinstance(ridge, str):  # "auto": see RULE
        learned = fit(form, RIDGES, rule=RULE)
    else:
        learned = fit(form, ridge)
    fit_time = time.perf_counter() - tic
    del form, samples
    tic = time.perf_counter()
    if not evaluation.monte_carlo:
        oracle_ref = evaluation
    else:
        oracle_ref = truth.reference(times, kind, np.random.default_rng([seed, 2]), reference_n)
    oform = ck.oracle_form(basis, oracle_ref, lam, learned.model)
    oracle = LinearField(basis, solve(oform, ck.ORACLE_RIDGE), model=learned.model, dim=truth.dim, rho=ck.ORACLE_RIDGE,
                         kind=kind, objective="oracle")
    oracle_time = time.perf_counter() - tic
    return LearnedFit(objective, process, data, int(n), learned, oracle, ck.field_errors(learned, evaluation, lam),
                      ck.field_errors(oracle, evaluation, lam), fit_time, oracle_time, int(learned.theta.size))
