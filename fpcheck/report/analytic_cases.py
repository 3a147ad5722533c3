r"""The analytic section: each named affine process against independent computations.

For every affine process in the registry:

* **kernel Fokker-Planck residual**: :math:`k_t(x\mid x_0)` (built from :math:`(a_t, c_t, s_t^2)` with
  scipy's normal density) put into the Fokker-Planck equation by finite differences on grids of step
  :math:`h` and :math:`2h`.  A solution leaves the stencils' truncation error, which falls like
  :math:`h^6`; the case passes when the observed order is at least 4 (or the residual is at round-off).
* **moment dynamics**: mean and covariance of :math:`q_t` for mixture data against scipy's
  ``solve_ivp`` of :math:`\dot\mu = -\lambda\mu + \kappa`, :math:`\dot\Sigma = -2\lambda\Sigma + g^2 I`.
* **density panels**: :math:`q_t` at several times in 1D and 2D; each panel's mass by Simpson
  quadrature must be one.
"""

from __future__ import annotations

import numpy as np

from .. import problems
from ..analytic import ExactMarginals
from ..distributions import GaussianMixture
from ..grid.bounds import component_extent
from ..residuals import fokker_planck_residual, residual_order
from .registry import CaseResult, register

SECTION = "Analytic truth"

#: Accuracy order of the spatial stencils and the smallest observed order that passes.
_ACC, _MIN_ORDER = 6, 4.0
#: Relative residual below which the check is at round-off and the order is not meaningful.
_ROUND_OFF = 1e-10
#: Largest tolerated deviation from the exact ODE solution (solve_ivp at rtol 1e-11 reaches ~1e-10).
_MOMENT_TOL = 1e-8
#: Largest tolerated |mass - 1| of a density panel (Simpson on a grid resolving the kernel width).
_MASS_TOL = 1e-6


def _kernel_density(process, x0: np.ndarray):
    """``k_t(x | x0)`` as a callable, from the kernel coefficients and scipy's normal pdf."""
    from scipy.stats import norm

    def density(x, t):
        a, c, s2 = process.kernel(t)
        centre = a * x0 + c
        return np.prod(norm.pdf(x, loc=centre, scale=np.sqrt(s2)), axis=1)

    return density


