r"""Verdicts on what users bring (samplers, models, scores, velocities), and the sampler zoo.

* ``zoo.py``: reference samplers for VP processes that follow the sampler contract of DESIGN.md,
  ``sampler(score, shape, rng, steps) -> (n, d)`` with an optional ``t_end``: four correct ones
  (reverse-SDE Euler-Maruyama, probability-flow Heun, DDPM ancestral, DDIM) and mutants of them,
  each of which models one real bug class.  The correct ones converge to :math:`q_{t_{end}}` as the
  number of steps grows; every mutant converges to something else.  They are the positive and
  negative controls of any sampler check: a check must pass the first and fail the second.

Submodules are imported on first use, so importing this package costs nothing::

    from fpcheck.verify import zoo_sampler
    sampler = zoo_sampler("ddim")
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("zoo",)
_ATTRIBUTES = {
    "CORRECT": "zoo",
    "MUTANTS": "zoo",
    "ZOO": "zoo",
    "zoo_sampler": "zoo",
}

__all__ = [*_SUBMODULES, *_ATTRIBUTES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(f".{_ATTRIBUTES[name]}", __name__), name)
    raise AttributeError(f"module 'fpcheck.verify' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
