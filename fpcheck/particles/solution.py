r"""What the particle simulators return, and the set-up they share.

* :class:`ParticleSolution`: particles at the requested output times;
* step grids that land on every output time (:func:`_step_grid`, :func:`_landing_grid`);
* the argument checks every simulator makes (method names, seeds, step counts, chunk sizes,
  initial particles), the blow-up bound, and a plain progress line on stderr.

Nothing here imports Numba.
"""

from __future__ import annotations

import sys
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import _validation as val
from ..distributions import Distribution
from ..errors import InputError
from ..processes import AffineProcess, Process

__all__ = ["ParticleSolution"]

#: Particles held by one call of a Python-loop integrator (user fields, rk45): bounds its memory.
PYTHON_CHUNK = 2**16
#: Particles handed to one call of a compiled kernel (which splits them into blocks of 256).
KERNEL_CHUNK = 2**20
#: A particle counts as blown up once a coordinate leaves |x| <= BLOWUP_FACTOR * (1 + initial scale).
BLOWUP_FACTOR = 1e12


@dataclass(frozen=True)
class ParticleSolution:
    """Particles at the requested times.

    Attributes
    ----------
    times : array (m,)
        The output times, in the order the simulation reached them.
    samples : array (m, n, d)
        ``samples[j]`` holds the particles at ``times[j]``.
    method : str
    steps : int
        Time steps taken (the number of intervals for ``"exact"``; the accepted steps for
        ``"rk45"``).
    seed : int
    wall_time_s : float
    """

    times: np.ndarray
    samples: np.ndarray
    method: str
    steps: int
    seed: int
    wall_time_s: float


# ------------------------------------------------------------------------------ step grids


def _step_grid(times: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps of about ``t_max / steps`` that land on every output time; returns (dt, save_after).

    ``times`` are non-decreasing times measured from 0 (the start); the interval between two
    consecutive output times gets ``round(steps * length / t_max)`` equal steps, at least one.
    ``save_after[j]`` is the number of steps after which ``times[j]`` is reached.
    """
    t_max = float(times[-1])
    dts, save_after, edges = [], [], np.concatenate([[0.0], times])
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            k = max(1, int(round(steps * (b - a) / t_max)))
            dts += [(b - a) / k] * k
        save_after.append(len(dts))
    return np.array(dts), np.array(save_after, dtype=np.int64)


def _landing_grid(t_start: float, times: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes :math:`t_0 = t_{start}, t_1, \dots, t_K` from ``t_start`` through ``times``, either way.

    ``times`` are sorted in the order of travel (increasing away from ``t_start`` or decreasing
    towards 0).  The step counts are :func:`_step_grid`'s for the elapsed times
    :math:`|t_j - t_{start}|`; the nodes of each interval are spaced evenly and its end node is the
    output time itself, so no round-off accumulates across intervals.  Returns ``(nodes (K+1,),
    save_after (m,))``: ``nodes[save_after[j]] == times[j]``.
    """
    elapsed = np.abs(times - t_start)
    if elapsed[-1] == 0:
        return np.array([t_start]), np.zeros(times.size, dtype=np.int64)
    _, save_after = _step_grid(elapsed, steps)
    nodes = [np.array([t_start])]
    edges = np.concatenate([[t_start], times])
    counts = np.diff(np.concatenate([[0], save_after]))
    for a, b, k in zip(edges[:-1], edges[1:], counts):
        if k:
            nodes.append(a + (b - a) * np.arange(1, k + 1) / k)
            nodes[-1][-1] = b
    return np.concatenate(nodes), save_after


# ------------------------------------------------------------------------------ checks


def _check_int(value, name: str, lo: int, hi: int | None = None) -> int:
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not integer or value < lo or (hi is not None and value >= hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi})"
        raise InputError(f"{name} must be an integer {rng}, got {value!r}")
    return int(value)


