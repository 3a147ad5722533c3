r"""The reverse SDE: particles from :math:`q_T` back to :math:`q_0` under a score.

:func:`simulate_reverse` runs :math:`dx = [f(x, t) - g(t)^2\, s(x, t)]\,dt + g(t)\,d\bar W` from
``t_start`` (default :math:`T`) down to the smallest output time (MATH.md section 3).  With the exact
score :math:`s = \nabla\log q_t` and exact :math:`q_T` samples its marginals are :math:`q_t`; any
deviation is the integrator's (or the score's).  Kernels in :mod:`fpcheck.particles._reverse`.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence

import numpy as np

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

__all__ = ["simulate_reverse", "REVERSE_METHODS"]

#: Reverse-SDE integrators: Euler-Maruyama (weak order 1), stochastic Heun (weak order 2).
REVERSE_METHODS = ("em", "heun")


def simulate_reverse(
    process: Process,
    score: ExactField | Callable[[np.ndarray, float], np.ndarray],
    initial: Distribution | np.ndarray,
    n: int | None = None,
    *,
    times: Sequence[float] = (0.0,),
    t_start: float | None = None,
    method: str = "em",
    steps: int = 100,
    seed: int = 0,
    chunk_size: int | None = None,
    progress: bool = False,
) -> ParticleSolution:
    r"""Integrate the reverse SDE from ``t_start`` down to each of ``times``.

    .. math::
        dx = b(x, t)\,dt + g(t)\,d\bar W, \qquad b = f - g^2 s, \qquad t: t_{start} \to \min(\text{times}).

    Parameters
    ----------
    process : Process
        Gives :math:`f` and :math:`g^2` (any process for a callable score; the process of the
        field for an :class:`~fpcheck.particles.fields.ExactField`).
    score : ExactField or callable
        :math:`s(x, t)`.  An :class:`~fpcheck.particles.fields.ExactField` (or its bound
        ``score``) runs the whole step loop in one compiled kernel; any other ``score(x, t) ->
        (n, d)`` (array-likes accepted) is called once per stage per step on each chunk, and a
        wrong shape, NaN or inf raises :class:`~fpcheck.errors.InputError` naming it and ``t``.
        It must not modify ``x`` in place.
    initial : Distribution or array (n, d)
        The particles at ``t_start``: ``n`` draws of a distribution (with
        ``numpy.random.default_rng(seed)``), or the particles themselves.
    n : int, optional
        Number of particles (needed for a Distribution, ignored for an array).
    times : sequence of float
        Output times in ``[0, t_start]``, in any order; returned in decreasing order.
    t_start : float, optional
        The start time, default ``process.T``.
    method : {"em", "heun"}
    steps : int
        Steps over ``[min(times), t_start]``, uniform in :math:`t`: each interval between
        consecutive output times gets its share (at least one), so the grid lands on each.
    seed : int
        Seeds the draw of ``initial`` and keys the counter-based noise.
    chunk_size : int, optional
        Particles per chunk (default :math:`2^{20}` compiled, :math:`2^{16}` for a callable).
    progress : bool
        Print a progress line to stderr after each chunk.

    Returns
    -------
    ParticleSolution
        ``times`` decreasing, ``samples`` (m, n, d), ``steps`` the steps taken.

    Raises
    ------
    InputError
        Bad arguments; a field's bad value; particles that blow up (non-finite, or past
        :math:`10^{12}(1 + \max|x_0|)`), with the method, step and time: take more steps.

    Notes
    -----
    On the nodes :math:`t_0 = t_{start} > \dots > t_K`, :math:`h_k = t_k - t_{k+1}`, with
    :math:`z_k` the counter-based normal of (seed, particle, step :math:`k`):

    * ``"em"``: :math:`x_{k+1} = x_k - b(x_k, t_k) h_k + g(t_k)\sqrt{h_k}\,z_k`.  Weak order 1.
    * ``"heun"``: :math:`\eta_k = \sqrt{g^2(t_k - h_k/2)\, h_k}\,z_k`,
      :math:`\bar x = x_k - b(x_k, t_k) h_k + \eta_k`,
      :math:`x_{k+1} = x_k - \tfrac12[b(x_k, t_k) + b(\bar x, t_{k+1})] h_k + \eta_k`.
      Weak order 2 for additive noise.

      Argument (Milstein's weak-convergence theorem: a scheme whose one-step increment matches
      the SDE's moments up to order :math:`2p + 1 = 5` to :math:`O(h^{p+1}) = O(h^3)` is weak
      order :math:`p = 2`; Kloeden & Platen 1992, chapters 14-15).  Write the step in its own time
      direction as :math:`dy = a\,d\tau + g\,dW` with :math:`a = -b`.  The noise
      :math:`\int g\,dW` is Gaussian with variance :math:`\int g^2 = g^2(t_{k+1/2}) h + O(h^3)`,
      which :math:`\eta_k` matches; the drift average is the trapezoid rule, :math:`O(h^3)` on
      the deterministic part; and expanding :math:`a(\bar y) = a + a'(a h + \eta)
      + \tfrac12 a''(a h + \eta)^2 + \dots` reproduces the SDE's terms
      :math:`\tfrac14 a'' g^2 h^2` of the mean and :math:`a' g^2 h^2` of the second moment; the
      third to fifth moments agree to :math:`O(h^3)` since :math:`\eta_k` is exactly Gaussian.
      As :math:`g` does not depend on :math:`x` there is no Itô-Stratonovich correction and no
      Lévy area, so one Gaussian per step suffices (for multiplicative noise the same scheme is
      weak order 1 only).  With :math:`g^2(t_k)` in place of the midpoint the variance would be
      off by :math:`O(h^2)` a step and the scheme weak order 1.

    The noise of particle :math:`i` depends only on (seed, :math:`i`, :math:`k`), so a run is
    bitwise the same on any number of threads and in any ``chunk_size``.
    """
    start = _time.perf_counter()
    method = _check_method(method, REVERSE_METHODS)
    process = _check_process(process)
    seed = _check_seed(seed)
    steps = _check_int(steps, "steps", 1)
    t0 = float(process.T) if t_start is None else float(process._scalar_time(t_start))
    t = np.sort(_output_times(times, 0.0, t0, "[0, t_start] ="))[::-1].copy()
    x0 = _initial_particles(initial, n, seed, process)
    total, d = x0.shape
    exact = _exact_source(score, process, "score")
    if exact is None:
        name = _check_callable(score, "score")
    elif exact.dim != d:
        raise InputError(f"the ExactField is {exact.dim}-dimensional but the particles are {d}-dimensional")
    heun = method == "heun"
    nodes, save_after = _landing_grid(t0, t, steps)
    h = nodes[:-1] - nodes[1:]
    noise_times = 0.5 * (nodes[:-1] + nodes[1:]) if heun else nodes[:-1]
    sigma = np.sqrt(np.asarray(process.g2(noise_times), dtype=float) * h) if h.size else h
    bound = _blowup_bound(x0)
    samples = np.empty((t.size, total, d))
    size = _check_chunk(chunk_size, KERNEL_CHUNK if exact is not None else PYTHON_CHUNK)
    bar = _Progress(f"reverse {method}", total, progress)
    if exact is not None:
        from ._reverse import reverse_sde

        tab = tuple(exact.tables(nodes))
        for lo, hi in _chunks(total, size):
            out, bad = reverse_sde(
                x0[lo:hi], tab, h, sigma, heun, save_after, np.uint64(seed), np.uint64(lo), bound
            )
            _raise_if_escaped(bad, method, nodes, bound)
            samples[:, lo:hi] = out
            bar.update(hi)
    else:
        from ._reverse import reverse_sde_numpy
        from ._rng import normals

        g2 = np.asarray(process.g2(nodes), dtype=float)

        def drift(x, j):
            tj = float(nodes[j])
            return process.drift(x, tj) - g2[j] * _call_field(score, name, x, tj)

        for lo, hi in _chunks(total, size):
            noise = lambda k, lo=lo, hi=hi: normals(seed, lo, hi - lo, k, d)  # noqa: E731
            out, bad = reverse_sde_numpy(x0[lo:hi], drift, h, sigma, heun, save_after, noise, bound)
            _raise_if_escaped(bad, method, nodes, bound)
            samples[:, lo:hi] = out
            bar.update(hi)
    bar.close()
    return ParticleSolution(t, samples, method, int(h.size), seed, _time.perf_counter() - start)
