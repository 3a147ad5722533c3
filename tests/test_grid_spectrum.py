"""Relaxation rates: fitted grid operator, Chebyshev collocation and Kramers, and the long-time (B4) limit."""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError
from fpcheck.grid import Grid, cell_averages, solve_fokker_planck
from fpcheck.grid.solver import propagator_axes
from fpcheck.grid.spectrum import (
    chebyshev_differentiation,
    kramers_rate,
    relaxation_rates,
    spectral_relaxation_rates,
)
from fpcheck.processes import OU, VE, VP, DoubleWell, Langevin, Potential, SubVP
from fpcheck.schedules import Linear

# OU(gamma, mu, beta): generator eigenvalues -n gamma (Hermite polynomials), whatever mu and beta.
# On mu +- 12 stationary stds the zero-flux walls move them by ~exp(-72): invisible.
GAMMA, MU, BETA = 1.3, 0.4, 0.7
SD = np.sqrt(BETA / (2 * GAMMA))
OU_BOUNDS = (MU - 12 * SD, MU + 12 * SD)


def _ou_potential():
    # dx = -gamma (x - mu) dt + sqrt(beta) dW is Langevin in U = gamma (x - mu)^2 / 2 at kT = beta / 2
    return Potential(lambda x: 0.5 * GAMMA * (x[:, 0] - MU) ** 2, lambda x: GAMMA * (x - MU), name="ou")


def _restrict(v):
    return v.reshape(-1, 2).mean(axis=1)


# ---------------------------------------------------------------------------------- grid rates


@pytest.mark.parametrize(
    "process, bounds, exact",
    [
        (OU(GAMMA, MU, BETA), OU_BOUNDS, GAMMA * np.arange(1, 4)),
        # VP's L0 is the OU operator with gamma = 1/2, beta = 1 (rates per unit of B(t))
        (VP(Linear(0.1, 20.0, 1.0)), (-12.0, 12.0), 0.5 * np.arange(1, 4)),
        # VE's L0 = (1/2) d^2/dx^2 with zero flux on [a, b]: cosines, rates (n pi / (b - a))^2 / 2
        (VE(), (-5.0, 5.0), 0.5 * (np.pi * np.arange(1, 4) / 10.0) ** 2),
    ],
    ids=["ou", "vp", "ve"],
)
def test_grid_rates_are_second_order_and_richardson_is_fourth(process, bounds, exact):
    r = relaxation_rates(process, Grid([bounds], [512]), k=3)
    err = np.abs(r.levels - exact)  # widths 2h, h, h/2
    # second order: the error falls by 4 per halving of h (the O(h^4) term moves the ratio by < 1%)
    assert np.all(np.abs(np.log2(err[:-1] / err[1:]) - 2.0) < 0.02)
    assert np.all(np.abs(r.observed_order - 2.0) < 0.02)
    # Richardson removes the h^2 term: left over O(h^4) ~ (h^2 C)^2 / lambda, < 1e-7 relative here
    rel = np.abs(r.extrapolated - exact) / exact
    assert rel.max() <= 1e-6
    # the estimate |R_h - R_2h| / 15 (exact for a pure h^4 remainder; measured 0.999 of the error
    # for OU and VP) plus the eigensolver's rounding bound eps ||S||, which dominates for VE (whose
    # O(h^4) term is ~1e-14): within a factor 2 of the error, up to that rounding
    err_r = np.abs(r.extrapolated - exact)
    assert np.all(r.error_estimate >= 0.5 * err_r)
    assert np.all(r.error_estimate <= 2.0 * err_r + 1e-9 * exact)
    ratio = r.plain_error_estimate / np.abs(r.rates - exact)
    assert np.all((ratio > 0.9) & (ratio < 1.1)), ratio  # (|l(2h) - l(h)| / 3 is exact to O(h^2))


def test_grid_rates_equal_the_dense_eigenvalues_of_the_solver_operator():
    # The rates are minus the eigenvalues of the very L0 the solver exponentiates.
    process = problems.process("langevin-doublewell")
    grid = Grid([(-3.0, 3.0)], [40])
    dense = np.sort(-np.linalg.eigvals(propagator_axes(process, grid)[0].dense()).real)
    r = relaxation_rates(process, grid, k=4)
    assert abs(dense[0]) < 1e-10
    assert np.allclose(r.rates, dense[1:5], rtol=1e-10, atol=0)


