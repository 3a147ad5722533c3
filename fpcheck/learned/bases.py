r"""Feature families for models that are linear in their parameters (MATH.md section 4).

A basis is a family of scalar features :math:`\psi_j(x, t)`, :math:`j = 1..J`,
:math:`x \in \mathbb{R}^d`, :math:`t \in [t_{\min}, t_{\max}]`.  The models built on it are

.. math::
    s(x, t) = \sum_j \theta_j \nabla_x \psi_j(x, t)
    \quad\text{(a score, or Action Matching's velocity } \nabla s_t,\ s_t = \textstyle\sum_j \theta_j \psi_j),
    \qquad s_i(x, t) = \sum_j \theta_{ij} \psi_j(x, t)\quad\text{(a vector model)},

and their objectives (ESM, ISM, DSM, AM, FM) need, at :math:`n` points with one time each,

* :meth:`Basis.values` :math:`\psi_j(x_r, t_r)`, shape ``(n, J)``;
* :meth:`Basis.gradients` :math:`\nabla_x \psi_j`, shape ``(n, J, d)``;
* :meth:`Basis.laplacians` :math:`\Delta_x \psi_j`, shape ``(n, J)``;
* :meth:`Basis.time_derivatives` :math:`\partial_t \psi_j`, shape ``(n, J)``;

or several of them in one pass, :meth:`Basis.evaluate`.  The families:

======================  =====================================================  =============================
basis                   :math:`\psi_j(x, t)`                                    :math:`J`
======================  =====================================================  =============================
:class:`RBF`            :math:`\exp(-|x - c_j|^2 / 2 w_j^2)`                    :math:`m`
:class:`ScaledRBF`      :math:`\exp(-|x - c_j|^2 / 2 w_j^2 \sigma(t)^2)`        :math:`m`
:class:`Polynomial`     :math:`\prod_i z_i^{\alpha_i}`, :math:`1 \le |\alpha| \le p`  :math:`\binom{d+p}{d} - 1`
:class:`Chebyshev`      :math:`T_k(u)`, :math:`k = 0..p`                        :math:`p + 1`
:class:`Legendre`       :math:`P_k(u)`, :math:`k = 0..p`                        :math:`p + 1`
:class:`InverseSpread`  :math:`r_i^2 / (a_t^2 r_i^2 + s_t^2)`                   :math:`k`
:class:`Tensor`         :math:`\rho_a(x, t)\, \pi_b(x, t)`                      :math:`J_\rho J_\pi`
:class:`Concat`         the columns of each basis, side by side                :math:`\sum_i J_i`
======================  =====================================================  =============================

with :math:`z = (x - x_0)/L` and the mapped time
:math:`u = (2t - t_{\min} - t_{\max})/(t_{\max} - t_{\min}) \in [-1, 1]`.

The Gaussian bumps (:class:`RBF`, :class:`ScaledRBF`, and their :class:`Tensor` products with
:class:`Chebyshev` or :class:`Legendre`) are evaluated by one Numba kernel
(:mod:`fpcheck.learned._bases`, compiled on first use, in parallel over points for large
batches); everything else is vectorised NumPy.  :meth:`Basis.reference` is the plain NumPy
evaluation, written independently of the kernel, which the tests hold it to (round-off:
:math:`\sim 10^{-14}` relative).

Times: ``t`` is a float (one time for all points) or an array ``(n,)`` (one per point), and must
lie in the basis's :attr:`Basis.t_range`; bases that do not depend on time accept any finite
``t``, or ``t=None``.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .. import _validation as val
from ..errors import InputError

__all__ = [
    "OUTPUTS",
    "Features",
    "Basis",
    "RBF",
    "ScaledRBF",
    "Polynomial",
    "Chebyshev",
    "Legendre",
    "Tensor",
    "Concat",
    "Centred",
    "InverseSpread",
    "signal_fraction",
    "spread",
]

#: The quantities a basis evaluates, in the order of :class:`Features`.
OUTPUTS = ("values", "gradients", "laplacians", "time_derivatives")

#: Below this many feature entries (points x features) the compiled kernel runs on one thread
#: (starting threads costs tens of microseconds, more on a busy machine).
SERIAL_BELOW = 1 << 15


class Features(NamedTuple):
    r"""Features and their derivatives at ``n`` points; ``None`` for what was not asked.

    Attributes
    ----------
    values : array (n, J) or None
        :math:`\psi_j(x_r, t_r)`.
    gradients : array (n, J, d) or None
        :math:`\partial \psi_j / \partial x_e`.
    laplacians : array (n, J) or None
        :math:`\sum_e \partial^2 \psi_j / \partial x_e^2`.
    time_derivatives : array (n, J) or None
        :math:`\partial \psi_j / \partial t`.
    """

    values: np.ndarray | None
    gradients: np.ndarray | None
    laplacians: np.ndarray | None
    time_derivatives: np.ndarray | None


def _which(which) -> tuple[str, ...]:
    if isinstance(which, str):
        which = (which,)
    try:
        names = tuple(which)
    except TypeError:
        raise InputError(f"which must be a name or a sequence of names from {OUTPUTS}, got {which!r}") from None
    bad = [w for w in names if w not in OUTPUTS]
    if bad:
        raise InputError(f"unknown output(s) {bad}: choose from {OUTPUTS}")
    return tuple(w for w in OUTPUTS if w in names)


def _owned(a) -> np.ndarray:
    """A fresh C-contiguous, writable float64 copy: the one array type the kernel is compiled for."""
    return np.array(a, dtype=float, order="C")


def _integer(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {int(value)}")
    return int(value)


def _t_range(t_range, name: str = "t_range") -> tuple[float, float]:
    arr = val.finite_array(t_range, name)
    if arr.shape != (2,) or not arr[0] < arr[1]:
        raise InputError(f"{name} must be a pair (t_min, t_max) with t_min < t_max, got {t_range!r}")
    return float(arr[0]), float(arr[1])


def _common_dim(bases: Sequence[Basis], what: str) -> int | None:
    dims = {b.dim for b in bases if b.dim is not None}
    if len(dims) > 1:
        raise InputError(f"{what} needs bases of one dimension, got dimensions {sorted(dims)}: {list(bases)!r}")
    return dims.pop() if dims else None


def _common_t_range(bases: Sequence[Basis], what: str) -> tuple[float, float]:
    lo = max(b.t_range[0] for b in bases)
    hi = min(b.t_range[1] for b in bases)
    if not lo < hi:
        raise InputError(
            f"{what}: the time ranges {[b.t_range for b in bases]} do not overlap; build the bases on a common t_range"
        )
    return lo, hi


class Basis(ABC):
    r"""A family of :math:`J` scalar features :math:`\psi_j(x, t)` with their derivatives.

    Attributes
    ----------
    dim : int or None
        The dimension :math:`d` of :math:`x`, or ``None`` for a basis of :math:`t` alone, which
        takes points of any dimension (its gradients and Laplacians are zero).
    size : int
        :math:`J`, the number of features.
    t_range : (float, float)
        The times the basis is defined on; ``(-inf, inf)`` for bases constant in time.
    depends_on_x, depends_on_t : bool
        Whether any feature varies with :math:`x` (with :math:`t`); derivatives along the other
        are exact zeros.
    """

    dim: int | None = None
    size: int = 0
    t_range: tuple[float, float] = (-np.inf, np.inf)
    depends_on_x: bool = True
    depends_on_t: bool = False

    # ---- public API: checked arguments --------------------------------------------------------

    def evaluate(self, x, t=None, which: str | Sequence[str] = OUTPUTS) -> Features:
        r"""Several of the features' quantities in one pass (sharing the exponentials of the bumps).

        Parameters
        ----------
        x : array_like (n, d)
            Points; ``(n,)`` is read as ``n`` points when ``d = 1``.
        t : float or array_like (n,), optional
            One time for all points, or one per point, inside :attr:`t_range`; may be omitted
            for a basis constant in time.
        which : str or sequence of str
            Any of :data:`OUTPUTS`: ``"values"``, ``"gradients"``, ``"laplacians"``,
            ``"time_derivatives"``.

        Returns
        -------
        Features
            The asked quantities (shapes ``(n, J)``, ``(n, J, d)``); ``None`` for the others.

        Raises
        ------
        InputError
            ``x`` not ``(n, d)`` or not finite; ``t`` not a float or ``(n,)``, not finite, or
            outside :attr:`t_range`; an unknown name in ``which``.
        """
        which = _which(which)
        x, t = self._check(x, t)
        out = self._compute(x, t, which, True)
        return Features(*(out.get(name) for name in OUTPUTS))

    def reference(self, x, t=None, which: str | Sequence[str] = OUTPUTS) -> Features:
        """:meth:`evaluate` in plain NumPy, never compiled: the reference the kernels are tested against."""
        which = _which(which)
        x, t = self._check(x, t)
        out = self._compute(x, t, which, False)
        return Features(*(out.get(name) for name in OUTPUTS))

    def values(self, x, t=None) -> np.ndarray:
        r""":math:`\psi_j(x_r, t_r)`, shape ``(n, J)``."""
        return self.evaluate(x, t, "values").values

    def gradients(self, x, t=None) -> np.ndarray:
        r""":math:`\nabla_x \psi_j(x_r, t_r)`, shape ``(n, J, d)``."""
        return self.evaluate(x, t, "gradients").gradients

    def laplacians(self, x, t=None) -> np.ndarray:
        r""":math:`\Delta_x \psi_j(x_r, t_r)`, shape ``(n, J)``."""
        return self.evaluate(x, t, "laplacians").laplacians

    def time_derivatives(self, x, t=None) -> np.ndarray:
        r""":math:`\partial_t \psi_j(x_r, t_r)`, shape ``(n, J)``."""
        return self.evaluate(x, t, "time_derivatives").time_derivatives

    # ---- checks ------------------------------------------------------------------------------

    def _check(self, x, t) -> tuple[np.ndarray, np.ndarray | None]:
        """``x`` as an owned ``(n, d)`` float array and ``t`` as an owned ``(n,)`` array (or None)."""
        arr = val.finite_array(x, "x")
        if arr.ndim == 1:
            if self.dim is None or self.dim == 1:
                arr = arr[:, None]
            elif arr.shape[0] == self.dim:
                arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] < 1 or (self.dim is not None and arr.shape[1] != self.dim):
            want = f"(n, {self.dim})" if self.dim is not None else "(n, d)"
            raise InputError(f"x must have shape {want} for {self!r}, got shape {np.shape(x)}")
        x = _owned(arr)
        n = x.shape[0]
        if t is None:
            if self.depends_on_t:
                raise InputError(f"{self!r} depends on t: pass t, a float or an array of shape ({n},)")
            return x, None
        times = val.finite_array(t, "t")
        if times.ndim == 0:
            times = np.full(n, float(times))
        elif times.shape != (n,):
            raise InputError(
                f"t must be a float or an array of shape (n,) = ({n},), one time per point of x; "
                f"got shape {times.shape}"
            )
        lo, hi = self.t_range
        if n and (times.min() < lo or times.max() > hi):
            raise InputError(
                f"t must lie in the time range [{lo:g}, {hi:g}] of {self!r}, got values in "
                f"[{times.min():g}, {times.max():g}]; pass times inside it or build the basis on a wider t_range"
            )
        return x, _owned(times)

    # ---- implementation ----------------------------------------------------------------------

    @abstractmethod
    def _compute(self, x: np.ndarray, t: np.ndarray | None, which: tuple[str, ...], compiled: bool) -> dict:
        """The asked quantities (exactly the keys in ``which``) at checked points and times.

        ``compiled`` chooses the Numba kernel where one exists (else NumPy).  ``t`` is None only
        for a basis that does not depend on time.
        """

    def _zeros(self, name: str, x: np.ndarray) -> np.ndarray:
        n, d = x.shape
        return np.zeros((n, self.size, d) if name == "gradients" else (n, self.size))


# ---------------------------------------------------------------------------------------------
# Gaussian bumps


def _centres(centres) -> np.ndarray:
    c = val.finite_array(centres, "centres")
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise InputError(
            f"centres must have shape (m, d) with m >= 1 (for 1-D data pass centres[:, None]), got shape {c.shape}"
        )
    return c


def _widths(widths, m: int, name: str = "widths") -> np.ndarray:
    w = val.finite_array(widths, name)
    if w.ndim == 0:
        w = np.full(m, float(w))
    elif w.shape != (m,):
        raise InputError(
            f"{name} must be a float or an array of shape (m,) = ({m},), one per centre; got shape {w.shape}"
        )
    if np.any(w <= 0):
        raise InputError(f"{name} must be > 0, got {w.min():g}")
    return w


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, order="C")
    a.flags.writeable = False
    return a


def _gauss_reference(x, centres, widths, sigma, dsigma, which) -> dict:
    r"""NumPy :math:`\phi = \exp(-r^2 / 2W^2)`, :math:`W = w\sigma`, and its derivatives, all points at once.

    ``sigma`` and ``dsigma`` are ``(n,)`` arrays or None (:math:`\sigma = 1`, :math:`\sigma' = 0`).
    :math:`\partial_t\phi = \phi\, r^2 \sigma' / (w^2 \sigma^3)`.
    """
    n, d = x.shape
    diff = x[:, None, :] - centres[None, :, :]  # (n, m, d)
    r2 = np.sum(diff * diff, axis=2)
    w2 = np.broadcast_to(widths**2, r2.shape)
    big_w2 = w2 if sigma is None else w2 * (sigma**2)[:, None]
    phi = np.exp(-r2 / (2.0 * big_w2))
    out = {}
    if "values" in which:
        out["values"] = phi
    if "gradients" in which:
        out["gradients"] = -diff / big_w2[:, :, None] * phi[:, :, None]
    if "laplacians" in which:
        out["laplacians"] = (r2 / big_w2 - d) / big_w2 * phi
    if "time_derivatives" in which:
        if sigma is None:
            out["time_derivatives"] = np.zeros_like(phi)
        else:
            out["time_derivatives"] = phi * r2 * dsigma[:, None] / (w2 * (sigma**3)[:, None])
    return out


def _run_kernel(x, centres, inv_w2, scale, rate, u, du, rec, which) -> dict:
    """The compiled bumps (times the recurrence polynomials ``rec``) for the outputs in ``which``."""
    from ._bases import features, features_serial

    n, d = x.shape
    ra, rb, rc = rec
    size = centres.shape[0] * (ra.shape[0] + 1)
    v = np.empty((n, size)) if "values" in which else np.empty((0, 0))
    g = np.empty((n, size, d)) if "gradients" in which else np.empty((0, 0, 0))
    lap = np.empty((n, size)) if "laplacians" in which else np.empty((0, 0))
    dt = np.empty((n, size)) if "time_derivatives" in which else np.empty((0, 0))
    kernel = features_serial if n * size < SERIAL_BELOW else features
    du = np.broadcast_to(np.asarray(du, dtype=float), (n,))
    kernel(x, centres, inv_w2, scale, rate, u, _owned(du), ra, rb, rc, v, g, lap, dt)
    arrays = {"values": v, "gradients": g, "laplacians": lap, "time_derivatives": dt}
    return {name: arrays[name] for name in which}


_NO_POLYNOMIAL = (np.empty(0), np.empty(0), np.empty(0))


class RBF(Basis):
    r"""Gaussian bumps in :math:`x`, constant in time.

    .. math::
        \psi_j(x) = \exp\!\Big(-\frac{|x - c_j|^2}{2 w_j^2}\Big), \qquad
        \nabla\psi_j = -\frac{x - c_j}{w_j^2}\,\psi_j, \qquad
        \Delta\psi_j = \Big(\frac{|x - c_j|^2}{w_j^4} - \frac{d}{w_j^2}\Big)\psi_j, \qquad
        \partial_t\psi_j = 0 .

    Parameters
    ----------
    centres : array_like (m, d)
        The centres :math:`c_j`.
    widths : float or array_like (m,)
        The widths :math:`w_j > 0` (standard deviations, in units of :math:`x`).

    Notes
    -----
    Unnormalised (:math:`\psi_j(c_j) = 1`).  Evaluated by the compiled kernel of
    :mod:`fpcheck.learned._bases`: :math:`m` exponentials per point, shared by every output of
    one :meth:`~Basis.evaluate` call.  Far from every centre the features underflow to zero
    (:math:`|x - c| > 38 w`), so points should lie within a few widths of some centre.

    Examples
    --------
    >>> basis = RBF([[0.0], [1.0]], 0.5)
    >>> basis.values([[0.0]]).round(4)
    array([[1.    , 0.1353]])
    """

    def __init__(self, centres, widths=1.0):
        c = _centres(centres)
        self.centres = _readonly(c)
        self.widths = _readonly(_widths(widths, c.shape[0]))
        self.dim, self.size = c.shape[1], c.shape[0]
        self._inv_w2 = _owned(1.0 / self.widths**2)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(m={self.size}, dim={self.dim})"

    def _compute(self, x, t, which, compiled):
        if not compiled:
            return _gauss_reference(x, self.centres, self.widths, None, None, which)
        asked = tuple(w for w in which if w != "time_derivatives")
        n = x.shape[0]
        ones, zeros = np.ones(n), np.zeros(n)
        out = _run_kernel(x, self.centres, self._inv_w2, ones, zeros, zeros, 0.0, _NO_POLYNOMIAL, asked)
        if "time_derivatives" in which:
            out["time_derivatives"] = self._zeros("time_derivatives", x)
        return out

    def _kernel_args(self, x, t, which):
        n = x.shape[0]
        return self.centres, self._inv_w2, np.ones(n), np.zeros(n)

    @classmethod
    def from_data(
        cls, x, m: int, *, width_factor: float = 1.0, lloyd_steps: int = 5, seed: int | None = 0
    ) -> RBF:
        r"""Bumps placed on samples: k-means++ seeding, then Lloyd steps; widths from the spacing.

        1. **Seeding** (k-means++, Arthur & Vassilvitskii 2007): the first centre is a sample
           drawn uniformly; each next one is a sample drawn with probability proportional to
           :math:`D(x)^2`, its squared distance to the nearest centre chosen so far.  This
           spreads the centres over the data, tails included.
        2. **Lloyd steps**: ``lloyd_steps`` times, each centre moves to the mean of the samples
           nearest to it (a centre with none stays), towards a centroidal placement.
        3. **Widths**: :math:`w_j = \text{width\_factor} \times \min_{k \ne j} |c_j - c_k|`, the
           distance to the nearest other centre, so bumps overlap their neighbours wherever the
           centres are (finer where the data are dense).  With ``m = 1``,
           :math:`w = \text{width\_factor} \times \sqrt{\overline{|x - c|^2} / d}`.

        Parameters
        ----------
        x : array_like (n, d)
            Samples (``(n,)`` for 1-D data).
        m : int
            Number of centres, at most the number of distinct samples.
        width_factor : float
            Widths in units of the nearest-neighbour spacing; 1 to 2 gives smooth fits.
        lloyd_steps : int
            Lloyd iterations after the seeding (0: the centres are samples).
        seed : int or None
            Seed of the generator that draws the seeding; a fixed seed gives the same centres.

        Returns
        -------
        RBF

        Notes
        -----
        Cost :math:`O(n d)` per seeding step and :math:`O(n m d)` per Lloyd step, in NumPy; the
        Lloyd steps go through the samples in chunks of about :math:`2^{22}` sample-centre pairs
        (32 MiB per coordinate).
        """
        data = val.finite_array(x, "x")
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 1:
            raise InputError(f"x must have shape (n, d) with n >= 1, got shape {np.shape(x)}")
        m = _integer(m, "m", 1)
        steps = _integer(lloyd_steps, "lloyd_steps", 0)
        factor = val.positive(width_factor, "width_factor")
        rng = np.random.default_rng(seed)
        n = data.shape[0]
        centres = np.empty((m, data.shape[1]))
        centres[0] = data[rng.integers(n)]
        d2 = np.sum((data - centres[0]) ** 2, axis=1)
        for j in range(1, m):
            total = d2.sum()
            if not total > 0:
                raise InputError(f"x has only {j} distinct point(s), fewer than m = {m} centres; lower m")
            centres[j] = data[rng.choice(n, p=d2 / total)]
            np.minimum(d2, np.sum((data - centres[j]) ** 2, axis=1), out=d2)
        for _ in range(steps):
            label = _nearest(data, centres)
            counts = np.bincount(label, minlength=m)
            sums = np.zeros_like(centres)
            np.add.at(sums, label, data)
            filled = counts > 0
            centres[filled] = sums[filled] / counts[filled, None]
        if m == 1:
            width = np.sqrt(np.mean(np.sum((data - centres[0]) ** 2, axis=1)) / data.shape[1])
            if not width > 0:
                raise InputError("x has a single distinct point: there is no spread to set the width from")
            widths = np.array([factor * width])
        else:
            gap = np.sqrt(np.sum((centres[:, None, :] - centres[None, :, :]) ** 2, axis=2))
            np.fill_diagonal(gap, np.inf)
            nearest = gap.min(axis=1)
            if not np.all(nearest > 0):
                raise InputError("two centres coincide after the Lloyd steps; lower m or pass lloyd_steps=0")
            widths = factor * nearest
        return cls(centres, widths)

    @classmethod
    def on_grid(cls, bounds, counts, width_factor: float = 1.0) -> RBF:
        r"""Bumps on a tensor grid: ``counts[i]`` equispaced centres on ``[lo_i, hi_i]``, ends included.

        Parameters
        ----------
        bounds : sequence of (lo, hi) pairs, one per axis (a single pair for 1-D)
        counts : int or sequence of int
            Centres per axis (each >= 2); an int is used on every axis.
        width_factor : float
            The common width :math:`w = \text{width\_factor} \times \max_i h_i`, with the spacing
            :math:`h_i = (hi_i - lo_i)/(\text{counts}_i - 1)`.

        Returns
        -------
        RBF
            :math:`\prod_i \text{counts}_i` centres, the last axis varying fastest.
        """
        arr = val.finite_array(bounds, "bounds")
        if arr.ndim == 1 and arr.shape[0] == 2:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
            raise InputError(f"bounds must be a sequence of (lo, hi) pairs, one per axis; got shape {np.shape(bounds)}")
        d = arr.shape[0]
        for j, (lo, hi) in enumerate(arr):
            if not lo < hi:
                raise InputError(f"bounds[{j}] = ({lo:g}, {hi:g}) needs lo < hi")
        if isinstance(counts, (int, np.integer)) and not isinstance(counts, bool):
            counts = [counts] * d
        try:
            counts = [_integer(c, f"counts[{j}]", 2) for j, c in enumerate(counts)]
        except TypeError:
            raise InputError(f"counts must be an int or a sequence of ints, got {counts!r}") from None
        if len(counts) != d:
            raise InputError(f"counts has {len(counts)} entries but bounds has {d} axes")
        factor = val.positive(width_factor, "width_factor")
        axes = [np.linspace(lo, hi, c) for (lo, hi), c in zip(arr, counts)]
        centres = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
        spacing = max((hi - lo) / (c - 1) for (lo, hi), c in zip(arr, counts))
        return cls(centres, factor * spacing)


def _nearest(data: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of each sample, in chunks of about 4M distances."""
    n = data.shape[0]
    chunk = max(1, (1 << 22) // centres.shape[0])
    label = np.empty(n, dtype=np.intp)
    for lo in range(0, n, chunk):
        block = data[lo : lo + chunk]
        d2 = np.sum((block[:, None, :] - centres[None, :, :]) ** 2, axis=2)
        label[lo : lo + chunk] = np.argmin(d2, axis=1)
    return label


class ScaledRBF(Basis):
    r"""Gaussian bumps whose widths scale with a function of time, :math:`w_j \sigma(t)`.

    .. math::
        \psi_j(x, t) = \exp\!\Big(-\frac{q_j}{2}\Big), \qquad
        q_j = \frac{|x - c_j|^2}{w_j^2 \sigma(t)^2},

    with :math:`W_j = w_j \sigma(t)`:

    .. math::
        \nabla\psi_j = -\frac{x - c_j}{W_j^2}\psi_j, \qquad
        \Delta\psi_j = \frac{q_j - d}{W_j^2}\psi_j, \qquad
        \partial_t\psi_j = -\tfrac12 \partial_t q_j\, \psi_j
          = q_j\, \frac{\sigma'(t)}{\sigma(t)}\, \psi_j
          = \frac{|x - c_j|^2 \sigma'(t)}{w_j^2 \sigma(t)^3}\, \psi_j .

    The score of diffused data sharpens like :math:`1/s_t` as :math:`t \to 0` (MATH.md section 1),
    which bumps of a fixed width cannot follow; with :math:`\sigma(t)` tracking the spread of
    :math:`q_t` (for VP data of spread :math:`r_0`, :math:`\sigma(t) = \sqrt{a_t^2 r_0^2 + s_t^2}`
    from ``process.kernel(t)``, and :math:`\sigma' = (a \dot a r_0^2 + \tfrac12 \dot{(s^2)})/\sigma`
    from ``process.kernel_derivative(t)``) they keep their size relative to it.

    Parameters
    ----------
    centres : array_like (m, d)
        The centres :math:`c_j` (fixed in time).
    widths : float or array_like (m,)
        :math:`w_j > 0`, the widths where :math:`\sigma = 1`.
    sigma, dsigma : callable
        :math:`\sigma(t) > 0` and :math:`\sigma'(t)`, vectorised: called with an array of times
        ``(n,)``, each returns an array broadcastable to ``(n,)``.  ``dsigma`` must be the
        derivative of ``sigma``; only the time derivatives depend on it.
    t_range : (float, float), optional
        Where ``sigma`` may be called; default any finite time.

    Raises
    ------
    InputError
        From an evaluation where ``sigma`` or ``dsigma`` returns a wrong shape, NaN or inf, or
        ``sigma <= 0``, naming the time.
    """

    depends_on_t = True

    def __init__(
        self,
        centres,
        widths,
        sigma: Callable[[np.ndarray], np.ndarray],
        dsigma: Callable[[np.ndarray], np.ndarray],
        t_range: tuple[float, float] | None = None,
    ):
        c = _centres(centres)
        self.centres = _readonly(c)
        self.widths = _readonly(_widths(widths, c.shape[0]))
        for fn, name in ((sigma, "sigma"), (dsigma, "dsigma")):
            if not callable(fn):
                raise InputError(f"{name} must be a vectorised callable of t, got {type(fn).__name__}")
        self.sigma, self.dsigma = sigma, dsigma
        self.t_range = (-np.inf, np.inf) if t_range is None else _t_range(t_range)
        self.dim, self.size = c.shape[1], c.shape[0]
        self._inv_w2 = _owned(1.0 / self.widths**2)

    def __repr__(self) -> str:
        return f"ScaledRBF(m={self.size}, dim={self.dim}, t_range={self.t_range})"

    def _call(self, fn, name: str, t: np.ndarray) -> np.ndarray:
        value = fn(t)
        try:
            out = np.broadcast_to(np.asarray(value, dtype=float), t.shape)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{name} must return an array broadcastable to the shape of t, {t.shape}; got "
                f"{type(value).__name__} of shape {np.shape(value)}"
            ) from exc
        bad = ~np.isfinite(out) | ((out <= 0) if name == "sigma" else False)
        if np.any(bad):
            k = int(np.argmax(bad))
            need = "finite and > 0" if name == "sigma" else "finite"
            raise InputError(f"{name}(t) must be {need}; it returned {out[k]:.6g} at t = {t[k]:.6g}")
        return _owned(out)

    def _sigmas(self, t, which) -> tuple[np.ndarray, np.ndarray | None]:
        s = self._call(self.sigma, "sigma", t)
        ds = self._call(self.dsigma, "dsigma", t) if "time_derivatives" in which else None
        return s, ds

    def _kernel_args(self, x, t, which):
        s, ds = self._sigmas(t, which)
        rate = ds / s if ds is not None else np.zeros_like(s)
        return self.centres, self._inv_w2, _owned(1.0 / s**2), _owned(rate)

    def _compute(self, x, t, which, compiled):
        if not compiled:
            s, ds = self._sigmas(t, which)
            return _gauss_reference(x, self.centres, self.widths, s, ds, which)
        centres, inv_w2, scale, rate = self._kernel_args(x, t, which)
        return _run_kernel(x, centres, inv_w2, scale, rate, np.zeros(x.shape[0]), 0.0, _NO_POLYNOMIAL, which)


