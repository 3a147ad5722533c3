r"""Independent numerics for the property tests: differences, grids, quadrature, Gaussian formulas.

Nothing here calls fpcheck's densities, scores or velocities; the helpers take the fields under
test as arguments.  fpcheck is used only for a process's coefficients (``kernel``, ``drift``,
``g2``) and for the parameters of the data (weights, means, covariances), which every check
then recombines with its own formulas (scipy.stats, ``ndtr``, closed-form Gaussian algebra).

Sections
--------
* time differences and the step that resolves a Gaussian's motion;
* :class:`Patch`, a tensor grid with findiff operators (6th-order central differences);
* :class:`Residual` and :func:`fokker_planck_residual`, :func:`continuity_residual`,
  :func:`flux_mismatch`: residuals with their own error estimate, shared by the properties and
  by the transcript-slip tests;
* quadrature grids and Gaussian / mixture formulas written out in full;
* :class:`SmoothField`, the random test fields of the score-matching identities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from findiff import Diff
from scipy import special, stats

from fpcheck import OU, VE

EPS = np.finfo(float).eps
TIME_STEP_RHO = 0.05  # h * rho of gaussian_time_step

# --------------------------------------------------------------------------- time differences

# 6th-order central first derivative: f'(t) = sum_j C_j (f(t + j h) - f(t - j h)) / h + O(h^6 f^(7)),
# truncation h^6 |f^(7)| / 140, round-off about 1.5 eps |f| / h (sum of |C_j| over both sides).
_C6 = {1: 45.0 / 60.0, 2: -9.0 / 60.0, 3: 1.0 / 60.0}


def central_difference(fn: Callable[[float], np.ndarray], t: float, h: float) -> np.ndarray:
    r""":math:`\partial_t` fn at ``t`` by the 7-point central stencil (order 6).

    ``fn`` maps a time to an array (any shape); the result has that shape.
    """
    return sum(c * (np.asarray(fn(t + j * h)) - np.asarray(fn(t - j * h))) for j, c in _C6.items()) / h


def kernel_coefficients(process, t: float, dim: int) -> tuple[float, np.ndarray, float]:
    r"""The kernel's :math:`(a_t, c_t, s_t^2)` at a scalar time, with :math:`c_t` as a ``(dim,)`` vector."""
    a, c, s2 = process.kernel(t)
    return float(a), np.broadcast_to(np.asarray(c, dtype=float), (dim,)).copy(), float(s2)


def gaussian_time_step(process, t: float, mean_bound: float, sigma_min: float, dim: int, z_max: float = 6.0) -> float:
    r"""A time step for :func:`central_difference` of Gaussian densities moving with the kernel.

    A density :math:`\mathcal N(x;\ \mu(t), V(t))` with :math:`\mu = a\,m + c`,
    :math:`V = a^2 S + s^2 I \succeq \sigma_{\min}^2 I` changes at the relative rate at most

    .. math::
        \rho = \big(2|\dot a|/a + |\dot{(s^2)}|/\sigma_{\min}^2\big)\,\frac{d + z_{\max}^2}{2}
              + z_{\max}\,\frac{|\dot a|\,|m|_{\max} + |\dot c|}{\sigma_{\min}}

    at points within :math:`z_{\max}` standard deviations of its mean.  To it we add the rate
    at which the coefficients themselves bend (:func:`_coefficient_rate`), so that every higher
    time derivative of the density is bounded by :math:`\rho^n`.  With
    :math:`h = 0.05/\rho` the stencil's truncation error is below :math:`(h\rho)^6/140 \approx 10^{-10}`
    relative to the derivative, and its round-off is :math:`1.5\,\epsilon_f/(h\rho)` for values
    known to relative accuracy :math:`\epsilon_f` (see :func:`transport_residual`).  The step also
    stays inside :math:`[0, T]`.  The closed-form kernel derivative is used only to choose the
    step, never in an assertion.
    """
    a, c, s2 = process.kernel(t)
    da, dc, ds2 = process.kernel_derivative(t)
    var_rate = 2.0 * abs(float(da)) / float(a) + abs(float(ds2)) / sigma_min**2
    mean_rate = (abs(float(da)) * mean_bound + float(np.max(np.abs(dc)))) / sigma_min
    rho = var_rate * 0.5 * (dim + z_max**2) + z_max * mean_rate + _coefficient_rate(process, t)
    return min(TIME_STEP_RHO / rho, t / 8.0, (process.T - t) / 8.0)


