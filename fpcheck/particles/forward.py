r"""Forward simulation of the noising SDE :math:`dx = f(x, t)\,dt + g(t)\,dW` from data samples.

:func:`simulate_forward` draws ``n`` particles from the data (or takes them as given) and moves
them to each requested time, either by the exact Gaussian transition of an affine process (no
time error) or by Euler-Maruyama on a step grid that contains every output time (weak order 1).
The kernels are in :mod:`fpcheck.particles._forward`; their noise is counter-based, so a run is
the same bitwise on any number of threads.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence

import numpy as np

from ..distributions import Distribution
from ..errors import InputError
from ..processes import Process
from .solution import (
    ParticleSolution,
    _check_affine,
    _check_int,
    _check_method,
    _check_seed,
    _initial_particles,
    _step_grid,
)

__all__ = ["ParticleSolution", "simulate_forward", "FORWARD_METHODS"]  # ParticleSolution: from .solution

#: Forward integrators: exact Gaussian transitions, Euler-Maruyama.
FORWARD_METHODS = ("exact", "em")


def simulate_forward(
    process: Process,
    initial: Distribution | np.ndarray,
    n: int,
    times: Sequence[float],
    *,
    method: str = "exact",
    steps: int = 100,
    seed: int = 0,
) -> ParticleSolution:
    r"""Simulate the forward SDE from :math:`x_0 \sim q_0` to each of ``times``.

    Parameters
    ----------
    process : AffineProcess
        VP, sub-VP, VE or OU.
    initial : Distribution or array (n, d)
        The data: sampled with ``numpy.random.default_rng(seed)``, or the starting particles.
    n : int
        Number of particles (ignored when ``initial`` is an array).
    times : sequence of float
        Non-decreasing output times in ``[0, T]``.
    method : {"exact", "em"}
        Exact Gaussian transitions between output times, or Euler-Maruyama.
    steps : int
        Euler-Maruyama steps over ``[0, max(times)]`` (each interval between output times gets
        its share, at least one).
    seed : int
        Seeds the data draw and keys the noise.

    Returns
    -------
    ParticleSolution
    """
    from ._forward import euler_maruyama_affine, exact_affine

    start = _time.perf_counter()
    _check_method(method, FORWARD_METHODS)
    _check_affine(process, "simulate_forward")
    seed = _check_seed(seed)
    t = process.check_time(np.atleast_1d(np.asarray(times, dtype=float)))
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) < 0):
        raise InputError("times must be a non-empty, non-decreasing sequence")
    x0 = _initial_particles(initial, n, seed, process)
    d = x0.shape[1]
    key = np.uint64(seed)
    if method == "exact":
        edges = np.concatenate([[0.0], t])
        kern = process.transition(edges[:-1], edges[1:])
        c = np.broadcast_to(np.asarray(kern.c, dtype=float).reshape(t.size, -1), (t.size, d))
        samples = exact_affine(
            np.ascontiguousarray(x0),
            np.asarray(kern.a, dtype=float),
            np.ascontiguousarray(c),
            np.sqrt(np.asarray(kern.s2, dtype=float)),
            key,
            np.uint64(0),
        )
        taken = t.size
    else:
        steps = _check_int(steps, "steps", 1)
        if t[-1] == 0:
            samples, taken = np.broadcast_to(x0, (t.size,) + x0.shape).copy(), 0
        else:
            dt, save_after = _step_grid(t, int(steps))
            left = np.concatenate([[0.0], np.cumsum(dt)[:-1]])
            rate, shift, g2 = process.coefficients(left)
            shift = np.broadcast_to(np.asarray(shift, dtype=float).reshape(dt.size, -1), (dt.size, d))
            samples = euler_maruyama_affine(
                np.ascontiguousarray(x0),
                np.asarray(rate, dtype=float),
                np.ascontiguousarray(shift),
                np.sqrt(np.asarray(g2, dtype=float)),
                dt,
                save_after,
                key,
                np.uint64(0),
            )
            taken = dt.size
    return ParticleSolution(t, samples, method, taken, int(seed), _time.perf_counter() - start)