# ---------------------------------------------------------------------------------------------
# Polynomials in x


class Polynomial(Basis):
    r"""Monomials in :math:`x` up to a total degree, constant in time.

    .. math::
        \psi_\alpha(x) = \prod_{i=1}^d z_i^{\alpha_i}, \qquad z = (x - x_0)/L, \qquad
        \partial_e \psi_\alpha = \frac{\alpha_e}{L_e} z_e^{\alpha_e - 1} \prod_{i \ne e} z_i^{\alpha_i}, \qquad
        \Delta \psi_\alpha = \sum_e \frac{\alpha_e(\alpha_e - 1)}{L_e^2} z_e^{\alpha_e - 2}
            \prod_{i \ne e} z_i^{\alpha_i},

    for every multi-index with :math:`\text{lo} \le |\alpha| \le \text{degree}`, lo = 0 with
    ``constant=True`` and 1 otherwise: a model built on gradients (a score, an AM velocity) does
    not see the constant, and a constant column makes its normal equations singular.

    Parameters
    ----------
    dim : int
        :math:`d \ge 1`.
    degree : int
        The largest total degree :math:`|\alpha|` (>= 1, or >= 0 with ``constant=True``).
    constant : bool
        Include :math:`\psi = 1`.
    centre : float or array_like (d,)
        :math:`x_0`; shift and scale keep :math:`|z| \lesssim 1` on the data so the features
        stay of one size (conditioning).
    scale : float or array_like (d,)
        :math:`L > 0`.

    Attributes
    ----------
    exponents : int array (J, d)
        :math:`\alpha` of each feature, by total degree, then in the order of
        :func:`itertools.combinations_with_replacement` (in 2-D: :math:`x, y, x^2, xy, y^2, \dots`).
        :math:`J = \binom{d + p}{d}` with the constant, one less without.
    """

    def __init__(self, dim: int, degree: int, *, constant: bool = False, centre=0.0, scale=1.0):
        self.dim = _integer(dim, "dim", 1)
        self.constant = bool(constant)
        self.degree = _integer(degree, "degree", 0 if self.constant else 1)
        self.centre = _readonly(self._per_axis(centre, "centre"))
        sc = self._per_axis(scale, "scale")
        if np.any(sc <= 0):
            raise InputError(f"scale must be > 0, got {sc.min():g}")
        self.scale = _readonly(sc)
        rows = []
        for p in range(0 if self.constant else 1, self.degree + 1):
            for combo in itertools.combinations_with_replacement(range(self.dim), p):
                rows.append(np.bincount(np.array(combo, dtype=np.intp), minlength=self.dim))
        self.exponents = np.array(rows, dtype=np.intp).reshape(-1, self.dim)
        self.exponents.flags.writeable = False
        self.size = self.exponents.shape[0]

    def _per_axis(self, value, name: str) -> np.ndarray:
        arr = val.finite_array(value, name)
        if arr.ndim == 0:
            return np.full(self.dim, float(arr))
        if arr.shape != (self.dim,):
            raise InputError(f"{name} must be a float or an array of shape ({self.dim},), got shape {arr.shape}")
        return arr

    def __repr__(self) -> str:
        return f"Polynomial(dim={self.dim}, degree={self.degree}, constant={self.constant})"

    def _compute(self, x, t, which, compiled):
        n, d = x.shape
        E = self.exponents  # (J, d)
        z = (x - self.centre) / self.scale
        # powers[r, i, k] = z_ri^k for k = 0..degree (k = degree + 1 stays 0 for the shifted indices)
        powers = np.zeros((n, d, self.degree + 1))
        powers[:, :, 0] = 1.0
        for k in range(1, self.degree + 1):
            powers[:, :, k] = powers[:, :, k - 1] * z
        axes = np.arange(d)
        factor = powers[:, axes[None, :], E]  # (n, J, d): z_i^{alpha_i}
        out = {}
        if "values" in which:
            out["values"] = np.prod(factor, axis=2)
        if "gradients" in which or "laplacians" in which:
            # the product over the other axes, without dividing by z_e (which may be 0)
            others = np.empty_like(factor)
            for e in range(d):
                others[:, :, e] = np.prod(np.delete(factor, e, axis=2), axis=2)
        if "gradients" in which:
            first = E * powers[:, axes[None, :], np.maximum(E - 1, 0)] / self.scale  # alpha_e z_e^(alpha_e-1) / L_e
            out["gradients"] = first * others
        if "laplacians" in which:
            second = E * (E - 1) * powers[:, axes[None, :], np.maximum(E - 2, 0)] / self.scale**2
            out["laplacians"] = np.sum(second * others, axis=2)
        if "time_derivatives" in which:
            out["time_derivatives"] = self._zeros("time_derivatives", x)
        return out


