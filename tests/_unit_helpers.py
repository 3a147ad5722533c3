"""Numerical helpers shared by the unit tests: finite differences, scaled errors, statistical tests.

Every helper states the error it commits, so that a test can justify its tolerance:

* :func:`central_diff` / :func:`fd_gradient`: 4th-order central differences.  Truncation error
  ``h**4 * |f^(5)| / 30``, rounding error about ``1.5 * eps * max|f| / h``.
* :func:`assert_scaled_close`: scipy's ``compute_error`` criterion ``|a - d| <= atol + rtol |d|``.
* :func:`assert_mean_equal_by_z_test`, :func:`assert_cov_equal_by_z_test`: asymptotically normal
  z-tests with a Bonferroni correction, false-fail probability ``alpha`` (on a fresh seed; the
  seed is fixed, so the outcome is deterministic).
* :func:`assert_true_cdf_equal_by_dkwm`: the Dvoretzky-Kiefer-Wolfowitz-Massart bound
  ``P(sup|F_n - F| > eps) <= 2 exp(-2 n eps^2)``, false-fail probability ``alpha``.
"""

from __future__ import annotations

import numpy as np
from scipy import special

EPS = float(np.finfo(float).eps)


def central_diff(f, x, h):
    """f'(x) by the 4th-order central stencil (1, -8, 0, 8, -1) / 12h."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


def fd_gradient(f, x, h):
    """The gradient of a scalar field ``f: (n, d) -> (n,)`` at points ``x`` ``(n, d)``, 4th order per axis."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        out[:, j] = (f(x - 2 * e) - 8 * f(x - e) + 8 * f(x + e) - f(x + 2 * e)) / (12 * h)
    return out


def second_diff(f, x, h):
    """f''(x) by the 4th-order stencil (-1, 16, -30, 16, -1) / 12h^2 (truncation h^4 |f^(6)| / 90)."""
    return (-f(x - 2 * h) + 16 * f(x - h) - 30 * f(x) + 16 * f(x + h) - f(x + 2 * h)) / (12 * h * h)


def assert_scaled_close(actual, desired, *, rtol: float, atol: float = 0.0, what: str = "value"):
    """Assert ``|actual - desired| <= atol + rtol |desired|`` elementwise, reporting the worst ratio."""
    actual, desired = np.broadcast_arrays(np.asarray(actual, float), np.asarray(desired, float))
    assert actual.shape == desired.shape
    assert np.all(np.isfinite(actual)), f"{what}: non-finite entries {actual[~np.isfinite(actual)]}"
    err = np.abs(actual - desired) / (atol + rtol * np.abs(desired))
    worst = np.unravel_index(np.argmax(err), err.shape) if err.size else ()
    assert err.size == 0 or err.max() <= 1.0, (
        f"{what}: scaled error {err.max():.3g} > 1 at {worst}: actual {actual[worst]!r}, "
        f"desired {desired[worst]!r} (rtol={rtol:g}, atol={atol:g})"
    )


def z_bound(alpha: float, m: int = 1) -> float:
    """Two-sided normal quantile with a Bonferroni correction over ``m`` comparisons."""
    return float(-special.ndtri(alpha / (2.0 * m)))


def assert_mean_equal_by_z_test(samples, mean, cov, *, alpha: float = 1e-4):
    """The sample mean is within ``z_bound(alpha, d)`` standard errors ``sqrt(cov_ii / n)`` of ``mean``."""
    x = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    n, d = x.shape
    se = np.sqrt(np.diag(np.atleast_2d(cov)) / n)
    z = (x.mean(axis=0) - np.reshape(mean, d)) / se
    bound = z_bound(alpha, d)
    assert np.all(np.abs(z) < bound), f"mean z-scores {z} exceed {bound:.3g} (alpha={alpha:g})"


def assert_cov_equal_by_z_test(samples, mean, cov, *, alpha: float = 1e-4):
    """Each entry of ``mean((x - m)(x - m)^T)`` is within the Bonferroni z bound of ``cov``.

    The standard error of an entry is the sample standard deviation of the products
    ``(x_i - m_i)(x_j - m_j)`` over ``sqrt(n)`` (CLT; needs finite fourth moments).
    """
    x = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    n, d = x.shape
    y = x - np.reshape(mean, d)
    iu = np.triu_indices(d)
    prods = y[:, iu[0]] * y[:, iu[1]]
    se = prods.std(axis=0, ddof=1) / np.sqrt(n)
    z = (prods.mean(axis=0) - np.atleast_2d(cov)[iu]) / se
    bound = z_bound(alpha, len(iu[0]))
    assert np.all(np.abs(z) < bound), f"covariance z-scores {z} exceed {bound:.3g} (alpha={alpha:g})"


def dkwm_epsilon(n: int, alpha: float) -> float:
    """The DKWM half-width: ``P(sup|F_n - F| > eps) <= alpha`` for ``eps = sqrt(log(2/alpha) / 2n)``."""
    return float(np.sqrt(np.log(2.0 / alpha) / (2.0 * n)))


def ks_statistic(samples, cdf) -> float:
    """``sup_x |F_n(x) - F(x)|`` for a continuous ``F``, exactly (at the jumps of ``F_n``)."""
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    n = x.size
    f = cdf(x)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


def assert_true_cdf_equal_by_dkwm(samples, cdf, *, alpha: float = 1e-4):
    """Kolmogorov-Smirnov distance below the DKWM bound; false-fail probability ``alpha``."""
    n = np.size(samples)
    ks, eps = ks_statistic(samples, cdf), dkwm_epsilon(n, alpha)
    assert ks < eps, f"KS distance {ks:.4g} exceeds the DKWM bound {eps:.4g} (n={n}, alpha={alpha:g})"
