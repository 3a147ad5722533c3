r"""Counter-based normal variates: the same number for the same (seed, particle, step, component).

A simulation draws one standard normal per particle :math:`i`, step :math:`s` and component
:math:`c`.  Instead of a stream (whose values depend on the order in which particles are visited),
each variate is a pure function of its coordinates: Philox4x32-10 (Salmon, Moraes, Dror & Shaw,
"Parallel random numbers: as easy as 1, 2, 3", SC 2011) maps the 128-bit counter

.. math::
    (i \bmod 2^{32},\ \lfloor i / 2^{32} \rfloor,\ s,\ \lfloor c/2 \rfloor)

under the 64-bit key ``seed`` to four 32-bit words; two 53-bit uniforms
:math:`u_1 \in (0, 1]`, :math:`u_2 \in [0, 1)` built from them give, by Box-Muller, the normals of
components :math:`2b` and :math:`2b + 1`:

.. math::
    z_{2b} = \sqrt{-2\log u_1}\,\cos(2\pi u_2), \qquad z_{2b+1} = \sqrt{-2\log u_1}\,\sin(2\pi u_2).

So a run gives bitwise identical results on one thread or two, and in any chunking of the
particles.  Philox4x32-10 passes TestU01's BigCrush (the paper above); the tests hold this
implementation to Random123's known-answer vectors and check the normals' moments, their
distribution and the absence of correlation across particles and steps.

The kernels are ``@njit(cache=True)`` functions; :func:`philox4x32_reference` and
:func:`normals_reference` are plain Python/NumPy versions the tests hold them to.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["philox4x32", "normals", "normals_reference", "philox4x32_reference", "fill_normals"]

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK = 0xFFFFFFFF
_TWO53 = 2.0**-53


@njit(cache=True, inline="always")
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counter ``(c0, c1, c2, c3)`` under the key ``(k0, k1)`` (32-bit words in uint64)."""
    mask = np.uint64(_MASK)
    m0, m1 = np.uint64(_M0), np.uint64(_M1)
    w0, w1 = np.uint64(_W0), np.uint64(_W1)
    for _ in range(10):
        p0 = m0 * c0
        p1 = m1 * c2
        c0, c1, c2, c3 = (
            ((p1 >> np.uint64(32)) ^ c1 ^ k0) & mask,
            p1 & mask,
            ((p0 >> np.uint64(32)) ^ c3 ^ k1) & mask,
            p0 & mask,
        )
        k0 = (k0 + w0) & mask
        k1 = (k1 + w1) & mask
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def _normal_pair(k0, k1, i, step, block):
    mask = np.uint64(_MASK)
    c0 = np.uint64(i) & mask
    c1 = np.uint64(i) >> np.uint64(32)
    r0, r1, r2, r3 = philox4x32(c0, c1, np.uint64(step) & mask, np.uint64(block) & mask, k0, k1)
    a = ((r0 << np.uint64(21)) ^ r1) & np.uint64((1 << 53) - 1)
    b = ((r2 << np.uint64(21)) ^ r3) & np.uint64((1 << 53) - 1)
    u1 = (float(a) + 1.0) * _TWO53  # (0, 1]
    u2 = float(b) * _TWO53  # [0, 1)
    r = math.sqrt(-2.0 * math.log(u1))
    return r * math.cos(2.0 * math.pi * u2), r * math.sin(2.0 * math.pi * u2)


@njit(cache=True)
def _key(seed):
    s = np.uint64(seed)
    return s & np.uint64(_MASK), s >> np.uint64(32)


@njit(cache=True, inline="always")
def fill_normals(out, k0, k1, first, step):
    """Fill ``out`` (n, d) with the normals of particles ``first .. first + n - 1`` at ``step``."""
    n, d = out.shape
    for r in range(n):
        for b in range((d + 1) // 2):
            z0, z1 = _normal_pair(k0, k1, first + r, step, b)
            out[r, 2 * b] = z0
            if 2 * b + 1 < d:
                out[r, 2 * b + 1] = z1


@njit(cache=True, parallel=True)
def _normals_parallel(seed, first, n, step, d):
    k0, k1 = _key(seed)
    out = np.empty((n, d))
    chunk = 256
    for c in prange((n + chunk - 1) // chunk):
        lo = c * chunk
        hi = min(n, lo + chunk)
        fill_normals(out[lo:hi], k0, k1, first + lo, step)
    return out


def normals(seed: int, first: int, n: int, step: int, dim: int) -> np.ndarray:
    r"""The standard normals of particles ``first .. first + n - 1`` at ``step``, shape ``(n, dim)``.

    Parameters
    ----------
    seed : int
        A non-negative integer below :math:`2^{64}`: the Philox key.
    first : int
        Index of the first particle (below :math:`2^{64}`).
    n, dim : int
    step : int
        The step index (below :math:`2^{32}`).
    """
    from ..errors import InputError

    for name, value, top in (("seed", seed, 2**64), ("first", first, 2**64), ("step", step, 2**32)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) < top:
            raise InputError(f"{name} must be an integer in [0, {top}), got {value!r}")
    if int(dim) < 1 or int(n) < 0:
        raise InputError(f"need n >= 0 and dim >= 1, got n = {n!r}, dim = {dim!r}")
    return _normals_parallel(np.uint64(seed), np.uint64(first), int(n), np.uint64(step), int(dim))


# ------------------------------------------------------------------------------- references


def philox4x32_reference(counter, key) -> tuple[int, int, int, int]:
    """Philox4x32-10 on Python integers (the algorithm as written in Random123's philox.h)."""
    c0, c1, c2, c3 = (int(x) for x in counter)
    k0, k1 = (int(x) for x in key)
    for _ in range(10):
        p0, p1 = _M0 * c0, _M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & _MASK, p1 & _MASK, ((p0 >> 32) ^ c3 ^ k1) & _MASK, p0 & _MASK
        k0, k1 = (k0 + _W0) & _MASK, (k1 + _W1) & _MASK
    return c0, c1, c2, c3


def normals_reference(seed: int, first: int, n: int, step: int, dim: int) -> np.ndarray:
    """:func:`normals` one variate pair at a time in Python (small n, tests)."""
    k = (seed & _MASK, seed >> 32)
    out = np.empty((n, dim))
    for r in range(n):
        i = first + r
        for b in range((dim + 1) // 2):
            w = philox4x32_reference((i & _MASK, i >> 32, step & _MASK, b & _MASK), k)
            a = ((w[0] << 21) ^ w[1]) & ((1 << 53) - 1)
            c = ((w[2] << 21) ^ w[3]) & ((1 << 53) - 1)
            u1, u2 = (a + 1) * _TWO53, c * _TWO53
            rad = math.sqrt(-2.0 * math.log(u1))
            out[r, 2 * b] = rad * math.cos(2.0 * math.pi * u2)
            if 2 * b + 1 < dim:
                out[r, 2 * b + 1] = rad * math.sin(2.0 * math.pi * u2)
    return out
