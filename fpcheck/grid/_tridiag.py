r""":math:`e^{\tau A} v` for a symmetric negative semi-definite tridiagonal :math:`A`, along one axis.

The solver needs :math:`e^{\tau A}` applied along one axis of a 1-3D array, with :math:`A` the
symmetrised finite-volume operator of that axis (:mod:`fpcheck.grid.operators`), for
:math:`\tau\|A\|` up to about :math:`10^6`.  With the order-16 CRAM approximation :math:`r` of
:mod:`fpcheck.grid._rational` in Pusa's incomplete partial factorisation (IPF),

.. math::
    y \leftarrow v, \qquad
    y \leftarrow y + 2\,\mathrm{Re}\big(\tilde c_j\,(\tau A - \theta_j I)^{-1} y\big)
    \quad (j = 1, \dots, 8), \qquad e^{\tau A} v \approx r_\infty\,y,

eight complex tridiagonal solves, one per pole in the upper half plane.  Their factorisations
depend only on :math:`(A, \tau, \theta_j)`, so they are computed once and shared by every line;
lines are processed eight side by side so that their recurrences overlap.  (The partial-fraction
form :math:`r_\infty v + 2\,\mathrm{Re}\sum_j c_j (\tau A - \theta_j I)^{-1} v` costs the same but
cancels: its error is 10-100 times larger; :func:`expm_tridiag_reference` keeps it for comparison.)

**Why no pivoting.**  Elimination on :math:`M = \tau A - \theta I` (``d``: diagonal, ``e``:
off-diagonal of :math:`A`) has pivots :math:`q_1 = \tau d_1 - \theta`,
:math:`q_k = \tau d_k - \theta - (\tau e_{k-1})^2 / q_{k-1}`.  Since :math:`(\tau e)^2 \ge 0`,
:math:`\mathrm{Im}\,q_k = -\mathrm{Im}\,\theta - (\tau e_{k-1})^2\,|\mathrm{Im}\,q_{k-1}|/|q_{k-1}|^2
\le -\mathrm{Im}\,\theta`, so :math:`|q_k| \ge \mathrm{Im}\,\theta_j \ge 1.19` for every real
symmetric :math:`A` and every :math:`\tau`: elimination never breaks down and no pivot is small.
For the five poles with :math:`\mathrm{Re}\,\theta_j \ge 0`, :math:`-M = (-\tau A + \mathrm{Re}\,
\theta\,I) + i\,\mathrm{Im}\,\theta\,I` has both parts symmetric positive (semi-)definite when
:math:`A \le 0`, and Gaussian elimination without pivoting is backward stable with growth factor
below 3 (N. J. Higham, "Factorizing complex symmetric matrices with positive definite real and
imaginary parts", Math. Comp. 67 (1998) 1591-1599).  The three poles with
:math:`\mathrm{Re}\,\theta_j < 0` are outside that theorem; for them the componentwise growth
:math:`\max_k (|q_k| + (\tau e_{k-1})^2/|q_{k-1}|) / |M_{kk}|` (1 means no growth; Higham, *Accuracy
and Stability of Numerical Algorithms*, sec. 9.6) was at most 2.8 over 600 random negative
semi-definite matrices (Laplacians with weights over six decades, symmetrised master equations,
shifted random matrices; :math:`n \le 300`, :math:`\|\tau A\|` from :math:`10^{-2}` to :math:`10^6`),
and at most 1.5 for the other five poles.  The forward error of the solves was that of LAPACK's
partially pivoted ``zgbsv`` (:func:`solve_shifted_reference`); the tests hold the kernels to it,
check their residuals, and hold the whole to exact results.

**Error.**  Against 34-digit eigendecompositions (mpmath; :math:`n = 32`, 18 matrices: Laplacians
with weights over three decades, symmetrised master equations with rates over up to four,
random negative semi-definite matrices; two vectors each), :math:`\|\hat y - e^{\tau A} v\|_2 /
\|v\|_2` was at most :math:`6.1u` for :math:`\tau\|A\| \le 1` and :math:`8.4u` at :math:`100`
(:math:`u = 2^{-53}`; the scalar :math:`r` alone is within
:data:`~fpcheck.grid._rational.UNIFORM_ERROR` :math:`= 2 \times 10^{-15}`),
:math:`680u` (:math:`0.07\,u\,\tau\|A\|`) at :math:`\tau\|A\| = 10^4` and :math:`3.9 \times 10^4 u`
(:math:`4.3 \times 10^{-12}`) at :math:`10^6`.  On the same cases ``scipy.linalg.expm`` erred by up to
:math:`31u`, :math:`1200u` and :math:`9.2 \times 10^4 u`, and the PF form by up to :math:`120u`,
:math:`3600u` and :math:`4.6 \times 10^5 u`.  The growth with :math:`\tau\|A\|` is not particular
to this method: for :math:`A \le 0` the relative condition number of :math:`e^{\tau A}` is about
:math:`\tau\|A\|`, so some :math:`u\,\tau\|A\|` is the price of rounding :math:`A`'s large entries.

The kernels are module-level ``@njit(cache=True)`` functions on plain arrays; each has a plain
NumPy/SciPy reference here (``*_reference``) that the tests hold it to.  Numba is imported with
this module, which :mod:`fpcheck` never imports eagerly.
"""

