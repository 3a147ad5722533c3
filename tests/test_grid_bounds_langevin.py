"""Default grid bounds for 1D Langevin dynamics: they hold the data and the Boltzmann density.

Deterministic: the masses outside the bounds are computed by adaptive quadrature (scipy's
``quad`` of exp(-(U - min U)/kT) / Z and of the data's pdf over the two tails) or in closed form,
each held below 1e-12 (the bounds aim at 1e-13 per side, so 1e-12 leaves room for the quadrature's
absolute tolerance 1e-14 and the scan's resolution).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special

from fpcheck import problems
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError
from fpcheck.grid import Grid, solve_fokker_planck
from fpcheck.grid.bounds import default_bounds
from fpcheck.processes import DoubleWell, Langevin, Potential

TOL = 1e-12


def _tilted(a: float) -> Potential:
    return Potential(lambda x: (x[:, 0] ** 2 - 1) ** 2 + a * x[:, 0], lambda x: 4 * x * (x * x - 1) + a, f"tilt {a:g}")


def _harmonic(k: float) -> Potential:
    return Potential(lambda x: 0.5 * k * x[:, 0] ** 2, lambda x: k * x, f"harmonic {k:g}")


PROCESSES = {
    "doublewell kT=0.25": Langevin(DoubleWell(1.0), 0.25, T=10.0),  # = langevin-doublewell
    "tilted kT=0.5": Langevin(_tilted(0.5), 0.5, T=5.0),
    "harmonic kT=1": Langevin(_harmonic(4.0), 1.0, T=5.0),
}
DATA = {
    "N(-1, 0.05^2)": GaussianMixture.isotropic([1.0], [[-1.0]], 0.05),
    "far modes": GaussianMixture.isotropic([0.5, 0.5], [[3.0], [-0.5]], [0.2, 0.1]),
    "gmm1d-bimodal": problems.data("gmm1d-bimodal"),
}


def _tail_mass(f, lo: float, hi: float, scale: float) -> float:
    """∫ f over (-inf, lo) and (hi, inf), absolute tolerance 1e-14 relative to ``scale``."""
    left = integrate.quad(f, -np.inf, lo, epsabs=1e-14 * scale, epsrel=1e-10, limit=200)[0]
    right = integrate.quad(f, hi, np.inf, epsabs=1e-14 * scale, epsrel=1e-10, limit=200)[0]
    return left + right


@pytest.mark.parametrize("data_name", list(DATA))
@pytest.mark.parametrize("process_name", list(PROCESSES))
def test_bounds_hold_the_data_and_the_boltzmann_density(process_name, data_name):
    proc, data = PROCESSES[process_name], DATA[data_name]
    ((lo, hi),) = default_bounds(proc, data, [0.0, 1.0, proc.T])
    assert lo < hi
    # the Boltzmann density exp(-(U - U_min)/kT) / Z
    xs = np.linspace(-5, 5, 20001)[:, None]
    u_min = float(proc.potential(xs).min())

    def weight(y):
        return float(np.exp(-(proc.potential(np.array([[y]]))[0] - u_min) / proc.kT))

    z = integrate.quad(weight, -np.inf, np.inf, limit=200)[0]
    assert _tail_mass(weight, lo, hi, z) / z < TOL
    # the data
    assert _tail_mass(lambda y: float(data.pdf(np.array([[y]]))[0]), lo, hi, 1.0) < TOL


def test_harmonic_bounds_against_the_closed_form_tail():
    # U = k x^2 / 2 at kT: the Boltzmann density is N(0, kT / k), its mass beyond +-b is erfc(b / (sd sqrt 2)).
    proc = PROCESSES["harmonic kT=1"]
    ((lo, hi),) = default_bounds(proc, GaussianMixture.isotropic([1.0], [[0.0]], 0.1), [1.0])
    sd = np.sqrt(proc.kT / 4.0)
    outside = 0.5 * special.erfc(-lo / (sd * np.sqrt(2))) + 0.5 * special.erfc(hi / (sd * np.sqrt(2)))
    assert outside < TOL
    # and not absurdly wide: within the e^-10 slack of the 1e-13 level, |x| <= sd sqrt(2 (log 1e13 + 10))
    assert max(-lo, hi) <= sd * np.sqrt(2 * (np.log(1e13) + 10.0)) + 0.02


def test_the_density_stays_inside_the_bounds_while_it_relaxes():
    # Between the data (far modes at 3 and -0.5) and the Boltzmann density the grid solution keeps
    # its mass away from the walls: the outermost 5 cells per side hold below 1e-12 at every time.
    proc, data = PROCESSES["doublewell kT=0.25"], DATA["far modes"]
    times = [0.01, 0.1, 1.0, 10.0]
    grid = Grid(default_bounds(proc, data, times), [1024])
    sol = solve_fokker_planck(proc, data, grid, times)
    for dens in sol.densities:
        cells = dens.values * grid.cell_volume
        assert abs(dens.mass() - 1.0) < 1e-12
        assert abs(cells[:5].sum()) + abs(cells[-5:].sum()) < TOL


def test_boltzmann_data_keep_their_table_bounds():
    proc, data = problems.process("langevin-doublewell"), problems.data("doublewell1d")
    assert default_bounds(proc, data, [1.0]) == [data.bounds]


@pytest.mark.parametrize(
    "potential",
    [
        Potential(lambda x: 0.0 * x[:, 0], lambda x: 0.0 * x, "free"),
        Potential(lambda x: -x[:, 0] ** 2, lambda x: -2.0 * x, "repulsive"),
        Potential(lambda x: x[:, 0], lambda x: np.ones_like(x), "linear"),
    ],
)
def test_a_non_confining_potential_is_an_input_error(potential):
    with pytest.raises(InputError, match="does not confine the density.*pass bounds explicitly"):
        default_bounds(Langevin(potential, 0.5), DATA["N(-1, 0.05^2)"], [1.0])


def test_langevin_bounds_are_1d_only():
    with pytest.raises(InputError, match="1D only.*pass bounds explicitly"):
        default_bounds(problems.process("langevin-doublewell"), problems.data("gmm2d-ring8"), [1.0])


def test_a_narrow_well_is_held_too():
    # k = 1e5 at kT = 1: sd = 3.2e-3, and the 1e-13 tail needs |x| <= 0.023; the scan's points at
    # multiples of 0.01 stop at 0.02, leaving 2.5e-10 outside.
    proc = Langevin(_harmonic(1e5), 1.0, T=1.0)
    ((lo, hi),) = default_bounds(proc, GaussianMixture.isotropic([1.0], [[0.0]], 1e-4), [1.0])
    assert special.erfc(hi / (np.sqrt(1e-5) * np.sqrt(2))) < TOL
