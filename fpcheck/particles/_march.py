"""The NumPy step loop of the Python-level integrators: save at the output steps, stop at the first blow-up.

:func:`march` runs ``x <- step(x, k)`` for ``k = 0 .. K-1`` on a chunk of particles.  It stores
``x`` after the steps listed in ``save_after`` and stops at the first step after which a particle is
non-finite or beyond ``bound``, recording that step per particle in ``bad`` (-1: never), the
convention of the compiled kernels.  Fields are wrapped by :func:`guard_stages`, so a user's
field is never called on a blown-up stage point (whose error would blame the field): the step is
reported instead.  Nothing here imports Numba.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["StageEscaped", "guard_stages", "march"]


class StageEscaped(Exception):
    """A stage point of a NumPy step is NaN or inf (``rows``: the particles): the step blew up."""

    def __init__(self, rows: np.ndarray):
        super().__init__(f"{rows.size} particle(s) non-finite inside a step")
        self.rows = rows


def guard_stages(field: Callable[[np.ndarray, int], np.ndarray]) -> Callable[[np.ndarray, int], np.ndarray]:
    """``field`` that raises :class:`StageEscaped` instead of being called on NaN or inf points."""

    def guarded(y, j):
        finite = np.isfinite(y).all(axis=1)
        if not finite.all():
            raise StageEscaped(np.flatnonzero(~finite))
        return field(y, j)

    return guarded


def march(
    x0: np.ndarray,
    step: Callable[[np.ndarray, int], np.ndarray],
    steps: int,
    save_after: np.ndarray,
    bound: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``steps`` steps ``x <- step(x, k)`` from ``x0`` (n, d); returns ``(out (m, n, d), bad (n,))``.

    ``out[j]`` holds the state after ``save_after[j]`` steps (0: the start); it is complete only
    when no particle escaped.  ``step`` may raise :class:`StageEscaped` for particles that blew up
    inside the step.
    """
    x = np.array(x0, dtype=float)
    out = np.empty((save_after.size,) + x.shape)
    bad = np.full(x.shape[0], -1, dtype=np.int64)
    j = 0
    while j < save_after.size and save_after[j] == 0:
        out[j] = x
        j += 1
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            try:
                x = step(x, k)
            except StageEscaped as esc:
                bad[esc.rows] = k
                return out, bad
            ok = np.all(np.abs(x) <= bound, axis=1)
            if not np.all(ok):
                bad[~ok] = k
                return out, bad
            while j < save_after.size and save_after[j] == k + 1:
                out[j] = x
                j += 1
    return out, bad
