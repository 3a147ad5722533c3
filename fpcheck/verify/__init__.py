r"""Verdicts on what users bring (samplers, models, scores, velocities), and the sampler zoo.

* ``zoo.py``: reference samplers for VP processes that follow the sampler contract of DESIGN.md,
  ``sampler(score, shape, rng, steps) -> (n, d)`` with an optional ``t_end``: four correct ones
  (reverse-SDE Euler-Maruyama, probability-flow Heun, DDPM ancestral, DDIM) and mutants of them,
  each of which models one real bug class.  The correct ones converge to :math:`q_{t_{end}}` as the
  number of steps grows; every mutant converges to something else.  They are the positive and
  negative controls of any sampler check: a check must pass the first and fail the second.

* ``sampler.py``: :func:`verify_sampler` (a ladder of step counts, floor tests, the goodness-of-fit family at
  the top rung, a diagnosis in words) and :func:`verify_model`; ``fields.py``: :func:`verify_score` and
  :func:`verify_velocity` (relative errors per time against the exact fields, with confidence intervals);
  ``statistics.py`` (the statistics a verdict follows), ``ladder.py`` (the floor test), ``result.py`` (the
  verdict and its words), ``targets.py`` (loading the user's callables and calling them under guard),
  ``truth.py`` (process and data to exact marginals and fields).

Submodules are imported on first use, so importing this package costs nothing::

    from fpcheck.verify import zoo_sampler
    sampler = zoo_sampler("ddim")
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("zoo", "sampler", "fields", "statistics", "ladder", "result", "targets", "truth")
_ATTRIBUTES = {
    "verify_sampler": "sampler",
    "verify_model": "sampler",
    "verify_score": "fields",
    "verify_velocity": "fields",
    "SamplerVerdict": "result",
    "load_target": "targets",
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