# ---------------------------------------------------------------------------------------------
# Functions of time from a process's kernel


def _check_warp(warp):
    if warp is None:
        return None
    try:
        g, dg = warp
    except (TypeError, ValueError):
        raise InputError("warp must be a pair of vectorised callables (g, dg), e.g. signal_fraction(process)") from None
    if not (callable(g) and callable(dg)):
        raise InputError("warp must be a pair of vectorised callables (g, dg), e.g. signal_fraction(process)")
    return g, dg


def _kernel_terms(process, t):
    """``(a, da, s2, ds2)`` of an affine process's kernel at times ``t``, as arrays of its shape."""
    from ..processes import AffineProcess

    if not isinstance(process, AffineProcess):
        raise InputError(f"needs an affine process (VP, sub-VP, VE, OU), got {type(process).__name__}")
    t = np.asarray(t, dtype=float)
    k, dk = process.kernel(t), process.kernel_derivative(t)
    return tuple(np.broadcast_to(np.asarray(v, dtype=float), t.shape) for v in (k.a, dk.a, k.s2, dk.s2))


def signal_fraction(process) -> tuple[Callable, Callable]:
    r"""The warp :math:`g(t) = a_t^2 / (a_t^2 + s_t^2)` and its derivative, for :class:`Chebyshev` or :class:`Legendre`.

    The fraction of the variance of :math:`a_t x_0 + s_t\varepsilon` (for data of unit spread) that
    is signal; for VP processes :math:`a_t^2 + s_t^2 = 1`, so :math:`g = a_t^2`.  The diffused
    score depends on :math:`t` only through the kernel :math:`(a_t, s_t^2)`; in :math:`g` it
    changes at a comparable pace over the whole horizon, while in :math:`t` it changes fastest
    near both ends (for ``vp-linear``, :math:`a_t^2` falls from 0.999 to 0.7 over
    :math:`t \in [0.01, 0.2]` and only to 0.98 over :math:`[0.8, 1]` in the other direction).

    .. math::
        g' = \frac{2 a \dot a\, s^2 - a^2 \dot{(s^2)}}{(a^2 + s^2)^2}.
    """
    _kernel_terms(process, np.zeros(1))

    def g(t):
        a, _, s2, _ = _kernel_terms(process, t)
        return a * a / (a * a + s2)

    def dg(t):
        a, da, s2, ds2 = _kernel_terms(process, t)
        return (2.0 * a * da * s2 - a * a * ds2) / (a * a + s2) ** 2

    return g, dg