# ------------------------------------------------------------------------------ spectral rates


def test_chebyshev_differentiation_is_exact_on_polynomials():
    x, D = chebyshev_differentiation(12, (-3.0, 2.0))
    assert x[0] == pytest.approx(2.0) and x[-1] == pytest.approx(-3.0)
    p = np.polynomial.Polynomial([0.3, -1.0, 0.5, 2.0, 0.0, 0.1, 0.0, -0.02, 0.0, 0.0, 0.0, 0.0, 1e-4])
    assert np.allclose(D @ p(x), p.deriv()(x), rtol=0, atol=1e-11 * np.abs(p.deriv()(x)).max())
    # constants: the diagonal is minus the off-diagonal row sums, so D 1 is the rounding of a sum
    assert np.abs(D @ np.ones_like(x)).max() <= 1e-14 * np.abs(D).max()


def test_spectral_rates_of_ou_are_n_gamma():
    r = spectral_relaxation_rates(_ou_potential(), BETA / 2, OU_BOUNDS, k=3, n=128)
    # measured ~1e-13 relative (rounding of the 127 x 127 eigenproblem); truncation is below it
    assert np.allclose(r.rates, GAMMA * np.arange(1, 4), rtol=1e-10, atol=0)
    assert np.all(r.error_estimate < 1e-10 * r.rates)


def test_spectral_rates_converge_geometrically_in_the_number_of_nodes():
    dw = DoubleWell(1.0)
    best = spectral_relaxation_rates(dw, 0.25, (-3.0, 3.0), k=2, n=192).rates
    err = [
        np.abs(spectral_relaxation_rates(dw, 0.25, (-3.0, 3.0), k=2, n=n).rates / best - 1).max() for n in (64, 96, 128)
    ]
    # measured: 1e-5, 1e-9, 1e-12 (rounding): each 32 more nodes gain at least 3 digits until rounding
    assert err[1] < 1e-3 * err[0] and err[2] < max(1e-3 * err[1], 1e-11)


# ----------------------------------------------------------------------- B4: the double well


@pytest.mark.parametrize("kT, rtol", [(0.25, 1e-6), (0.1, 1e-6)])
def test_double_well_grid_richardson_matches_spectral(kT, rtol):
    # B4: the smallest non-zero rate of the fitted scheme (Richardson over h = 6/512 and h/2)
    # against the independent collocation; measured 1e-10 (kT = 0.25) and 1e-8 (kT = 0.1, where
    # lambda_1 ~ 8e-5 and the bisection's absolute rounding eps ||S|| ~ 1e-12 dominates).
    process = Langevin(DoubleWell(1.0), kT)
    grid_r = relaxation_rates(process, Grid([(-3.0, 3.0)], [512]), k=3)
    spec = spectral_relaxation_rates(process.potential, kT, (-3.0, 3.0), k=3, n=192)
    assert np.all(np.abs(grid_r.extrapolated / spec.rates - 1) <= rtol)
    assert np.all(np.abs(grid_r.observed_order - 2.0) < 0.02)
    # both error estimates together bound the difference (factor 2: R's estimate is asymptotic)
    assert np.all(np.abs(grid_r.extrapolated - spec.rates) <= 2 * grid_r.error_estimate + spec.error_estimate)


def test_kramers_formula_for_the_quartic_double_well():
    # rate = 2 * sqrt(U''(1) |U''(0)|) / (2 pi) exp(-h / kT) with U'' = 8h, -4h: sqrt(32) h / pi exp(-h/kT);
    # the curvatures come from centred differences (relative error ~ 1e-8)
    for height, kT in [(1.0, 0.1), (2.0, 0.25), (0.5, 0.05)]:
        expected = np.sqrt(32.0) * height / np.pi * np.exp(-height / kT)
        assert kramers_rate(DoubleWell(height), kT) == pytest.approx(expected, rel=1e-7)


