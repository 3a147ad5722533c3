"""The particle truth: simulators of the forward SDE, reverse SDE and probability-flow ODE.

* ``_rng.py``: counter-based normal variates (Philox4x32-10 keyed by the seed, counted by
  particle, step and component), so a run is bitwise the same on any number of threads and in
  any chunking of the particles;
* ``forward.py`` (kernels in ``_forward.py``): :func:`~fpcheck.particles.forward.simulate_forward`,
  exact Gaussian transitions or Euler-Maruyama for affine processes.

Nothing here compiles at import: the Numba kernels live in modules of their own, imported on
first use.
"""

from __future__ import annotations

__all__: list[str] = []
