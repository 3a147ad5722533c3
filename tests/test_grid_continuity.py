"""The continuity-equation solver: WENO5 kernel against its NumPy reference, exact transports, orders.

Exact truths used here:

* constant velocity ``v = c``: :math:`q_t(x) = q_0(x - c t)`, a shifted Gaussian;
* linear velocity ``v = -a x`` (componentwise, one rate per axis): the characteristics are
  :math:`x(t) = x_0 e^{-a t}`, so :math:`q_t` is the push-forward of :math:`q_0` by that map:
  :math:`q_t(x) = e^{a t} q_0(x e^{a t})` per axis, which indeed solves
  :math:`\\partial_t q = \\partial_x(a x q) = a q + a x \\partial_x q`.  For
  :math:`q_0 = \\mathcal N(m, s^2)` this is :math:`\\mathcal N(m e^{-a t}, s^2 e^{-2 a t})`: mean and
  standard deviation both scale by :math:`e^{-a t}`;
* the exact probability-flow velocity of ``vp-linear`` x ``gmm1d-bimodal`` carries :math:`q_0` to the
  exact marginal :math:`q_t` (MATH.md section 3).

Every comparison is with exact cell averages (``cell_averages``).  Tolerances: orders in :math:`h` are
measured between N and 2N; the scheme is fifth order in space and third in time with
:math:`\\Delta t \\propto h`, so the observed order lies in [3, 5] asymptotically and was 4.4-4.9 on
these problems (each threshold below sits under its measured value by at least 0.2).  The error
estimate assumes order 4, so it is within [7/15, 31/15] of the true error for observed orders in
[3, 5]: the tests require a factor 3.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import norm

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import BoxMixture, GaussianMixture
from fpcheck.errors import GridWarning, InputError
from fpcheck.grid import Grid, GridDensity, cell_averages
from fpcheck.grid._continuity import (
    POSITIVITY_CFL,
    flux_divergence,
    flux_divergence_reference,
    weno_epsilon,
)
from fpcheck.grid.continuity import ContinuitySolution, solve_continuity
from fpcheck.grid.solver import FokkerPlanckSolution

U = 2.0**-53


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    """Compile the kernel once, so that no test (or hypothesis deadline) pays for it."""
    flux_divergence(np.ones(8), np.zeros(9), 1.0)


def _l1(values, exact, grid):
    return float(np.abs(values - exact).sum() * grid.cell_volume)


# ------------------------------------------------------------------------------------------- kernel


def _random_case(rng, shape, axis):
    q = rng.random(shape) ** 3
    q[rng.random(shape) < 0.3] = 0.0  # exact zeros and jumps: the limiter's branches
    q[rng.random(shape) < 0.1] *= 1e3
    ushape = list(shape)
    ushape[axis] += 1
    u = rng.normal(size=ushape)
    u[rng.random(ushape) < 0.1] = 0.0
    return q, u


@pytest.mark.parametrize("shape", [(40,), (4,), (1,), (9, 7), (5, 6, 8)])
def test_kernel_matches_the_numpy_reference_on_every_axis(rng, shape):
    for axis in range(len(shape)):
        q, u = _random_case(rng, shape, axis)
        kernel = flux_divergence(q, u, 0.1, axis)
        ref = flux_divergence_reference(q, u, 0.1, axis)
        assert kernel.shape == q.shape
        # the same operations in the same order: agreement to rounding of the largest term
        assert np.max(np.abs(kernel - ref)) <= 1e-14 * np.max(np.abs(ref))


@given(
    q=arrays(np.float64, st.integers(1, 30), elements=st.floats(0.0, 1e3, allow_nan=False, allow_infinity=False)),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernel_matches_the_reference_for_any_non_negative_data(q, seed):
    u = np.random.default_rng(seed).normal(size=q.size + 1)
    kernel = flux_divergence(q, u, 0.25)
    ref = flux_divergence_reference(q, u, 0.25)
    assert np.max(np.abs(kernel - ref), initial=0.0) <= 1e-14 * np.max(np.abs(ref), initial=0.0)


def test_kernel_conserves_mass_and_ignores_the_wall_velocities(rng):
    q, u = _random_case(rng, (6, 50), 1)
    h = 0.2
    div = flux_divergence(q, u, h, axis=1)
    # sum_i (F_{i+1/2} - F_{i-1/2}) = F_n - F_0 = 0 up to the rounding of the fluxes' sum
    scale = np.abs(u).max() * np.abs(q).max() * q.shape[1]
    assert np.max(np.abs(div.sum(axis=1) * h)) <= 16 * U * scale
    u2 = u.copy()
    u2[:, [0, -1]] = rng.normal(size=(6, 2)) * 100.0
    assert np.array_equal(flux_divergence(q, u2, h, axis=1), div)


def test_kernel_of_an_empty_cell_has_no_outflow():
    # a cell with zero mass gets zero face values, so it can only gain mass, whatever the velocity
    q = np.array([0.0, 0.0, 1.0, 3e-4, 0.0, 2.0, 0.0, 0.0])
    for u in (np.full(9, 1.0), np.full(9, -1.0), np.linspace(-1.0, 1.0, 9)):
        div = flux_divergence(q, u, 1.0)
        assert np.all(div[q == 0.0] <= 0.0)


def test_positivity_bound_of_one_forward_euler_step(rng):
    # Zhang-Shu: q - dt div >= 0 for dt max|u| / h <= 1/6, on data with jumps and zeros
    for axis, shape in ((0, (200,)), (1, (12, 60))):
        q, u = _random_case(rng, shape, axis)
        h = 0.05
        dt = 0.999 * POSITIVITY_CFL * h / np.abs(u).max()  # just inside: at the bound a drained cell is 0 +- rounding
        assert (q - dt * flux_divergence(q, u, h, axis)).min() >= 0.0


def test_spatial_operator_is_fifth_order_on_smooth_data():
    # exact cell averages of N(0.3, 0.5^2) with u = -x: the exact finite-volume divergence is
    # (F(x_{i+1/2}) - F(x_{i-1/2})) / h with F = u q at the faces (zero at the walls).  Measured
    # order 4.82 from 256 to 512 cells and 5.02 from 512 to 1024.
    errors = []
    for n in (256, 512, 1024):
        grid = Grid([(-5.0, 5.0)], [n])
        e = grid.edges()
        q = cell_averages(GaussianMixture.isotropic([1.0], [[0.3]], 0.5), grid).values
        flux = -e * norm.pdf(e, 0.3, 0.5)
        flux[[0, -1]] = 0.0
        errors.append(_l1(flux_divergence(q, -e, grid.h[0]), np.diff(flux) / grid.h[0], grid))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders >= 4.6)


def test_weno_epsilon_makes_the_operator_scale_invariant(rng):
    q, u = _random_case(rng, (64,), 0)
    s = 2.0**-40  # a power of two: scaling is exact in floating point
    assert np.array_equal(flux_divergence(s * q, u, 0.1), s * flux_divergence(q, u, 0.1))
    assert weno_epsilon(3.0) == pytest.approx(9e-6)


def test_kernel_bad_input():
    with pytest.raises(InputError, match="need shape"):
        flux_divergence(np.ones(8), np.ones(8), 0.1)
    with pytest.raises(InputError, match="axis"):
        flux_divergence(np.ones((4, 4)), np.ones((5, 4)), 0.1, axis=2)
    with pytest.raises(InputError, match="h must be"):
        flux_divergence(np.ones(8), np.ones(9), 0.0)
    with pytest.raises(InputError, match="1-3D"):
        flux_divergence(np.ones((2, 2, 2, 2)), np.ones((3, 2, 2, 2)), 0.1)


# ---------------------------------------------------------------------------------- exact transports


def _gaussian(means, stds):
    means = np.atleast_1d(np.asarray(means, dtype=float))
    stds = np.atleast_1d(np.asarray(stds, dtype=float))
    return GaussianMixture([1.0], [means], [np.diag(stds**2)])


C_SHIFT = 1.0
M0, S0 = -1.0, 0.5  # [-5, 5] holds N(-1, 0.5^2) and its shift to 0 with 8 std to spare
A_1D = 0.5
A_2D = np.array([0.5, -0.25])  # contracting along x, expanding along y
M2, S2 = np.array([0.5, -0.5]), np.array([0.6, 0.4])


def _constant_case():
    def exact(t):
        return _gaussian(M0 + C_SHIFT * t, S0)

    return (lambda x, t: np.full_like(x, C_SHIFT)), exact, [(-5.0, 5.0)], (0.5, 1.0)


def _linear_1d_case():
    def exact(t):
        f = np.exp(-A_1D * t)
        return _gaussian(0.5 * f, 0.6 * f)

    return (lambda x, t: -A_1D * x), exact, [(-6.0, 6.0)], (0.5, 1.0)


def _linear_2d_case():
    def exact(t):
        f = np.exp(-A_2D * t)
        return _gaussian(M2 * f, S2 * f)

    return (lambda x, t: -A_2D * x), exact, [(-4.0, 4.0)] * 2, (0.5, 1.0)


def _flow_case():
    truth = ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal"))
    return truth.velocity, truth.at, [(-8.0, 8.0)], (0.05, 0.2)


CASES = {
    "constant": (_constant_case, (128, 256)),
    "linear-1d": (_linear_1d_case, (128, 256)),
    "linear-2d": (_linear_2d_case, (64, 128)),
    "probability-flow": (_flow_case, (256, 512)),
}


@functools.lru_cache(maxsize=None)
def _solve(case: str, n: int):
    """Errors against exact cell averages, and the solution, of ``case`` on ``n`` cells per axis."""
    velocity, exact, bounds, times = CASES[case][0]()
    grid = Grid(bounds, [n] * len(bounds))
    with warnings.catch_warnings():
        # 64 cells on [-4, 4] give 3.2 cells per std 0.4 of the 2D case: under the projection's
        # resolution warning, but the measured order from 64 to 128 cells (4.2-4.7) is asymptotic
        warnings.filterwarnings("ignore", "the grid under-resolves", GridWarning)
        sol = solve_continuity(velocity, exact(0.0), grid, times)
        errors = np.array([_l1(d.values, cell_averages(exact(t), grid).values, grid) for t, d in zip(times, sol.densities)])
    return errors, sol


@pytest.mark.parametrize("case, min_order", [("constant", 4.2), ("linear-1d", 4.2), ("linear-2d", 4.0), ("probability-flow", 4.2)])
def test_exact_transports_converge_with_a_high_order(case, min_order):
    # measured orders (t = first, second output time): constant 4.8, 4.8; linear-1d 4.6, 4.5;
    # linear-2d 4.7, 4.7; probability flow 4.7, 4.7
    coarse, fine = (_solve(case, n)[0] for n in CASES[case][1])
    assert np.all(np.log2(coarse / fine) >= min_order)


@pytest.mark.parametrize("case", list(CASES))
def test_error_estimate_brackets_the_true_error_within_a_factor_3(case):
    errors, sol = _solve(case, CASES[case][1][1])
    ratio = sol.error_estimate / errors
    assert np.all((ratio >= 1 / 3) & (ratio <= 3)), ratio


def test_constant_velocity_moves_the_gaussian_by_v_t():
    # on 256 cells the transported density is within 1e-5 (L1) of N(-1 + v t, 0.5^2), while the
    # shift itself is v t = 1 (L1 distance 1.3 between start and end): the mass moved by exactly v t
    errors, sol = _solve("constant", 256)
    assert np.all(errors < 1e-5)
    grid = sol.grid
    for t, d in zip(sol.times, sol.densities):
        mean = float((d.values * grid.centres()).sum() * grid.cell_volume)
        assert mean == pytest.approx(M0 + C_SHIFT * t, abs=1e-5)


def test_probability_flow_at_t_02_matches_the_exact_marginal():
    errors, sol = _solve("probability-flow", 512)
    assert errors[1] < 5e-6  # measured 1.7e-6; the estimate says the same (ratio 1.7)
    assert sol.error_estimate[1] < 5e-6


@pytest.mark.parametrize("case", list(CASES))
def test_mass_is_conserved_to_round_off(case):
    for n in CASES[case][1]:
        sol = _solve(case, n)[1]
        m0 = cell_averages(CASES[case][0]()[1](0.0), sol.grid).mass()
        # flux form with zero wall fluxes: only the rounding of the updates, measured below 1e-14
        assert all(abs(d.mass() - m0) <= 1e-13 for d in sol.densities)
        assert all(d.min() >= 0.0 for d in sol.densities)


# ------------------------------------------------------------------------------------- positivity


VELOCITIES_1D = {
    "constant": lambda x, t: np.full_like(x, 1.0),
    "contracting": lambda x, t: -x,
    "oscillating": lambda x, t: np.sin(2.0 * x) * (1.0 + t),
}


@pytest.mark.parametrize("cfl", [0.4, 1.0])
@pytest.mark.parametrize("name", list(VELOCITIES_1D))
def test_box_stays_non_negative_and_keeps_its_mass(name, cfl):
    # a discontinuous box on [-1, 1] (faces on cell faces); cfl = 1 is six times the proven positivity
    # bound, so the step control (drain bound, redone steps) carries the guarantee there
    grid = Grid([(-4.0, 4.0)], [200])
    sol = solve_continuity(VELOCITIES_1D[name], BoxMixture.box(-1.0, 1.0), grid, [0.25, 0.5, 1.0], cfl=cfl, estimate_error=False)
    for d in sol.densities:
        assert d.min() >= 0.0
        assert abs(d.mass() - 1.0) <= 1e-13
    assert np.isnan(sol.error_estimate).all()


def test_checkerboard_stays_non_negative_in_2d():
    grid = Grid([(-3.0, 3.0)] * 2, [48, 48])

    def shear(x, t):
        return np.stack([np.sin(2.0 * x[:, 1]), np.cos(x[:, 0])], axis=1)

    sol = solve_continuity(shear, BoxMixture.checkerboard(), grid, [0.5, 1.0], cfl=1.0, estimate_error=False)
    assert all(d.min() >= 0.0 for d in sol.densities)
    assert all(abs(d.mass() - 1.0) <= 1e-13 for d in sol.densities)


# ----------------------------------------------------------------------------------- the interface


def test_returns_a_fokker_planck_solution_with_step_counts():
    errors, sol = _solve("constant", 128)
    assert isinstance(sol, ContinuitySolution) and isinstance(sol, FokkerPlanckSolution)
    assert np.array_equal(sol.times, [0.5, 1.0])
    assert sol.values().shape == (2, 128)
    assert sol.steps[0] < sol.steps[1] and sol.coarse_steps[1] > 0
    assert "WENO5" in sol.method and "SSP-RK3" in sol.method
    assert sol.wall_time_s > 0


def test_velocity_is_called_once_per_axis_per_stage_on_the_face_centres():
    grid = Grid([(-3.0, 3.0), (-2.0, 2.0)], [12, 8])
    calls = []

    def velocity(x, t):
        calls.append((x.copy(), t))
        return np.tile([0.3, -0.2], (len(x), 1))

    sol = solve_continuity(velocity, _gaussian([0.0, 0.0], [0.8, 0.6]), grid, [0.5], estimate_error=False)
    assert sol.redone_steps == 0 and len(calls) == 3 * grid.ndim * sol.steps[-1]
    faces0 = np.stack(np.meshgrid(grid.edges(0)[1:-1], grid.centres(1), indexing="ij"), -1).reshape(-1, 2)
    faces1 = np.stack(np.meshgrid(grid.centres(0), grid.edges(1)[1:-1], indexing="ij"), -1).reshape(-1, 2)
    assert np.array_equal(calls[0][0], faces0) and np.array_equal(calls[1][0], faces1)
    # the stages of the first step: t_0, t_0 + dt, t_0 + dt / 2
    t_stage = [c[1] for c in calls[: 3 * grid.ndim : grid.ndim]]
    assert t_stage[0] == 0.0 and t_stage[2] == pytest.approx(t_stage[1] / 2)


def test_output_times_are_hit_exactly_and_t_0_returns_the_initial_averages():
    grid = Grid([(-5.0, 5.0)], [64])
    initial = _gaussian(0.0, 0.7)
    seen = []

    def velocity(x, t):
        seen.append(t)
        return np.full_like(x, 0.5)

    sol = solve_continuity(velocity, initial, grid, [0.0, 0.1, 0.1, 0.37], estimate_error=False)
    assert np.array_equal(sol.densities[0].values, cell_averages(initial, grid).values)
    assert np.array_equal(sol.densities[1].values, sol.densities[2].values)
    assert max(seen) <= 0.37 and 0.1 in seen  # a step starts exactly at each output time


def test_grid_density_initial_gives_the_same_solution_as_the_distribution():
    truth = _constant_case()
    grid = Grid(truth[2], [64])
    a = solve_continuity(truth[0], truth[1](0.0), grid, [0.5])
    b = solve_continuity(truth[0], cell_averages(truth[1](0.0), grid), grid, [0.5])
    assert np.array_equal(a.densities[0].values, b.densities[0].values)
    # the coarse start is the restriction instead of a fresh projection: equal up to rounding
    assert b.error_estimate[0] == pytest.approx(a.error_estimate[0], rel=1e-8)


def test_solution_scales_with_the_initial_density():
    grid = Grid([(-4.0, 4.0)], [64])
    q0 = cell_averages(BoxMixture.box(-1.0, 1.0), grid)
    s = 2.0**-30  # exact in floating point; the WENO epsilon and the vacuum floor scale with the data
    a = solve_continuity(VELOCITIES_1D["oscillating"], q0, grid, [0.5], estimate_error=False)
    b = solve_continuity(VELOCITIES_1D["oscillating"], GridDensity(grid, s * q0.values), grid, [0.5], estimate_error=False)
    assert np.array_equal(b.densities[0].values, s * a.densities[0].values)


# --------------------------------------------------------------------------------------- bad input


GRID = Grid([(-4.0, 4.0)], [32])
INITIAL = GaussianMixture.isotropic([1.0], [[0.0]], 0.5)


def _still(x, t):
    return np.zeros_like(x)


@pytest.mark.parametrize(
    "velocity, match",
    [
        (lambda x, t: x[:, 0], r"returned shape \(31,\)"),
        (lambda x, t: np.zeros((len(x), 2)), r"shape \(n, 1\)"),
        (lambda x, t: np.full_like(x, np.nan), r"NaN or inf .* at t = 0\b"),
        (lambda x, t: 1 / 0, "raised ZeroDivisionError at t = 0"),
        (lambda x, t: "fast", "float array"),
    ],
)
def test_bad_velocity_is_named_with_its_time(velocity, match):
    with pytest.raises(InputError, match=match):
        solve_continuity(velocity, INITIAL, GRID, [0.5], estimate_error=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"times": [0.2, 0.1]}, "non-decreasing"),
        ({"times": [-0.1, 0.1]}, ">= 0"),
        ({"times": []}, "non-empty"),
        ({"times": [np.nan]}, "NaN"),
        ({"cfl": 0.0}, "cfl must be > 0"),
        ({"cfl": 2.0}, "above 1"),
        ({"max_steps": 0}, "max_steps"),
        ({"velocity": "v"}, "callable"),
        ({"initial": GaussianMixture.isotropic([1.0], [[0.0, 0.0]], 0.5)}, "2-dimensional"),
        ({"initial": GridDensity(Grid([(-4.0, 4.0)], [16]), np.ones(16) / 8)}, "lives on"),
        ({"initial": GridDensity(GRID, np.full(32, -0.1))}, "negative"),
        ({"initial": np.ones(32)}, "Distribution or a GridDensity"),
        ({"grid": Grid([(-4.0, 4.0)], [32], periodic=True)}, "periodic"),
        ({"grid": Grid([(-4.0, 4.0)], [31])}, "even number"),
        ({"grid": [(-4.0, 4.0)]}, "Grid"),
    ],
)
def test_bad_input_is_refused_with_what_to_change(kwargs, match):
    args = {"velocity": _still, "initial": INITIAL, "grid": GRID, "times": [0.5]} | kwargs
    velocity, initial, grid, times = (args.pop(k) for k in ("velocity", "initial", "grid", "times"))
    with pytest.raises(InputError, match=match):
        solve_continuity(velocity, initial, grid, times, **args)


def test_a_velocity_that_turns_bad_later_is_named_with_that_time():
    seen = []

    def velocity(x, t):
        seen.append(t)
        return np.where(x > 1.0, np.inf, 1.0) if t > 0.05 else np.ones_like(x)

    with pytest.raises(InputError, match="NaN or inf") as info:
        solve_continuity(velocity, INITIAL, GRID, [0.5], estimate_error=False)
    assert seen[-1] > 0.05 and f"at t = {seen[-1]:.17g}," in str(info.value)


@pytest.mark.filterwarnings("ignore:the grid under-resolves:fpcheck.errors.GridWarning")
def test_odd_grids_work_without_the_error_estimate():
    sol = solve_continuity(_still, INITIAL, Grid([(-4.0, 4.0)], [31]), [0.5], estimate_error=False)
    # a zero velocity: one step, q -> q/3 + (2/3)(3q/4 + q/4), the identity up to rounding
    np.testing.assert_allclose(sol.densities[0].values, cell_averages(INITIAL, sol.grid).values, rtol=8 * U)
    assert sol.steps[-1] == 1


def test_a_velocity_that_grows_within_a_step_gets_the_step_it_allows():
    # v = -10 t x is zero at t = 0, so the first step is sized by the stages that follow it
    grid = Grid([(-5.0, 5.0)], [256])  # the final std 0.23 spans 6 cells
    sol = solve_continuity(lambda x, t: -10.0 * t * x, _gaussian(0.0, 0.8), grid, [0.5], estimate_error=False)
    assert sol.redone_steps >= 1 and sol.steps[-1] > 10
    exact = _gaussian(0.0, 0.8 * np.exp(-5.0 * 0.5**2))  # x(t) = x0 exp(-5 t^2)
    assert sol.densities[0].l1_distance(exact) < 1e-3


def test_too_many_steps_says_what_to_change():
    with pytest.raises(InputError, match=r"max_steps = 10 .*Raise max_steps, use fewer cells"):
        solve_continuity(lambda x, t: np.full_like(x, 50.0), INITIAL, GRID, [1.0], max_steps=10)


def test_mass_reaching_the_wall_warns():
    # v = 2 for t = 1 carries N(0, 0.5^2) to 2, whose tail holds ~5e-5 in the last cell of [-4, 4]
    with pytest.warns(GridWarning, match="zero-flux boundary"):
        solve_continuity(lambda x, t: np.full_like(x, 2.0), INITIAL, GRID, [1.0], estimate_error=False)
