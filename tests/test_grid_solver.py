"""The exact-in-time grid solver against the analytic truth: orders, Richardson, its error estimate."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import GridWarning, InputError
from fpcheck.grid import Grid, cell_averages
from fpcheck.grid._rational import UNIFORM_ERROR
from fpcheck.grid.solver import _propagate, propagator_axes, solve_fokker_planck


def _l1(values, exact, grid):
    return float(np.abs(values - exact).sum() * grid.cell_volume)


def _errors(process_name, data_name, grid, times, extrapolate):
    truth = ExactMarginals(problems.process(process_name), problems.data(data_name))
    sol = solve_fokker_planck(truth.process, truth.data, grid, times, extrapolate=extrapolate)
    exact = [cell_averages(truth.at(t), grid).values for t in times]
    return np.array([_l1(d.values, e, grid) for d, e in zip(sol.densities, exact)]), sol


@pytest.mark.parametrize(
    "process_name, data_name, bounds, times",
    [
        ("vp-linear", "gmm1d-bimodal", (-8, 8), (0.3, 0.6)),
        ("ve-geometric", "box1d", (-6, 6), (0.35, 0.45)),
        ("ou", "gmm1d-bimodal", (-7, 9), (0.3, 0.6)),
    ],
)
def test_orders_in_h_1d(process_name, data_name, bounds, times):
    # Second order plain (>= 1.9), fourth order after Richardson (>= 3.8), measured between N and 2N
    # against exact cell averages of q_t.  VE's times keep sigma(t) in [0.2, 0.46]: resolved by
    # h = 1/32 and holding the mass inside [-6, 6]; with 384 cells the box faces +-1 are cell faces
    # on every level (h/2, h, 2h), which the even-power error expansion needs.
    plain, rich = [], []
    for n in (384, 768) if data_name == "box1d" else (256, 512):
        grid = Grid([bounds], [n])
        plain.append(_errors(process_name, data_name, grid, times, False)[0])
        rich.append(_errors(process_name, data_name, grid, times, True)[0])
    assert np.all(np.log2(plain[0] / plain[1]) >= 1.9)
    assert np.all(np.log2(rich[0] / rich[1]) >= 3.8)


@pytest.mark.filterwarnings("ignore:the grid under-resolves:fpcheck.errors.GridWarning")
def test_orders_in_h_2d_with_a_full_covariance_mixture():
    # Deliberately coarse (h = 0.44 and 0.22 against a narrowest conditional std of 0.32, hence
    # the resolution warning) to stay fast; the orders are asymptotic already, and [-7, 7] keeps
    # the zero-flux boundary's effect (mass outside below 1e-12) far below the errors measured.
    times = [0.2, 1.0]
    plain, rich = [], []
    for n in (32, 64):
        grid = Grid([(-7, 7), (-7, 7)], [n, n])
        plain.append(_errors("vp-linear", "gmm2d-aniso", grid, times, False)[0])
        rich.append(_errors("vp-linear", "gmm2d-aniso", grid, times, True)[0])
    assert np.all(np.log2(plain[0] / plain[1]) >= 1.9)
    assert np.all(np.log2(rich[0] / rich[1]) >= 3.8)


@pytest.mark.parametrize("extrapolate", [False, True])
def test_error_estimate_brackets_the_true_error_within_a_factor_3(extrapolate):
    grid = Grid([(-8, 8)], [512])
    err, sol = _errors("vp-linear", "gmm1d-bimodal", grid, [0.05, 0.2, 1.0], extrapolate)
    ratio = sol.error_estimate / err
    assert np.all((ratio > 1 / 3) & (ratio < 3)), ratio


def test_mass_is_conserved_and_densities_stay_non_negative():
    grid = Grid([(-8, 8)], [512])
    _, sol = _errors("vp-linear", "gmm1d-bimodal", grid, [0.01, 0.5, 1.0], False)
    q0_mass = cell_averages(problems.data("gmm1d-bimodal"), grid).mass()
    for d in sol.densities:
        # the rational exponential multiplies the mass by r(0) = 1 + O(1e-14)
        assert abs(d.mass() - q0_mass) < 1e-12
        assert d.values.min() >= -1e-14 * d.values.max()


def test_exact_in_time_semigroup():
    # One call to tau1 + tau2 equals two calls in sequence: the only error is the rational
    # approximation's (~1e-14 relative), not a time step.
    grid = Grid([(-8, 8)], [256])
    proc = problems.process("vp-linear")
    ops = propagator_axes(proc, grid)
    q0 = cell_averages(problems.data("gmm1d-bimodal"), grid).values
    once = _propagate(ops, q0, 2.5)
    twice = _propagate(ops, _propagate(ops, q0, 1.0), 1.5)
    assert np.abs(once - twice).max() <= 1e-12 * once.max()


def test_long_time_limit_is_the_discrete_equilibrium():
    # OU relaxes at rate gamma = 1: propagate to tau = 40 (e^{-40} ~ 4e-18 of the start is left)
    # and compare with the discrete Boltzmann density.  The rational exponential acts on
    # w = Pi^{-1/2} q (S symmetric) with 2-norm error <= (eps_r + 0.15 u tau |S|) |w|_2: the
    # approximation's uniform error plus the rounding of the shifted solves, which grows like
    # u tau |S| (measured in tests/test_grid_tridiag.py).  So |q - pi|_max <= that times max(pi^{1/2}),
    # with a factor 4 for the rounding of the diagonal scalings.
    grid = Grid([(-7, 9)], [280])
    ops = propagator_axes(problems.process("ou"), grid)
    q0 = cell_averages(problems.data("gmm1d-bimodal"), grid).values
    tau = 40.0
    q = _propagate(ops, q0, tau)
    pi = np.exp(ops[0].log_pi) * q0.sum() * grid.h[0]
    w_norm = np.linalg.norm(q0 * np.exp(-0.5 * ops[0].log_pi))
    s_norm = np.abs(ops[0].diag).max() + 2 * ops[0].sym_offdiag.max()
    eps = UNIFORM_ERROR + 0.15 * np.finfo(float).eps * tau * s_norm
    bound = 4 * eps * w_norm * np.exp(0.5 * ops[0].log_pi).max()
    assert np.abs(q - pi).max() <= bound


def test_bad_input():
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    with pytest.raises(InputError, match="even"):
        solve_fokker_planck(proc, data, Grid([(-8, 8)], [63]), [0.5])
    with pytest.raises(InputError, match="dimensional"):
        solve_fokker_planck(proc, problems.data("gmm2d-ring8"), Grid([(-8, 8)], [64]), [0.5])
    with pytest.raises(InputError, match="time range"):
        solve_fokker_planck(proc, data, Grid([(-8, 8)], [64]), [1.5])


def test_box_faces_off_the_cell_faces_warn():
    # [-1, 1] on (-5, 5) with 256 cells: the faces cut cells at 0.4 of their width
    with pytest.warns(GridWarning, match="box faces along axis 0"):
        solve_fokker_planck(problems.process("ve-geometric"), problems.data("box1d"), Grid([(-5, 5)], [256]), [0.4])


def test_mass_at_the_boundary_warns():
    with pytest.warns(GridWarning, match="widen the bounds"):
        solve_fokker_planck(problems.process("vp-linear"), problems.data("gmm1d-bimodal"), Grid([(-3, 3)], [64]), [1.0])


@pytest.mark.parametrize("extrapolate, min_order", [(False, 1.9), (True, 3.5)])
def test_grid_solution_satisfies_fokker_planck_by_findiff(extrapolate, min_order):
    # An independent check of the solver that needs no closed form: its densities (as point values
    # at the cell centres, GridDensity.pdf) put into the Fokker-Planck equation with findiff
    # stencils (order 6 in x, 4 in t) leave the scheme's own error, which falls at its order when
    # h halves; a wrong drift or diffusion factor would leave an O(1) residual.
    from fpcheck.residuals import fokker_planck_residual, residual_order

    proc, data, t, dt = problems.process("vp-linear"), problems.data("gmm1d-bimodal"), 0.3, 1e-4
    residuals = []
    for n in (256, 512):
        grid = Grid([(-8, 8)], [n])
        stencil_times = [t + k * dt for k in range(-2, 3)]
        sol = solve_fokker_planck(proc, data, grid, stencil_times, extrapolate=extrapolate)
        by_time = {round(s, 12): d for s, d in zip(stencil_times, sol.densities)}
        density = lambda x, s: by_time[round(s, 12)].pdf(x)  # noqa: E731
        inner = grid.centres(0)[8:-8]  # keep the one-sided stencils of the interpolant out
        residuals.append(fokker_planck_residual(proc, density, [inner], t, dt=dt))
    assert residuals[1].relative < 1e-3
    assert residual_order(*residuals) >= min_order


# --- periodic axes ---------------------------------------------------------------------------------


def test_circulant_exponential_matches_the_dense_one(rng):
    from scipy.linalg import expm

    from fpcheck.grid.operators import CirculantOperator

    op = CirculantOperator(0.7, 0.1, 24)
    q = rng.uniform(size=(3, 24))
    for tau in (1e-3, 0.1, 5.0):
        want = q @ expm(tau * op.dense()).T
        np.testing.assert_allclose(op.expm_apply(q, tau, axis=1), want, rtol=1e-12, atol=1e-14)


def _periodised_cell_averages(dist, grid, images=10):
    # sum over the images x + kL of exact cell averages: the free-space density wrapped on the box
    (lo, hi), L = grid.bounds[0], grid.bounds[0][1] - grid.bounds[0][0]
    out = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # the images lie mostly outside each shifted box
        for k in range(-images, images + 1):
            out = out + cell_averages(dist, Grid([(lo + k * L, hi + k * L)], grid.shape)).values
    return out


@pytest.mark.filterwarnings("ignore:the grid under-resolves")
def test_periodic_ve_against_the_periodised_analytic_solution():
    # VE on the circle [-2, 2): at t = 0.5, 0.7 (sigma = 0.7, 3.9) the density has wrapped round
    # (the free-space one has 0.5% and 60% of its mass outside), so a zero-flux or truncated answer
    # would be off at O(1e-2); the data hold all but 1e-15 of their mass inside the box (8 std).
    proc = problems.process("ve-geometric")
    data = GaussianMixture.isotropic([0.6, 0.4], [[-0.4], [0.5]], [0.2, 0.18])
    truth = ExactMarginals(proc, data)
    times = (0.3, 0.5, 0.7)
    plain, rich = [], []
    for n in (64, 128):
        grid = Grid([(-2, 2)], [n], periodic=True)
        exact = [_periodised_cell_averages(truth.at(t), grid) for t in times]
        for extrapolate, errs in ((False, plain), (True, rich)):
            sol = solve_fokker_planck(proc, data, grid, times, extrapolate=extrapolate)
            errs.append([_l1(d.values, e, grid) for d, e in zip(sol.densities, exact)])
            for d in sol.densities:
                assert abs(d.mass() - 1.0) < 1e-12
    plain, rich = np.array(plain), np.array(rich)
    assert np.all(np.log2(plain[0] / plain[1]) >= 1.9), plain
    assert np.all(np.log2(rich[0] / rich[1]) >= 3.8), rich


def test_periodic_axes_need_a_periodic_drift():
    grid = Grid([(-4, 4)], [64], periodic=True)
    with pytest.raises(InputError, match="periodic"):
        solve_fokker_planck(problems.process("vp-linear"), problems.data("gmm1d-bimodal"), grid, [0.5])
    # the double well is not periodic on [-4, 3]: U(-4) = 225, U(3) = 64
    with pytest.raises(InputError, match="not periodic"):
        solve_fokker_planck(
            problems.process("langevin-doublewell"),
            GaussianMixture.isotropic([1.0], [[0.0]], [0.5]),
            Grid([(-4, 3)], [64], periodic=True),
            [0.5],
        )


def test_periodic_stepping_path_agrees_with_the_exact_circulant_one():
    # VE on the circle both ways: FFT-exact, and cyclic SDIRK4 (Sherman-Morrison stage solves)
    proc = problems.process("ve-geometric")
    data = GaussianMixture.isotropic([0.6, 0.4], [[-0.4], [0.5]], [0.2, 0.18])
    grid = Grid([(-2, 2)], [128], periodic=True)
    times = (0.3, 0.5, 0.7)
    exact = solve_fokker_planck(proc, data, grid, times, extrapolate=False)
    stepped = solve_fokker_planck(proc, data, grid, times, extrapolate=False, method="stepping", time_tol=1e-9)
    assert "SDIRK4" in stepped.method and "exact" in exact.method
    for t, a, b in zip(times, exact.densities, stepped.densities):
        assert _l1(a.values, b.values, grid) <= 1e-9 * t


@pytest.mark.filterwarnings("ignore:mass .* in the outermost cells")
def test_error_estimate_counts_the_mass_the_walls_hold_back():
    # On [-5, 5] the free-space q_t has 1e-7 to 6e-7 of its mass beyond the walls at t = 0.2, 1:
    # the walled solution keeps it in, an error the Richardson estimate (~1e-10) cannot see.  The
    # tail estimated from the outermost cells brings the estimate back within a factor 3.
    from fpcheck.grid.solver import _boundary_tail

    grid = Grid([(-5, 5)], [512])
    err, sol = _errors("vp-linear", "gmm1d-bimodal", grid, [0.2, 1.0], True)
    ratio = sol.error_estimate / err
    assert np.all((ratio > 1 / 3) & (ratio < 3)), ratio
    tails = np.array([_boundary_tail(d.values, grid) for d in sol.densities])
    assert np.all(sol.error_estimate - tails < err / 3)  # without the tail it would fail


@pytest.mark.filterwarnings("ignore:the grid under-resolves")
@pytest.mark.filterwarnings("ignore:mass .* in the outermost cells")
def test_orders_in_h_3d():
    # The tetrahedron in [-6, 6]^3 on 24^3 and 48^3 cells (h = 0.5, 0.25 against component std
    # 0.5 at t = 0: coarse, hence the warning, but measured asymptotic already: orders 1.96-1.99
    # plain, 3.99-4.2 Richardson between these sizes).  The walls hold back ~3e-8, far below the
    # errors measured (>= 7e-6).
    times = [0.5, 1.0]
    plain, rich = [], []
    for n in (24, 48):
        grid = Grid([(-6, 6)] * 3, [n] * 3)
        plain.append(_errors("vp-linear", "gmm3d-tetra", grid, times, False)[0])
        rich.append(_errors("vp-linear", "gmm3d-tetra", grid, times, True)[0])
    assert np.all(np.log2(plain[0] / plain[1]) >= 1.9), plain
    assert np.all(np.log2(rich[0] / rich[1]) >= 3.8), rich
