"""fpcheck: numerical validation of diffusion generative models against exact truths.

The forward diffusion's density q_t obeys a Fokker-Planck equation; for affine
processes and Gaussian-mixture data q_t, its score and the probability-flow
velocity are known exactly.  fpcheck computes that truth and checks samplers,
scores and velocity fields against it.

Submodules are imported on first use, so ``import fpcheck`` stays fast::

    import fpcheck
    truth = fpcheck.ExactMarginals(fpcheck.problems.process("vp-linear"),
                                   fpcheck.problems.data("gmm1d-bimodal"))
"""

from __future__ import annotations

import importlib

from ._version import __version__

_SUBMODULES = ("analytic", "distributions", "errors", "problems", "processes", "schedules")
_ATTRIBUTES = {
    "ExactMarginals": "analytic",
    "GaussianMixture": "distributions",
    "BoxMixture": "distributions",
    "Boltzmann1D": "distributions",
    "VP": "processes",
    "SubVP": "processes",
    "VE": "processes",
    "OU": "processes",
    "Langevin": "processes",
}

__all__ = ["__version__", *_SUBMODULES, *_ATTRIBUTES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(f".{_ATTRIBUTES[name]}", __name__), name)
    raise AttributeError(f"module 'fpcheck' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