from __future__ import annotations

import operator

import numpy as np
from numba import njit, prange

from .. import _validation as val
from ..errors import InputError
from ._rational import POSITIVE_MARGIN, cram_coefficients, cram_pf_coefficients

__all__ = [
    "expm_tridiag",
    "expm_tridiag_lines",
    "expm_tridiag_lines_parallel",
    "solve_shifted_lines",
    "count_eigenvalues_above",
    "expm_tridiag_reference",
    "solve_shifted_reference",
    "count_eigenvalues_above_reference",
    "MAX_STIFFNESS",
    "MAX_ABS_V",
]

_U = float(np.finfo(float).eps) / 2

#: Largest :math:`\tau(\max|d| + 2\max|e|)` accepted (the error bound is meaningless long before).
#: It keeps the pivots finite whatever the matrix: :math:`|q_k| \le \tau|d_k| + |\theta| +
#: (\tau e_{k-1})^2/\mathrm{Im}\,\theta < 10^{100}`, so :math:`|q_k|^2` does not overflow.
MAX_STIFFNESS = 1e50

#: Largest :math:`\max|v|` accepted: the IPF intermediates reach :math:`1/r_\infty \approx 4.7 \times 10^{15}`
#: times the input.
MAX_ABS_V = 1e180

# Lines processed side by side in one block, so that their recurrences overlap in the pipeline.
# Measured while writing this module (256 lines of 256): 8 is 3-4x faster than one at a time, 16 only 9 %
# faster than 8, and the work arrays (3 n x 8 doubles) stay in cache up to n ~ 4096.
_BLOCK = 8


# --------------------------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _factor_shifted(d, e, tau, pole_re, pole_im):
    """Elimination of ``tau*A - theta_j I`` for every pole; arrays ``(n, p)``, poles innermost.

    Returns the real and imaginary parts of the reciprocal pivots ``1/q_k`` and of the
    multipliers ``l_k = tau e_k / q_k`` (row ``n - 1`` of the multipliers is unused).
    The reciprocal is ``conj(q)/|q|^2``: ``|q| >= Im(theta) > 1`` and ``|q| < 1e100`` (see
    ``MAX_STIFFNESS``), so ``|q|^2`` neither underflows nor overflows.
    """
    n = d.size
    p = pole_re.size
    inv_re = np.empty((n, p))
    inv_im = np.empty((n, p))
    mul_re = np.zeros((n, p))
    mul_im = np.zeros((n, p))
    a = tau * d[0]
    for j in range(p):
        qr = a - pole_re[j]
        qi = -pole_im[j]
        s = 1.0 / (qr * qr + qi * qi)
        inv_re[0, j] = qr * s
        inv_im[0, j] = -qi * s
    for k in range(1, n):
        b = tau * e[k - 1]
        bb = b * b
        a = tau * d[k]
        for j in range(p):
            wr = inv_re[k - 1, j]
            wi = inv_im[k - 1, j]
            mul_re[k - 1, j] = b * wr
            mul_im[k - 1, j] = b * wi
            qr = (a - pole_re[j]) - bb * wr
            qi = -pole_im[j] - bb * wi
            s = 1.0 / (qr * qr + qi * qi)
            inv_re[k, j] = qr * s
            inv_im[k, j] = -qi * s
    return inv_re, inv_im, mul_re, mul_im


