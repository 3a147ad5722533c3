r"""Kernels of the forward simulators for affine processes: Euler-Maruyama and exact transitions.

For the drift :math:`f = -\lambda(t)\,x + \kappa(t)` and diffusion :math:`g(t)`,

* Euler-Maruyama: :math:`x_{k+1} = x_k + (-\lambda_k x_k + \kappa_k)\,\Delta t_k + g_k\sqrt{\Delta t_k}\,z_{i,k}`
  with the coefficients at the left end :math:`t_k` of each step (weak order 1);
* exact transitions: over each interval :math:`[t_a, t_b]` between saved times,
  :math:`x_b = a\,x_a + c + s\,z` with the kernel :math:`(a, c, s^2)` of the process from
  :math:`t_a` to :math:`t_b` (:meth:`~fpcheck.processes.AffineProcess.transition`): no time error.

:math:`z_{i,k}` is the counter-based normal of particle :math:`i` at step :math:`k`
(:mod:`fpcheck.particles._rng`), so the result does not depend on the thread count or on how the
particles are split into chunks.  Each kernel has a NumPy reference the tests hold it to.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._rng import _key, fill_normals, normal_quad

__all__ = ["euler_maruyama_affine", "exact_affine", "euler_maruyama_affine_reference", "exact_affine_reference"]

_CHUNK = 256


@njit(cache=True, parallel=True)
def euler_maruyama_affine(x0, rate, shift, g, dt, save_after, seed, first):
    r"""Euler-Maruyama from ``x0`` (n, d) over ``K`` steps; the state after step ``save_after[j]`` goes to ``out[j]``.

    ``rate``, ``g``, ``dt``: (K,); ``shift``: (K, d); ``save_after``: increasing step counts in
    ``0 .. K`` (0 saves the start).  Returns ``out`` (m, n, d).  Each step is
    :math:`x \leftarrow (1 - \lambda_k \Delta t_k) x + \kappa_k \Delta t_k + g_k \sqrt{\Delta t_k}\, z`;
    each particle runs all its steps in one pass, reading its variates ``z[k d + e]`` a quad at a time.
    """
    n, d = x0.shape
    K = dt.size
    m = save_after.size
    out = np.empty((m, n, d))
    k0, k1 = _key(seed)
    contraction = 1.0 - rate * dt
    offset = shift * dt.reshape(-1, 1)
    noise = g * np.sqrt(dt)
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        x = np.empty(d)
        for r in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            i = np.uint64(first) + np.uint64(r)
            x[:] = x0[r]
            j = 0
            while j < m and save_after[j] == 0:
                out[j, r] = x
                j += 1
            z0 = z1 = z2 = z3 = 0.0
            v = 0  # index of the next variate of this particle
            for k in range(K):
                for e in range(d):
                    slot = v & 3
                    if slot == 0:
                        z0, z1, z2, z3 = normal_quad(k0, k1, i, v >> 2)
                        z = z0
                    elif slot == 1:
                        z = z1
                    elif slot == 2:
                        z = z2
                    else:
                        z = z3
                    v += 1
                    x[e] = contraction[k] * x[e] + offset[k, e] + noise[k] * z
                while j < m and save_after[j] == k + 1:
                    out[j, r] = x
                    j += 1
    return out


@njit(cache=True, parallel=True)
def exact_affine(x0, a, c, s, seed, first):
    """Exact transitions over ``m`` intervals: ``x <- a[j] x + c[j] + s[j] z``; returns ``out`` (m, n, d)."""
    n, d = x0.shape
    m = a.size
    out = np.empty((m, n, d))
    k0, k1 = _key(seed)
    for ch in prange((n + _CHUNK - 1) // _CHUNK):
        lo = ch * _CHUNK
        hi = min(n, lo + _CHUNK)
        x = x0[lo:hi].copy()
        z = np.empty((hi - lo, d))
        for j in range(m):
            fill_normals(z, k0, k1, first + lo, j)
            for r in range(hi - lo):
                for e in range(d):
                    x[r, e] = a[j] * x[r, e] + c[j, e] + s[j] * z[r, e]
            out[j, lo:hi] = x
    return out


def euler_maruyama_affine_reference(x0, rate, shift, g, dt, save_after, seed, first):
    """:func:`euler_maruyama_affine` vectorised in NumPy over all particles."""
    from ._rng import normals_reference

    x = np.array(x0, dtype=float)
    n, d = x.shape
    out = [x.copy() for j in save_after if j == 0]
    for k in range(dt.size):
        z = normals_reference(int(seed), int(first), n, k, d)
        x = x + (-rate[k] * x + shift[k]) * dt[k] + g[k] * np.sqrt(dt[k]) * z
        out += [x.copy() for j in save_after if j == k + 1]
    return np.array(out)


def exact_affine_reference(x0, a, c, s, seed, first):
    """:func:`exact_affine` vectorised in NumPy over all particles."""
    from ._rng import normals_reference

    x = np.array(x0, dtype=float)
    out = []
    for j in range(a.size):
        x = a[j] * x + c[j] + s[j] * normals_reference(int(seed), int(first), x.shape[0], j, x.shape[1])
        out.append(x.copy())
    return np.array(out)
