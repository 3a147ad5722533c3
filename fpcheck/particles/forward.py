r"""Forward simulation of the noising SDE :math:`dx = f(x, t)\,dt + g(t)\,dW` from data samples.

:func:`simulate_forward` draws ``n`` particles from the data (or takes them as given) and moves
them to each requested time, either by the exact Gaussian transition of an affine process (no
time error) or by Euler-Maruyama on a step grid that contains every output time (weak order 1).
Affine processes run in the compiled kernels of :mod:`fpcheck.particles._forward`; any other
process (Langevin dynamics in a potential, a user's :class:`~fpcheck.processes.Process`) runs
Euler-Maruyama as a loop over steps with one call of its ``drift`` per step and chunk of
particles.  The noise is counter-based either way (the same variates for the same seed,
particle and step), so a run is the same bitwise on any number of threads and in any chunking.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence

import numpy as np

from ..distributions import Distribution
from ..errors import InputError
from ..processes import Process
from .solution import (
    PYTHON_CHUNK,
    ParticleSolution,
    _blowup_bound,
    _check_affine,
    _check_chunk,
    _check_int,
    _check_method,
    _check_seed,
    _chunks,
    _initial_particles,
    _Progress,
    _raise_if_escaped,
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
    chunk_size: int | None = None,
    progress: bool = False,
) -> ParticleSolution:
    r"""Simulate the forward SDE from :math:`x_0 \sim q_0` to each of ``times``.

    Parameters
    ----------
    process : Process
        VP, sub-VP, VE or OU (compiled kernels), or any other process for ``"em"``
        (Langevin dynamics: a loop over steps calling ``process.drift`` on each chunk).
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
    chunk_size : int, optional
        Particles per drift call of the non-affine path (default :math:`2^{16}`).
    progress : bool
        Print a progress line to stderr after each chunk (non-affine path).

    Returns
    -------
    ParticleSolution

    Raises
    ------
    InputError
        Bad arguments, ``"exact"`` for a process without a closed-form kernel, or particles that
        blow up (non-finite, or past :math:`10^{12}(1 + \max|x_0|)`) with the step that did it.
    """
    from ._forward import euler_maruyama_affine, exact_affine

    start = _time.perf_counter()
    _check_method(method, FORWARD_METHODS)
    if method == "exact" or process.is_affine:
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
            if not process.is_affine:
                samples = _euler_maruyama_general(
                    process, x0, left, dt, save_after, seed, _check_chunk(chunk_size, PYTHON_CHUNK), progress
                )
                return ParticleSolution(t, samples, method, dt.size, int(seed), _time.perf_counter() - start)
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


def _euler_maruyama_general(process, x0, left, dt, save_after, seed: int, chunk: int, progress: bool) -> np.ndarray:
    r"""Euler-Maruyama :math:`x \leftarrow x + f(x, t_k)\Delta t_k + g(t_k)\sqrt{\Delta t_k}\,z_k` for any process.

    One call of ``process.drift`` per step and chunk; :math:`z_k` are the counter-based normals of
    (seed, particle, step :math:`k`), the ones the compiled kernels read.
    """
    from ._march import march
    from ._rng import normals

    n, d = x0.shape
    noise = np.sqrt(np.asarray(process.g2(left), dtype=float) * dt)
    nodes = np.append(left, left[-1] + dt[-1])
    bound = _blowup_bound(x0)
    out = np.empty((save_after.size, n, d))
    bar = _Progress("forward em", n, progress)
    for lo, hi in _chunks(n, chunk):

        def step(x, k, lo=lo, hi=hi):
            return x + process.drift(x, float(left[k])) * dt[k] + noise[k] * normals(seed, lo, hi - lo, k, d)

        out[:, lo:hi], bad = march(x0[lo:hi], step, dt.size, save_after, bound)
        _raise_if_escaped(bad, "forward em", nodes, bound)
        bar.update(hi)
    bar.close()
    return out