@njit(cache=True)
def _ipf_block(e, tau, v_lines, i0, nb, inv_re, inv_im, mul_re, mul_im, c_re, c_im, r_inf, out, y, zr, zi, ur, ui):
    """Lines ``i0 .. i0 + nb - 1`` of ``v_lines``: the IPF steps, then ``out = r_inf * y``.

    Step ``j``: ``y <- y + 2 Re(c_j (tau A - theta_j)^{-1} y)`` (forward sweep into ``zr, zi``, back
    substitution folded into the update).  The ``nb`` lines of a block sit side by side in the work
    arrays ``y, zr, zi`` ``(n, width)`` and ``ur, ui`` ``(width,)``, innermost, so their independent
    recurrences overlap; each lane performs exactly the operations of a lone line, so the result
    does not depend on the blocking or on the number of threads (a test checks this).
    """
    n = v_lines.shape[1]
    p = c_re.size
    for k in range(n):
        for b in range(nb):
            y[k, b] = v_lines[i0 + b, k]
    for j in range(p):
        cr = c_re[j]
        ci = c_im[j]
        # forward sweep: z_0 = y_0, z_k = y_k - l_{k-1} z_{k-1}
        for b in range(nb):
            zr[0, b] = y[0, b]
            zi[0, b] = 0.0
        for k in range(1, n):
            lr = mul_re[k - 1, j]
            li = mul_im[k - 1, j]
            for b in range(nb):
                zr[k, b] = y[k, b] - (lr * zr[k - 1, b] - li * zi[k - 1, b])
                zi[k, b] = -(lr * zi[k - 1, b] + li * zr[k - 1, b])
        # back substitution u_k = (z_k - tau e_k u_{k+1}) / q_k, and y_k += 2 Re(c_j u_k)
        qr = inv_re[n - 1, j]
        qi = inv_im[n - 1, j]
        for b in range(nb):
            u1 = zr[n - 1, b] * qr - zi[n - 1, b] * qi
            u2 = zr[n - 1, b] * qi + zi[n - 1, b] * qr
            ur[b] = u1
            ui[b] = u2
            y[n - 1, b] += 2.0 * (cr * u1 - ci * u2)
        for k in range(n - 2, -1, -1):
            t = tau * e[k]
            qr = inv_re[k, j]
            qi = inv_im[k, j]
            for b in range(nb):
                s1 = zr[k, b] - t * ur[b]
                s2 = zi[k, b] - t * ui[b]
                u1 = s1 * qr - s2 * qi
                u2 = s1 * qi + s2 * qr
                ur[b] = u1
                ui[b] = u2
                y[k, b] += 2.0 * (cr * u1 - ci * u2)
    for b in range(nb):
        for k in range(n):
            out[i0 + b, k] = r_inf * y[k, b]


@njit(cache=True)
def _prepare(d, e, tau, poles, coefficients):
    p = poles.size
    pole_re = np.empty(p)
    pole_im = np.empty(p)
    c_re = np.empty(p)
    c_im = np.empty(p)
    for j in range(p):
        pole_re[j] = poles[j].real
        pole_im[j] = poles[j].imag
        c_re[j] = coefficients[j].real
        c_im[j] = coefficients[j].imag
    inv_re, inv_im, mul_re, mul_im = _factor_shifted(d, e, tau, pole_re, pole_im)
    return inv_re, inv_im, mul_re, mul_im, c_re, c_im


