"""Input checks shared by the public classes: shapes, finiteness, ranges.

Each helper returns the validated value as a float array and raises
:class:`~fpcheck.errors.InputError` with a message that names the argument.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError


def finite_array(value, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array, rejecting NaN and inf."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric, got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{name} contains {bad} NaN or inf value(s)")
    return arr


def positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, requiring it finite and > 0 (or >= 0)."""
    v = float(finite_array(value, name, ndim=0))
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be {bound}, got {v!r}")
    return v


def points(x, dim: int, name: str = "x") -> np.ndarray:
    """Return ``x`` as an ``(n, dim)`` float array.

    A 1-D array is accepted as ``n`` points when ``dim == 1`` and as a single
    point when its length is ``dim``; anything else must already be ``(n, dim)``.
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 1:
        if dim == 1:
            arr = arr[:, None]
        elif arr.shape[0] == dim:
            arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise InputError(
            f"{name} must have shape (n, {dim}) for a {dim}-dimensional distribution, "
            f"got shape {np.shape(x)}"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or inf")
    return arr


def times(t, T: float, name: str = "t") -> np.ndarray:
    """Return ``t`` as a float array inside ``[0, T]``."""
    arr = finite_array(t, name)
    if np.any(arr < 0) or np.any(arr > T):
        raise InputError(
            f"{name} must lie in the process's time range [0, {T:g}], "
            f"got values in [{arr.min():g}, {arr.max():g}]"
        )
    return arr