def spread(process, r0: float) -> tuple[Callable, Callable]:
    r""":math:`\sigma(t) = \sqrt{a_t^2 r_0^2 + s_t^2}` and :math:`\sigma'(t) = (a\dot a r_0^2 + \tfrac12\dot{(s^2)})/\sigma`, for :class:`ScaledRBF`.

    The spread of a structure of size :math:`r_0` in the data after the kernel: bumps of width
    :math:`w_j\sigma(t)` keep :math:`w_j r_0` near :math:`t = 0` and widen with the noise.
    """
    r0 = val.positive(r0, "r0")
    _kernel_terms(process, np.zeros(1))

    def sigma(t):
        a, _, s2, _ = _kernel_terms(process, t)
        return np.sqrt(a * a * r0 * r0 + s2)

    def dsigma(t):
        a, da, s2, ds2 = _kernel_terms(process, t)
        return (a * da * r0 * r0 + 0.5 * ds2) / np.sqrt(a * a * r0 * r0 + s2)

    return sigma, dsigma


class InverseSpread(Basis):
    r"""Functions of time alone: the squared spreads' inverses :math:`r_i^2/\sigma_{r_i}(t)^2` of structures of sizes :math:`r_i`.

    .. math::
        \psi_i(t) = \frac{r_i^2}{a_t^2 r_i^2 + s_t^2}, \qquad
        \partial_t\psi_i = -\frac{r_i^2\,(2 a_t \dot a_t r_i^2 + \dot{(s^2)}_t)}{(a_t^2 r_i^2 + s_t^2)^2},

    equal to 1 at :math:`t = 0` and falling as the noise swamps the structure.  A Gaussian
    component of variance :math:`r^2` diffuses to variance :math:`a_t^2 r^2 + s_t^2`, so its score's
    slope is :math:`\psi(t)/r^2`; in the signal fraction :math:`g` of :func:`signal_fraction`
    (VP: :math:`s^2 = 1 - g`) that is :math:`1/(1 - g(1 - r^2))`, with a pole :math:`r^2` beyond the
    window's end :math:`g \to 1` (:math:`t \to 0`).  Polynomials in :math:`g` converge to it only
    as :math:`\rho^{-k}`, :math:`\rho = u^* + \sqrt{u^{*2} - 1}` with :math:`u^*` the pole mapped
    to :math:`[-1, 1]`: for :math:`r = 0.3`, :math:`\rho = 1.86`, and 7 Chebyshev polynomials leave
    about 1%.  One such function with :math:`r` the data's resolution carries the pole exactly, so
    the polynomials are left a smooth remainder.

    Parameters
    ----------
    process : AffineProcess
    scales : float or array_like (k,)
        The sizes :math:`r_i > 0`.
    t_range : (float, float)

    Examples
    --------
    >>> from fpcheck import problems
    >>> basis = InverseSpread(problems.process("vp-linear"), [0.3], (0.01, 1.0))
    >>> basis.values(np.zeros((1, 1)), 0.01).round(4)
    array([[0.9802]])
    """

    dim = None
    depends_on_x = False
    depends_on_t = True

    def __init__(self, process, scales, t_range):
        _kernel_terms(process, np.zeros(1))
        r = val.finite_array(scales, "scales").reshape(-1)
        if r.size == 0 or np.any(r <= 0):
            raise InputError(f"scales must be one or more sizes > 0, got {scales!r}")
        self.process, self.scales = process, _readonly(r)
        self.t_range = _t_range(t_range)
        self.size = r.size

    def __repr__(self) -> str:
        return f"InverseSpread(scales={np.round(self.scales, 4).tolist()}, t_range={self.t_range})"

    def _compute(self, x, t, which, compiled):
        a, da, s2, ds2 = (v[:, None] for v in _kernel_terms(self.process, t))
        r2 = self.scales[None, :] ** 2
        spread2 = a * a * r2 + s2
        out = {}
        if "values" in which:
            out["values"] = r2 / spread2
        for name in ("gradients", "laplacians"):
            if name in which:
                out[name] = self._zeros(name, x)
        if "time_derivatives" in which:
            out["time_derivatives"] = -r2 * (2.0 * a * da * r2 + ds2) / spread2**2
        return out