def _check_seed(seed) -> int:
    """A seed keys both the draw of the initial particles and the counter-based noise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_method(method, known: Sequence[str]) -> str:
    if method not in known:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(known)}")
    return method


def _check_affine(process, caller: str) -> AffineProcess:
    if not isinstance(process, AffineProcess):
        name = type(process).__name__
        raise InputError(f"{caller} handles affine processes (VP, sub-VP, VE, OU); {name} is not one")
    return process


def _check_chunk(chunk_size, default: int) -> int:
    return default if chunk_size is None else _check_int(chunk_size, "chunk_size", 1)


def _initial_particles(initial, n, seed: int, process: Process) -> np.ndarray:
    """The starting particles: ``n`` draws of a Distribution (``default_rng(seed)``) or an array (n, d)."""
    if isinstance(initial, Distribution):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"n must be a positive integer when initial is a Distribution, got {n!r}")
        x0 = initial.sample(int(n), np.random.default_rng(seed))
    else:
        try:
            x0 = np.asarray(initial, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                f"initial must be a Distribution or an array (n, d) of particles, got {type(initial).__name__}"
            ) from None
        if x0.ndim != 2 or x0.shape[0] < 1 or x0.shape[1] < 1 or not np.all(np.isfinite(x0)):
            raise InputError(f"initial particles must be a finite array (n, d), got shape {x0.shape}")
    d = x0.shape[1]
    if process.dim is not None and process.dim != d:
        raise InputError(f"the process is {process.dim}-dimensional but the particles are {d}-dimensional")
    # C-contiguous and writable: the one array type the kernels are compiled for
    return np.require(x0, dtype=float, requirements=["C_CONTIGUOUS", "WRITEABLE", "ALIGNED"])


def _check_process(process) -> Process:
    if not isinstance(process, Process):
        raise InputError(f"process must be a fpcheck Process, got {type(process).__name__}")
    return process


def _output_times(times, lo: float, hi: float, what: str) -> np.ndarray:
    """``times`` as a non-empty 1-D float array inside ``[lo, hi]``."""
    t = np.atleast_1d(val.finite_array(times, "times"))
    if t.ndim != 1 or t.size == 0:
        raise InputError(f"times must be a non-empty sequence of floats, got shape {t.shape}")
    if np.any(t < lo) or np.any(t > hi):
        raise InputError(f"times must lie in {what} [{lo:g}, {hi:g}], got values in [{t.min():g}, {t.max():g}]")
    return t


def _raise_if_escaped(bad: np.ndarray, method: str, nodes: np.ndarray, bound: float) -> None:
    """Raise the blow-up error for the earliest step in ``bad`` (per-particle first bad steps, -1: none)."""
    hit = bad >= 0
    if np.any(hit):
        raise _blowup_error(method, int(bad[hit].min()), nodes, bound)


def _blowup_bound(x0: np.ndarray) -> float:
    """The size past which a particle counts as blown up: ``1e12 (1 + max |x0|)``."""
    return BLOWUP_FACTOR * (1.0 + float(np.abs(x0).max(initial=0.0)))


def _blowup_error(method: str, step: int, nodes: np.ndarray, bound: float, count: int | None = None) -> InputError:
    """The error for particles that left ``|x| <= bound`` (or became NaN/inf) in step ``step`` (0-based)."""
    K = nodes.size - 1
    who = "particles" if count is None else f"{count} particle(s)"
    return InputError(
        f"{method}: {who} blew up in step {step + 1} of {K} (t = {nodes[step]:.6g} -> {nodes[step + 1]:.6g}): "
        f"|x| went past {bound:.3g} or became NaN/inf; take more steps (steps = {K} now)"
    )


class _Progress:
    """One text line on stderr, rewritten after each chunk (``enabled=False``: silent)."""

    def __init__(self, label: str, n: int, enabled: bool):
        self.label, self.n, self.enabled = label, n, bool(enabled)
        self.start = _time.perf_counter()

    def update(self, done: int) -> None:
        if self.enabled:
            dt = _time.perf_counter() - self.start
            sys.stderr.write(f"\r{self.label}: {done}/{self.n} particles ({100.0 * done / self.n:.0f}%), {dt:.1f} s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _chunks(n: int, size: int):
    """``(lo, hi)`` bounds of consecutive chunks of at most ``size`` particles."""
    for lo in range(0, n, size):
        yield lo, min(n, lo + size)
