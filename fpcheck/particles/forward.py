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
from dataclasses import dataclass

import numpy as np

from ..distributions import Distribution
from ..errors import InputError
from ..processes import AffineProcess, Process

__all__ = ["ParticleSolution", "simulate_forward", "FORWARD_METHODS"]

#: Forward integrators: exact Gaussian transitions, Euler-Maruyama.
FORWARD_METHODS = ("exact", "em")


@dataclass(frozen=True)
class ParticleSolution:
    """Particles at the requested times.

    Attributes
    ----------
    times : array (m,)
    samples : array (m, n, d)
    method : str
    steps : int
        Time steps taken (the number of intervals for ``"exact"``).
    seed : int
    wall_time_s : float
    """

    times: np.ndarray
    samples: np.ndarray
    method: str
    steps: int
    seed: int
    wall_time_s: float


def _step_grid(times: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps of about ``t_max / steps`` that land on every output time; returns (dt, save_after)."""
    t_max = float(times[-1])
    dts, save_after, edges = [], [], np.concatenate([[0.0], times])
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            k = max(1, int(round(steps * (b - a) / t_max)))
            dts += [(b - a) / k] * k
        save_after.append(len(dts))
    return np.array(dts), np.array(save_after, dtype=np.int64)


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
    if method not in FORWARD_METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(FORWARD_METHODS)}")
    if not isinstance(process, AffineProcess):
        raise InputError(
            f"simulate_forward handles affine processes (VP, sub-VP, VE, OU); {type(process).__name__} is not one"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    t = process.check_time(np.atleast_1d(np.asarray(times, dtype=float)))
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) < 0):
        raise InputError("times must be a non-empty, non-decreasing sequence")
    if isinstance(initial, Distribution):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"n must be a positive integer, got {n!r}")
        x0 = initial.sample(int(n), np.random.default_rng(seed))
    else:
        x0 = np.asarray(initial, dtype=float)
        if x0.ndim != 2 or x0.shape[0] < 1 or not np.all(np.isfinite(x0)):
            raise InputError(f"initial particles must be a finite array (n, d), got shape {x0.shape}")
    d = x0.shape[1]
    if process.dim is not None and process.dim != d:
        raise InputError(f"the process is {process.dim}-dimensional but the particles are {d}-dimensional")
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
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise InputError(f"steps must be a positive integer, got {steps!r}")
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
