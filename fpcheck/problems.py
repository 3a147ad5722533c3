"""The registry of named processes and data sets.

The same name means the same numbers everywhere: tests, benchmarks, reports and the CLI.
``fpcheck list`` prints this registry.

>>> from fpcheck import problems
>>> problems.process("vp-linear")
VP(schedule=Linear(b0=0.1, b1=20.0, T=1.0))
>>> problems.data("gmm1d-bimodal").dim
1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .distributions import Boltzmann1D, BoxMixture, Distribution, GaussianMixture
from .errors import UnknownNameError
from .processes import OU, VE, VP, DoubleWell, Langevin, Process, SubVP
from .schedules import Cosine, GeometricSigma, Linear

__all__ = ["Entry", "PROCESSES", "DATASETS", "process", "data", "affine_processes", "describe"]


@dataclass(frozen=True)
class Entry:
    """A named object: a builder and one line that says what it is."""

    name: str
    summary: str
    build: Callable[[], object]


def _ring(k: int = 8, radius: float = 2.0, std: float = 0.2) -> GaussianMixture:
    angles = 2.0 * np.pi * np.arange(k) / k
    means = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    return GaussianMixture.isotropic(np.full(k, 1.0 / k), means, std)


_DOUBLE_WELL_KT = 0.25

PROCESSES: dict[str, Entry] = {
    e.name: e
    for e in [
        Entry("vp-linear", "VP (DDPM), linear beta from 0.1 to 20 on [0, 1]", lambda: VP(Linear(0.1, 20.0, 1.0))),
        Entry("vp-cosine", "VP, Nichol-Dhariwal cosine schedule (s = 0.008, rate capped at 20)", lambda: VP(Cosine())),
        Entry("subvp-linear", "sub-VP, linear beta from 0.1 to 20 on [0, 1]", lambda: SubVP(Linear(0.1, 20.0, 1.0))),
        Entry("ve-geometric", "VE (SMLD), geometric sigma from 0.01 to 50 on [0, 1]", lambda: VE(GeometricSigma(0.01, 50.0))),
        Entry("ou", "Ornstein-Uhlenbeck, gamma = 1, mu = 1, beta = 2 on [0, 5]; stationary N(1, I)", lambda: OU(1.0, 1.0, 2.0, 5.0)),
        Entry(
            "langevin-doublewell",
            "overdamped Langevin in U = (x^2-1)^2 at kT = 0.25 on [0, 10] (not affine)",
            lambda: Langevin(DoubleWell(1.0), _DOUBLE_WELL_KT, T=10.0),
        ),
    ]
}

DATASETS: dict[str, Entry] = {
    e.name: e
    for e in [
        Entry(
            "gmm1d-bimodal",
            "0.5 N(-2, 0.3^2) + 0.5 N(1.5, 0.5^2)",
            lambda: GaussianMixture.isotropic([0.5, 0.5], [[-2.0], [1.5]], [0.3, 0.5]),
        ),
        Entry("gmm2d-ring8", "8 equal Gaussians of std 0.2 on a circle of radius 2", _ring),
        Entry(
            "gmm2d-aniso",
            "3 anisotropic Gaussians, weights 0.5, 0.3, 0.2, full covariances",
            lambda: GaussianMixture(
                [0.5, 0.3, 0.2],
                [[-1.5, 0.0], [1.5, 1.0], [0.5, -1.5]],
                [[[0.40, 0.25], [0.25, 0.30]], [[0.20, -0.10], [-0.10, 0.15]], [[0.10, 0.0], [0.0, 0.50]]],
            ),
        ),
        Entry(
            "gmm3d-tetra",
            "4 equal Gaussians of std 0.3 at the vertices of a tetrahedron (+-1, +-1, +-1)",
            lambda: GaussianMixture.isotropic(
                np.full(4, 0.25), [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], 0.3
            ),
        ),
        Entry("box1d", "uniform on [-1, 1]", lambda: BoxMixture.box(-1.0, 1.0)),
        Entry("checkerboard2d", "uniform on the 8 dark unit squares of a 4x4 board on [-2, 2]^2", BoxMixture.checkerboard),
        Entry(
            "doublewell1d",
            "Boltzmann density of U = (x^2-1)^2 at kT = 0.25 (no closed-form evolution)",
            lambda: Boltzmann1D(DoubleWell(1.0), _DOUBLE_WELL_KT, bounds=(-3.0, 3.0)),
        ),
    ]
}


def _lookup(table: dict[str, Entry], name: str, kind: str) -> Entry:
    try:
        return table[name]
    except (KeyError, TypeError):
        known = ", ".join(table)
        plural = kind + ("es" if kind.endswith("s") else "s")  # "processes", "data sets"
        raise UnknownNameError(f"unknown {kind} {name!r}; known {plural}: {known}") from None


def process(name: str) -> Process:
    """Build the named process (a fresh object each call)."""
    return _lookup(PROCESSES, name, "process").build()


def data(name: str) -> Distribution:
    """Build the named data set (a fresh object each call)."""
    return _lookup(DATASETS, name, "data set").build()


def affine_processes() -> list[str]:
    """Names of the processes with a closed-form kernel."""
    return [name for name, e in PROCESSES.items() if e.build().is_affine]


def describe() -> str:
    """A table of every name with its summary and parameters, as ``fpcheck list`` prints it."""
    lines = []
    for title, table in (("processes", PROCESSES), ("data sets", DATASETS)):
        lines.append(f"{title}:")
        width = max(len(n) for n in table)
        for name, entry in table.items():
            obj = entry.build()
            lines.append(f"  {name:<{width}}  {entry.summary}")
            lines.append(f"  {'':<{width}}  {obj!r}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