@njit(cache=True)
def _work_buffers(n, width):
    """Scratch arrays of one block of ``width`` lines of length ``n``: y, z (re, im), and two row buffers."""
    return np.empty((n, width)), np.empty((n, width)), np.empty((n, width)), np.empty(width), np.empty(width)


@njit(cache=True)
def expm_tridiag_lines(d, e, tau, v_lines, poles, coefficients, r_inf):
    r""":math:`r(\tau A)` applied to each row of ``v_lines``, in Pusa's incomplete partial factorisation.

    .. math::
        y \leftarrow v, \qquad
        y \leftarrow y + 2\,\mathrm{Re}\big(\tilde c_j\,(\tau A - \theta_j I)^{-1} y\big)
        \quad (j = 1, \dots, p), \qquad r(\tau A)\,v = r_\infty\,y.

    Parameters
    ----------
    d : float64 array (n,)
        Diagonal of the real symmetric tridiagonal :math:`A`.
    e : float64 array (n - 1,)
        Its off-diagonal.
    tau : float
        Time step :math:`\tau \ge 0`.
    v_lines : float64 array (m, n)
        ``m`` independent lines, each multiplied by :math:`r(\tau A)`.
    poles, coefficients : complex128 arrays (p,)
        :math:`\theta_j` (one of each conjugate pair) and :math:`\tilde c_j`, in step order
        (:func:`fpcheck.grid._rational.cram_coefficients`).
    r_inf : float
        :math:`r(\infty)`.

    Returns
    -------
    float64 array (m, n)

    Serial; :func:`expm_tridiag_lines_parallel` spreads the same blocks over threads and returns
    the same bits.  No checks: :func:`expm_tridiag` validates.
    """
    m, n = v_lines.shape
    out = np.empty((m, n))
    if m == 0 or n == 0:
        return out
    inv_re, inv_im, mul_re, mul_im, c_re, c_im = _prepare(d, e, tau, poles, coefficients)
    width = min(_BLOCK, m)
    y, zr, zi, ur, ui = _work_buffers(n, width)
    for i0 in range(0, m, width):
        nb = min(width, m - i0)
        _ipf_block(e, tau, v_lines, i0, nb, inv_re, inv_im, mul_re, mul_im, c_re, c_im, r_inf, out, y, zr, zi, ur, ui)
    return out


@njit(cache=True, parallel=True)
def expm_tridiag_lines_parallel(d, e, tau, v_lines, poles, coefficients, r_inf):
    """:func:`expm_tridiag_lines` with the blocks of lines spread over numba's threads (``prange``).

    Bitwise equal to the serial kernel for any number of threads.  On 2 idle cores it takes 0.52
    times as long for 256 lines of 256; with the other core busy (another process), its median
    call took 4-5 times *longer* than the serial kernel's, as the threads wait for each other.
    """
    m, n = v_lines.shape
    out = np.empty((m, n))
    if m == 0 or n == 0:
        return out
    inv_re, inv_im, mul_re, mul_im, c_re, c_im = _prepare(d, e, tau, poles, coefficients)
    width = min(_BLOCK, m)
    nblocks = (m + width - 1) // width
    for ib in prange(nblocks):
        i0 = ib * width
        nb = min(width, m - i0)
        y, zr, zi, ur, ui = _work_buffers(n, width)
        _ipf_block(e, tau, v_lines, i0, nb, inv_re, inv_im, mul_re, mul_im, c_re, c_im, r_inf, out, y, zr, zi, ur, ui)
    return out