def test_kramers_is_within_its_order_kT_over_barrier_accuracy():
    # Laplace's method gives lambda_1 = lambda_K (1 - (3/8) eps + O(eps^2)), eps = kT / dU, for
    # U = (x^2 - 1)^2 (see kramers_rate).  Measured at eps = 0.1: -4.15% (the first-order term
    # alone: -3.75%).  Checks: the O(eps) bound with coefficient 1 (the leading one is 3/8), and the
    # leading coefficient itself, with the O(eps^2) remainder bounded by eps^2 (measured 0.4 eps^2).
    eps = 0.1
    lam = spectral_relaxation_rates(DoubleWell(1.0), eps, (-3.0, 3.0), n=192).rates[0]
    dev = lam / kramers_rate(DoubleWell(1.0), eps) - 1.0
    assert abs(dev) <= eps
    assert abs(dev + 0.375 * eps) <= eps**2


def _long_time_setup(n):
    base = problems.process("langevin-doublewell")
    grid = Grid([(-3.0, 3.0)], [n])
    lam = relaxation_rates(base, grid).rates[0]
    # the registry's process stops at T = 10; the same dynamics run until exp(-lambda_1 t) < 1e-13
    t_end = 1.05 * np.log(1e13) / lam
    process = Langevin(base.potential, base.kT, T=t_end)
    start = GaussianMixture.isotropic([1.0], [[-1.0]], 0.05)  # N(-1, 0.05^2): all mass in the left well
    return process, start, grid, t_end


@pytest.mark.filterwarnings("ignore:the grid under-resolves:fpcheck.errors.GridWarning")
def test_long_time_density_is_the_discrete_boltzmann_density():
    # B4: exp(t L_h) q0 -> pi_h (exp(log_pi), mass 1) at rate lambda_1; at t_end the remainder is
    # ~1e-14 and what is left is the propagator's rounding.  That rounding is the same when the
    # propagator is applied to pi_h itself and grows with t ||L||: over t in [1050, 1300] it was at
    # most 5.7e-13 in L1 on 256 cells, 1.5e-12 on 512 and 4.1e-12 on 1024, so the 1e-12 target is
    # checked on 256 cells.  (256 cells under-resolve N(-1, 0.05^2) - 2 cells per std - which the
    # exact cell averages and the long-time limit do not depend on.)
    process, start, grid, t_end = _long_time_setup(256)
    sol = solve_fokker_planck(process, start, grid, [t_end], extrapolate=False)
    pi_h = np.exp(propagator_axes(process, grid)[0].log_pi)
    assert np.abs(sol.densities[0].values - pi_h).sum() * grid.h[0] <= 1e-12


@pytest.mark.filterwarnings("ignore:the grid under-resolves:fpcheck.errors.GridWarning")
def test_long_time_richardson_density_is_the_extrapolated_discrete_boltzmann_density():
    # With Richardson the solver returns (4 R q_{h/2} - q_h) / 3, whose limit is the same combination
    # of the two levels' discrete Boltzmann densities (not pi_h).  Each level sits at its own up to
    # the propagator's rounding (at most 5.7e-13 on 256 cells and 1.5e-12 on 512, see above), so the
    # combination is within 4/3 * 1.5e-12 + 1/3 * 5.7e-13 = 2.2e-12 of it: tolerance 3e-12.
    process, start, grid, t_end = _long_time_setup(256)
    sol = solve_fokker_planck(process, start, grid, [t_end], extrapolate=True)
    pi_h = np.exp(propagator_axes(process, grid)[0].log_pi)
    pi_h2 = np.exp(propagator_axes(process, grid.refine())[0].log_pi)
    target = (4.0 * _restrict(pi_h2) - pi_h) / 3.0
    assert np.abs(sol.densities[0].values - target).sum() * grid.h[0] <= 3e-12


