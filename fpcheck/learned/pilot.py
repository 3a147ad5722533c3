r"""A pilot density for the bases: a Gaussian mixture fitted to data samples, and its diffused log-density as a feature.

A generic basis pays for every mode of the data with bumps, and in :math:`d` dimensions the bumps
a mode needs grow like the :math:`d`-th power of what one axis needs (``gmm2d-ring8``: 64 bumps
leave 4.5e-3 relative Fisher divergence, 128 leave 1.9e-3).  A pilot density :math:`\hat p`
fitted to samples of the data gives the basis the modes at once: under an affine process
:math:`x_t = a_t x_0 + c_t + s_t\varepsilon` a mixture :math:`\hat p = \sum_j\pi_j\mathcal
N(\mu_j, \Sigma_j)` diffuses in closed form, to :math:`\hat q_t = \sum_j\pi_j\mathcal N(a_t\mu_j +
c_t,\ a_t^2\Sigma_j + s_t^2 I)`, and its log-density :math:`\log\hat q_t(x)` is one feature whose
gradient is the pilot's score.  Times functions of :math:`t`, it lets a fit scale the pilot's
score, and the other features carry what the pilot misses: the fit is still one linear solve on
the objective's samples, and where the pilot is poor (data that are no mixture) the other
features do the work as before.

* :func:`fit_mixture`: maximum likelihood by expectation-maximisation (Dempster, Laird & Rubin
  1977), seeded by k-means (:meth:`~fpcheck.learned.bases.RBF.from_data`);
  :func:`select_mixture`: its number of components by the BIC.
* :class:`MixtureLogDensity`: the feature, with its exact gradient, Laplacian and time derivative.
* :class:`MixtureScore`: the pilot's score components as :math:`d` features, for vector models
  (sliced score matching), whose span then holds the pilot's score as a gradient model's does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

from .. import _validation as val
from ..distributions import GaussianMixture
from ..errors import InputError
from .bases import RBF, Basis, _integer, _kernel_terms, _nearest, _t_range

__all__ = ["fit_mixture", "select_mixture", "MixtureLogDensity", "MixtureScore"]

#: Lloyd steps of each k-means start.
KMEANS_STEPS = 20


def _samples(x) -> np.ndarray:
    data = val.finite_array(x, "x")
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] < 1:
        raise InputError(f"x must have shape (n, d), got shape {np.shape(x)}")
    return data


def _parameters(k: int, d: int) -> int:
    """Free parameters of a ``k``-component full-covariance mixture in ``d`` dimensions."""
    return (k - 1) + k * d + k * d * (d + 1) // 2


def select_mixture(x, max_components: int, *, seed: int | None = 0, **options) -> GaussianMixture:
    r"""The mixture of :math:`1 \le K \le` ``max_components`` components with the smallest BIC.

    .. math::
        \mathrm{BIC}(K) = -2\sum_r\log\hat p_K(x_r) + 
u_K\log n, \qquad
        
