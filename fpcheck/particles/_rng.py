r"""Counter-based normal variates: the same number for the same (seed, particle, index).

A simulation of ``n`` particles in ``d`` dimensions reads, for particle :math:`i`, one sequence of
standard normals :math:`z_i[j]`, :math:`j = 0, 1, 2, \dots`: the variate of step :math:`s` and
component :math:`c` is :math:`z_i[s d + c]`.  Instead of a stream (whose values depend on the order
in which particles are visited), each variate is a pure function of :math:`(\text{seed}, i, j)`.
The four variates of quad :math:`q = \lfloor j/4 \rfloor` come from Philox4x32-10 (Salmon, Moraes,
Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011) of the 128-bit counters

.. math::
    (i \bmod 2^{32},\ \lfloor i / 2^{32} \rfloor,\ q \bmod 2^{32},\
     \lfloor q / 2^{32} \rfloor + 2^{16} a), \qquad a = 0, 1, \dots

under the 64-bit key ``seed``.  The four 32-bit words :math:`w` of each call give two candidate
pairs of uniforms :math:`u = (w + \tfrac12) 2^{-31} - 1` in :math:`(-1, 1)`; Marsaglia's polar
method accepts a candidate when :math:`s = u^2 + v^2 < 1` (probability :math:`\pi/4`) and turns it
into the two independent normals

.. math::
    u \sqrt{-2\log s / s}, \qquad v \sqrt{-2\log s / s};

the quad is the first two accepted candidates in the order of the calls :math:`a = 0, 1, \dots`
(1.27 calls a quad on average).  No sine or cosine, and every accepted candidate is used: a 1D
Euler-Maruyama step costs a quarter of a quad.  The uniforms' resolution :math:`2^{-31}` bounds
the normals by :math:`|z| \le 9.3` (a tail of probability :math:`2 \times 10^{-20}`) and moves
their cdf by less than :math:`10^{-9}`, far below what any sample can detect.

So a run gives bitwise identical results on one thread or two, and in any chunking of the
particles.  Philox4x32-10 passes TestU01's BigCrush (the paper above); the tests hold this
implementation to Random123's known-answer vectors and check the normals' moments, their
distribution and the absence of correlation across particles, steps and components.  Quad
indices go up to :math:`2^{48}` (steps times dimension below :math:`2^{50}`).

The kernels are ``@njit(cache=True)`` functions; :func:`philox4x32_reference` and
:func:`normals_reference` are plain Python/NumPy versions the tests hold them to.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "philox4x32",
    "normal_quad",
    "normal_at",
    "normals",
    "normals_reference",
    "philox4x32_reference",
    "fill_normals",
]

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK = 0xFFFFFFFF
_TWO31 = 2.0**-31  # (w + 0.5) 2^-31 - 1 maps 32-bit words w into (-1, 1)
_QUAD_HIGH_MASK = 0xFFFF  # quad indices below 2^48
_CALL_SHIFT = 16
_MAX_INDEX = 2**50  # variate indices j = step * dim + component


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
def _polar(w0, w1):
    """Marsaglia's polar step on two 32-bit words: (accepted, z0, z1)."""
    u = (float(w0) + 0.5) * _TWO31 - 1.0
    v = (float(w1) + 0.5) * _TWO31 - 1.0
    s = u * u + v * v
    if s < 1.0:
        f = math.sqrt(-2.0 * math.log(s) / s)
        return True, u * f, v * f
    return False, 0.0, 0.0


@njit(cache=True, inline="always")
def normal_quad(k0, k1, i, q):
    """Variates ``4q .. 4q + 3`` of particle ``i``: the first two pairs the polar method accepts."""
    mask = np.uint64(_MASK)
    c0 = np.uint64(i) & mask
    c1 = np.uint64(i) >> np.uint64(32)
    c2 = np.uint64(q) & mask
    c3 = (np.uint64(q) >> np.uint64(32)) & np.uint64(_QUAD_HIGH_MASK)
    call = np.uint64(0)
    have = False
    z0 = z1 = 0.0
    while True:
        r0, r1, r2, r3 = philox4x32(c0, c1, c2, c3 | (call << np.uint64(_CALL_SHIFT)), k0, k1)
        ok, y0, y1 = _polar(r0, r1)
        if ok:
            if have:
                return z0, z1, y0, y1
            z0, z1, have = y0, y1, True
        ok, y0, y1 = _polar(r2, r3)
        if ok:
            if have:
                return z0, z1, y0, y1
            z0, z1, have = y0, y1, True
        call += np.uint64(1)


@njit(cache=True, inline="always")
def normal_at(k0, k1, i, j):
    """Variate ``j`` of particle ``i`` (random access; sequential readers take a whole quad)."""
    z = normal_quad(k0, k1, i, np.uint64(j) >> np.uint64(2))
    return z[np.uint64(j) & np.uint64(3)]


@njit(cache=True)
def _key(seed):
    s = np.uint64(seed)
    return s & np.uint64(_MASK), s >> np.uint64(32)


@njit(cache=True, inline="always")
def fill_normals(out, k0, k1, first, step):
    """Fill ``out`` (n, d) with the variates ``step * d + c`` of particles ``first .. first + n - 1``."""
    n, d = out.shape
    j0 = np.uint64(step) * np.uint64(d)
    three = np.uint64(3)
    for r in range(n):
        i = np.uint64(first) + np.uint64(r)
        c = 0
        while c < d:
            j = j0 + np.uint64(c)
            z = normal_quad(k0, k1, i, j >> np.uint64(2))
            for slot in range(int(j & three), 4):
                if c < d:
                    out[r, c] = z[slot]
                    c += 1


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
        The step index (below :math:`2^{32}`): the variates ``step * dim + c`` of each particle.
    """
    from ..errors import InputError

    for name, value, top in (("seed", seed, 2**64), ("first", first, 2**64), ("step", step, 2**32)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) < top:
            raise InputError(f"{name} must be an integer in [0, {top}), got {value!r}")
    if int(dim) < 1 or int(n) < 0:
        raise InputError(f"need n >= 0 and dim >= 1, got n = {n!r}, dim = {dim!r}")
    if (int(step) + 1) * int(dim) > _MAX_INDEX:
        raise InputError(f"step * dim must stay below 2^50, got step {step} in dimension {dim}")
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


def _quad_reference(k: tuple[int, int], i: int, q: int) -> list[float]:
    z: list[float] = []
    call = 0
    while True:
        counter = (i & _MASK, i >> 32, q & _MASK, ((q >> 32) & _QUAD_HIGH_MASK) | (call << _CALL_SHIFT))
        w = philox4x32_reference(counter, k)
        for w0, w1 in ((w[0], w[1]), (w[2], w[3])):
            u, v = (w0 + 0.5) * _TWO31 - 1.0, (w1 + 0.5) * _TWO31 - 1.0
            s = u * u + v * v
            if s < 1.0:
                f = math.sqrt(-2.0 * math.log(s) / s)
                z += [u * f, v * f]
                if len(z) == 4:
                    return z
        call += 1


def normals_reference(seed: int, first: int, n: int, step: int, dim: int) -> np.ndarray:
    """:func:`normals` one variate at a time in Python (small n, tests)."""
    k = (seed & _MASK, seed >> 32)
    out = np.empty((n, dim))
    for r in range(n):
        for c in range(dim):
            j = step * dim + c
            out[r, c] = _quad_reference(k, first + r, j >> 2)[j & 3]
    return out
