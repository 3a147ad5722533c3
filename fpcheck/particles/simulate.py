r"""One entry point for the particle truths of a named problem: forward, reverse and flow runs by name.

=================  =====================================================================================
method             what runs
=================  =====================================================================================
``exact``          forward SDE from :math:`q_0`, exact Gaussian transitions (affine processes)
``em``             forward SDE from :math:`q_0`, Euler-Maruyama (any process, Langevin included)
``reverse-em``     reverse SDE from exact :math:`q_T` samples with the exact score, Euler-Maruyama
``reverse-heun``   the same, stochastic Heun (weak order 2)
``flow-euler``     probability-flow ODE from exact :math:`q_T` samples, backward in time, Euler
``flow-heun``      the same, Heun (explicit trapezoid)
``flow-rk4``       the same, classical Runge-Kutta
``flow-rk45``      the same, adaptive Dormand-Prince 5(4)
=================  =====================================================================================

Forward runs go from 0 up to the output times; generation runs (reverse SDE and flow) from
:math:`T` down to them, so ``times`` are where the particles are compared with :math:`q_t`.  The
exact score is compiled (:class:`~fpcheck.particles.fields.ExactField`) for Gaussian-mixture data
and :meth:`fpcheck.analytic.ExactMarginals.score` for box data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..analytic import ExactMarginals
from ..distributions import BoxMixture, Distribution, GaussianMixture
from ..errors import InputError, NotAffineError
from ..processes import Process
from .methods import METHODS, is_generation
from .solution import ParticleSolution

__all__ = ["METHODS", "simulate", "is_generation"]


def simulate(
    process: Process,
    data: Distribution,
    method: str,
    n: int,
    times: Sequence[float],
    *,
    steps: int = 100,
    seed: int = 0,
    progress: bool = False,
) -> ParticleSolution:
    """Run ``method`` (a key of :data:`METHODS`) with ``n`` particles to each of ``times``.

    Generation methods start from ``n`` exact samples of :math:`q_T` drawn with
    ``numpy.random.default_rng(seed)``, and need an affine process and closed-form data.
    """
    from .flow import integrate_flow
    from .forward import simulate_forward
    from .reverse import simulate_reverse

    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not is_generation(method):
        return simulate_forward(process, data, n, times, method=method, steps=steps, seed=seed, progress=progress)
    try:
        truth = ExactMarginals(process, data)
    except NotAffineError as exc:
        raise InputError(
            f"{method} starts from exact samples of q_T and uses the exact score, which need an affine process "
            f"and closed-form data: {exc}"
        ) from None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}")
    if isinstance(data, BoxMixture) and data.noise_var == 0 and min(float(t) for t in times) == 0.0:
        raise InputError(
            f"{method} down to t = 0 on noise-free box data: the score is singular there (infinite at the box "
            "edges, undefined outside the boxes); stop at a small t > 0, e.g. 0.01"
        )
    x_T = truth.sample(int(n), truth.T, np.random.default_rng(seed))
    if isinstance(data, GaussianMixture):
        from .fields import ExactField

        field = ExactField(process, data)
        score = velocity = field
    else:
        from .fields import flow_velocity

        score = truth.score
        velocity = flow_velocity(process, truth.score)
    kind, _, scheme = method.partition("-")
    if kind == "reverse":
        sol = simulate_reverse(process, score, x_T, times=times, method=scheme, steps=steps, seed=seed, progress=progress)
    else:
        sol = integrate_flow(
            process, velocity, x_T, t_start=truth.T, times=times, method=scheme, steps=steps, seed=seed, progress=progress
        )
    return dataclasses.replace(sol, method=method)
