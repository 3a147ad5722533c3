r"""The best rational approximation of :math:`e^x` on :math:`(-\infty, 0]`: CRAM of order 16.

The Chebyshev rational approximation method (CRAM) uses the type :math:`(k, k)` rational function
:math:`r_k` of best uniform approximation to :math:`e^x` on the negative real axis (Cody, Meinardus
and Varga 1969; error :math:`\approx 9.28903^{-k}`, Gonchar and Rakhmanov 1987).  Two forms of the
same :math:`r_{16}` are kept here, both with its eight poles :math:`\theta_j` in the upper half plane
(the other eight are their conjugates):

* the **partial fractions** (PF), :math:`r(x) = r_\infty + 2\,\mathrm{Re}\sum_j c_j/(x - \theta_j)`;
* the **incomplete partial factorisation** (IPF) of Pusa (2016), a product of real degree-(2, 2)
  factors, evaluated as :math:`y_0 = 1`, :math:`y_j = y_{j-1} + 2\,\mathrm{Re}\big(\tilde c_j\,
  y_{j-1}/(x - \theta_j)\big)`, :math:`r(x) = r_\infty\,y_8`.

Both cost eight complex shifted solves when :math:`x` is a matrix (:mod:`fpcheck.grid._tridiag`).
The solver uses the IPF form, because it is far more accurate in floating point: the PF residues
reach :math:`|c_j| = 234`, so the sum cancels (:math:`\sum_j 2|c_j/(x - \theta_j)|` is up to 136 for
a result of size 1) and its double-precision error is :math:`3.3 \times 10^{-14}`; the IPF steps
do not cancel, and its error is :math:`1.9 \times 10^{-15}`.  Applied to matrices the gap is larger
still: against 40-digit eigendecompositions, PF lost 10 to 100 times more than IPF for
:math:`\tau\|A\|` from 1 to :math:`10^6` (and IPF was as accurate as ``scipy.linalg.expm``).

**Sources.**  PF, orders 14 and 16: M. Pusa, "Correction to partial fraction decomposition
coefficients for Chebyshev rational approximation on the negative real axis", arXiv:1206.2880
(2012), 20 significant digits, copied as printed (``transmutagen``'s
``transmutagen/tests/pusa_coeffs.py`` holds the same digits).  IPF, order 16: M. Pusa,
"Higher-order Chebyshev rational approximation method and application to burnup equations",
Nucl. Sci. Eng. 182 (2016) 297-318, with 16 significant digits as listed in OpenMC's
``openmc/deplete/cram.py`` (``c16_alpha``, ``c16_theta``, ``c16_alpha0``; the step order matters and is
kept).  The Carathéodory-Fejér route (Trefethen, Weideman and Schmelzer, BIT 46 (2006), ``cf.m``)
gives near-best poles of the same kind; CRAM is the best approximation itself and is published,
so no algorithm runs here.

**Verification** (while writing this module, at 40 digits with mpmath; ``tests/test_grid_rational.py``
repeats the high-precision checks on a coarser grid and re-measures the double-precision ones).
The error of the exact :math:`r_k` equioscillates, and its level is :math:`r_\infty` itself, since
:math:`e^{-\infty} = 0`: :math:`2.12 \times 10^{-16}` for :math:`k = 16` and :math:`1.83 \times 10^{-14}`
for :math:`k = 14`.  Pusa's 20-digit PF coefficients reach it (:math:`\max|r - e^x| = 2.129 \times
10^{-16}` on 4000 points of :math:`[-10^6, 0]`), and the IPF coefficients differ from them by at
most :math:`1.7 \times 10^{-16}`: the two tables, from two papers, describe the same function (the
poles agree to 15-16 digits).  Rounded to double, the coefficients themselves define slightly
different functions: :math:`4.5 \times 10^{-16}` from :math:`e^x` for IPF, but :math:`5.1 \times
10^{-15}` for PF, whose residues (up to 234) amplify their own rounding.

In double precision rounding dominates: :data:`UNIFORM_ERROR` is the measured
:math:`\max|r(x) - e^x|` of :func:`rational_exp_scalar` (IPF) on :math:`x = 0` and :math:`10^6`
log-spaced points of :math:`[-10^6, -10^{-16}]` (:func:`uniform_error`); it is attained near
:math:`x = 0`, and for :math:`x < -10` the error is the exact one, about :math:`2 \times 10^{-16}`,
so stiff modes are damped to the rounding level.  The same bound holds on :math:`[0, 10^{-2}]`
(:data:`POSITIVE_MARGIN`), which lets a computed operator's tiny positive eigenvalues through.

Note that :math:`r(0) \ne 1`: :math:`r_{16}(0) = 1 - 2.13 \times 10^{-16}` exactly, and the
double-precision IPF evaluation gives :math:`1 + 4.4 \times 10^{-16}` (PF: :math:`1 - 6.9 \times
10^{-15}`), so :math:`e^{0 \cdot A} v` comes back as :math:`r(0)\,v`, not :math:`v`.

All poles have :math:`\mathrm{Im}\,\theta_j \ge 1.194`, so :math:`\tau A - \theta_j I` is never
singular for real symmetric :math:`A`; three of the eight have :math:`\mathrm{Re}\,\theta_j < 0`
(see :mod:`fpcheck.grid._tridiag` for what that means for the solves).  The IPF intermediates
grow up to :math:`1/r_\infty \approx 4.7 \times 10^{15}` times the input (at :math:`x = 0`).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = [
    "ORDER",
    "EXACT_ERROR",
    "UNIFORM_ERROR",
    "PF_UNIFORM_ERROR",
    "POSITIVE_MARGIN",
    "cram_coefficients",
    "cram_pf_coefficients",
    "rational_exp_scalar",
    "uniform_error",
]

#: Degree :math:`k` of the approximation the solver uses (numerator and denominator).
ORDER = 16

#: IPF form, order 16, Pusa (2016) as listed in OpenMC: poles :math:`\theta_j`, coefficients
#: :math:`\tilde c_j`, in the order of the steps, and :math:`r_\infty`.
_IPF16 = (
    (
        (3.509103608414918, 8.436198985884374),
        (5.948152268951177, 3.587457362018322),
        (-5.264971343442647, 16.22022147316793),
        (1.419375897185666, 10.92536348449672),
        (6.416177699099435, 1.194122393370139),
        (4.993174737717997, 5.996881713603942),
        (-1.413928462488886, 13.49772569889275),
        (-10.84391707869699, 19.27744616718165),
    ),
    (
        (5.464930576870210e3, -3.797983575308356e4),
        (9.045112476907548e1, -1.115537522430261e3),
        (2.344818070467641e2, -4.228020157070496e2),
        (9.453304067358312e1, -2.951294291446048e2),
        (7.283792954673409e2, -1.205646080220011e5),
        (3.648229059594851e1, -1.155509621409682e2),
        (2.547321630156819e1, -2.639500283021502e1),
        (2.394538338734709e1, -5.650522971778156e0),
    ),
    2.124853710495224e-16,
)

#: PF form, Pusa (2012): poles :math:`\theta_j` (upper half plane), residues :math:`c_j`, and
#: :math:`r_\infty`, for :math:`r(x) = r_\infty + 2\,\mathrm{Re}\sum_j c_j / (x - \theta_j)`; kept as
#: the printed 20-digit strings, so that high-precision checks can use every digit.
_PUSA = {
    16: (
        (
            ("-1.0843917078696988026e1", "1.9277446167181652284e1"),
            ("-5.2649713434426468895e0", "1.6220221473167927305e1"),
            ("5.9481522689511774808e0", "3.5874573620183222829e0"),
            ("3.5091036084149180974e0", "8.4361989858843750826e0"),
            ("6.4161776990994341923e0", "1.1941223933701386874e0"),
            ("1.4193758971856659786e0", "1.0925363484496722585e1"),
            ("4.9931747377179963991e0", "5.9968817136039422260e0"),
            ("-1.4139284624888862114e0", "1.3497725698892745389e1"),
        ),
        (
            ("-5.0901521865224915650e-7", "-2.4220017652852287970e-5"),
            ("2.1151742182466030907e-4", "4.3892969647380673918e-3"),
            ("1.1339775178483930527e2", "1.0194721704215856450e2"),
            ("1.5059585270023467528e1", "-5.7514052776421819979e0"),
            ("-6.4500878025539646595e1", "-2.2459440762652096056e2"),
            ("-1.4793007113557999718e0", "1.7686588323782937906e0"),
            ("-6.2518392463207918892e1", "-1.1190391094283228480e1"),
            ("4.1023136835410021273e-2", "-1.5743466173455468191e-1"),
        ),
        "2.1248537104952237488e-16",
    ),
    # Order 14, kept for comparison (a test checks its error level): 7 solves instead of 8, but
    # an error of 1.8e-14 that reaches every mode, stiff ones included.
    14: (
        (
            ("-8.8977731864688888199e0", "1.6630982619902085304e1"),
            ("-3.7032750494234480603e0", "1.3656371871483268171e1"),
            ("-2.087586382501301251e-1", "1.0991260561901260913e1"),
            ("3.9933697105785685194e0", "6.0048316422350373178e0"),
            ("5.0893450605806245066e0", "3.5888240290270065102e0"),
            ("5.6231425727459771248e0", "1.1940690463439669766e0"),
            ("2.2697838292311127097e0", "8.4617379730402214019e0"),
        ),
        (
            ("-7.1542880635890672853e-5", "1.4361043349541300111e-4"),
            ("9.4390253107361688779e-3", "-1.7184791958483017511e-2"),
            ("-3.7636003878226968717e-1", "3.3518347029450104214e-1"),
            ("-2.3498232091082701191e1", "-5.8083591297142074004e0"),
            ("4.6933274488831293047e1", "4.5643649768827760791e1"),
            ("-2.7875161940145646468e1", "-1.0214733999056451434e2"),
            ("4.8071120988325088907e0", "-1.3209793837428723881e0"),
        ),
        "1.8321743782540412751e-14",
    ),
}

#: Error level of the exact :math:`r_{16}`: equal to :math:`r_\infty` (equioscillation).
EXACT_ERROR = float(_PUSA[16][2])

#: Measured :math:`\max_{x \le 0}|r_{16}(x) - e^x|` of :func:`rational_exp_scalar` (IPF) in double
#: precision: :func:`uniform_error` with its defaults gives 1.89e-15; rounded up.
UNIFORM_ERROR = 2.0e-15

#: The same for the PF form (``uniform_error(form="pf")``: 3.32e-14; order 14: 3.22e-14).
PF_UNIFORM_ERROR = 3.4e-14

#: :math:`r_{16}` (IPF) still approximates :math:`e^x` to :data:`UNIFORM_ERROR` for
#: :math:`0 \le x \le` this (measured: :math:`1.8 \times 10^{-15}` on :math:`[0, 10^{-2}]`, but
#: :math:`1.9 \times 10^{-14}` on :math:`[0, 0.1]`), so eigenvalues of :math:`\tau A` up to it are accepted.
POSITIVE_MARGIN = 1e-2


def _pairs(values) -> np.ndarray:
    return np.array([complex(float(re), float(im)) for re, im in values], dtype=np.complex128)


def cram_coefficients() -> tuple[np.ndarray, np.ndarray, float]:
    r"""Poles, IPF coefficients and :math:`r_\infty` of :math:`r_{16}` in Pusa's incomplete partial factorisation.

    .. math::
        r(x) = r_\infty \prod_{j=1}^{8} \Big(1 + 2\,\mathrm{Re}\,\frac{\tilde c_j}{x - \theta_j}\Big),

    evaluated step by step in the order given (the factors commute in exact arithmetic, not in
    floating point).

    Returns
    -------
    poles : complex array (8,)
        :math:`\theta_j`, one of each conjugate pair (:math:`\mathrm{Im}\,\theta_j > 0`).
    coefficients : complex array (8,)
        :math:`\tilde c_j` (not the residues of :math:`r`: see :func:`cram_pf_coefficients`).
    r_inf : float
        :math:`r(\pm\infty)`.

    Fresh arrays on each call, so a caller may modify them.
    """
    poles, coefficients, r_inf = _IPF16
    return _pairs(poles), _pairs(coefficients), float(r_inf)


def cram_pf_coefficients(order: int = ORDER) -> tuple[np.ndarray, np.ndarray, float]:
    r"""Poles, residues and :math:`r_\infty` of :math:`r_k` in partial fractions (Pusa 2012).

    .. math::
        r(x) = r_\infty + 2\,\mathrm{Re} \sum_{j=1}^{k/2} \frac{c_j}{x - \theta_j}.

    Parameters
    ----------
    order : {16, 14}

    Returns
    -------
    poles, residues : complex arrays (k/2,)
        :math:`\theta_j` (:math:`\mathrm{Im}\,\theta_j > 0`) and the residue :math:`c_j` of :math:`r` there.
    r_inf : float
    """
    if order not in _PUSA:
        raise InputError(f"order must be one of {sorted(_PUSA)}, got {order!r}")
    poles, residues, r_inf = _PUSA[order]
    return _pairs(poles), _pairs(residues), float(r_inf)


def rational_exp_scalar(x, form: str = "ipf", order: int = ORDER) -> np.ndarray:
    r""":math:`r_k(x)` for real :math:`x` (elementwise), in the IPF form (default) or the PF form.

    The scalar counterpart of :func:`fpcheck.grid._tridiag.expm_tridiag`, which performs the same
    steps with :math:`x` replaced by :math:`\tau A`; for tests and for measuring the error.  The IPF
    form (order 16 only) is accurate to :data:`UNIFORM_ERROR` against :math:`e^x` for
    :math:`x \le` :data:`POSITIVE_MARGIN`; the PF form to :data:`PF_UNIFORM_ERROR`.
    """
    x = np.asarray(x, dtype=float)
    if form == "ipf":
        if order != ORDER:
            raise InputError(f"the IPF form is available for order {ORDER} only, got {order!r}")
        poles, coefficients, r_inf = cram_coefficients()
        y = np.ones_like(x)
        for theta, c in zip(poles, coefficients):
            y = y + 2.0 * (c * y / (x - theta)).real
        return r_inf * y
    if form == "pf":
        poles, residues, r_inf = cram_pf_coefficients(order)
        terms = residues / (x[..., None] - poles)
        return r_inf + 2.0 * terms.sum(axis=-1).real
    raise InputError(f"form must be 'ipf' or 'pf', got {form!r}")


def uniform_error(form: str = "ipf", order: int = ORDER, *, points: int = 10**6, lo: float = 1e6) -> float:
    r"""Measured :math:`\max|r_k(x) - e^x|` over :math:`x = 0` and ``points`` log-spaced :math:`x` in :math:`[-lo, -10^{-16}]`.

    This is how :data:`UNIFORM_ERROR` and :data:`PF_UNIFORM_ERROR` were obtained.  Beyond
    :math:`-10^6` every step is within :math:`10^{-5}` of 1 and the error only approaches
    :math:`r_\infty`; above :math:`-10^{-16}`, :math:`e^x = 1` in double precision.
    """
    x = -np.concatenate([[0.0], np.logspace(-16.0, np.log10(lo), points)])
    err = 0.0
    for chunk in np.array_split(x, max(1, points // 50_000)):
        with np.errstate(under="ignore"):
            err = max(err, float(np.max(np.abs(rational_exp_scalar(chunk, form, order) - np.exp(chunk)))))
    return err
