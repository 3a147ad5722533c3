r"""The probability-flow ODE: particles carried by :math:`dx/dt = v(x, t)` in either direction.

:func:`integrate_flow` integrates :math:`dx/dt = v_t(x)`, :math:`v = f - \tfrac12 g^2 \nabla\log q_t`
(MATH.md section 3), from ``t_start`` to each output time: forward it carries :math:`q_0` to
:math:`q_t`, backward it carries :math:`q_T` to :math:`q_0`, and forward then backward returns the
start (MATH.md exercise 6).  Fixed-step Euler, Heun and RK4, or adaptive Dormand-Prince 5(4).
Kernels in :mod:`fpcheck.particles._flow`.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence

import numpy as np

from .. import _validation as val
from ..distributions import Distribution
from ..errors import InputError
from ..processes import Process
from .fields import ExactField, _call_field, _check_callable, _exact_source
from .solution import (
    KERNEL_CHUNK,
    PYTHON_CHUNK,
    ParticleSolution,
    _blowup_bound,
    _check_chunk,
    _check_int,
    _check_method,
    _check_process,
    _check_seed,
    _chunks,
    _initial_particles,
    _landing_grid,
    _output_times,
    _Progress,
    _raise_if_escaped,
)

__all__ = ["integrate_flow", "FLOW_METHODS"]

#: Probability-flow integrators: fixed-step Euler (order 1), Heun (2), RK4 (4); adaptive Dormand-Prince 5(4).
FLOW_METHODS = ("euler", "heun", "rk4", "rk45")


def integrate_flow(
    process: Process,
    velocity: ExactField | Callable[[np.ndarray, float], np.ndarray],
    initial: Distribution | np.ndarray,
    n: int | None = None,
    *,
    t_start: float,
    times: Sequence[float],
    method: str = "rk4",
    steps: int = 100,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    seed: int = 0,
    chunk_size: int | None = None,
    progress: bool = False,
) -> ParticleSolution:
    r"""Integrate the probability-flow ODE :math:`dx/dt = v(x, t)` from ``t_start`` to each of ``times``.

    Parameters
    ----------
    process : Process
        Fixes the time range :math:`[0, T]` and the dimension (and, for an
        :class:`~fpcheck.particles.fields.ExactField`, must be the field's process).
    velocity : ExactField or callable
        :math:`v(x, t)`.  An :class:`~fpcheck.particles.fields.ExactField` (or its bound
        ``velocity``, e.g. from :func:`~fpcheck.particles.fields.flow_velocity`) gives its exact
        velocity :math:`f - \tfrac12 g^2 \nabla\log q_t`, and the fixed-step methods then run
        fully compiled; any other ``velocity(x, t) -> (n, d)`` is called once per stage per step
        on each chunk (a wrong shape, NaN or inf raises :class:`~fpcheck.errors.InputError`
        naming it and ``t``).  It must not modify ``x`` in place.
    initial : Distribution or array (n, d)
        The particles at ``t_start``: ``n`` draws (``numpy.random.default_rng(seed)``) or the
        particles themselves.
    n : int, optional
        Number of particles (needed for a Distribution).
    t_start : float
        The start time in ``[0, T]``.
    times : sequence of float
        Output times in ``[0, T]``, all on one side of ``t_start`` (or equal to it): the flow runs
        forward if they are later, backward if earlier.  Returned in the order reached.
    method : {"euler", "heun", "rk4", "rk45"}
        Fixed steps of global order 1, 2 (explicit trapezoid) and 4 (classical Runge-Kutta) on a
        step grid that lands on every output time, or Dormand-Prince 5(4) with adaptive steps.
    steps : int
        Fixed steps over ``[t_start, the farthest output time]`` (each interval between output
        times gets its share, at least one).  Ignored by ``"rk45"``.
    rtol, atol : float
        ``"rk45"``'s tolerances (both > 0).
    seed : int
        Seeds the draw of ``initial`` (the flow itself is deterministic).
    chunk_size : int, optional
        Particles per chunk (default :math:`2^{20}` for the compiled fixed-step kernels,
        :math:`2^{16}` otherwise).  For ``"rk45"`` each chunk has its own step sequence.
    progress : bool
        Print a progress line to stderr after each chunk.

    Returns
    -------
    ParticleSolution
        ``samples`` (m, n, d) at ``times`` in the order reached; ``steps`` the fixed steps, or
        for ``"rk45"`` the accepted steps (the largest count over the chunks).

    Raises
    ------
    InputError
        Bad arguments; a field's bad value; particles that blow up (non-finite, or past
        :math:`10^{12}(1 + \max|x_0|)`), with the method, step and time.

    Notes
    -----
    ``"rk45"`` is Dormand-Prince 5(4) with FSAL (6 evaluations a step) and the standard controller
    of Hairer, Nørsett & Wanner I, section II.4 (safety 0.9, factors in [0.2, 10], starting step
    by their algorithm).  The step is shared by the particles of a chunk and its error norm is the
    largest over them of the RMS over components of
    :math:`e / (\text{atol} + \text{rtol}\max(|y|, |y_{new}|))`, so every particle meets the
    tolerance; the step sequence, and so the result to within the tolerance, depends on the batch
    (on ``chunk_size`` and on which particles it holds).  It runs as a Python loop over steps;
    with an :class:`~fpcheck.particles.fields.ExactField` each stage is one compiled evaluation
    of the whole chunk.
    """
    start = _time.perf_counter()
    method = _check_method(method, FLOW_METHODS)
    process = _check_process(process)
    seed = _check_seed(seed)
    if method != "rk45":
        steps = _check_int(steps, "steps", 1)
    else:
        rtol, atol = val.positive(rtol, "rtol"), val.positive(atol, "atol")
    t0 = float(process._scalar_time(t_start))
    t = _output_times(times, 0.0, float(process.T), "the process's time range")
    if np.any(t > t0) and np.any(t < t0):
        raise InputError(
            f"times lie on both sides of t_start = {t0:g}; the flow runs one way per call: "
            "integrate forward and backward in two calls"
        )
    backward = bool(np.any(t < t0))
    t = np.sort(t)[::-1].copy() if backward else np.sort(t)
    x0 = _initial_particles(initial, n, seed, process)
    total, d = x0.shape
    exact = _exact_source(velocity, process, "velocity")
    if exact is None:
        name = _check_callable(velocity, "velocity")
    elif exact.dim != d:
        raise InputError(f"the ExactField is {exact.dim}-dimensional but the particles are {d}-dimensional")
    bound = _blowup_bound(x0)
    samples = np.empty((t.size, total, d))
    compiled = exact is not None and method != "rk45"
    size = _check_chunk(chunk_size, KERNEL_CHUNK if compiled else PYTHON_CHUNK)
    bar = _Progress(f"flow {method}", total, progress)
    if method == "rk45":
        from ._flow import dopri5

        if exact is not None:
            fun = lambda y, s: exact._batch(y, s, 0.5)  # noqa: E731
        else:
            fun = lambda y, s: _call_field(velocity, name, y, float(s))  # noqa: E731
        taken = 0
        for lo, hi in _chunks(total, size):
            out, accepted, _ = dopri5(fun, t0, x0[lo:hi], t, rtol, atol, bound)
            samples[:, lo:hi] = out
            taken = max(taken, accepted)
            bar.update(hi)
    else:
        from ._flow import SCHEMES, flow_fixed, flow_fixed_numpy, stage_times

        scheme = SCHEMES[method]
        nodes, save_after = _landing_grid(t0, t, steps)
        h = np.diff(nodes)
        stages = stage_times(nodes, scheme)
        if compiled:
            tab = tuple(exact.tables(stages))
        else:
            user = lambda x, j: _call_field(velocity, name, x, float(stages[j]))  # noqa: E731
        for lo, hi in _chunks(total, size):
            if compiled:
                out, bad = flow_fixed(x0[lo:hi], tab, h, scheme, save_after, bound)
            else:
                out, bad = flow_fixed_numpy(x0[lo:hi], user, h, scheme, save_after, bound)
            _raise_if_escaped(bad, method, nodes, bound)
            samples[:, lo:hi] = out
            bar.update(hi)
        taken = int(h.size)
    bar.close()
    return ParticleSolution(t, samples, method, int(taken), seed, _time.perf_counter() - start)