# ---------------------------------------------------------------------------------------------
# Polynomials in t


class _TimePolynomials(Basis):
    r"""Orthogonal polynomials :math:`\pi_k(u)`, :math:`k = 0..p`, of the mapped time.

    .. math::
        u = \frac{2g(t) - g_{\min} - g_{\max}}{g_{\max} - g_{\min}} \in [-1, 1], \qquad
        \partial_t \pi_k = \pi_k'(u)\, \frac{2 g'(t)}{g_{\max} - g_{\min}},

    with :math:`g(t) = t` by default, or a monotone *warp* :math:`g` (``warp=(g, dg)``), e.g.
    :func:`signal_fraction`, in which a diffused score changes at an even pace where :math:`t`
    does not; :math:`g_{\min}, g_{\max}` are its values at the ends of ``t_range``.

    Subclasses give the NumPy evaluation (:meth:`_polynomials`) and the three-term recurrence
    :math:`\pi_{k+1} = (A_k u + B_k)\pi_k - C_k \pi_{k-1}` that the compiled :class:`Tensor`
    kernel runs (:meth:`_recurrence`).
    """

    dim = None
    depends_on_x = False
    depends_on_t = True

    def __init__(self, degree: int, t_range=(0.0, 1.0), warp: tuple[Callable, Callable] | None = None):
        self.degree = _integer(degree, "degree", 0)
        self.t_range = _t_range(t_range)
        self.size = self.degree + 1
        self.warp = _check_warp(warp)
        lo, hi = (float(v) for v in self._g(np.array(self.t_range)))
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo == hi:
            raise InputError(f"the warp g must be finite and take different values at the ends of t_range {self.t_range}, got {lo:g}, {hi:g}")
        self._mid, self._half = 0.5 * (lo + hi), 0.5 * (hi - lo)

    def __repr__(self) -> str:
        warp = "" if self.warp is None else ", warped"
        return f"{type(self).__name__}({self.degree}, t_range={self.t_range}{warp})"

    def _g(self, t: np.ndarray) -> np.ndarray:
        return t if self.warp is None else np.broadcast_to(np.asarray(self.warp[0](t), dtype=float), t.shape)

    def mapped(self, t) -> np.ndarray:
        """:math:`u(t) \\in [-1, 1]` (no range check)."""
        return (self._g(np.asarray(t, dtype=float)) - self._mid) / self._half

    def rate(self, t) -> np.ndarray:
        """:math:`du/dt` at each time."""
        t = np.asarray(t, dtype=float)
        if self.warp is None:
            return np.full(t.shape, 1.0 / self._half)
        return np.broadcast_to(np.asarray(self.warp[1](t), dtype=float), t.shape) / self._half

    @abstractmethod
    def _polynomials(self, u: np.ndarray, derivative: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """:math:`\\pi_k(u)` and (if asked) :math:`\\pi_k'(u)`, each ``(n, p + 1)``."""

    @abstractmethod
    def _recurrence(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(A, B, C)``, each ``(p,)``: :math:`\\pi_1 = A_0 u + B_0`, then the three-term recurrence."""

    def _kernel_args(self, t):
        return _owned(self.mapped(t)), _owned(self.rate(t)), tuple(_owned(a) for a in self._recurrence())

    def _compute(self, x, t, which, compiled):
        p, dp = self._polynomials(self.mapped(t), "time_derivatives" in which)
        out = {}
        if "values" in which:
            out["values"] = p
        for name in ("gradients", "laplacians"):
            if name in which:
                out[name] = self._zeros(name, x)
        if "time_derivatives" in which:
            out["time_derivatives"] = dp * self.rate(t)[:, None]
        return out


class Chebyshev(_TimePolynomials):
    r"""Chebyshev polynomials of the first kind in the mapped time, :math:`T_0, \dots, T_p`.

    .. math::
        T_0 = 1,\ T_1 = u,\ T_{k+1} = 2u T_k - T_{k-1}; \qquad
        \frac{dT_k}{du} = k\, U_{k-1}(u),\ U_0 = 1,\ U_1 = 2u,\ U_{k+1} = 2u U_k - U_{k-1},

    with :math:`u = (2t - t_{\min} - t_{\max})/(t_{\max} - t_{\min})` and
    :math:`\partial_t = \frac{2}{t_{\max} - t_{\min}} \partial_u`.  Orthogonal for the weight
    :math:`(1 - u^2)^{-1/2}`; :math:`|T_k| \le 1` and :math:`|T_k'| \le k^2` on :math:`[-1, 1]`.
    The compiled :class:`Tensor` kernel differentiates the recurrence instead,
    :math:`T'_{k+1} = 2T_k + 2uT'_k - T'_{k-1}`.

    Parameters
    ----------
    degree : int
        :math:`p \ge 0`; :math:`J = p + 1`.
    t_range : (float, float)
        :math:`(t_{\min}, t_{\max})`, where ``t`` must lie.
    warp : (callable, callable), optional
        :math:`(g, g')`, vectorised in ``t``: polynomials in :math:`g(t)` instead of :math:`t`
        (see :class:`_TimePolynomials`), e.g. :func:`signal_fraction`.
    """

    def _polynomials(self, u, derivative):
        n, K = u.shape[0], self.size
        T = np.empty((n, K))
        T[:, 0] = 1.0
        if K > 1:
            T[:, 1] = u
        for k in range(1, K - 1):
            T[:, k + 1] = 2.0 * u * T[:, k] - T[:, k - 1]
        if not derivative:
            return T, None
        U = np.empty((n, K))  # U_0 .. U_{p-1} used
        U[:, 0] = 1.0
        if K > 1:
            U[:, 1] = 2.0 * u
        for k in range(1, K - 1):
            U[:, k + 1] = 2.0 * u * U[:, k] - U[:, k - 1]
        dT = np.zeros((n, K))
        dT[:, 1:] = np.arange(1, K) * U[:, : K - 1]
        return T, dT

    def _recurrence(self):
        p = self.degree
        a = np.full(p, 2.0)
        c = np.ones(p)
        if p:
            a[0], c[0] = 1.0, 0.0
        return a, np.zeros(p), c


class Legendre(_TimePolynomials):
    r"""Legendre polynomials in the mapped time, :math:`P_0, \dots, P_p`.

    .. math::
        P_0 = 1,\ P_1 = u,\ (k+1) P_{k+1} = (2k+1) u P_k - k P_{k-1}; \qquad
        P'_{k+1} = P'_{k-1} + (2k+1) P_k,

    with :math:`u` and :math:`\partial_t` as for :class:`Chebyshev`.  Orthogonal for the uniform
    weight: :math:`\int_{t_{\min}}^{t_{\max}} P_i P_j\, dt = \frac{t_{\max} - t_{\min}}{2i + 1}\delta_{ij}`,
    which suits the time integral of the Action Matching loss.

    Parameters
    ----------
    degree : int
        :math:`p \ge 0`; :math:`J = p + 1`.
    t_range : (float, float)
        :math:`(t_{\min}, t_{\max})`, where ``t`` must lie.
    warp : (callable, callable), optional
        :math:`(g, g')`, vectorised in ``t``: polynomials in :math:`g(t)` instead of :math:`t`
        (see :class:`_TimePolynomials`), e.g. :func:`signal_fraction`.
    """

    def _polynomials(self, u, derivative):
        n, K = u.shape[0], self.size
        P = np.empty((n, K))
        P[:, 0] = 1.0
        if K > 1:
            P[:, 1] = u
        for k in range(1, K - 1):
            P[:, k + 1] = ((2 * k + 1) * u * P[:, k] - k * P[:, k - 1]) / (k + 1)
        if not derivative:
            return P, None
        dP = np.zeros((n, K))
        if K > 1:
            dP[:, 1] = 1.0
        for k in range(1, K - 1):
            dP[:, k + 1] = dP[:, k - 1] + (2 * k + 1) * P[:, k]
        return P, dP

    def _recurrence(self):
        k = np.arange(self.degree, dtype=float)
        return (2 * k + 1) / (k + 1), np.zeros(self.degree), k / (k + 1)


# ---------------------------------------------------------------------------------------------
# Combinations


class Tensor(Basis):
    r"""Products of two bases: :math:`\psi_{ab}(x, t) = \rho_a(x, t)\, \pi_b(x, t)`, column :math:`a J_\pi + b`.

    Typically space features times time polynomials, ``Tensor(RBF(...), Chebyshev(4, (0, 1)))``.
    The product rule, for any two bases:

    .. math::
        \nabla\psi_{ab} = \pi_b \nabla\rho_a + \rho_a \nabla\pi_b, \qquad
        \Delta\psi_{ab} = \pi_b \Delta\rho_a + \rho_a \Delta\pi_b + 2\nabla\rho_a\cdot\nabla\pi_b, \qquad
        \partial_t\psi_{ab} = \pi_b \partial_t\rho_a + \rho_a \partial_t\pi_b,

    where the terms of a factor constant in :math:`x` (or :math:`t`) vanish and are skipped: for
    a time basis :math:`\pi`, gradient and Laplacian come from :math:`\rho` alone.

    Parameters
    ----------
    space, time : Basis
        The factors :math:`\rho` (``J_rho`` features) and :math:`\pi` (``J_pi``); their
        dimensions must agree (``None`` agrees with any) and their time ranges overlap (the
        product lives on the overlap).

    Notes
    -----
    :class:`RBF` or :class:`ScaledRBF` times :class:`Chebyshev` or :class:`Legendre` runs in
    one compiled kernel (the polynomials by their recurrence, per point); other products are
    formed in NumPy from the factors' own evaluations.
    """

    def __init__(self, space: Basis, time: Basis):
        for b, name in ((space, "space"), (time, "time")):
            if not isinstance(b, Basis):
                raise InputError(f"{name} must be a fpcheck.learned.bases.Basis, got {type(b).__name__}")
        self.space, self.time = space, time
        self.dim = _common_dim([space, time], "Tensor")
        self.t_range = _common_t_range([space, time], "Tensor")
        self.size = space.size * time.size
        self.depends_on_x = space.depends_on_x or time.depends_on_x
        self.depends_on_t = space.depends_on_t or time.depends_on_t
        self._fused = type(space) in (RBF, ScaledRBF) and isinstance(time, _TimePolynomials)

    def __repr__(self) -> str:
        return f"Tensor({self.space!r}, {self.time!r})"

    def _compute(self, x, t, which, compiled):
        if compiled and self._fused:
            centres, inv_w2, scale, rate = self.space._kernel_args(x, t, which)
            u, du, rec = self.time._kernel_args(t)
            return _run_kernel(x, centres, inv_w2, scale, rate, u, du, rec, which)
        A, B = self.space, self.time
        want_g = "gradients" in which or "laplacians" in which

        def needs(f: Basis) -> tuple[str, ...]:
            asked = {"values"}
            if want_g and f.depends_on_x:
                asked.add("gradients")
            if "laplacians" in which and f.depends_on_x:
                asked.add("laplacians")
            if "time_derivatives" in which and f.depends_on_t:
                asked.add("time_derivatives")
            return tuple(w for w in OUTPUTS if w in asked)

        fa = A._compute(x, t, needs(A), compiled)
        fb = B._compute(x, t, needs(B), compiled)
        n, d = x.shape
        va, vb = fa["values"], fb["values"]
        out = {}
        if "values" in which:
            out["values"] = (va[:, :, None] * vb[:, None, :]).reshape(n, self.size)
        if "gradients" in which:
            g = np.zeros((n, A.size, B.size, d))
            if A.depends_on_x:
                g += fa["gradients"][:, :, None, :] * vb[:, None, :, None]
            if B.depends_on_x:
                g += va[:, :, None, None] * fb["gradients"][:, None, :, :]
            out["gradients"] = g.reshape(n, self.size, d)
        if "laplacians" in which:
            lap = np.zeros((n, A.size, B.size))
            if A.depends_on_x:
                lap += fa["laplacians"][:, :, None] * vb[:, None, :]
            if B.depends_on_x:
                lap += va[:, :, None] * fb["laplacians"][:, None, :]
            if A.depends_on_x and B.depends_on_x:
                lap += 2.0 * np.einsum("rae,rbe->rab", fa["gradients"], fb["gradients"])
            out["laplacians"] = lap.reshape(n, self.size)
        if "time_derivatives" in which:
            dt = np.zeros((n, A.size, B.size))
            if A.depends_on_t:
                dt += fa["time_derivatives"][:, :, None] * vb[:, None, :]
            if B.depends_on_t:
                dt += va[:, :, None] * fb["time_derivatives"][:, None, :]
            out["time_derivatives"] = dt.reshape(n, self.size)
        return out


class Concat(Basis):
    r"""The features of several bases side by side: columns of ``bases[0]``, then ``bases[1]``, ...

    :math:`J = \sum_i J_i`; each quantity is the concatenation of the bases' own.  E.g.
    ``Concat(Polynomial(2, 1), RBF.from_data(x, 50))``: a linear drift plus local corrections.

    Parameters
    ----------
    *bases : Basis
        At least one; dimensions must agree (``None`` agrees with any) and time ranges overlap
        (the concatenation lives on the overlap).
    """

    def __init__(self, *bases: Basis):
        if not bases:
            raise InputError("Concat needs at least one basis")
        for j, b in enumerate(bases):
            if not isinstance(b, Basis):
                raise InputError(f"bases[{j}] must be a fpcheck.learned.bases.Basis, got {type(b).__name__}")
        self.bases = tuple(bases)
        self.dim = _common_dim(self.bases, "Concat")
        self.t_range = _common_t_range(self.bases, "Concat")
        self.size = sum(b.size for b in self.bases)
        self.depends_on_x = any(b.depends_on_x for b in self.bases)
        self.depends_on_t = any(b.depends_on_t for b in self.bases)

    def __repr__(self) -> str:
        return "Concat(" + ", ".join(repr(b) for b in self.bases) + ")"

    def _compute(self, x, t, which, compiled):
        parts = [b._compute(x, t, which, compiled) for b in self.bases]
        return {name: np.concatenate([p[name] for p in parts], axis=1) for name in which}


class Centred(Basis):
    r"""Features minus functions of time alone: :math:`\tilde\psi_j(x, t) = \psi_j(x, t) - m_j(t)`, :math:`m_j = \sum_k C_{kj}\pi_k(t)`.

    Gradients and Laplacians are those of :math:`\psi`; :math:`\partial_t\tilde\psi_j = \partial_t\psi_j - m_j'(t)`.
    With :math:`m_j(t) \approx E_{q_t}\psi_j` (:meth:`on_samples`), a combination of features that
    is nearly constant in :math:`x` on the support of :math:`q_t` becomes nearly zero.  For Action
    Matching this is what matters: its loss cannot see :math:`s_t + f(t)`, so such a combination
    has a tiny quadratic term but a linear term of the size of its *values*, and sampling noise
    pushes it far (the ridge has to be large, and biases the rest); centred, its values, and its
    linear term with them, nearly vanish.  Subtracting functions of :math:`t` leaves every
    velocity :math:`\nabla s_t` and the population loss unchanged, whatever :math:`m_j`.

    Parameters
    ----------
    basis : Basis
        The features :math:`\psi`.
    time : Basis
        Functions of time alone (e.g. :class:`Chebyshev`), :math:`\pi_k`.
    coefficients : array_like (time.size, basis.size)
        :math:`C`.
    """

    def __init__(self, basis: Basis, time: Basis, coefficients):
        for b, name in ((basis, "basis"), (time, "time")):
            if not isinstance(b, Basis):
                raise InputError(f"{name} must be a fpcheck.learned.bases.Basis, got {type(b).__name__}")
        if time.depends_on_x:
            raise InputError(f"time must be a basis of functions of t alone, got {time!r}")
        C = val.finite_array(coefficients, "coefficients")
        if C.shape != (time.size, basis.size):
            raise InputError(f"coefficients must have shape ({time.size}, {basis.size}), got {C.shape}")
        self.basis, self.time, self.coefficients = basis, time, _readonly(C.copy())
        self.dim, self.size = basis.dim, basis.size
        self.t_range = _common_t_range([basis, time], "Centred")
        self.depends_on_x, self.depends_on_t = basis.depends_on_x, True

    def __repr__(self) -> str:
        return f"Centred({self.basis!r}, {self.time!r})"

    @classmethod
    def on_samples(cls, basis: Basis, time: Basis, times, samples) -> Centred:
        r""":math:`m_j` by least squares of the means :math:`\overline{\psi_j(x, t_i)}` over ``samples[i]`` on the time basis.

        Parameters
        ----------
        basis, time : Basis
        times : array_like (k,)
            At least ``time.size`` distinct times.
        samples : sequence of array (n_i, d)
            Draws of :math:`q_{t_i}`.
        """
        times = val.finite_array(times, "times")
        if times.ndim != 1 or times.size < time.size or len(samples) != times.size:
            raise InputError(f"need one sample array per time and at least {time.size} times, got {times.size} and {len(samples)}")
        means = np.stack([basis.values(x, float(t)).mean(axis=0) for x, t in zip(samples, times)])
        P = time.values(np.zeros((times.size, 1 if basis.dim is None else basis.dim)), times)
        C, *_ = np.linalg.lstsq(P, means, rcond=None)
        return cls(basis, time, C)

    def _compute(self, x, t, which, compiled):
        out = self.basis._compute(x, t, which, compiled)
        if "values" in which or "time_derivatives" in which:
            tw = tuple(w for w in ("values", "time_derivatives") if w in which)
            ft = self.time._compute(x, t, tw, compiled)
            for name in tw:
                out[name] = out[name] - ft[name] @ self.coefficients
        return out
