r"""Exponentially fitted (Scharfetter-Gummel) finite-volume operators along one axis.

On cells of width :math:`h` with centres :math:`x_i`, the equation
:math:`\partial_t q = -\partial_x(f q) + D\,\partial_x^2 q` becomes
:math:`\dot q_i = (F_{i-1/2} - F_{i+1/2})/h` with the face flux

.. math::
    F_{i+1/2} = \frac{D}{h}\Big[\mathcal{B}(-P_{i+1/2})\,q_i - \mathcal{B}(P_{i+1/2})\,q_{i+1}\Big],
    \qquad \mathcal{B}(z) = \frac{z}{e^z - 1}, \qquad P_{i+1/2} = \frac{f_{i+1/2}\,h}{D},

and zero flux through the outer faces.  The flux vanishes exactly when
:math:`q_{i+1}/q_i = e^{P_{i+1/2}}`, so with the face drift of a potential,
:math:`f_{i+1/2} = -(U_{i+1} - U_i)/h`, the discrete stationary state is the discrete Boltzmann
density :math:`\pi_i \propto e^{-U_i/D}` exactly; for linear drifts :math:`-\lambda(x - \mu)` the face
value :math:`f(x_{i+1/2})` is that difference quotient.  Columns sum to zero (mass is conserved),
off-diagonal entries are positive (positivity), and the scheme is second order in :math:`h`.

Detailed balance makes :math:`S = \Pi^{-1/2} L\,\Pi^{1/2}` symmetric, with off-diagonal
:math:`\frac{D}{h^2}\,\frac{P/2}{\sinh(P/2)}` and the same diagonal as :math:`L`; :math:`S` is negative
semi-definite, so :math:`e^{\tau L} = \Pi^{1/2} e^{\tau S}\,\Pi^{-1/2}` is computed on :math:`S`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validation as val
from ..errors import InputError

__all__ = ["bernoulli", "AxisOperator", "fitted_operator", "CirculantOperator"]


def bernoulli(z) -> np.ndarray:
    r"""The Bernoulli function :math:`\mathcal{B}(z) = z/(e^z - 1)`, :math:`\mathcal{B}(0) = 1`, without cancellation."""
    z = np.asarray(z, dtype=float)
    small = np.abs(z) < 1e-4
    zs = np.where(small, 1.0, z)
    with np.errstate(over="ignore"):
        big = zs / np.expm1(zs)
    return np.where(small, 1.0 - z / 2.0 + z * z / 12.0, big)


def _sinhc_inv(z) -> np.ndarray:
    r""":math:`(z/2)/\sinh(z/2)`, the symmetric off-diagonal factor, without overflow."""
    z = 0.5 * np.abs(np.asarray(z, dtype=float))
    small = z < 1e-4
    zs = np.where(small, 1.0, z)
    with np.errstate(under="ignore"):
        # z / sinh z = 2 z e^{-z} / (1 - e^{-2z})
        big = 2.0 * zs * np.exp(-zs) / -np.expm1(-2.0 * zs)
    return np.where(small, 1.0 - z * z / 6.0, big)


@dataclass(frozen=True)
class AxisOperator:
    r"""A fitted finite-volume operator :math:`L` along one axis, with its symmetrisation.

    Attributes
    ----------
    lower, diag, upper : arrays
        The tridiagonal :math:`L` (``lower[i] = L[i+1, i]``, ``upper[i] = L[i, i+1]``).
    sym_offdiag : array (n - 1,)
        Off-diagonal of :math:`S = \Pi^{-1/2} L \Pi^{1/2}` (its diagonal is ``diag``).
    log_pi : array (n,)
        :math:`\log\pi_i` of the discrete equilibrium, normalised so that :math:`\sum_i \pi_i h = 1`.
    """

    lower: np.ndarray
    diag: np.ndarray
    upper: np.ndarray
    sym_offdiag: np.ndarray
    log_pi: np.ndarray

    def matvec(self, q: np.ndarray) -> np.ndarray:
        """:math:`L q` for a vector of cell averages (a plain NumPy reference for tests)."""
        out = self.diag * q
        out[:-1] += self.upper * q[1:]
        out[1:] += self.lower * q[:-1]
        return out

    def dense(self) -> np.ndarray:
        """:math:`L` as a dense matrix (small grids, tests)."""
        return np.diag(self.diag) + np.diag(self.upper, 1) + np.diag(self.lower, -1)


def fitted_operator(face_drift, diffusion: float, h: float) -> AxisOperator:
    r"""The Scharfetter-Gummel operator for face drifts :math:`f_{i+1/2}` (``n - 1`` interior faces).

    Parameters
    ----------
    face_drift : array (n - 1,)
        Drift at the interior faces; for a potential, use :math:`-(U_{i+1} - U_i)/h` so that the
        discrete Boltzmann density is stationary exactly.
    diffusion : float
        :math:`D = g^2/2 > 0`.
    h : float
        Cell width.
    """
    f = val.finite_array(face_drift, "face_drift", ndim=1)
    D = val.positive(diffusion, "diffusion")
    h = val.positive(h, "h")
    if f.size < 1:
        raise InputError("an axis needs at least two cells")
    P = f * h / D
    k = D / (h * h)
    up = k * bernoulli(P)  # L[i, i+1]: inflow from the right neighbour
    lo = k * bernoulli(-P)  # L[i+1, i]: inflow from the left neighbour
    diag = np.zeros(f.size + 1)
    diag[:-1] -= lo  # outflow to the right
    diag[1:] -= up  # outflow to the left
    log_pi = np.concatenate([[0.0], np.cumsum(P)])
    log_pi -= log_pi.max()
    with np.errstate(under="ignore"):
        log_pi -= np.log(np.sum(np.exp(log_pi)) * h)
    return AxisOperator(lo, diag, up, k * _sinhc_inv(P), log_pi)


@dataclass(frozen=True)
class CirculantOperator:
    r"""The drift-free finite-volume operator :math:`D\,\delta_h^2` on a periodic axis of ``n`` cells.

    It is circulant, :math:`(Lq)_i = \frac{D}{h^2}(q_{i-1} - 2q_i + q_{i+1})` with indices mod
    :math:`n`, so the discrete Fourier modes diagonalise it with eigenvalues
    :math:`\lambda_m = -\frac{4D}{h^2}\sin^2(\pi m/n)` and
    :math:`e^{\tau L} q = \mathcal{F}^{-1}\big(e^{\tau\lambda_m}\,\mathcal{F} q\big)`: exact up to the
    rounding of the FFT (:math:`O(u \log n)`), mass conserving (:math:`\lambda_0 = 0`).

    Attributes
    ----------
    diffusion : float
        :math:`D > 0`.
    h : float
        Cell width.
    n : int
        Number of cells.
    log_pi : array (n,)
        The (uniform) discrete equilibrium, :math:`\log(1/(nh))`.
    """

    diffusion: float
    h: float
    n: int

    @property
    def log_pi(self) -> np.ndarray:
        return np.full(self.n, -np.log(self.n * self.h))

    def eigenvalues(self) -> np.ndarray:
        """:math:`\\lambda_m` for the ``n // 2 + 1`` modes of a real FFT."""
        m = np.arange(self.n // 2 + 1)
        return -4.0 * self.diffusion / self.h**2 * np.sin(np.pi * m / self.n) ** 2

    def expm_apply(self, q: np.ndarray, tau: float, axis: int = -1) -> np.ndarray:
        r""":math:`e^{\tau L} q` along ``axis`` of ``q``."""
        shape = [1] * q.ndim
        shape[axis] = -1
        with np.errstate(under="ignore"):
            factor = np.exp(tau * self.eigenvalues()).reshape(shape)
        return np.fft.irfft(np.fft.rfft(q, axis=axis) * factor, n=self.n, axis=axis)

    def dense(self) -> np.ndarray:
        """:math:`L` as a dense matrix (small grids, tests)."""
        k = self.diffusion / self.h**2
        L = -2.0 * k * np.eye(self.n) + k * np.eye(self.n, k=1) + k * np.eye(self.n, k=-1)
        L[0, -1] += k
        L[-1, 0] += k
        return L