@njit(cache=True)
def solve_shifted_lines(d, e, tau, z, rhs):
    r"""Solve :math:`(\tau A - z I)\,y = b` for every row ``b`` of ``rhs`` (Thomas algorithm, complex128).

    Parameters
    ----------
    d, e : float64 arrays (n,), (n - 1,)
        Diagonal and off-diagonal of the real symmetric tridiagonal :math:`A`.
    tau : float
        Scale of :math:`A`.
    z : complex
        The shift.  :math:`\mathrm{Im}\,z \ne 0` is required and not checked: then
        :math:`|q_k| \ge |\mathrm{Im}\,z|` and no pivot vanishes (module notes).
    rhs : complex128 array (m, n)

    Returns
    -------
    complex128 array (m, n)
    """
    m, n = rhs.shape
    out = np.empty((m, n), np.complex128)
    if m == 0 or n == 0:
        return out
    pole_re = np.empty(1)
    pole_im = np.empty(1)
    pole_re[0] = z.real
    pole_im[0] = z.imag
    inv_re, inv_im, mul_re, mul_im = _factor_shifted(d, e, tau, pole_re, pole_im)
    for i in range(m):
        b = rhs[i]
        y = out[i]
        y[0] = b[0]
        for k in range(1, n):
            y[k] = b[k] - complex(mul_re[k - 1, 0], mul_im[k - 1, 0]) * y[k - 1]
        y[n - 1] = y[n - 1] * complex(inv_re[n - 1, 0], inv_im[n - 1, 0])
        for k in range(n - 2, -1, -1):
            y[k] = (y[k] - (tau * e[k]) * y[k + 1]) * complex(inv_re[k, 0], inv_im[k, 0])
    return out


@njit(cache=True)
def count_eigenvalues_above(d, e, sigma):
    r"""The number of eigenvalues of the symmetric tridiagonal :math:`A` greater than ``sigma``.

    Sylvester's law of inertia on :math:`A - \sigma I = L D L^T`: the count of positive pivots
    :math:`q_1 = d_1 - \sigma`, :math:`q_k = d_k - \sigma - e_{k-1}^2/q_{k-1}`, with LAPACK's
    ``dlaebz`` guard (a pivot smaller than ``pivmin`` in modulus is replaced by ``-pivmin``, so an
    eigenvalue equal to ``sigma`` is not counted).  The count is exact for a matrix within a few
    units of rounding of :math:`A` (Kahan; Demmel, *Applied Numerical Linear Algebra*, sec. 5.3.4).
    """
    n = d.size
    if n == 0:
        return 0
    emax2 = 1.0
    for k in range(n - 1):
        if e[k] * e[k] > emax2:
            emax2 = e[k] * e[k]
    pivmin = 2.2250738585072014e-308 * emax2
    count = 0
    q = d[0] - sigma
    if abs(q) <= pivmin:
        q = -pivmin
    if q > 0.0:
        count += 1
    for k in range(1, n):
        q = (d[k] - sigma) - e[k - 1] * e[k - 1] / q
        if abs(q) <= pivmin:
            q = -pivmin
        if q > 0.0:
            count += 1
    return count


# --------------------------------------------------------------------------------------------
# Public wrapper
# --------------------------------------------------------------------------------------------


def _check_tridiagonal(d, e) -> tuple[np.ndarray, np.ndarray, float]:
    d = val.finite_array(d, "d", ndim=1)
    e = val.finite_array(e, "e", ndim=1)
    if d.size < 1:
        raise InputError("d (the diagonal of A) must have at least one entry")
    if e.size != d.size - 1:
        raise InputError(f"e (the off-diagonal of A) must have len(d) - 1 = {d.size - 1} entries, got {e.size}")
    scale = float(np.max(np.abs(d)) + 2.0 * (np.max(np.abs(e)) if e.size else 0.0))
    return np.ascontiguousarray(d), np.ascontiguousarray(e), scale


