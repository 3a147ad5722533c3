r"""Data distributions with exact densities, scores and samplers.

* :class:`GaussianMixture`: :math:`p = \sum_k w_k \mathcal{N}(m_k, S_k)` in any dimension, full covariances.
* :class:`BoxMixture`: a mixture of uniform densities on axis-aligned boxes (``box1d``,
  ``checkerboard2d``), optionally blurred by isotropic Gaussian noise, in closed form through erf.
* :class:`Boltzmann1D`: :math:`e^{-U/kT}/Z` in 1D, normalised by quadrature.

Every distribution that an affine kernel maps to a closed form has :meth:`Distribution.push_affine`,
the law of :math:`a X + c + s Z` with :math:`Z \sim \mathcal{N}(0, I)` (MATH.md section 2):
Gaussian mixtures stay Gaussian mixtures, :math:`\mathcal{N}(a m_k + c,\ a^2 S_k + s^2 I)`, and
boxes become erf-blurred boxes.

All evaluations work in log space (log-sum-exp over components, ``log_ndtr`` for erf
differences), so points far in the tails give finite log-densities and scores, not overflow.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy import special

from . import _validation as val
from .errors import InputError

__all__ = ["Distribution", "GaussianMixture", "BoxMixture", "Boltzmann1D"]

_LOG_2PI = float(np.log(2.0 * np.pi))
_CHUNK = 1 << 16  # points per block in vectorised evaluations, to bound temporaries


class Distribution(ABC):
    """A probability density on :math:`\\mathbb{R}^d` with its score and a sampler.

    Points are arrays of shape ``(n, d)``; in 1D a flat array of ``n`` values is also accepted.
    """

    dim: int

    @abstractmethod
    def logpdf(self, x) -> np.ndarray:
        """Log-density at points ``x``; returns ``(n,)``."""

    def pdf(self, x) -> np.ndarray:
        """Density at points ``x``; returns ``(n,)``."""
        with np.errstate(under="ignore"):
            return np.exp(self.logpdf(x))

    @abstractmethod
    def score(self, x) -> np.ndarray:
        r"""The score :math:`\nabla_x \log p(x)`; returns ``(n, d)``."""

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` independent samples; returns ``(n, d)``."""

    @abstractmethod
    def mean(self) -> np.ndarray:
        """The mean, shape ``(d,)``."""

    @abstractmethod
    def cov(self) -> np.ndarray:
        """The covariance, shape ``(d, d)``."""

    def cdf(self, x) -> np.ndarray:
        """The cumulative distribution function (1D distributions only); returns ``(n,)``."""
        raise InputError(f"cdf is defined for 1-dimensional distributions; this one has dim={self.dim}")

    def push_affine(self, a: float, c, s2: float) -> Distribution:
        r"""The law of :math:`aX + c + sZ`, :math:`Z \sim \mathcal{N}(0, I)`, in closed form."""
        raise NotImplementedError(
            f"{type(self).__name__} has no closed form under an affine Gaussian kernel; "
            "use the grid solver for its evolution"
        )

    def params(self) -> dict:
        """The defining parameters, for listings and reports."""
        return {}

    def _x(self, x) -> np.ndarray:
        return val.points(x, self.dim)

    def _check_1d(self):
        if self.dim != 1:
            raise InputError(f"cdf is defined for 1-dimensional distributions; this one has dim={self.dim}")


def _sample_size(n, rng) -> int:
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


def _affine_args(a, c, s2, dim: int) -> tuple[float, np.ndarray, float]:
    a = val.positive(a, "a", allow_zero=True)
    s2 = val.positive(s2, "s2", allow_zero=True)
    c = val.finite_array(c, "c")
    if c.ndim > 1 or (c.ndim == 1 and c.shape[0] != dim):
        raise InputError(f"c must be a scalar or have shape ({dim},), got shape {c.shape}")
    return a, np.broadcast_to(c, (dim,)).copy(), s2