u_K = (K - 1) + Kd + K\,d(d + 1)/2,

    each :math:`\hat p_K` fitted by :func:`fit_mixture` (Schwarz 1978: the BIC is consistent for
    the number of components of a mixture).  The search stops at the first :math:`K` whose BIC
    exceeds the best so far by more than :math:`10\log n` after two more components (past the
    minimum, the BIC grows by about :math:`
u_1\log n` per component).  ``options`` go to
    :func:`fit_mixture`.
    """
    data = _samples(x)
    top = _integer(max_components, "max_components", 1)
    n, d = data.shape
    best, best_bic, since = None, np.inf, 0
    for k in range(1, min(top, n // 10) + 1):
        mix = fit_mixture(data, k, seed=seed, **options)
        bic = -2.0 * float(np.sum(mix.logpdf(data))) + _parameters(k, d) * np.log(n)
        if bic < best_bic:
            best, best_bic, since = mix, bic, 0
        else:
            since += 1
            if since >= 2 and bic > best_bic + 10.0 * np.log(n):
                break
    if best is None:
        raise InputError(f"select_mixture needs at least 10 samples, got {n}")
    return best


def _kmeans_labels(data: np.ndarray, k: int, restarts: int, seed: int | None) -> np.ndarray:
    """Nearest-centre labels of the best of ``restarts`` k-means runs (smallest within-cluster sum of squares)."""
    if k == 1:
        return np.zeros(data.shape[0], dtype=np.intp)
    best, best_ss = None, np.inf
    for child in np.random.SeedSequence(seed).spawn(restarts):
        centres = np.asarray(RBF.from_data(data, k, lloyd_steps=KMEANS_STEPS, seed=np.random.default_rng(child)).centres)
        label = _nearest(data, centres)
        ss = float(np.sum((data - centres[label]) ** 2))
        if ss < best_ss:
            best, best_ss = label, ss
    return best


def fit_mixture(x, components: int, *, seed: int | None = 0, restarts: int = 5, iterations: int = 200, tol: float = 1e-6,
                floor: float = 1e-6) -> GaussianMixture:
    r"""Maximum-likelihood Gaussian mixture of ``components`` full-covariance components, by EM.

    Seeded by k-means (k-means++ and :data:`KMEANS_STEPS` Lloyd steps,
    :meth:`~fpcheck.learned.bases.RBF.from_data`), the best of ``restarts`` runs by their
    within-cluster sum of squares: each sample is given to its nearest centre, and each component
    starts as the weight, mean and covariance of its samples.  EM only climbs to the nearest
    maximum, and from one k-means start it can stay with two components in one mode and one across
    two (``gmm2d-ring8``, 2e5 draws, 8 components: 3 of 4 single starts ended there, at a mean
    log-likelihood of -1.867 against -1.698), so the start is chosen among several.  Then, until the mean log-likelihood gains less than ``tol``,

    .. math::
        r_{rj} = \frac{\pi_j\mathcal N(x_r; \mu_j, \Sigma_j)}{\sum_k \pi_k\mathcal N(x_r; \mu_k, \Sigma_k)},\quad
        \pi_j = \overline{r_{\cdot j}},\quad
        \mu_j = \frac{\sum_r r_{rj} x_r}{\sum_r r_{rj}},\quad
        \Sigma_j = \frac{\sum_r r_{rj}(x_r - \mu_j)(x_r - \mu_j)^T}{\sum_r r_{rj}} + \epsilon I,

    each step raising the likelihood.  :math:`\epsilon` is ``floor`` times the data's mean variance
    per axis: it keeps a component that collapses onto a few samples from a singular covariance.

    Parameters
    ----------
    x : array_like (n, d)
        Samples (``(n,)`` for 1-D data), at least ``10 * components`` of them.
    components : int
        :math:`K \ge 1`.
    seed : int or None
        Seeds the k-means starts; a fixed seed gives the same mixture.
    restarts : int
        k-means runs to start from the best of.
    iterations : int
        At most this many EM steps.
    tol : float
        Stop when the mean log-likelihood gains less than this.
    floor : float
        :math:`\epsilon` relative to the data's variance.

    Returns
    -------
    GaussianMixture

    Raises
    ------
    InputError
        ``x`` not ``(n, d)``, not finite, or with fewer than ``10 * components`` samples; a
        component count or iteration count below 1.
    """
    data = _samples(x)
    k = _integer(components, "components", 1)
    steps = _integer(iterations, "iterations", 1)
    tol, floor = val.positive(tol, "tol"), val.positive(floor, "floor")
    n, d = data.shape
    if n < 10 * k:
        raise InputError(f"fit_mixture needs at least 10 samples per component: {n} samples for {k} components")
    eps = floor * float(np.mean(np.var(data, axis=0))) * np.eye(d)
    if not eps[0, 0] > 0:
        raise InputError("x has no spread: all samples coincide")
    label = _kmeans_labels(data, k, _integer(restarts, "restarts", 1), seed)
    resp = np.zeros((n, k))
    resp[np.arange(n), label] = 1.0
    previous = -np.inf
    for _ in range(steps):
        mass = resp.sum(axis=0) + 1e-300
        weights = mass / n
        means = (resp.T @ data) / mass[:, None]
        dev = data[None] - means[:, None, :]  # (K, n, d)
        covs = (resp.T[:, :, None] * dev).transpose(0, 2, 1) @ dev / mass[:, None, None] + eps
        terms = GaussianMixture(weights, means, covs)._log_terms(data)[0]
        top = terms.max(axis=1, keepdims=True)
        resp = np.exp(terms - top)
        total = resp.sum(axis=1, keepdims=True)
        resp /= total
        log_lik = top[:, 0] + np.log(total[:, 0])
        current = float(log_lik.mean())
        if current - previous < tol:
            break
        previous = current
    return GaussianMixture(weights / weights.sum(), means, covs)


class MixtureLogDensity(Basis):
    r"""One feature: the log-density :math:`\log\hat q_t(x)` of a Gaussian mixture diffused by an affine process.

    For :math:`\hat p = \sum_j\pi_j\mathcal N(\mu_j, \Sigma_j)` with eigendecompositions
    :math:`\Sigma_j = U_j\,\mathrm{diag}(\lambda_j)\,U_j^T`, component :math:`j` at time :math:`t`
    is :math:`\mathcal N(m_j, C_j)` with :math:`m_j = a_t\mu_j + c_t` and :math:`C_j = U_j\,
    \mathrm{diag}(v_j)\,U_j^T`, :math:`v_{ji} = a_t^2\lambda_{ji} + s_t^2`.  With
    :math:`z_j = U_j^T(x - m_j)`, :math:`\ell_j = \log\pi_j - \tfrac12\sum_i[\log 2\pi v_{ji} +
    z_{ji}^2/v_{ji}]` and responsibilities :math:`w_j = \mathrm{softmax}_j\,\ell_j`,

    .. math::
        \psi &= \operatorname{logsumexp}_j \ell_j, \qquad
        \nabla\psi = \sum_j w_j g_j, \quad g_j = -U_j(z_j / v_j), \\
        \Delta\psi &= \sum_j w_j\big(|g_j|^2 - \textstyle\sum_i 1/v_{ji}\big) - |\nabla\psi|^2, \\
        \partial_t\psi &= \sum_j w_j \sum_i\Big[-\frac{\dot v_{ji}}{2v_{ji}}
            + \frac{z_{ji}^2\,\dot v_{ji}}{2 v_{ji}^2} + \frac{z_{ji}\,[U_j^T(\dot a_t\mu_j + \dot c_t)]_i}{v_{ji}}\Big],
        \quad \dot v_{ji} = 2a_t\dot a_t\lambda_{ji} + \dot{(s^2)}_t .

    If :math:`\hat p` is the data's law, :math:`\nabla\psi` is the exact score
    (:class:`~fpcheck.analytic.ExactMarginals`).  Plain NumPy, :math:`O(nKd^2)`; no compiled kernel.

    Parameters
    ----------
    process : AffineProcess
    mixture : GaussianMixture
        The pilot, e.g. from :func:`fit_mixture`.
    t_range : (float, float)
        Times with :math:`s_t^2 > 0` or :math:`a_t > 0` (each :math:`v_{ji} > 0`).

    Examples
    --------
    >>> from fpcheck import problems
    >>> from fpcheck.analytic import ExactMarginals
    >>> vp, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    >>> basis = MixtureLogDensity(vp, data, (0.01, 1.0))
    >>> x = np.array([[0.3]])
    >>> bool(np.allclose(basis.gradients(x, 0.5)[:, 0, :], ExactMarginals(vp, data).score(x, 0.5)))
    True
    """

    depends_on_t = True
    size = 1

    def __init__(self, process, mixture: GaussianMixture, t_range):
        _kernel_terms(process, np.zeros(1))
        if not isinstance(mixture, GaussianMixture):
            raise InputError(f"mixture must be a GaussianMixture (e.g. from fit_mixture), got {type(mixture).__name__}")
        self.process, self.mixture = process, mixture
        self.dim = mixture.dim
        self.t_range = _t_range(t_range)
        lam, vec = np.linalg.eigh(mixture.covs)
        self._log_w, self._lam, self._vec = np.log(mixture.weights), lam, vec
        self._mu = np.einsum("kij,ki->kj", vec, mixture.means)  # U^T mu, per component

    def __repr__(self) -> str:
        return f"MixtureLogDensity(K={len(self.mixture.weights)}, dim={self.dim}, t_range={self.t_range})"

    def _state(self, x, t):
        """Per point and component: z, v and their time derivatives, the responsibilities w, g; and log q per point."""
        n, d = x.shape
        kern, dkern = self.process.kernel(t), self.process.kernel_derivative(t)
        a, da, s2, ds2 = (np.broadcast_to(np.asarray(v, dtype=float), (n,))[:, None, None]
                          for v in (kern.a, dkern.a, kern.s2, dkern.s2))
        c, dc = (np.broadcast_to(np.asarray(v, dtype=float).reshape(n, -1), (n, d)) for v in (kern.c, dkern.c))
        v = a * a * self._lam[None] + s2  # (n, K, d)
        if np.any(v <= 0):
            raise InputError(f"{self!r}: a component has zero spread at some t (a_t = s_t = 0); start the window later")
        # eigen-coordinates of x - a mu - c, per component
        z = np.einsum("kij,ni->nkj", self._vec, x - c) - a * self._mu[None]
        ell = self._log_w[None] - 0.5 * np.sum(np.log(2.0 * np.pi * v) + z * z / v, axis=2)
        log_q = special.logsumexp(ell, axis=1)
        w = np.exp(ell - log_q[:, None])
        g = -np.einsum("kij,nkj->nki", self._vec, z / v)  # (n, K, d)
        dv = 2.0 * a * da * self._lam[None] + ds2
        dz = -(np.einsum("kij,ni->nkj", self._vec, dc) + da * self._mu[None])  # d z / d t
        return _State(z, v, dz, dv, w, g, log_q)

    def _compute(self, x, t, which, compiled):
        st = self._state(x, t)
        v, w, g = st.v, st.w, st.g
        out = {}
        if "values" in which:
            out["values"] = st.log_q[:, None]
        if {"gradients", "laplacians"} & set(which):
            grad = np.einsum("nk,nki->ni", w, g)
            if "gradients" in which:
                out["gradients"] = grad[:, None, :]
            if "laplacians" in which:
                inner = np.sum(g * g, axis=2) - np.sum(1.0 / v, axis=2)
                out["laplacians"] = (np.einsum("nk,nk->n", w, inner) - np.sum(grad * grad, axis=1))[:, None]
        if "time_derivatives" in which:
            out["time_derivatives"] = np.einsum("nk,nk->n", w, _log_term_rates(st))[:, None]
        return out


class _State(NamedTuple):
    z: np.ndarray
    v: np.ndarray
    dz: np.ndarray
    dv: np.ndarray
    w: np.ndarray
    g: np.ndarray
    log_q: np.ndarray


def _log_term_rates(st: _State) -> np.ndarray:
    r""":math:`\partial_t\ell_j`, shape ``(n, K)``."""
    z, v = st.z, st.v
    return np.sum(-0.5 * st.dv / v + 0.5 * z * z * st.dv / (v * v) - z * st.dz / v, axis=2)


class MixtureScore(MixtureLogDensity):
    r""":math:`d` features: the components :math:`\partial_e\log\hat q_t(x)` of the diffused pilot's score, for vector models.

    A vector model :math:`s_i = \sum_j\theta_{ij}\psi_j` (sliced score matching) holds the pilot's
    score itself when these are among its features (:math:`\theta_{ie} = \delta_{ie}`), as a
    gradient model does with :class:`MixtureLogDensity`.  In the notation there, with
    :math:`P_j = U_j\,\mathrm{diag}(1/v_j)\,U_j^T` and :math:`s = \nabla\log\hat q_t = \sum_j w_j g_j`:

    .. math::
        \nabla s &= H = \sum_j w_j(g_jg_j^T - P_j) - ss^T, \\
        \Delta s &= \sum_j w_j\big[g_j\big((g_j - s)\cdot g_j - \operatorname{tr}P_j\big)
                    - P_j(2g_j - s)\big] - Hs - s\operatorname{tr}H, \\
        \partial_t s &= \sum_j w_j\big[(\partial_t\ell_j - \overline{\partial_t\ell})\,g_j
                    - U_j\big(\partial_t z_j / v_j - z_j\,\dot v_j / v_j^2\big)\big],
        \quad \overline{\partial_t\ell} = \sum_k w_k\,\partial_t\ell_k,

    from :math:`\partial_f w_j = w_j(g_{jf} - s_f)` and :math:`\partial_f g_j = -P_j e_f`.
    Plain NumPy, :math:`O(nKd^3)`; no compiled kernel.  Parameters as for :class:`MixtureLogDensity`.
    """

    def __init__(self, process, mixture: GaussianMixture, t_range):
        super().__init__(process, mixture, t_range)
        self.size = self.dim

    def __repr__(self) -> str:
        return f"MixtureScore(K={len(self.mixture.weights)}, dim={self.dim}, t_range={self.t_range})"

    def _compute(self, x, t, which, compiled):
        st = self._state(x, t)
        z, v, w, g = st.z, st.v, st.w, st.g
        vec = self._vec
        score = np.einsum("nk,nki->ni", w, g)
        out = {}
        if "values" in which:
            out["values"] = score
        if {"gradients", "laplacians"} & set(which):
            prec = np.einsum("kij,nkj,klj->nkil", vec, 1.0 / v, vec)  # P_j, (n, K, d, d)
            hess = (np.einsum("nk,nki,nkl->nil", w, g, g) - np.einsum("nk,nkil->nil", w, prec)
                    - score[:, :, None] * score[:, None, :])
            if "gradients" in which:
                out["gradients"] = hess
            if "laplacians" in which:
                dev = g - score[:, None, :]
                trace_p = np.sum(1.0 / v, axis=2)
                inner = np.sum(dev * g, axis=2) - trace_p  # (n, K)
                pull = np.einsum("nkil,nkl->nki", prec, 2.0 * g - score[:, None, :])
                out["laplacians"] = (np.einsum("nk,nki->ni", w, g * inner[:, :, None] - pull)
                                     - np.einsum("nil,nl->ni", hess, score)
                                     - score * np.trace(hess, axis1=1, axis2=2)[:, None])
        if "time_derivatives" in which:
            rates = _log_term_rates(st)
            rates = rates - np.einsum("nk,nk->n", w, rates)[:, None]
            dg = -np.einsum("kij,nkj->nki", vec, st.dz / v - z * st.dv / (v * v))
            out["time_derivatives"] = np.einsum("nk,nki->ni", w, rates[:, :, None] * g + dg)
        return out
