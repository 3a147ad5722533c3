r"""Learned fields: models linear in their parameters, and the objectives that fit them (MATH.md section 4).

* ``bases.py`` (kernels in ``_bases.py``): feature families :math:`\psi_j(x, t)` with their
  gradients, Laplacians and time derivatives: :class:`~fpcheck.learned.bases.RBF`,
  :class:`~fpcheck.learned.bases.ScaledRBF`, :class:`~fpcheck.learned.bases.Polynomial`,
  :class:`~fpcheck.learned.bases.Chebyshev`, :class:`~fpcheck.learned.bases.Legendre`,
  :class:`~fpcheck.learned.bases.Tensor`, :class:`~fpcheck.learned.bases.Concat`.
* ``pilot.py``: a Gaussian mixture fitted to data samples by EM (:func:`~fpcheck.learned.pilot.fit_mixture`,
  :func:`~fpcheck.learned.pilot.select_mixture`) and its diffused log-density as a feature,
  :class:`~fpcheck.learned.pilot.MixtureLogDensity` (the default bases start from it), and its score
  components, :class:`~fpcheck.learned.pilot.MixtureScore`, for vector models.
* ``objectives.py`` (forms in ``_forms.py``, samples and exact fields in ``_samples.py``,
  quadrature in ``_quadrature.py``): ESM, ISM, DSM, sliced score matching, Action Matching and
  conditional flow matching as quadratic forms :class:`~fpcheck.learned.objectives.QuadraticForm`,
  from samples or by quadrature.
* ``fit.py``: :func:`fpcheck.learned.fit.fit`, the regularised solve with a ridge chosen on
  held-out samples, returning a :class:`~fpcheck.learned.fit.LinearField`.  (``fpcheck.learned.fit``
  is the module; the function is ``fpcheck.learned.fit.fit``.)

Names are imported on first use, and nothing compiles at import: the Numba kernels live in
``_bases.py``, imported on the first compiled evaluation.
"""

from __future__ import annotations

import importlib

_BASES = ("Basis", "Features", "OUTPUTS", "RBF", "ScaledRBF", "Polynomial", "Chebyshev", "Legendre", "Tensor", "Concat", "Centred", "InverseSpread", "signal_fraction", "spread")
_OBJECTIVES = (
    "QuadraticForm",
    "Block",
    "KernelSamples",
    "kernel_samples",
    "exact_values",
    "noise_weight",
    "esm",
    "ism",
    "dsm",
    "sliced",
    "action_matching",
    "flow_matching",
    "Grid",
    "tensor_grid",
    "gauss_legendre",
    "esm_quadrature",
    "ism_quadrature",
    "action_matching_quadrature",
)
_FIT = ("RIDGE_GRID", "RidgeSelection", "LinearField", "solve")
_MODULES = ("objectives", "fit", "pilot")
_ATTRIBUTES = {name: "bases" for name in _BASES}
_ATTRIBUTES.update({name: "objectives" for name in _OBJECTIVES})
_ATTRIBUTES.update({name: "fit" for name in _FIT})

__all__ = ["bases", *_MODULES, *_ATTRIBUTES]


def __getattr__(name: str):
    if name == "bases":
        return importlib.import_module(".bases", __name__)
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(f".{_ATTRIBUTES[name]}", __name__), name)
    raise AttributeError(f"module 'fpcheck.learned' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