def test_discrete_boltzmann_converges_to_the_continuous_one_at_second_order():
    # pi_i ~ exp(-U(x_i)/kT) normalised by the midpoint rule (spectrally accurate for a density
    # that vanishes with all derivatives at the ends), while the cell average of p is
    # p(x_i) + h^2 p''(x_i) / 24 + O(h^4): the L1 distance is O(h^2), and Richardson's O(h^4).
    process, boltz = problems.process("langevin-doublewell"), problems.data("doublewell1d")
    plain, rich = [], []
    for n in (128, 256, 512):
        grid = Grid([(-3.0, 3.0)], [n])
        exact = cell_averages(boltz, grid).values
        pi_h = np.exp(propagator_axes(process, grid)[0].log_pi)
        pi_h2 = np.exp(propagator_axes(process, grid.refine())[0].log_pi)
        plain.append(np.abs(pi_h - exact).sum() * grid.h[0])
        rich.append(np.abs((4.0 * _restrict(pi_h2) - pi_h) / 3.0 - exact).sum() * grid.h[0])
    orders_plain, orders_rich = np.log2(np.array(plain[:-1]) / plain[1:]), np.log2(np.array(rich[:-1]) / rich[1:])
    assert np.all(np.abs(orders_plain - 2.0) < 0.05), orders_plain
    assert np.all(orders_rich > 3.8), orders_rich


# ---------------------------------------------------------------------------------- bad input


def test_bad_input_is_refused_with_a_message():
    ou, grid = OU(GAMMA, MU, BETA), Grid([OU_BOUNDS], [64])
    with pytest.raises(InputError, match="1D operators"):
        relaxation_rates(ou, Grid([(-4, 4), (-4, 4)], [16, 16]))
    with pytest.raises(InputError, match="2-dimensional"):
        relaxation_rates(OU(1.0, [0.0, 0.0], 2.0), grid)
    with pytest.raises(InputError, match="periodic=False"):
        relaxation_rates(ou, Grid([OU_BOUNDS], [64], periodic=True))
    with pytest.raises(InputError, match="even cell count"):
        relaxation_rates(ou, Grid([OU_BOUNDS], [65]))
    with pytest.raises(InputError, match="k = 32 rates"):
        relaxation_rates(ou, grid, k=32)
    with pytest.raises(InputError, match="k must be an integer"):
        relaxation_rates(ou, grid, k=0)
    with pytest.raises(InputError, match="rho\\(t\\) L0"):
        relaxation_rates(SubVP(Linear(0.1, 20.0, 1.0)), grid)
    with pytest.raises(InputError, match="Process"):
        relaxation_rates("ou", grid)
    with pytest.raises(InputError, match="rounding level"):  # lambda_1 ~ 2 exp(-100): beyond double precision
        relaxation_rates(Langevin(DoubleWell(1.0), 0.01), Grid([(-3, 3)], [64]))

    dw = DoubleWell(1.0)
    with pytest.raises(InputError, match="Potential"):
        spectral_relaxation_rates(lambda x: x, 0.25, (-3, 3))
    with pytest.raises(InputError, match="kT"):
        spectral_relaxation_rates(dw, -0.25, (-3, 3))
    with pytest.raises(InputError, match="a < b"):
        spectral_relaxation_rates(dw, 0.25, (3, -3))
    with pytest.raises(InputError, match="n must be an integer >= 17"):
        spectral_relaxation_rates(dw, 0.25, (-3, 3), n=8)
    with pytest.raises(InputError, match="increase n"):  # kT = 0.1 needs ~100 nodes
        spectral_relaxation_rates(dw, 0.1, (-3, 3), n=48)
    two_d = Potential(lambda x: (x**2).sum(1), lambda x: 2 * x, dim=2)
    with pytest.raises(InputError, match="2-dimensional"):
        spectral_relaxation_rates(two_d, 0.25, (-3, 3))

    with pytest.raises(InputError, match="between the minima"):
        kramers_rate(dw, 0.1, minima=(-1.0, 1.0), saddle=1.5)
    with pytest.raises(InputError, match="not a minimum"):
        kramers_rate(dw, 0.1, minima=(-0.9, 1.0))
    with pytest.raises(InputError, match="not a barrier top"):
        kramers_rate(Potential(lambda x: x[:, 0] ** 4, lambda x: 4 * x**3), 0.1, minima=(-1.0, 1.0), saddle=0.5)
    with pytest.raises(InputError, match="two points"):
        kramers_rate(dw, 0.1, minima=(-1.0,))