def _check_lines(v, n: int, axis) -> tuple[np.ndarray, int]:
    arr = np.asarray(v)
    if np.iscomplexobj(arr):
        raise InputError("v must be real; apply expm_tridiag to its real and imaginary parts separately")
    arr = val.finite_array(arr, "v")
    if arr.ndim < 1:
        raise InputError("v must have at least one dimension (the axis A acts along)")
    try:
        axis = operator.index(axis)
    except TypeError as exc:
        raise InputError(f"axis must be an integer, got {axis!r}") from exc
    if not -arr.ndim <= axis < arr.ndim:
        raise InputError(f"axis {axis} is out of range for v with {arr.ndim} dimension(s)")
    axis %= arr.ndim
    if arr.shape[axis] != n:
        raise InputError(f"v has {arr.shape[axis]} entries along axis {axis} but A is {n} x {n}; they must match")
    if arr.size and float(np.max(np.abs(arr))) > MAX_ABS_V:
        raise InputError(
            f"max|v| = {float(np.max(np.abs(arr))):.3g} exceeds {MAX_ABS_V:g}: the IPF steps grow "
            "intermediates by up to 5e15 and would overflow; rescale v"
        )
    return arr, axis


def _check_nsd(d, e, tau: float, scale: float) -> None:
    if tau == 0.0 or scale == 0.0:
        return
    sigma = max(POSITIVE_MARGIN / tau, 64.0 * _U * scale)
    above = int(count_eigenvalues_above(d, e, sigma))
    if above:
        raise InputError(
            f"A has {above} eigenvalue(s) above {sigma:.3g}, so tau * A has eigenvalues above "
            f"{POSITIVE_MARGIN:g}, where the rational approximation of exp does not hold; "
            "expm_tridiag needs A negative semi-definite (is the operator's sign flipped?)"
        )


def expm_tridiag(d, e, tau, v, axis: int = -1, *, parallel: bool = False) -> np.ndarray:
    r""":math:`e^{\tau A} v` along ``axis`` of ``v``, for a symmetric negative semi-definite tridiagonal :math:`A`.

    Every 1-D slice of ``v`` along ``axis`` is multiplied by :math:`r(\tau A) \approx e^{\tau A}`, the
    order-16 CRAM approximation (:mod:`fpcheck.grid._rational`), with eight shifted tridiagonal
    solves per slice (:func:`expm_tridiag_lines`).

    Parameters
    ----------
    d : array (n,)
        Diagonal of :math:`A`.
    e : array (n - 1,)
        Off-diagonal of :math:`A` (:math:`A_{k,k+1} = A_{k+1,k} = e_k`).
    tau : float
        :math:`\tau \ge 0`.
    v : real array of any number of dimensions, with ``v.shape[axis] == n``
    axis : int
        The axis :math:`A` acts along.
    parallel : bool
        Spread the slices over numba's threads (:func:`expm_tridiag_lines_parallel`); the result
        is bitwise the same.  Off by default: on 2 idle cores it is 1.9 times faster for 256 x 256,
        but when another process keeps a core busy, numba's OpenMP threads wait on each other and
        the median call became 5 times *slower* than the serial kernel
        (``benchmarks/bench_expm_tridiag.py``).

    Returns
    -------
    float64 array of ``v.shape``, C-contiguous, new.

    Raises
    ------
    InputError
        Shapes that do not match, NaN or inf, complex ``v``, :math:`\tau < 0`,
        :math:`\tau\|A\|` above :data:`MAX_STIFFNESS`, :math:`\max|v|` above :data:`MAX_ABS_V`, or
        :math:`\tau A` with an eigenvalue above :data:`~fpcheck.grid._rational.POSITIVE_MARGIN`
        (:math:`10^{-2}`; a Sturm count, :math:`O(n)`): :math:`A` must be negative semi-definite,
        up to rounding.

    Notes
    -----
    Error: measured up to :math:`8.4u\,\|v\|` per slice for :math:`\tau\|A\| \le 100`, and up to
    :math:`0.07\,u\,\tau\|A\|\,\|v\|` for stiff ones (module notes; :math:`u = 2^{-53}`).

    At :math:`\tau = 0` the result is :math:`r(0)\,v` up to rounding, not ``v`` itself:
    :math:`r_{16}(0) = 1 - 2.1 \times 10^{-16}`, and :math:`1 + 4.4 \times 10^{-16}` as evaluated in
    double precision (:func:`~fpcheck.grid._rational.rational_exp_scalar`).  There is no special
    case, so that :math:`\tau \mapsto r(\tau A)v` stays one smooth function.
    """
    d, e, scale = _check_tridiagonal(d, e)
    tau = val.positive(tau, "tau", allow_zero=True)
    arr, axis = _check_lines(v, d.size, axis)
    if tau * scale > MAX_STIFFNESS:
        raise InputError(
            f"tau * ||A|| = {tau * scale:.3g} exceeds {MAX_STIFFNESS:g}: the error, about u tau ||A||, "
            "would swamp the result; check tau and the scaling of A"
        )
    _check_nsd(d, e, tau, scale)
    poles, coefficients, r_inf = cram_coefficients()
    moved = np.moveaxis(arr, axis, -1)
    lines = np.ascontiguousarray(moved.reshape(-1, d.size))
    kernel = expm_tridiag_lines_parallel if parallel else expm_tridiag_lines
    out = kernel(d, e, tau, lines, poles, coefficients, r_inf)
    return np.ascontiguousarray(np.moveaxis(out.reshape(moved.shape), -1, axis))