def _kernel_residual_rows(process, quick: bool) -> list[list]:
    rows = []
    dims = (1, 2) if quick else (1, 2, 3)
    fracs = (0.1, 1.0) if quick else (0.05, 0.2, 0.5, 1.0)
    points = {1: 201, 2: 61, 3: 25}
    for d in dims:
        x0 = np.linspace(-0.8, 1.3, d)
        density = _kernel_density(process, x0)
        for frac in fracs:
            t = frac * process.T
            a, c, s2 = process.kernel(t)
            s = float(np.sqrt(s2))
            centre = a * x0 + c
            res = []
            for n in (points[d], (points[d] + 1) // 2):
                axes = [np.linspace(m - 7 * s, m + 7 * s, n) for m in np.broadcast_to(centre, (d,))]
                res.append(fokker_planck_residual(process, density, axes, t, acc=_ACC))
            order = residual_order(*res)
            ok = res[0].relative < _ROUND_OFF or order >= _MIN_ORDER
            rows.append([d, t, s, res[1].relative, res[0].relative, order, "yes" if ok else "NO"])
    return rows


def _moment_errors(process, data, times: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Max deviation of the closed-form mean/cov from the ODE solution, plus both trajectories of the variance."""
    from scipy.integrate import solve_ivp

    d = data.dim
    truth = ExactMarginals(process, data)
    eye = np.eye(d)

    def rhs(t, y):
        mu, cov = y[:d], y[d:].reshape(d, d)
        lam, kappa, g2 = process.rate(t), np.broadcast_to(process.shift(t), (d,)), process.g2(t)
        return np.concatenate([-lam * mu + kappa, (-2 * lam * cov + g2 * eye).ravel()])

    y0 = np.concatenate([data.mean(), data.cov().ravel()])
    sol = solve_ivp(rhs, (0.0, times[-1]), y0, t_eval=times, rtol=1e-11, atol=1e-13, method="DOP853")
    err, ode_var, exact_var = 0.0, [], []
    for k, t in enumerate(times):
        mu, cov = truth.mean(t), truth.cov(t)
        err = max(err, np.abs(sol.y[:d, k] - mu).max(), np.abs(sol.y[d:, k] - cov.ravel()).max())
        ode_var.append(np.trace(sol.y[d:, k].reshape(d, d)))
        exact_var.append(np.trace(cov))
    return float(err), np.array(ode_var), np.array(exact_var)


def _support_and_width(q, pad: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-axis bounds holding the mass of ``q`` (components' extent plus ``pad`` widths) and its narrowest width."""
    lo, hi = component_extent(q, pad)
    if isinstance(q, GaussianMixture):
        return lo, hi, float(np.sqrt(np.linalg.eigvalsh(q.covs).min()))
    return lo, hi, float(np.sqrt(q.noise_var))


def _mass(q, n_max: int, pad: float = 12.0) -> tuple[float, float]:
    """Mass of ``q`` by Simpson's rule on a grid with about 6 nodes per narrowest width, and an error estimate.

    The estimate is the difference from the same rule on every other node (Richardson).
    """
    from scipy.integrate import simpson

    lo, hi, width = _support_and_width(q, pad)
    axes = [np.linspace(a, b, int(np.clip(np.ceil((b - a) / (width / 6.0)), 201, n_max)) | 1) for a, b in zip(lo, hi)]
    mesh = np.meshgrid(*axes, indexing="ij")
    vals = q.pdf(np.stack([m.ravel() for m in mesh], axis=1)).reshape(mesh[0].shape)
    masses = []
    for step in (1, 2):
        v = vals[(slice(None, None, step),) * len(axes)]
        for ax in reversed(axes):
            v = simpson(v, x=ax[::step], axis=-1)
        masses.append(float(v))
    return masses[0], abs(masses[0] - masses[1])


def _density_panels(process_name: str, quick: bool) -> CaseResult:
    import matplotlib.pyplot as plt

    process = problems.process(process_name)
    fracs_1d = (0.0, 0.05, 0.2, 0.5, 1.0)
    fracs_2d = (0.05, 0.5, 1.0) if quick else (0.05, 0.2, 0.5, 1.0)
    data_1d = ("gmm1d-bimodal", "box1d")
    data_2d = ("gmm2d-ring8",) if quick else ("gmm2d-ring8", "checkerboard2d", "gmm2d-aniso")
    rows, figures = [], []

    fig, axs = plt.subplots(1, len(data_1d), figsize=(5 * len(data_1d), 3.4), squeeze=False)
    for ax, name in zip(axs[0], data_1d):
        truth = ExactMarginals(process, problems.data(name))
        for frac in fracs_1d:
            t = frac * process.T
            q = truth.at(t)
            view = np.linspace(-4.5, 4.5, 1201)
            ax.plot(view, q.pdf(view), label=f"t = {t:.3g}")
            if t > 0:
                rows.append([name, t, *_mass(q, 40001)])
        ax.set(title=f"{name} under {process_name}", xlabel="x", ylabel="q_t(x)")
        ax.legend(fontsize=7)
    figures.append(("density-1d", fig))

    for name in data_2d:
        truth = ExactMarginals(process, problems.data(name))
        fig, axs = plt.subplots(
            1, len(fracs_2d), figsize=(3.3 * len(fracs_2d), 3.5), squeeze=False, constrained_layout=True
        )
        for ax, frac in zip(axs[0], fracs_2d):
            t = frac * process.T
            q = truth.at(t)
            half = float(np.ceil(max(3.5, 3.0 * np.sqrt(np.trace(q.cov()) / 2))))
            g = np.linspace(-half, half, 161)
            X, Y = np.meshgrid(g, g, indexing="xy")
            Z = q.pdf(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
            ax.imshow(Z, origin="lower", extent=(-half, half, -half, half), cmap="viridis")
            ax.set(title=f"t = {t:.3g}", xticks=[-half, 0, half], yticks=[-half, 0, half], xlabel="x1", ylabel="x2")
            rows.append([name, t, *_mass(q, 801)])
        fig.suptitle(f"{name} under {process_name}")
        figures.append((f"density-{name}", fig))

    for row in rows:
        mass, quad_err = row[2:]
        row[2:] = [abs(mass - 1.0), quad_err, "yes" if abs(mass - 1.0) <= _MASS_TOL + quad_err else "NO"]
    worst = max(r[2] for r in rows)
    return CaseResult(
        all(r[-1] == "yes" for r in rows),
        f"q_t at {len(rows)} (data, t) pairs; largest |mass - 1| by Simpson quadrature {worst:.2e}; "
        f"each must be within {_MASS_TOL:g} plus the quadrature's own error estimate (h vs 2h).",
        metrics={"max_mass_error": worst, "tolerance": _MASS_TOL},
        table=(["data", "t", "|mass - 1|", "quadrature error estimate", "ok"], rows),
        figures=figures,
    )


def _register(process_name: str) -> None:
    @register(SECTION, f"{process_name}/kernel-fokker-planck", f"{process_name}: the kernel solves Fokker-Planck")
    def kernel_fp(quick: bool) -> CaseResult:
        rows = _kernel_residual_rows(problems.process(process_name), quick)
        passed = all(r[-1] == "yes" for r in rows)
        min_order = min(r[5] for r in rows)
        return CaseResult(
            passed,
            f"Relative residual of the kernel in the Fokker-Planck equation on grids h and 2h "
            f"(stencils of order {_ACC}); smallest observed order {min_order:.2f} (need >= {_MIN_ORDER:g} "
            f"unless at round-off, < {_ROUND_OFF:g}).",
            metrics={"min_order": min_order, "max_relative_residual": max(r[4] for r in rows)},
            table=(["d", "t", "s_t", "residual (2h)", "residual (h)", "order", "ok"], rows),
        )

    @register(SECTION, f"{process_name}/moments", f"{process_name}: mean and covariance obey their ODEs")
    def moments(quick: bool) -> CaseResult:
        import matplotlib.pyplot as plt

        process = problems.process(process_name)
        times = np.linspace(0.0, process.T, 21 if quick else 61)
        names = ("gmm1d-bimodal", "gmm2d-aniso") if quick else ("gmm1d-bimodal", "gmm2d-aniso", "gmm3d-tetra")
        rows, fig = [], plt.figure(figsize=(5, 3.4))
        for name in names:
            err, ode_var, exact_var = _moment_errors(process, problems.data(name), times)
            rows.append([name, err])
            line = plt.plot(times, ode_var, label=f"{name} (ODE)")[0]
            plt.plot(times, exact_var, "o", ms=3, color=line.get_color(), label=f"{name} (closed form)")
        plt.yscale("log")
        plt.xlabel("t")
        plt.ylabel("trace of Cov(q_t)")
        plt.legend(fontsize=7)
        worst = max(r[1] for r in rows)
        return CaseResult(
            worst <= _MOMENT_TOL,
            f"Closed-form mean and covariance of q_t against solve_ivp (DOP853, rtol 1e-11) of "
            f"dmu/dt = -lambda mu + kappa, dSigma/dt = -2 lambda Sigma + g^2 I; largest deviation "
            f"{worst:.2e} (tolerance {_MOMENT_TOL:g}).",
            metrics={"max_deviation": worst, "tolerance": _MOMENT_TOL},
            table=(["data", "max |closed form - ODE|"], rows),
            figures=[("moments", fig)],
        )

    @register(SECTION, f"{process_name}/densities", f"{process_name}: density panels of q_t")
    def densities(quick: bool) -> CaseResult:
        return _density_panels(process_name, quick)


for _name in problems.affine_processes():
    _register(_name)