def _coefficient_rate(process, t: float) -> float:
    r"""The rate at which a process's coefficients bend.

    :math:`2\gamma` for OU; :math:`|\dot\beta|/\beta` for VE (:math:`s^2 = B`); :math:`|\dot\beta|/\beta + \beta`
    for VP and sub-VP, whose coefficients are functions of :math:`e^{-B}`.
    """
    if isinstance(process, OU):
        return 2.0 * float(process.gamma)
    beta = float(process.schedule.beta(t))
    rate = abs(float(process.schedule.dbeta(t))) / beta
    return rate if isinstance(process, VE) else rate + beta


# --------------------------------------------------------------------------- finite-difference patches


@dataclass
class Patch:
    r"""A cube about ``centre +- half_width`` sampled by ``n`` points per axis, with findiff operators.

    Derivatives are 6th-order accurate (``acc=6``; one-sided 6th-order stencils at the faces).
    The step has a 4-bit mantissa (within 12.5 % below ``2 half_width / (n - 1)``) and the centre
    is rounded to a multiple of its last bit, so every grid coordinate is exact in floating point
    and the grid exactly uniform.  (With rounded coordinates a narrow density far from the origin,
    width :math:`\sigma \ll |x|`, picks up values with relative noise :math:`\epsilon |x|/\sigma`,
    which a second difference amplifies by :math:`(\sigma/h)^2`.)  With ``n = 1 mod 4`` the even
    points form the centred :meth:`coarse` patch of step ``2h``.
    """

    centre: np.ndarray
    half_width: float
    n: int
    step: float | None = None  # given only by coarse(), whose centre is already on the grid

    def __post_init__(self):
        centre = np.atleast_1d(np.asarray(self.centre, dtype=float))
        if self.step is None:
            if self.n % 4 != 1:
                raise ValueError(f"a Patch needs n = 1 mod 4 points per axis, got {self.n}")
            unit = 2.0 ** (np.floor(np.log2(2.0 * self.half_width / (self.n - 1))) - 3)
            self.step = float(np.floor(2.0 * self.half_width / (self.n - 1) / unit) * unit)
            centre = np.round(centre / unit) * unit
        self.h, self.centre, self.dim = self.step, centre, centre.size
        offsets = self.h * (np.arange(self.n) - (self.n - 1) // 2)
        self.shape = (self.n,) * self.dim
        mesh = np.meshgrid(*(c + offsets for c in self.centre), indexing="ij")
        self.points = np.stack([m.ravel() for m in mesh], axis=1)
        self._d1 = [Diff(i, self.h, acc=6) for i in range(self.dim)]
        self._d2 = [Diff(i, self.h, acc=6) ** 2 for i in range(self.dim)]

    def coarse(self) -> Patch:
        """The patch of the even points, step ``2h``."""
        return Patch(self.centre, self.half_width, (self.n + 1) // 2, step=2.0 * self.h)

    def restrict(self, values: np.ndarray) -> np.ndarray:
        """A grid field (shape ``shape + ...``) at the even points, on :meth:`coarse`'s grid."""
        return values[(slice(None, None, 2),) * self.dim]

    def field(self, values: np.ndarray) -> np.ndarray:
        """Reshape per-point values ``(N,)`` or ``(N, d)`` onto the grid."""
        return values.reshape(self.shape + values.shape[1:])

    def divergence(self, vec: np.ndarray) -> np.ndarray:
        r""":math:`\nabla\cdot F` of a grid field ``vec`` of shape ``shape + (d,)``."""
        return sum(self._d1[i](vec[..., i]) for i in range(self.dim))

    def laplacian(self, f: np.ndarray) -> np.ndarray:
        r""":math:`\Delta f` of a grid field."""
        return sum(op(f) for op in self._d2)


# Sums of |coefficients| of findiff's acc=6 central stencils: first derivative
# 2 (3/4 + 3/20 + 1/60), second derivative 2 (3/2 + 3/20 + 1/90) + 49/18; time stencil as _C6.
_SUM_D1, _SUM_D2, _SUM_T = 1.83, 6.04, 1.83
# Truncation bound of the time stencil with h rho = 0.05 (gaussian_time_step): h^6 |q^(7)| / 140
# <= (h rho)^7 / 140 * |q| / h.
_TIME_TRUNCATION = TIME_STEP_RHO**7 / 140.0


def density_precision(sigma: float, mean_bound: float, z_max: float) -> float:
    r"""Relative accuracy :math:`\epsilon_f` of Gaussian density values within :math:`z_{\max}` deviations.

    :math:`\exp(-z^2/2)` with :math:`z` rounded relative to :math:`|z|` gives :math:`\epsilon z^2`; the mean
    :math:`\mu(t)`, rounded relative to :math:`|\mu|`, shifts :math:`z` by :math:`\epsilon|\mu|/\sigma`.
    """
    return EPS * (1.0 + z_max**2 + z_max * mean_bound / sigma)


@dataclass
class Residual:
    r"""A residual field on a patch, the same residual from the stencils of step ``2h``, and a floor.

    For 6th-order stencils the truncation error is :math:`E_{2h} \approx 64 E_h`, while a true
    defect :math:`D` of the equation (a wrong factor or sign) is the same on both grids; at the
    even points :math:`R_h - R_{2h} \approx -63 E_h` (Richardson), so :attr:`truncation` estimates the
    fine residual's discretisation error without knowing :math:`D`.  ``floor`` bounds what does not
    shrink with the spatial step: round-off of the stencils and the time difference's error
    (see :func:`transport_residual`).  Both grids are compared on the points where all their
    stencils are central; the one-sided stencils at the faces have other error constants.
    """

    fine: np.ndarray
    coarse: np.ndarray
    scale: float
    floor: float
    patch: Patch

    def _interior(self, field: np.ndarray, layers: int) -> np.ndarray:
        return field[(slice(layers, -layers),) * self.patch.dim]

    @property
    def residual(self) -> float:
        """``max |R_h|`` over the points where every stencil is central (3 coarse = 6 fine layers in)."""
        return float(np.max(np.abs(self._interior(self.fine, 6))))

    @property
    def relative(self) -> float:
        """:attr:`residual` relative to the largest term of the equation (for reports)."""
        return self.residual / self.scale

    @property
    def truncation(self) -> float:
        """Richardson estimate ``max |R_h - R_2h| / 63`` of the fine residual's truncation error."""
        diff = self.patch.restrict(self.fine) - self.coarse
        return float(np.max(np.abs(self._interior(diff, 3))) / 63.0)

    def in_tolerance_units(self) -> float:
        r"""``max |R_h| / (4 truncation + floor)``: below 1 when the residual is discretisation error.

        The factor 4 covers the max over all points against the max over the even points and
        the next order of the error expansion.  A defect :math:`D` makes ``max |R_h|`` of order
        :math:`|D|` but leaves ``truncation`` and ``floor`` small, so the ratio is large.
        """
        return self.residual / (4.0 * self.truncation + self.floor)


def transport_residual(
    patch: Patch,
    q: np.ndarray,
    velocities: list[np.ndarray],
    diffusion: float,
    eps_q: float,
    rate: np.ndarray | None = None,
    h_t: float | None = None,
) -> Residual:
    r"""The residual :math:`\text{rate} + \sum_i \nabla\cdot(q\,u_i) - D\,\Delta q` on a patch and its coarse grid.

    ``q`` and ``rate`` (the time difference of ``q`` with step ``h_t``, or None) are grid fields,
    the :math:`u_i` grid vector fields (``shape + (d,)``), :math:`D` is ``diffusion``, and ``eps_q``
    the relative accuracy of the values of ``q`` (:func:`density_precision`).  The floor, in the
    residual's units, is 20 times the sum of

    * the spatial stencils' round-off, :math:`\epsilon_q\,(1.83\,d\,\max_i\max|q u_i|/h + 6.04\,d\,|D|\max q/h^2)`;
    * the time stencil's round-off and truncation, :math:`(1.83\,\epsilon_q + 0.05^7/140)\max q/h_t`.

    The factor 20 covers the products :math:`q u_i` (whose values are less accurate than
    :math:`q`'s) and the sums over components.
    """

    def terms(P: Patch, pick) -> list[np.ndarray]:
        qq = pick(q)
        out = [] if rate is None else [pick(rate)]
        out += [P.divergence(qq[..., None] * pick(u)) for u in velocities]
        if diffusion:
            out.append(-diffusion * P.laplacian(qq))
        return out

    fine = terms(patch, lambda a: a)
    coarse = terms(patch.coarse(), patch.restrict)
    scale = max(float(np.max(np.abs(term))) for term in fine)
    q_max, d, h = float(np.max(np.abs(q))), patch.dim, patch.h
    flux_max = max((float(np.max(np.abs(q[..., None] * u))) for u in velocities), default=0.0)
    space = eps_q * (_SUM_D1 * d * flux_max / h + _SUM_D2 * d * abs(diffusion) * q_max / h**2)
    time = 0.0 if rate is None else (_SUM_T * eps_q + _TIME_TRUNCATION) * q_max / h_t
    return Residual(sum(fine), sum(coarse), scale, 20.0 * (space + time), patch)


DensityOnPatch = Callable[[float], np.ndarray]
Velocity = Callable[[np.ndarray, float], np.ndarray]


def fokker_planck_residual(
    density: DensityOnPatch, process, t: float, patch: Patch, h_t: float, eps_q: float, diffusion: float = 0.5
) -> Residual:
    r"""Residual of :math:`\partial_t q + \nabla\cdot(f q) - \kappa\,g^2 \Delta q = 0` on a patch.

    :math:`\kappa` is ``diffusion``; the correct Fokker-Planck equation has :math:`\kappa = 1/2`
    (MATH.md section 1), the transcript's slip :math:`\kappa = 1`.  ``density(tau)`` gives
    :math:`q_\tau` on the patch's points; :math:`\partial_t q` is its central difference with step
    ``h_t``; :math:`f` and :math:`g^2` are the process's.
    """
    f = patch.field(process.drift(patch.points, t))
    dq_dt = central_difference(density, t, h_t)
    return transport_residual(patch, density(t), [f], diffusion * float(process.g2(t)), eps_q, dq_dt, h_t)


def continuity_residual(
    density: DensityOnPatch, velocity: Velocity, t: float, patch: Patch, h_t: float, eps_q: float
) -> Residual:
    r"""Residual of the continuity equation :math:`\partial_t q + \nabla\cdot(q v) = 0`.

    ``velocity(x, t)`` returns ``(N, d)``; otherwise as :func:`fokker_planck_residual`.
    """
    v = patch.field(velocity(patch.points, t))
    return transport_residual(patch, density(t), [v], 0.0, eps_q, central_difference(density, t, h_t), h_t)


def flux_mismatch(
    density: DensityOnPatch, process, velocity: Velocity, t: float, patch: Patch, eps_q: float
) -> Residual:
    r"""Residual of :math:`\nabla\cdot(q v) = \nabla\cdot(f q) - \tfrac12 g^2 \Delta q` (no time derivative)."""
    v = patch.field(velocity(patch.points, t))
    f = patch.field(process.drift(patch.points, t))
    return transport_residual(patch, density(t), [v, -f], -0.5 * float(process.g2(t)), eps_q)


# --------------------------------------------------------------------------- Gaussian and mixture formulas


@dataclass
class Mixture:
    """Plain parameters of a Gaussian mixture, ``weights (K,)``, ``means (K, d)``, ``covs (K, d, d)``."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @classmethod
    def of(cls, data) -> Mixture:
        """Copy the parameters of a fpcheck GaussianMixture (its numbers only, none of its methods)."""
        return cls(np.array(data.weights), np.array(data.means), np.array(data.covs))

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def pushed(self, a: float, c: np.ndarray, s2: float) -> Mixture:
        r"""The law of :math:`aX + c + sZ`, :math:`Z \sim \mathcal N(0, I)` (MATH.md section 2).

        Its components are :math:`\mathcal N(a m_k + c,\ a^2 S_k + s^2 I)`.
        """
        return Mixture(self.weights, a * self.means + c, a * a * self.covs + s2 * np.eye(self.dim))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Mean and covariance by the law of total covariance.

        :math:`\mu = \sum_k w_k m_k`, :math:`\Sigma = \sum_k w_k S_k + \sum_k w_k (m_k - \mu)(m_k - \mu)^T`.
        """
        mu = self.weights @ self.means
        dm = self.means - mu
        return mu, np.einsum("k,kij->ij", self.weights, self.covs) + np.einsum("k,ki,kj->ij", self.weights, dm, dm)

    def stds(self) -> tuple[float, float]:
        """Smallest and largest standard deviation over all components and directions."""
        eig = np.linalg.eigvalsh(self.covs)
        return float(np.sqrt(eig.min())), float(np.sqrt(eig.max()))

    def component_logpdfs(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\log w_k + \log\mathcal N(x;\ m_k, S_k)` by scipy.stats, shape ``(n, K)``."""
        return np.stack(
            [np.log(w) + stats.multivariate_normal(m, S).logpdf(x).reshape(-1) for w, m, S in self._components()],
            axis=1,
        )

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return special.logsumexp(self.component_logpdfs(x), axis=1)

    def responsibilities(self, x: np.ndarray) -> np.ndarray:
        return special.softmax(self.component_logpdfs(x), axis=1)

    def cdf_1d(self, x: np.ndarray) -> np.ndarray:
        r"""1D cdf :math:`\sum_k w_k \Phi((x - m_k)/\sigma_k)` with ``ndtr``."""
        sd = np.sqrt(self.covs[:, 0, 0])
        return special.ndtr((np.reshape(x, (-1, 1)) - self.means[None, :, 0]) / sd) @ self.weights

    def projected_cdf(self, u: np.ndarray, y: np.ndarray) -> np.ndarray:
        r"""cdf of :math:`u\cdot X`, the 1D mixture :math:`\sum_k w_k \mathcal N(u\cdot m_k,\ u^T S_k u)`."""
        var = np.einsum("i,kij,j->k", u, self.covs, u)
        return Mixture(self.weights, (self.means @ u)[:, None], var[:, None, None]).cdf_1d(y)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` points: a component by its weight, then its mean plus Cholesky factor times N(0, I)."""
        idx = rng.choice(len(self.weights), size=n, p=self.weights)
        chol = np.linalg.cholesky(self.covs)
        return self.means[idx] + np.einsum("nij,nj->ni", chol[idx], rng.standard_normal((n, self.dim)))

    def _components(self):
        return zip(self.weights, self.means, self.covs)


def gaussian_kl_to_standard(mean: np.ndarray, cov: np.ndarray) -> float:
    r"""The Gaussian KL divergence to the standard normal, in closed form.

    :math:`KL(\mathcal N(\mu, \Sigma)\,\|\,\mathcal N(0, I))
    = \tfrac12(\operatorname{tr}\Sigma + |\mu|^2 - d - \log\det\Sigma)`.
    """
    _, logdet = np.linalg.slogdet(cov)
    return 0.5 * float(np.trace(cov) + mean @ mean - mean.size - logdet)


def affine_drift_coefficients(process, t: float, dim: int) -> tuple[float, np.ndarray]:
    r"""Read :math:`\lambda(t)`, :math:`\kappa(t)` off :math:`f(x,t) = -\lambda x + \kappa`.

    From the drift at 0 (:math:`\kappa`) and at :math:`e_1` (:math:`\kappa - \lambda e_1`).
    """
    f = process.drift(np.vstack([np.zeros(dim), np.eye(dim)[0]]), t)
    return float(f[0, 0] - f[1, 0]), f[0].copy()


# --------------------------------------------------------------------------- quadrature


@dataclass
class QuadratureGrid:
    r"""A tensor grid covering a Gaussian mixture, for the trapezoid rule.

    :math:`\int F\,dx \approx \mathrm{vol}\sum_i F(x_i)`, the cell volume times the sum over the points.

    Per axis it spans every component's mean :math:`\pm` ``n_sigma`` standard deviations, where
    the integrands (density times polynomially growing factors) are below
    :math:`e^{-n_\sigma^2/2}`.  For integrands analytic in a strip of half-width :math:`a` around
    the real axis the trapezoid rule's error is :math:`O(e^{-2\pi a/h})`: for Gaussians of width
    :math:`\sigma` this is :math:`e^{-2\pi^2\sigma^2/h^2}`, so ``h <= sigma_min / 3`` gives
    :math:`< 10^{-70}` (:meth:`resolution` is ``h / sigma_min``).
    """

    mixture: Mixture
    n: int
    n_sigma: float = 9.0

    def __post_init__(self):
        sd = np.sqrt(np.diagonal(self.mixture.covs, axis1=1, axis2=2))
        lo = (self.mixture.means - self.n_sigma * sd).min(axis=0)
        hi = (self.mixture.means + self.n_sigma * sd).max(axis=0)
        axes = [np.linspace(a, b, self.n) for a, b in zip(lo, hi)]
        self.steps = np.array([ax[1] - ax[0] for ax in axes])
        self.volume = float(np.prod(self.steps))
        mesh = np.meshgrid(*axes, indexing="ij")
        self.points = np.stack([m.ravel() for m in mesh], axis=1)

    def integrate(self, values: np.ndarray) -> np.ndarray:
        """Sum over the points (axis 0) times the cell volume."""
        return self.volume * np.sum(values, axis=0)

    def resolution(self) -> float:
        """Largest step in units of the smallest component standard deviation."""
        return float(self.steps.max() / self.mixture.stds()[0])


# --------------------------------------------------------------------------- test fields


@dataclass
class SmoothField:
    r"""A smooth vector field :math:`s(x) = A y + b + c \tanh(w\cdot y + e)`, :math:`y = (x - x_c)/\ell`.

    Working in the standardised coordinate :math:`y` puts the field's features on the scale of
    the density it is tested against (``centre`` :math:`x_c` and ``scale`` :math:`\ell` are the
    density's mean and spread).  Its divergence, written out:

    .. math::
        \nabla\cdot s = \big(\operatorname{tr} A + (c\cdot w)\,\operatorname{sech}^2(w\cdot y + e)\big)/\ell .
    """

    A: np.ndarray
    b: np.ndarray
    c: np.ndarray
    w: np.ndarray
    e: float
    centre: np.ndarray
    scale: float

    def _y(self, x: np.ndarray) -> np.ndarray:
        return (x - self.centre) / self.scale

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = self._y(x)
        return y @ self.A.T + self.b + np.tanh(y @ self.w + self.e)[:, None] * self.c

    def divergence(self, x: np.ndarray) -> np.ndarray:
        sech2 = 1.0 / np.cosh(self._y(x) @ self.w + self.e) ** 2
        return (np.trace(self.A) + (self.c @ self.w) * sech2) / self.scale