# --------------------------------------------------------------------------------------------
# NumPy / SciPy references (tests and benchmarks only)
# --------------------------------------------------------------------------------------------


def _banded(d, e, tau, z) -> np.ndarray:
    n = d.size
    ab = np.zeros((3, n), dtype=np.complex128)
    ab[0, 1:] = tau * e
    ab[1] = tau * d - z
    ab[2, :-1] = tau * e
    return ab


def solve_shifted_reference(d, e, tau, z, rhs) -> np.ndarray:
    r"""Reference for :func:`solve_shifted_lines`: LAPACK ``zgbsv`` (partial pivoting) via ``scipy.linalg.solve_banded``."""
    from scipy.linalg import solve_banded

    d = np.asarray(d, dtype=float)
    e = np.asarray(e, dtype=float)
    rhs = np.asarray(rhs, dtype=np.complex128)
    y = solve_banded((1, 1), _banded(d, e, tau, z), rhs.T, check_finite=False)
    return np.ascontiguousarray(y.T)


def expm_tridiag_reference(d, e, tau, v, axis: int = -1, form: str = "ipf", order: int = 16) -> np.ndarray:
    r"""Reference for :func:`expm_tridiag`: the same :math:`r(\tau A)v` with one ``solve_banded`` per pole.

    All slices along ``axis`` are the right-hand sides of one banded solve with partial pivoting
    (LAPACK ``zgbsv``), so this shares the coefficients with the kernels but not the elimination.
    ``form="pf"`` evaluates the partial fractions instead (``order`` 16 or 14), for comparison.
    """
    d = np.asarray(d, dtype=float)
    e = np.asarray(e, dtype=float)
    v = np.asarray(v, dtype=float)
    moved = np.moveaxis(v, axis, -1)
    lines = moved.reshape(-1, d.size)
    if form == "ipf":
        poles, coefficients, r_inf = cram_coefficients()
        y = lines.copy()
        for z, c in zip(poles, coefficients):
            y = y + 2.0 * (c * solve_shifted_reference(d, e, tau, z, y)).real
        out = r_inf * y
    elif form == "pf":
        poles, residues, r_inf = cram_pf_coefficients(order)
        out = r_inf * lines
        for z, c in zip(poles, residues):
            out = out + 2.0 * (c * solve_shifted_reference(d, e, tau, z, lines)).real
    else:
        raise InputError(f"form must be 'ipf' or 'pf', got {form!r}")
    return np.ascontiguousarray(np.moveaxis(out.reshape(moved.shape), -1, axis))


def count_eigenvalues_above_reference(d, e, sigma: float) -> int:
    """Reference for :func:`count_eigenvalues_above`: ``scipy.linalg.eigvalsh_tridiagonal``."""
    from scipy.linalg import eigvalsh_tridiagonal

    d = np.asarray(d, dtype=float)
    e = np.asarray(e, dtype=float)
    lam = eigvalsh_tridiagonal(d, e) if d.size > 1 else d.copy()
    return int(np.count_nonzero(lam > sigma))
