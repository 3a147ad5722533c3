r"""Kernels of the reverse-SDE integrators: Euler-Maruyama and stochastic Heun, run backward in time.

The reverse SDE :math:`dx = b(x, t)\,dt + g(t)\,d\bar W`, :math:`b = f - g^2 \nabla\log q_t`
(MATH.md section 3), runs from :math:`t_0` down through the nodes :math:`t_0 > t_1 > \dots > t_K`,
:math:`h_k = t_k - t_{k+1} > 0`:

* Euler-Maruyama: :math:`x_{k+1} = x_k - b(x_k, t_k)\,h_k + \sigma_k z_k`,
  :math:`\sigma_k = \sqrt{g^2(t_k)\,h_k}` (weak order 1);
* stochastic Heun, the same increment :math:`\eta_k = \sigma_k z_k` in predictor and corrector,
  :math:`\sigma_k = \sqrt{g^2(t_k - h_k/2)\,h_k}`:

  .. math::
      \bar x = x_k - b(x_k, t_k)\,h_k + \eta_k, \qquad
      x_{k+1} = x_k - \tfrac12\big[b(x_k, t_k) + b(\bar x, t_{k+1})\big] h_k + \eta_k

  (weak order 2 for additive noise: see :func:`fpcheck.particles.reverse.simulate_reverse`).

:math:`z_k` holds the variates :math:`k d, \dots, k d + d - 1` of the particle's counter-based
sequence (:mod:`fpcheck.particles._rng`), so results are bitwise the same on any number of threads
and in any chunking.  :func:`reverse_sde` runs the whole loop compiled with the exact field of
:mod:`._fields`; :func:`reverse_sde_numpy` is the same steps vectorised in NumPy over any drift
callable: the path for users' scores, and with
:meth:`fpcheck.analytic.ExactMarginals.reverse_drift` and
:func:`~fpcheck.particles._rng.normals_reference` the reference the tests hold the kernel to.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

from ._fields import BLOCK, block_scratch, drift_block, load_block
from ._march import guard_stages, march
from ._rng import _key, normal_quad

__all__ = [
    "reverse_sde",
    "reverse_sde_numpy",
    "reverse_sde_reference",
    "step_normals",
    "mark_escaped",
    "save_block",
]


@njit(cache=True, inline="always")
def step_normals(k0, k1, first, k, quad, z):
    """Fill ``z`` (d, B) with the variates ``k d .. k d + d - 1`` of particles ``first .. first + B - 1``.

    Steps are read in order, a quad at a time (:func:`~._rng.normal_quad`): ``quad`` (B, 4) keeps
    each particle's current quad from one step to the next, so every variate of a quad is used.
    """
    d, B = z.shape
    for r in range(B):
        i = np.uint64(first) + np.uint64(r)
        for e in range(d):
            v = k * d + e
            slot = v & 3
            if slot == 0:
                q = normal_quad(k0, k1, i, v >> 2)
                quad[r, 0] = q[0]
                quad[r, 1] = q[1]
                quad[r, 2] = q[2]
                quad[r, 3] = q[3]
            z[e, r] = quad[r, slot]


@njit(cache=True, inline="always")
def mark_escaped(x, bound, k, bad, lo):
    """``bad[lo + r] = k`` for the particles (columns of ``x`` (d, B)) first outside ``|x| <= bound`` (or NaN) now."""
    d, B = x.shape
    for r in range(B):
        if bad[lo + r] < 0:
            for e in range(d):
                if not abs(x[e, r]) <= bound:
                    bad[lo + r] = k
                    break


@njit(cache=True, inline="always")
def save_block(x, out, j, lo):
    """``out[j, lo + r] = x[:, r]`` for the block ``x`` (d, B)."""
    d, B = x.shape
    for r in range(B):
        for e in range(d):
            out[j, lo + r, e] = x[e, r]


@njit(cache=True, parallel=True)
def reverse_sde(x0, tab, h, sigma, heun, save_after, seed, first, bound):
    """Reverse EM (``heun`` false) or stochastic Heun from ``x0`` (n, d) over ``K = h.size`` steps.

    ``tab``: the field tables (:mod:`._fields`) at the nodes ``t_0 .. t_K``; ``h``, ``sigma``
    (K,): step lengths and noise scales; ``save_after`` (m,): the state after that many steps goes
    to ``out[j]``.  Returns ``(out (m, n, d), bad (n,))``: ``bad[r]`` is the first step after which
    particle ``r`` is outside ``|x| <= bound`` (or NaN), -1 if never.  Blocks of 256 particles run
    in parallel, each step by step over the whole block.
    """
    n, d = x0.shape
    K = h.size
    m = save_after.size
    out = np.empty((m, n, d))
    bad = np.full(n, -1, dtype=np.int64)
    k0, k1 = _key(seed)
    for c in prange((n + BLOCK - 1) // BLOCK):
        lo = c * BLOCK
        nb = min(n, lo + BLOCK) - lo
        x = np.empty((d, nb))
        xb = np.empty((d, nb))
        b1 = np.empty((d, nb))
        b2 = np.empty((d, nb))
        z = np.empty((d, nb))
        quad = np.empty((nb, 4))
        zs, ell, top, total = block_scratch(tab, d, nb)
        load_block(x0, lo, x)
        j = 0
        while j < m and save_after[j] == 0:
            save_block(x, out, j, lo)
            j += 1
        for k in range(K):
            step_normals(k0, k1, np.uint64(first) + np.uint64(lo), k, quad, z)
            hk, sk = h[k], sigma[k]
            drift_block(x, tab, k, 1.0, b1, zs, ell, top, total)
            if heun:
                for e in range(d):
                    for r in range(nb):
                        xb[e, r] = x[e, r] - b1[e, r] * hk + sk * z[e, r]
                drift_block(xb, tab, k + 1, 1.0, b2, zs, ell, top, total)
                for e in range(d):
                    for r in range(nb):
                        x[e, r] = x[e, r] - 0.5 * (b1[e, r] + b2[e, r]) * hk + sk * z[e, r]
            else:
                for e in range(d):
                    for r in range(nb):
                        x[e, r] = x[e, r] - b1[e, r] * hk + sk * z[e, r]
            mark_escaped(x, bound, k, bad, lo)
            while j < m and save_after[j] == k + 1:
                save_block(x, out, j, lo)
                j += 1
    return out, bad


def reverse_sde_numpy(
    x0: np.ndarray,
    drift: Callable[[np.ndarray, int], np.ndarray],
    h: np.ndarray,
    sigma: np.ndarray,
    heun: bool,
    save_after: np.ndarray,
    noise: Callable[[int], np.ndarray],
    bound: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`reverse_sde` vectorised in NumPy: ``drift(x, j)`` is :math:`b` at node ``j``, ``noise(k)`` is ``z_k`` (n, d).

    One call of ``drift`` per stage per step (EM one, Heun two).  Stops at the first step in which
    a particle escapes; returns ``(out, bad)`` as the kernel does (``out`` complete only if no
    particle escaped).
    """
    drift = guard_stages(drift)

    def step(x, k):
        eta = sigma[k] * noise(k)
        b1 = drift(x, k)
        if heun:
            return x - 0.5 * (b1 + drift(x - b1 * h[k] + eta, k + 1)) * h[k] + eta
        return x - b1 * h[k] + eta

    return march(x0, step, h.size, save_after, bound)


def reverse_sde_reference(x0, reverse_drift, nodes, sigma, heun, save_after, seed, first):
    """The reference of :func:`reverse_sde`: NumPy steps on ``reverse_drift(x, t)`` with pure-Python Philox noise.

    ``reverse_drift`` is e.g. :meth:`fpcheck.analytic.ExactMarginals.reverse_drift`; ``nodes``
    (K+1,) the decreasing step nodes.
    """
    from ._rng import normals_reference

    x0 = np.asarray(x0, dtype=float)
    n, d = x0.shape
    out, bad = reverse_sde_numpy(
        x0,
        lambda x, j: reverse_drift(x, float(nodes[j])),
        nodes[:-1] - nodes[1:],
        sigma,
        heun,
        save_after,
        lambda k: normals_reference(int(seed), int(first), n, k, d),
    )
    return out