def _weights(weights, k: int | None = None) -> np.ndarray:
    w = val.finite_array(weights, "weights", ndim=1)
    if k is not None and w.shape[0] != k:
        raise InputError(f"weights has {w.shape[0]} entries but there are {k} components")
    if np.any(w < 0):
        raise InputError("weights must be non-negative")
    if abs(w.sum() - 1.0) > 1e-10:
        raise InputError(f"weights must sum to one, they sum to {float(w.sum())!r}")
    return w / w.sum()


class _Mixture(Distribution):
    """A mixture evaluated through per-component log-terms, in blocks of points to bound memory.

    Subclasses give ``_log_terms(x) -> (terms (n, K), aux)`` with
    ``terms[:, k] = log w_k + log p_k(x)``, and ``_score_block(terms, aux) -> (n, d)``.
    """

    weights: np.ndarray

    def _log_terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _score_block(self, terms: np.ndarray, aux: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def logpdf(self, x) -> np.ndarray:
        x = self._x(x)
        out = np.empty(x.shape[0])
        for lo in range(0, x.shape[0], _CHUNK):
            out[lo : lo + _CHUNK] = special.logsumexp(self._log_terms(x[lo : lo + _CHUNK])[0], axis=1)
        return out

    def score(self, x) -> np.ndarray:
        x = self._x(x)
        out = np.empty_like(x)
        for lo in range(0, x.shape[0], _CHUNK):
            out[lo : lo + _CHUNK] = self._score_block(*self._log_terms(x[lo : lo + _CHUNK]))
        return out

    def responsibilities(self, x) -> np.ndarray:
        r"""Posterior component probabilities :math:`r_k(x) = w_k p_k(x) / p(x)`, shape ``(n, K)``."""
        with np.errstate(invalid="ignore"):
            return special.softmax(self._log_terms(self._x(x))[0], axis=1)


class GaussianMixture(_Mixture):
    r"""A Gaussian mixture :math:`p(x) = \sum_k w_k \mathcal{N}(x;\ m_k, S_k)` in ``d`` dimensions.

    Parameters
    ----------
    weights : array of shape (K,)
        Non-negative, summing to one (to 1e-10).  Zero-weight components are dropped.
    means : array of shape (K, d)
    covs : array of shape (K, d, d)
        Symmetric positive definite.

    Notes
    -----
    Each component is held through the Cholesky factor :math:`S_k = L_k L_k^T`; with
    :math:`z_k = L_k^{-1}(x - m_k)`,

    .. math::
        \log p(x) = \operatorname{logsumexp}_k\Big[\log w_k - \tfrac12|z_k|^2 - \log\det L_k
                    - \tfrac d2 \log 2\pi\Big], \qquad
        \nabla\log p(x) = -\sum_k r_k(x)\, L_k^{-T} z_k,

    with responsibilities :math:`r_k = \operatorname{softmax}_k(\cdot)` of the same log-terms,
    so no exponential of a large number is ever formed.
    """

    def __init__(self, weights, means, covs):
        means = val.finite_array(means, "means", ndim=2)
        k, d = means.shape
        covs = val.finite_array(covs, "covs", ndim=3)
        if covs.shape != (k, d, d):
            raise InputError(f"covs must have shape ({k}, {d}, {d}) to match means {means.shape}, got {covs.shape}")
        w = _weights(weights, k)
        asym = np.abs(covs - covs.transpose(0, 2, 1)).max(initial=0.0)
        if asym > 1e-10 * max(1.0, np.abs(covs).max()):
            raise InputError(f"covs must be symmetric (largest asymmetry {asym:.3g}); pass (S + S.T) / 2 if that is round-off")
        covs = 0.5 * (covs + covs.transpose(0, 2, 1))
        keep = w > 0
        self.weights, self.means, self.covs = w[keep], means[keep], covs[keep]
        self.dim = d
        self._chol = np.empty_like(self.covs)
        for i, S in enumerate(self.covs):
            try:
                self._chol[i] = np.linalg.cholesky(S)
            except np.linalg.LinAlgError:
                eig = np.linalg.eigvalsh(S).min()
                raise InputError(
                    f"covariance of component {i} is not positive definite (smallest eigenvalue {eig:.3g}); "
                    "each covariance must be symmetric with positive eigenvalues"
                ) from None
        self._chol_inv = np.linalg.inv(self._chol)
        self._log_norm = (
            np.log(self.weights)
            - np.log(np.diagonal(self._chol, axis1=1, axis2=2)).sum(axis=1)
            - 0.5 * d * _LOG_2PI
        )

    @classmethod
    def isotropic(cls, weights, means, stds) -> GaussianMixture:
        r"""A mixture of isotropic components :math:`\mathcal{N}(m_k, \sigma_k^2 I)`."""
        means = val.finite_array(means, "means", ndim=2)
        stds = np.broadcast_to(val.finite_array(stds, "stds"), (means.shape[0],))
        if np.any(stds <= 0):
            raise InputError("stds must be positive")
        eye = np.eye(means.shape[1])
        return cls(weights, means, stds[:, None, None] ** 2 * eye)

    def params(self) -> dict:
        return {"weights": self.weights.tolist(), "means": self.means.tolist(), "covs": self.covs.tolist()}

    def __repr__(self) -> str:
        return f"GaussianMixture(K={len(self.weights)}, dim={self.dim})"

    def _log_terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-component log-terms ``(n, K)`` and whitened residuals ``z`` ``(n, K, d)``."""
        # one batched product per component, (K, n, d), viewed as (n, K, d)
        z = ((x[None] - self.means[:, None, :]) @ self._chol_inv.transpose(0, 2, 1)).transpose(1, 0, 2)
        return self._log_norm - 0.5 * np.sum(z * z, axis=2), z

    def _score_block(self, terms: np.ndarray, z: np.ndarray) -> np.ndarray:
        # -L^{-T} z for each component, weighted by its responsibility
        return -np.einsum("nk,kji,nkj->ni", special.softmax(terms, axis=1), self._chol_inv, z)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = _sample_size(n, rng)
        idx = rng.choice(len(self.weights), size=n, p=self.weights)
        z = rng.standard_normal((n, self.dim))
        return self.means[idx] + np.einsum("nij,nj->ni", self._chol[idx], z)

    def mean(self) -> np.ndarray:
        return self.weights @ self.means

    def cov(self) -> np.ndarray:
        mu = self.mean()
        dm = self.means - mu
        return np.einsum("k,kij->ij", self.weights, self.covs) + np.einsum("k,ki,kj->ij", self.weights, dm, dm)

    def cdf(self, x) -> np.ndarray:
        self._check_1d()
        x = self._x(x)[:, 0]
        sd = np.sqrt(self.covs[:, 0, 0])
        return special.ndtr((x[:, None] - self.means[None, :, 0]) / sd) @ self.weights

    def push_affine(self, a: float, c, s2: float) -> GaussianMixture:
        a, c, s2 = _affine_args(a, c, s2, self.dim)
        if s2 == 0 and a == 0:
            raise InputError("push_affine with a = 0 and s2 = 0 collapses the mixture to a point mass")
        covs = a * a * self.covs + s2 * np.eye(self.dim)
        return GaussianMixture(self.weights, a * self.means + c, covs)

    def project(self, direction) -> GaussianMixture:
        r"""The 1D law of :math:`u\cdot X` for a direction ``u`` of shape ``(d,)`` (not normalised)."""
        u = val.finite_array(direction, "direction", ndim=1)
        if u.shape[0] != self.dim or not np.any(u):
            raise InputError(f"direction must be a non-zero vector of shape ({self.dim},)")
        var = np.einsum("i,kij,j->k", u, self.covs, u)
        return GaussianMixture(self.weights, (self.means @ u)[:, None], var[:, None, None])

    def marginal(self, axes) -> GaussianMixture:
        """The marginal law of the coordinates ``axes`` (a sequence of axis indices)."""
        ax = np.atleast_1d(np.asarray(axes, dtype=int))
        if np.any(ax < 0) or np.any(ax >= self.dim) or len(set(ax.tolist())) != len(ax):
            raise InputError(f"axes must be distinct indices in [0, {self.dim}), got {axes!r}")
        return GaussianMixture(self.weights, self.means[:, ax], self.covs[:, ax][:, :, ax])


def _log1mexp(u: np.ndarray) -> np.ndarray:
    r""":math:`\log(1 - e^u)` for :math:`u \le 0`, accurate at both ends (Mächler 2012)."""
    with np.errstate(divide="ignore"):
        return np.where(u > -np.log(2.0), np.log(-np.expm1(u)), np.log1p(-np.exp(u)))


def _log_phi_diff(z1: np.ndarray, z2: np.ndarray) -> np.ndarray:
    r""":math:`\log(\Phi(z_1) - \Phi(z_2))` for :math:`z_1 > z_2`, evaluated on the far side of the tail."""
    right = z1 + z2 > 0  # use Phi(-z2) - Phi(-z1) there, whose terms are small, not close to one
    hi = np.where(right, -z2, z1)
    lo = np.where(right, -z1, z2)
    l_hi, l_lo = special.log_ndtr(hi), special.log_ndtr(lo)
    return l_hi + _log1mexp(l_lo - l_hi)


def _dlog_phi_diff(z1: np.ndarray, z2: np.ndarray) -> np.ndarray:
    r""":math:`(\varphi(z_1) - \varphi(z_2)) / (\Phi(z_1) - \Phi(z_2))` for :math:`z_1 > z_2`.

    With ``hi``, ``lo`` as in :func:`_log_phi_diff` and :math:`\delta = \log\Phi(lo) - \log\Phi(hi) < 0`,
    it is :math:`\pm[m(hi) - e^{\delta} m(lo)] / (1 - e^{\delta})` with the inverse Mills ratio
    :math:`m(x) = \varphi(x)/\Phi(x) = \sqrt{2/\pi}/\operatorname{erfcx}(-x/\sqrt2)`; forming
    :math:`\varphi/D` as :math:`\exp(-z^2/2 - \log D)` instead loses all accuracy for large :math:`|z|`.
    """
    right = z1 + z2 > 0
    hi = np.where(right, -z2, z1)
    lo = np.where(right, -z1, z2)
    delta = special.log_ndtr(lo) - special.log_ndtr(hi)
    with np.errstate(under="ignore", over="ignore"):
        m_hi = np.sqrt(2.0 / np.pi) / special.erfcx(-hi / np.sqrt(2.0))  # erfcx = inf gives m = 0
        m_lo = np.sqrt(2.0 / np.pi) / special.erfcx(-lo / np.sqrt(2.0))
        r = (m_hi - np.exp(delta) * m_lo) / -np.expm1(delta)
    return np.where(right, -r, r)


def _int_phi(z: np.ndarray) -> np.ndarray:
    r""":math:`G(z) = \int_{-\infty}^z \Phi = z\Phi(z) + \varphi(z)`, without cancellation for :math:`z < 0`."""
    m = -np.abs(z) / np.sqrt(2.0)  # <= 0
    # for z <= 0: G = phi(z) [1 + z sqrt(pi/2) erfcx(-z/sqrt2)], and G(z) = z + G(-z)
    with np.errstate(under="ignore"):
        g_neg = np.exp(-m * m) / np.sqrt(2.0 * np.pi) * (1.0 + np.sqrt(np.pi) * m * special.erfcx(-m))
    return g_neg + np.maximum(z, 0.0)


class BoxMixture(_Mixture):
    r"""A mixture of uniform densities on axis-aligned boxes, blurred by :math:`\mathcal{N}(0, s^2 I)`.

    .. math::
        p(x) = \sum_k w_k \prod_{j=1}^d h(x_j;\ \ell_{kj}, u_{kj}, s), \qquad
        h(y;\ \ell, u, s) = \frac{\Phi\big(\frac{y-\ell}{s}\big) - \Phi\big(\frac{y-u}{s}\big)}{u - \ell},

    and :math:`h = \mathbf 1_{[\ell,u]}/(u-\ell)` for :math:`s = 0`.  An affine kernel maps it to the same
    family (boxes scaled by :math:`a`, shifted by :math:`c`, variance :math:`a^2 s^2 + s_t^2`), which gives
    the exact marginals of ``box1d`` and ``checkerboard2d``.

    Parameters
    ----------
    weights : array (K,)
    lower, upper : arrays (K, d)
        Box corners, ``upper >= lower`` (a zero width is a point along that axis, which needs ``s > 0``).
    noise_var : float
        :math:`s^2 \ge 0`.

    Notes
    -----
    At ``noise_var = 0`` the score is 0 inside the boxes and NaN outside them, where it is undefined.
    """

    def __init__(self, weights, lower, upper, noise_var: float = 0.0):
        lower = val.finite_array(lower, "lower", ndim=2)
        upper = val.finite_array(upper, "upper", ndim=2)
        if lower.shape != upper.shape:
            raise InputError(f"lower {lower.shape} and upper {upper.shape} must have the same shape")
        w = _weights(weights, lower.shape[0])
        self.noise_var = val.positive(noise_var, "noise_var", allow_zero=True)
        width = upper - lower
        if np.any(width < 0):
            raise InputError("every box needs upper >= lower")
        if self.noise_var == 0 and np.any(width == 0):
            raise InputError("a box of zero width has no density unless noise_var > 0")
        keep = w > 0
        self.weights, self.lower, self.upper = w[keep], lower[keep], upper[keep]
        self.dim = lower.shape[1]
        self._s = np.sqrt(self.noise_var)

    @classmethod
    def box(cls, lower: float = -1.0, upper: float = 1.0) -> BoxMixture:
        """The uniform density on ``[lower, upper]`` in 1D."""
        return cls([1.0], [[lower]], [[upper]])

    @classmethod
    def checkerboard(cls, n: int = 4, half_width: float = 2.0) -> BoxMixture:
        r"""Uniform on the dark squares of an ``n`` x ``n`` board on :math:`[-h, h]^2` (square (0, 0) is dark)."""
        edges = np.linspace(-half_width, half_width, n + 1)
        cells = [(i, j) for i in range(n) for j in range(n) if (i + j) % 2 == 0]
        lower = np.array([[edges[i], edges[j]] for i, j in cells])
        upper = np.array([[edges[i + 1], edges[j + 1]] for i, j in cells])
        return cls(np.full(len(cells), 1.0 / len(cells)), lower, upper)

    def params(self) -> dict:
        return {
            "weights": self.weights.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "noise_var": self.noise_var,
        }

    def __repr__(self) -> str:
        return f"BoxMixture(K={len(self.weights)}, dim={self.dim}, noise_var={self.noise_var:g})"

    def _axis_terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per component and axis: ``log h`` and ``d log h / dx``, both ``(n, K, d)``."""
        y = x[:, None, :]
        lo, hi = self.lower[None], self.upper[None]
        width = hi - lo
        if self._s == 0:
            inside = (y >= lo) & (y <= hi)
            with np.errstate(divide="ignore"):
                logh = np.where(inside, -np.log(width), -np.inf)
            return logh, np.where(inside, 0.0, np.nan)
        s = self._s
        z1, z2 = (y - lo) / s, (y - hi) / s
        narrow = width < 1e-5 * s  # a box much narrower than the blur is a Gaussian at its centre
        z1w = np.where(narrow, z2 + 1.0, z1)  # keep the erf branch well-defined where unused
        log_d = _log_phi_diff(z1w, z2)
        logh = log_d - np.log(np.where(narrow, 1.0, width))
        dlogh = _dlog_phi_diff(z1w, z2) / s
        zc = (y - 0.5 * (lo + hi)) / s
        logh = np.where(narrow, -0.5 * zc * zc - 0.5 * _LOG_2PI - np.log(s), logh)
        dlogh = np.where(narrow, -zc / s, dlogh)
        return logh, dlogh

    def _log_terms(self, x):
        logh, dlogh = self._axis_terms(x)
        with np.errstate(divide="ignore"):
            return np.log(self.weights) + logh.sum(axis=2), dlogh

    def _score_block(self, terms: np.ndarray, dlogh: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            block = np.einsum("nk,nkd->nd", special.softmax(terms, axis=1), np.nan_to_num(dlogh, nan=0.0))
        block[~np.isfinite(terms).any(axis=1)] = np.nan  # outside every box of a noise-free mixture
        return block

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = _sample_size(n, rng)
        idx = rng.choice(len(self.weights), size=n, p=self.weights)
        u = rng.random((n, self.dim))
        x = self.lower[idx] + u * (self.upper[idx] - self.lower[idx])
        if self._s > 0:
            x += self._s * rng.standard_normal((n, self.dim))
        return x

    def mean(self) -> np.ndarray:
        return self.weights @ (0.5 * (self.lower + self.upper))

    def cov(self) -> np.ndarray:
        centres = 0.5 * (self.lower + self.upper)
        var = (self.upper - self.lower) ** 2 / 12.0 + self.noise_var
        dm = centres - self.mean()
        return np.diag(self.weights @ var) + np.einsum("k,ki,kj->ij", self.weights, dm, dm)

    def cdf(self, x) -> np.ndarray:
        r"""1D cdf: :math:`\sum_k w_k \frac{s}{u_k - \ell_k}\,[G(\frac{x-\ell_k}{s}) - G(\frac{x-u_k}{s})]`, :math:`G = \int\Phi`."""
        self._check_1d()
        x = self._x(x)[:, 0][:, None]
        lo, hi = self.lower[None, :, 0], self.upper[None, :, 0]
        width = hi - lo
        if self._s == 0:
            return np.clip((x - lo) / width, 0.0, 1.0) @ self.weights
        s = self._s
        narrow = width < 1e-5 * s
        diff = _int_phi((x - lo) / s) - _int_phi((x - hi) / s)
        comp = np.where(narrow, special.ndtr((x - 0.5 * (lo + hi)) / s), s * diff / np.where(narrow, 1.0, width))
        return np.clip(comp, 0.0, 1.0) @ self.weights

    def push_affine(self, a: float, c, s2: float) -> BoxMixture:
        a, c, s2 = _affine_args(a, c, s2, self.dim)
        return BoxMixture(self.weights, a * self.lower + c, a * self.upper + c, a * a * self.noise_var + s2)

    def marginal(self, axes) -> BoxMixture:
        """The marginal law of the coordinates ``axes`` (boxes are products, so it stays a box mixture)."""
        ax = np.atleast_1d(np.asarray(axes, dtype=int))
        if np.any(ax < 0) or np.any(ax >= self.dim) or len(set(ax.tolist())) != len(ax):
            raise InputError(f"axes must be distinct indices in [0, {self.dim}), got {axes!r}")
        return BoxMixture(self.weights, self.lower[:, ax], self.upper[:, ax], self.noise_var)


class Boltzmann1D(Distribution):
    r"""The Boltzmann density :math:`p(x) = e^{-U(x)/kT}/Z` on the real line.

    :math:`Z`, the cdf and the moments come from a table on ``bounds`` with ``n_table`` nodes
    (composite Simpson, error :math:`O(h^4)`); the cdf between nodes is the cubic Hermite
    interpolant with the exact density as slope, and samples invert it with Newton steps.
    The score :math:`-U'(x)/kT` is exact.  ``bounds`` must hold the mass: the density at each
    end must be below ``1e-14`` times its peak, or the constructor says so.

    Parameters
    ----------
    potential : fpcheck.processes.Potential
    kT : float
    bounds : (float, float)
    n_table : int
        Table nodes (odd).
    """

    dim = 1

    def __init__(self, potential, kT: float, bounds=(-4.0, 4.0), n_table: int = 1 << 14 | 1):
        from scipy.integrate import cumulative_simpson, simpson

        from .processes import Potential

        if not isinstance(potential, Potential):
            raise InputError(f"potential must be a fpcheck.processes.Potential, got {type(potential).__name__}")
        self.potential, self.kT = potential, val.positive(kT, "kT")
        lo, hi = (float(b) for b in val.finite_array(bounds, "bounds", ndim=1))
        if not hi > lo:
            raise InputError(f"bounds must be (lo, hi) with lo < hi, got {bounds!r}")
        self.bounds = (lo, hi)
        grid = np.linspace(lo, hi, int(n_table))
        energy = potential(grid[:, None]) / self.kT
        self._e_min = energy.min()
        with np.errstate(under="ignore"):
            dens = np.exp(-(energy - self._e_min))
        if max(dens[0], dens[-1]) > 1e-14:
            raise InputError(
                f"bounds {self.bounds} cut off Boltzmann mass (density at the ends is "
                f"{max(dens[0], dens[-1]):.2g} of its peak); widen them"
            )
        cum = cumulative_simpson(dens, x=grid, initial=0.0)
        self._log_z = float(np.log(cum[-1])) - self._e_min  # cum[-1] = Z exp(e_min)
        self._grid, self._pdf_tab, self._cdf_tab = grid, dens / cum[-1], cum / cum[-1]
        self._mean = float(simpson(grid * self._pdf_tab, x=grid))
        self._var = float(simpson((grid - self._mean) ** 2 * self._pdf_tab, x=grid))

    def params(self) -> dict:
        return {"potential": repr(self.potential), "kT": self.kT, "bounds": list(self.bounds)}

    def __repr__(self) -> str:
        return f"Boltzmann1D({self.potential!r}, kT={self.kT:g})"

    def logpdf(self, x) -> np.ndarray:
        x = self._x(x)
        return -self.potential(x) / self.kT - self._log_z

    def score(self, x) -> np.ndarray:
        x = self._x(x)
        return -self.potential.gradient(x) / self.kT

    def cdf(self, x) -> np.ndarray:
        x = self._x(x)[:, 0]
        g, h = self._grid, self._grid[1] - self._grid[0]
        i = np.clip(np.searchsorted(g, x) - 1, 0, g.size - 2)
        tau = np.clip((x - g[i]) / h, 0.0, 1.0)
        f0, f1 = self._cdf_tab[i], self._cdf_tab[i + 1]
        d0, d1 = h * self._pdf_tab[i], h * self._pdf_tab[i + 1]
        t2, t3 = tau * tau, tau * tau * tau
        out = (2 * t3 - 3 * t2 + 1) * f0 + (t3 - 2 * t2 + tau) * d0 + (-2 * t3 + 3 * t2) * f1 + (t3 - t2) * d1
        return np.clip(np.where(x <= g[0], 0.0, np.where(x >= g[-1], 1.0, out)), 0.0, 1.0)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = _sample_size(n, rng)
        u = rng.random(n)
        x = np.interp(u, self._cdf_tab, self._grid)
        for _ in range(3):  # Newton on the Hermite cdf, whose slope is the density
            p = np.maximum(self.pdf(x), 1e-300)
            x = np.clip(x - (self.cdf(x) - u) / p, *self.bounds)
        return x[:, None]

    def mean(self) -> np.ndarray:
        return np.array([self._mean])

    def cov(self) -> np.ndarray:
        return np.array([[self._var]])
