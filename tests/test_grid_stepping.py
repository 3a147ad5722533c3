"""The time-stepping path: SDIRK4 kernels, adaptive control, and sub-VP against the analytic truth."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.linalg import expm

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import BoxMixture, GaussianMixture
from fpcheck.errors import GridWarning, InputError
from fpcheck.grid import Grid, cell_averages
from fpcheck.grid._stepping import (
    SDIRK_A,
    SDIRK_C,
    _bernoulli,
    flux_coefficients,
    flux_coefficients_reference,
    sdirk_step_lines,
    sdirk_step_reference,
)
from fpcheck.grid.operators import bernoulli
from fpcheck.grid.solver import solve_fokker_planck
from fpcheck.grid.stepping import integrate_lines

TIMES = (0.05, 0.2, 1.0)


def _l1(values, exact, grid):
    return float(np.abs(values - exact).sum() * grid.cell_volume)


def _errors(truth, grid, times=TIMES, **kw):
    sol = solve_fokker_planck(truth.process, truth.data, grid, times, **kw)
    exact = [cell_averages(truth.at(t), grid).values for t in times]
    return np.array([_l1(d.values, e, grid) for d, e in zip(sol.densities, exact)]), sol


# --- the tableau and the kernels ------------------------------------------------------------------


def test_tableau_satisfies_the_order_4_conditions_exactly():
    # The eight order conditions of a Runge-Kutta method up to order 4, in exact rationals.
    A = [
        [Fraction(1, 4)],
        [Fraction(1, 2), Fraction(1, 4)],
        [Fraction(17, 50), Fraction(-1, 25), Fraction(1, 4)],
        [Fraction(371, 1360), Fraction(-137, 2720), Fraction(15, 544), Fraction(1, 4)],
        [Fraction(25, 24), Fraction(-49, 48), Fraction(125, 16), Fraction(-85, 12), Fraction(1, 4)],
    ]
    M = [row + [Fraction(0)] * (5 - len(row)) for row in A]
    b, c = M[4], [sum(row) for row in M]
    mv = lambda v: [sum(M[i][j] * v[j] for j in range(5)) for i in range(5)]  # noqa: E731
    dot = lambda u, v: sum(x * y for x, y in zip(u, v))  # noqa: E731
    c2, Ac = [x * x for x in c], mv(c)
    conditions = [
        (dot(b, [1] * 5), 1),
        (dot(b, c), Fraction(1, 2)),
        (dot(b, c2), Fraction(1, 3)),
        (dot(b, Ac), Fraction(1, 6)),
        (dot(b, [x**3 for x in c]), Fraction(1, 4)),
        (dot(b, [x * y for x, y in zip(c, Ac)]), Fraction(1, 8)),
        (dot(b, mv(c2)), Fraction(1, 12)),
        (dot(b, mv(Ac)), Fraction(1, 24)),
    ]
    assert all(got == want for got, want in conditions)
    np.testing.assert_allclose(SDIRK_A, np.array([[float(x) for x in row] for row in M]), rtol=0, atol=1e-16)
    np.testing.assert_allclose(SDIRK_C, [float(x) for x in c], rtol=0, atol=1e-16)


def test_bernoulli_kernel_matches_the_numpy_function():
    z = np.concatenate([np.linspace(-1, 1, 2001), np.logspace(-8, 2.5, 200), -np.logspace(-8, 2.5, 200)])
    got = np.array([_bernoulli(x) for x in z])
    np.testing.assert_allclose(got, bernoulli(z), rtol=2e-15, atol=0)


@pytest.mark.parametrize("fitted", [True, False])
def test_flux_coefficients_kernel_matches_its_reference(rng, fitted):
    drift = rng.normal(scale=3.0, size=(4, 40))
    D = rng.uniform(0.05, 2.0, size=4)
    got = flux_coefficients(drift, D, 0.1, fitted)
    want = flux_coefficients_reference(drift, D, 0.1, fitted)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=1e-14 * np.abs(w).max())
    lower, diag, upper = got
    col_sums = diag.copy()
    col_sums[:, :-1] += lower
    col_sums[:, 1:] += upper
    assert np.abs(col_sums).max() <= 1e-13 * np.abs(diag).max()  # mass conservation


def test_sdirk_step_kernel_matches_its_reference(rng):
    drift = rng.normal(size=(5, 63))
    lower, diag, upper = flux_coefficients(drift, rng.uniform(0.5, 1.0, size=5), 0.1, True)
    q = rng.uniform(size=(7, 64))
    for dt in (1e-3, 0.1, 10.0):  # from non-stiff to dt |L| ~ 1e4
        got = sdirk_step_lines(lower, diag, upper, q, dt, SDIRK_A)
        want = sdirk_step_reference(lower, diag, upper, q, dt, SDIRK_A)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * np.abs(want).max())
        # conservation: every stage operator has zero column sums; the solves round at about
        # u dt |L| relative (a few u per stage when dt |L| is small)
        rtol = 16 * np.finfo(float).eps * max(1.0, dt * np.abs(diag).max())
        np.testing.assert_allclose(got.sum(axis=1), q.sum(axis=1), rtol=rtol)


def test_sdirk_converges_at_order_4_on_a_time_dependent_linear_system(rng):
    # dq/dt = L(t) q with L(t) = L_a + sin(t) L_b; reference by scipy's solve_ivp at tight tolerance.
    from scipy.integrate import solve_ivp

    n = 12
    h = 0.5
    fa, fb = rng.normal(size=n - 1), rng.normal(size=n - 1)

    def coefficients(ts):
        return fa[None, :] + np.sin(ts)[:, None] * fb[None, :], 1.0 + 0.5 * np.cos(ts)

    def rhs(t, q):
        lo, di, up = (x[0] for x in flux_coefficients(*coefficients(np.array([t])), h, True))
        out = di * q
        out[:-1] += up * q[1:]
        out[1:] += lo * q[:-1]
        return out

    q0 = rng.uniform(size=n)
    ref = solve_ivp(rhs, (0, 2.0), q0, method="DOP853", rtol=1e-13, atol=1e-15).y[:, -1]
    errors = []
    for steps in (20, 40, 80):
        q = q0[None, :]
        dt = 2.0 / steps
        for i in range(steps):
            lo, di, up = flux_coefficients(*coefficients(i * dt + SDIRK_C * dt), h, True)
            q = sdirk_step_lines(lo, di, up, q, dt, SDIRK_A)
        errors.append(np.abs(q[0] - ref).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # the stiff part reduces the order at large steps (measured 3.4, 3.7, 3.8 from 10 steps on)
    assert 3.8 < orders[-1] < 4.3, (errors, orders)


# --- adaptive control ---------------------------------------------------------------------------


def _constant_problem(n=64, h=0.25):
    x = (np.arange(n) + 0.5) * h - n * h / 2
    faces = 0.5 * (x[1:] + x[:-1])

    def coefficients(ts):
        return np.broadcast_to(-faces, (ts.size, faces.size)), np.full(ts.size, 0.5)

    lo, di, up = flux_coefficients(-faces[None, :], np.array([0.5]), h, True)
    L = np.diag(di[0]) + np.diag(up[0], 1) + np.diag(lo[0], -1)
    q0 = np.exp(-0.5 * ((x - 1.0) / 0.4) ** 2)
    return coefficients, L, q0 / (q0.sum() * h), h


@pytest.mark.parametrize("tol", [1e-6, 1e-9])
def test_time_error_is_within_the_tolerance_and_estimated(tol):
    # With constant coefficients the exact answer is expm(t L) q0.
    coefficients, L, q0, h = _constant_problem()
    times = [0.3, 1.0, 2.0]
    states, stats = integrate_lines(coefficients, h, q0[None, :], 0.0, times, weight=h, tol=tol)
    for t, q, bound in zip(times, states, stats.error_bound):
        err = np.abs(q[0] - expm(t * L) @ q0).sum() * h
        assert err <= tol * t  # the promise: L1 error per unit time
        assert err <= bound * 1.5 + 1e-14  # the estimate (a sum of local errors) covers the error
    assert stats.accepted < 400


def test_splitting_the_interval_changes_nothing_beyond_the_tolerance():
    coefficients, L, q0, h = _constant_problem()
    once, _ = integrate_lines(coefficients, h, q0[None, :], 0.0, [2.0], weight=h, tol=1e-10)
    twice, _ = integrate_lines(coefficients, h, q0[None, :], 0.0, [0.7, 1.3, 2.0], weight=h, tol=1e-10)
    assert np.abs(once[0] - twice[-1]).sum() * h <= 2 * 2e-10


def test_step_budget_and_bad_arguments_are_reported():
    coefficients, _, q0, h = _constant_problem()
    with pytest.raises(InputError, match="max_steps"):
        integrate_lines(coefficients, h, q0[None, :], 0.0, [2.0], weight=h, tol=1e-12, max_steps=5)
    with pytest.raises(InputError, match="non-decreasing"):
        integrate_lines(coefficients, h, q0[None, :], 0.0, [1.0, 0.5], weight=h)
    with pytest.raises(InputError, match="tol"):
        integrate_lines(coefficients, h, q0[None, :], 0.0, [1.0], weight=h, tol=0.0)


# --- the solver's stepping path -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, bounds", [("vp-linear", "gmm1d-bimodal", (-8, 8)), ("ou", "gmm1d-bimodal", (-7, 9))]
)
def test_stepping_path_agrees_with_the_exact_path(name, data, bounds):
    # Same fitted operator, so the two differ only by the time error, which is at most
    # time_tol * t per level (and (4 + 1)/3 of that after Richardson).
    proc, dist = problems.process(name), problems.data(data)
    grid = Grid([bounds], [256])
    tol = 1e-9
    exact = solve_fokker_planck(proc, dist, grid, TIMES, method="exact")
    stepped = solve_fokker_planck(proc, dist, grid, TIMES, method="stepping", flux="fitted", time_tol=tol)
    for t, a, b, e in zip(TIMES, exact.densities, stepped.densities, stepped.time_error):
        diff = _l1(a.values, b.values, grid)
        assert diff <= 5 / 3 * tol * t
        assert e >= diff / 1.5  # the reported time error covers it
    assert exact.time_error is None


def test_langevin_stepping_agrees_with_the_exact_path():
    proc, grid = problems.process("langevin-doublewell"), Grid([(-3, 3)], [128])
    dist = GaussianMixture.isotropic([1.0], [[-1.0]], [0.2])
    exact = solve_fokker_planck(proc, dist, grid, [0.5, 2.0], method="exact", extrapolate=False)
    stepped = solve_fokker_planck(proc, dist, grid, [0.5, 2.0], method="stepping", flux="fitted", extrapolate=False)
    for t, a, b in zip((0.5, 2.0), exact.densities, stepped.densities):
        assert _l1(a.values, b.values, grid) <= 1e-9 * t


def test_sub_vp_orders_in_h_1d():
    # Second order plain, fourth after Richardson, against exact cell averages (central flux,
    # time_tol far below the spatial errors measured here: >= 5e-9).
    truth = ExactMarginals(problems.process("subvp-linear"), problems.data("gmm1d-bimodal"))
    plain = [_errors(truth, Grid([(-8, 8)], [n]), extrapolate=False)[0] for n in (256, 512)]
    rich = [_errors(truth, Grid([(-8, 8)], [n]))[0] for n in (128, 256)]
    assert np.all(np.log2(plain[0] / plain[1]) >= 1.9), plain
    assert np.all(np.log2(rich[0] / rich[1]) >= 3.8), rich


@pytest.mark.filterwarnings("ignore:the grid under-resolves")
def test_sub_vp_orders_in_h_2d():
    # The axes are integrated one after the other with no splitting error (they commute), so the
    # 2D orders are the 1D ones.  Coarse grids as in the exact path's 2D test (the resolution
    # warning is expected); time_tol 1e-8 sits far below the errors measured (>= 1e-6).
    truth = ExactMarginals(problems.process("subvp-linear"), problems.data("gmm2d-aniso"))
    times = (0.2, 1.0)
    rich = [_errors(truth, Grid([(-7, 7)] * 2, [n, n]), times, time_tol=1e-8)[0] for n in (32, 64)]
    assert np.all(np.log2(rich[0] / rich[1]) >= 3.8), rich


def test_sub_vp_error_estimate_brackets_the_true_error_within_a_factor_3():
    truth = ExactMarginals(problems.process("subvp-linear"), problems.data("gmm1d-bimodal"))
    grid = Grid([(-8, 8)], [256])
    for extrapolate in (False, True):
        err, sol = _errors(truth, grid, extrapolate=extrapolate)
        ratio = sol.error_estimate / err
        assert np.all((ratio > 1 / 3) & (ratio < 3)), ratio


def test_sub_vp_conserves_mass_and_keeps_densities_non_negative():
    truth = ExactMarginals(problems.process("subvp-linear"), problems.data("gmm1d-bimodal"))
    grid = Grid([(-8, 8)], [256])
    for flux in ("central", "fitted"):
        sol = solve_fokker_planck(truth.process, truth.data, grid, TIMES, flux=flux, extrapolate=False)
        q0_mass = cell_averages(truth.data, grid).mass()
        for d in sol.densities:
            assert abs(d.mass() - q0_mass) < 1e-12
            assert d.values.min() >= -1e-14 * d.values.max()


def test_central_flux_warns_when_it_oscillates():
    # A noise-free box under sub-VP: the diffusion vanishes at t = 0 and the jumps are not
    # resolved, so central fluxes overshoot; the fitted ones do not.
    proc = problems.process("subvp-linear")
    box = BoxMixture.box(-1.0, 1.0)
    grid = Grid([(-4, 4)], [64])
    with pytest.warns(GridWarning, match="negative"):
        solve_fokker_planck(proc, box, grid, [0.01], extrapolate=False)
    sol = solve_fokker_planck(proc, box, grid, [0.01], extrapolate=False, flux="fitted")
    assert sol.densities[0].values.min() >= 0


def test_bad_method_and_flux_names():
    proc, data = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    grid = Grid([(-8, 8)], [64])
    with pytest.raises(InputError, match="unknown method"):
        solve_fokker_planck(proc, data, grid, [0.5], method="rk4")
    with pytest.raises(InputError, match="unknown flux"):
        solve_fokker_planck(proc, data, grid, [0.5], flux="upwind")
    with pytest.raises(InputError, match="central"):
        solve_fokker_planck(proc, data, grid, [0.5], method="exact", flux="central")


def test_data_where_the_equilibrium_is_negligible_take_the_stepping_path():
    # N(0, 2^2) in the double well on [-6, 6]: e^{-U/kT} ~ e^{-5000} at the edges, where the data
    # still have mass, so Pi^{-1/2} q overflows; "auto" steps in time instead, "exact" refuses.
    proc, data = problems.process("langevin-doublewell"), GaussianMixture.isotropic([1.0], [[0.0]], [2.0])
    grid = Grid([(-6, 6)], [64])
    with pytest.raises(InputError, match="overflows"):
        solve_fokker_planck(proc, data, grid, [0.5], method="exact")
    sol = solve_fokker_planck(proc, data, grid, [0.5], extrapolate=False)
    assert "SDIRK4" in sol.method and "fitted" in sol.method
    assert abs(sol.densities[0].mass() - cell_averages(data, grid).mass()) < 1e-12
    assert sol.densities[0].values.min() >= -1e-14 * sol.densities[0].values.max()


def test_doubling_kernel_is_three_steps(rng):
    from fpcheck.grid._stepping import sdirk_doubling_lines

    drift = rng.normal(size=(15, 31))
    lower, diag, upper = flux_coefficients(drift, rng.uniform(0.5, 1.0, size=15), 0.1, True)
    q = rng.uniform(size=(4, 32))
    dt = 0.05
    whole = sdirk_step_reference(lower[:5], diag[:5], upper[:5], q, dt, SDIRK_A)
    half = sdirk_step_reference(lower[5:10], diag[5:10], upper[5:10], q, dt / 2, SDIRK_A)
    half = sdirk_step_reference(lower[10:], diag[10:], upper[10:], half, dt / 2, SDIRK_A)
    got, gap = sdirk_doubling_lines(lower, diag, upper, q, dt, SDIRK_A)
    np.testing.assert_allclose(got, half, rtol=1e-12, atol=1e-14)
    assert gap == pytest.approx(np.abs(half - whole).sum(), rel=1e-6, abs=1e-13)


# --- drifts that do not separate: Strang-split axes -------------------------------------------------

_A = np.array([[1.0, 0.6], [0.6, 1.5]])
_KT = 0.5


def _rotated_quadratic():
    # Langevin in U = x^T A x / 2 with a non-diagonal A: drift -A x couples the axes
    from fpcheck.processes import Langevin, Potential

    pot = Potential(lambda x: 0.5 * np.einsum("ni,ij,nj->n", x, _A, x), lambda x: x @ _A, name="rotated", dim=2)
    weights, means = [0.5, 0.5], np.array([[-1.0, 0.5], [1.0, -0.5]])
    covs = np.array([np.diag([0.09, 0.04]), [[0.09, 0.03], [0.03, 0.06]]])
    return Langevin(pot, _KT, T=5.0), GaussianMixture(weights, means, covs)


def _rotated_exact(data, t):
    # x_t = e^{-At} x_0 + noise of covariance kT A^{-1} (I - e^{-2At}) (A symmetric)
    E = expm(-_A * t)
    S = _KT * np.linalg.solve(_A, np.eye(2) - expm(-2 * _A * t))
    return GaussianMixture(data.weights, data.means @ E.T, np.array([E @ c @ E.T + S for c in data.covs]))


@pytest.mark.filterwarnings("ignore:the grid under-resolves")
def test_non_separable_drift_converges_in_h_and_estimates_its_error():
    # The Gaussian mixture under the rotated quadratic is Gaussian at all times: exact cell averages.
    # time_tol 1e-6 keeps the time error (bound <= 1.3e-6) far below the errors measured (>= 2.5e-4).
    proc, data = _rotated_quadratic()
    times = (0.3, 1.0)
    plain = []
    for n in (32, 64):
        grid = Grid([(-5, 5)] * 2, [n, n])
        sol = solve_fokker_planck(proc, data, grid, times, extrapolate=False, time_tol=1e-6)
        assert "Strang" in sol.method
        plain.append(
            [
                _l1(d.values, cell_averages(_rotated_exact(data, t), grid).values, grid)
                for t, d in zip(times, sol.densities)
            ]
        )
    plain = np.array(plain)
    assert np.all(np.log2(plain[0] / plain[1]) >= 1.9), plain
    grid = Grid([(-5, 5)] * 2, [32, 32])
    sol = solve_fokker_planck(proc, data, grid, times, time_tol=1e-6)
    rich = np.array(
        [_l1(d.values, cell_averages(_rotated_exact(data, t), grid).values, grid) for t, d in zip(times, sol.densities)]
    )
    assert np.all(rich < plain[1] / 4)  # fourth order: 32 cells extrapolated beat 64 plain
    ratio = sol.error_estimate / rich
    assert np.all((ratio > 1 / 3) & (ratio < 3)), ratio
    for d in sol.densities:
        assert abs(d.mass() - sol.densities[0].mass()) < 1e-12


def test_split_path_on_a_separable_drift_matches_the_exact_path():
    # The double well written as a generic potential: the solver cannot know it separates, so it
    # splits; the axes commute, so splitting is exact and the two paths differ by the SDIRK error only.
    from fpcheck.processes import DoubleWell, Langevin, Potential

    well = DoubleWell(1.0)
    generic = Potential(well.__call__, well.gradient, name="generic well", dim=2)
    data = GaussianMixture.isotropic([1.0], [[-1.0, 0.5]], [0.3])
    grid = Grid([(-2.5, 2.5)] * 2, [32, 32])
    tol = 1e-7
    exact = solve_fokker_planck(Langevin(well, 0.5), data, grid, [0.5], extrapolate=False)
    split = solve_fokker_planck(Langevin(generic, 0.5), data, grid, [0.5], extrapolate=False, time_tol=tol)
    assert "Strang" in split.method and "exact" in exact.method
    assert _l1(exact.densities[0].values, split.densities[0].values, grid) <= 2 * tol * 0.5


def test_split_time_error_is_bounded_by_its_estimate():
    # Same grid, loose against tight tolerance: the loose solution's distance to the tight one is
    # its time error (up to the tight one's, below 1e-8 here), and the reported estimate must cover it.
    proc, data = _rotated_quadratic()
    grid = Grid([(-5, 5)] * 2, [24, 24])
    times = (0.3, 1.0)
    with pytest.warns(GridWarning):
        loose = solve_fokker_planck(proc, data, grid, times, extrapolate=False, time_tol=1e-5)
        tight = solve_fokker_planck(proc, data, grid, times, extrapolate=False, time_tol=1e-8)
    for a, b, e, t in zip(loose.densities, tight.densities, loose.time_error, times):
        err = _l1(a.values, b.values, grid)
        assert err <= e  # the estimate bounds the error ...
        assert e <= 1e-5 * t * 1.01  # ... and the error per unit time stays within tol
        assert err >= e / 30  # and is not a gross overestimate


def test_a_user_process_with_a_moving_potential():
    # dx = -(x - sin t) dt + dW (a potential (x - sin t)^2 / 2 that moves): a user Process the
    # solver knows nothing about.  From N(m0, s0^2) it stays Gaussian with
    # m' = -(m - sin t), i.e. m(t) = m0 e^{-t} + (sin t - cos t + e^{-t}) / 2, and
    # s^2(t) = s0^2 e^{-2t} + (1 - e^{-2t}) / 2.
    from fpcheck.processes import Process

    class Moving(Process):
        T = 3.0

        def drift(self, x, t):
            return -(self._points(x) - np.sin(self._scalar_time(t)))

        def g2(self, t):
            return np.ones_like(self.check_time(t))

    m0, s0 = -1.0, 0.4
    data = GaussianMixture.isotropic([1.0], [[m0]], [s0])
    times = (0.5, 2.0)

    def exact(t):
        m = m0 * np.exp(-t) + 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))
        return GaussianMixture.isotropic([1.0], [[m]], [np.sqrt(s0**2 * np.exp(-2 * t) + 0.5 * (1 - np.exp(-2 * t)))])

    errs = []
    for n in (128, 256):
        grid = Grid([(-6, 6)], [n])
        sol = solve_fokker_planck(Moving(), data, grid, times)
        errs.append([_l1(d.values, cell_averages(exact(t), grid).values, grid) for t, d in zip(times, sol.densities)])
        ratio = sol.error_estimate / np.array(errs[-1])
        assert np.all((ratio > 1 / 3) & (ratio < 3)), ratio
    errs = np.array(errs)
    assert np.all(np.log2(errs[0] / errs[1]) >= 3.8), errs


# --- periodic lines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fitted", [True, False])
def test_periodic_kernels_match_their_dense_references(rng, fitted):
    from fpcheck.grid._stepping import dense_operator, sdirk_step_dense

    n = 24
    drift = rng.normal(scale=2.0, size=(5, n))  # n faces: the last joins cell n - 1 to cell 0
    D = rng.uniform(0.5, 1.0, size=5)
    lower, diag, upper = flux_coefficients(drift, D, 0.2, fitted, True)
    for got, want in zip((lower, diag, upper), flux_coefficients_reference(drift, D, 0.2, fitted, True)):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14 * np.abs(want).max())
    assert np.abs(dense_operator(lower[0], diag[0], upper[0]).sum(axis=0)).max() <= 1e-13 * np.abs(diag).max()
    q = rng.uniform(size=(3, n))
    for dt in (1e-3, 0.1, 10.0):
        got = sdirk_step_lines(lower, diag, upper, q, dt, SDIRK_A)
        want = sdirk_step_dense(lower, diag, upper, q, dt, SDIRK_A)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12 * np.abs(want).max())
        # the open-line kernel agrees with the dense reference too (no wrap entries)
        got_open = sdirk_step_lines(lower[:, :-1], _open_diag(lower, upper), upper[:, :-1], q, dt, SDIRK_A)
        want_open = sdirk_step_dense(lower[:, :-1], _open_diag(lower, upper), upper[:, :-1], q, dt, SDIRK_A)
        np.testing.assert_allclose(got_open, want_open, rtol=1e-11, atol=1e-12 * np.abs(want_open).max())


def _open_diag(lower, upper):
    # the diagonal of the same faces without the wrap face (zero column sums)
    diag = np.zeros((lower.shape[0], lower.shape[1]))
    diag[:, :-1] -= lower[:, :-1]
    diag[:, 1:] -= upper[:, :-1]
    return diag


def _cosine_langevin(dim: int, T: float):
    # U = cos x_1 + ... (+ 0.5 cos(x_1 - x_2) in 2D, which couples the axes), 2 pi periodic
    from fpcheck.processes import Langevin, Potential

    def value(x):
        u = np.cos(x).sum(axis=1)
        return u + 0.5 * np.cos(x[:, 0] - x[:, 1]) if dim == 2 else u

    def gradient(x):
        g = -np.sin(x)
        if dim == 2:
            c = -0.5 * np.sin(x[:, 0] - x[:, 1])
            g[:, 0] += c
            g[:, 1] -= c
        return g

    return Langevin(Potential(value, gradient, name="cosines", dim=dim), kT=0.5, T=T)


@pytest.mark.parametrize("dim, n", [(1, 64), (2, 24)])
def test_periodic_potential_relaxes_to_the_discrete_boltzmann_density(dim, n):
    # On the torus [0, 2 pi)^d the fitted operator of every axis has the discrete Boltzmann density
    # pi ~ exp(-U(x_i)/kT) as its stationary state (face drift -(U_{i+1} - U_i)/h, the wrap face
    # included), so every step keeps it, whatever the time error, and the solution relaxes to it:
    # e^{-lambda_1 t} leaves < 1e-10 of the start at t = 80 (so a loose time_tol suffices).
    proc = _cosine_langevin(dim, T=80.0)
    grid = Grid([(0.0, 2 * np.pi)] * dim, [n] * dim, periodic=True)
    data = GaussianMixture.isotropic([1.0], [[np.pi] * dim], [0.6])
    with pytest.warns(GridWarning, match="misses a mass"):  # the Gaussian is not periodised
        sol = solve_fokker_planck(proc, data, grid, [5.0, 80.0], extrapolate=False, time_tol=1e-5)
    U = proc.potential(grid.points()).reshape(grid.shape)
    pi = np.exp(-(U - U.min()) / proc.kT)
    pi *= sol.densities[0].mass() / (pi.sum() * grid.cell_volume)
    early, late = (_l1(d.values, pi, grid) for d in sol.densities)
    assert early > 1e-4 and late < 1e-9, (early, late)
    assert abs(sol.densities[1].mass() - sol.densities[0].mass()) < 1e-12
    assert ("Strang" in sol.method) == (dim == 2)
