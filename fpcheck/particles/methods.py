"""The names of the particle methods that :func:`fpcheck.particles.simulate.simulate` runs (no imports: the CLI lists them)."""

from __future__ import annotations

__all__ = ["METHODS", "is_generation"]

#: Method names and what each runs.
METHODS: dict[str, str] = {
    "exact": "forward SDE, exact Gaussian transitions (affine processes)",
    "em": "forward SDE, Euler-Maruyama (any process)",
    "reverse-em": "reverse SDE from exact q_T with the exact score, Euler-Maruyama",
    "reverse-heun": "reverse SDE from exact q_T with the exact score, stochastic Heun",
    "flow-euler": "probability-flow ODE from exact q_T, backward, Euler",
    "flow-heun": "probability-flow ODE from exact q_T, backward, Heun",
    "flow-rk4": "probability-flow ODE from exact q_T, backward, classical RK4",
    "flow-rk45": "probability-flow ODE from exact q_T, backward, adaptive Dormand-Prince 5(4)",
}


def is_generation(method: str) -> bool:
    """Whether ``method`` runs from :math:`q_T` down to the output times."""
    return method.startswith(("reverse-", "flow-"))
