r"""Learned fields: models linear in their parameters, and the objectives that fit them (MATH.md section 4).

* ``bases.py`` (kernels in ``_bases.py``): feature families :math:`\psi_j(x, t)` with their
  gradients, Laplacians and time derivatives: :class:`~fpcheck.learned.bases.RBF`,
  :class:`~fpcheck.learned.bases.ScaledRBF`, :class:`~fpcheck.learned.bases.Polynomial`,
  :class:`~fpcheck.learned.bases.Chebyshev`, :class:`~fpcheck.learned.bases.Legendre`,
  :class:`~fpcheck.learned.bases.Tensor`, :class:`~fpcheck.learned.bases.Concat`.

Names are imported on first use, and nothing compiles at import: the Numba kernels live in
``_bases.py``, imported on the first compiled evaluation.
"""

from __future__ import annotations

import importlib

_BASES = ("Basis", "Features", "OUTPUTS", "RBF", "ScaledRBF", "Polynomial", "Chebyshev", "Legendre", "Tensor", "Concat")
_ATTRIBUTES = {name: "bases" for name in _BASES}

__all__ = ["bases", *_ATTRIBUTES]


def __getattr__(name: str):
    if name == "bases":
        return importlib.import_module(".bases", __name__)
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(f".{_ATTRIBUTES[name]}", __name__), name)
    raise AttributeError(f"module 'fpcheck.learned' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
