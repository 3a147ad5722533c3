r"""The particle truth: simulators of the forward SDE, reverse SDE and probability-flow ODE.

* ``_rng.py``: counter-based normal variates (Philox4x32-10 keyed by the seed, counted by
  particle, step and component), so a run is bitwise the same on any number of threads and in
  any chunking of the particles;
* ``solution.py``: :class:`~fpcheck.particles.solution.ParticleSolution` (particles at the
  output times) and the set-up the simulators share: step grids that land on every output time,
  argument checks, the blow-up bound;
* ``forward.py`` (kernels in ``_forward.py``): :func:`~fpcheck.particles.forward.simulate_forward`,
  exact Gaussian transitions or Euler-Maruyama for affine processes;
* ``fields.py`` (kernels in ``_fields.py``): :class:`~fpcheck.particles.fields.ExactField`, the
  exact score, probability-flow velocity and reverse drift of Gaussian-mixture data, compiled from
  per-time tables; :func:`~fpcheck.particles.fields.flow_velocity` turns any score into
  :math:`v = f - \tfrac12 g^2 s`; users' fields are checked for shape, NaN and inf;
* ``reverse.py`` (kernels in ``_reverse.py``): :func:`~fpcheck.particles.reverse.simulate_reverse`,
  the reverse SDE from ``t_start`` down to the output times, Euler-Maruyama (weak order 1) or
  stochastic Heun (weak order 2, additive noise);
* ``flow.py`` (kernels in ``_flow.py``): :func:`~fpcheck.particles.flow.integrate_flow`, the
  probability-flow ODE either way in time, fixed-step Euler, Heun, RK4 or adaptive
  Dormand-Prince 5(4).

With an :class:`~fpcheck.particles.fields.ExactField` the step loops of the reverse SDE and of the
fixed-step flows run in one compiled kernel each, over blocks of 256 particles in parallel; any
other field is a Python callable evaluated once per stage per step on each chunk of particles.

Nothing here compiles at import: the Numba kernels live in modules of their own, imported on
first use.
"""

from __future__ import annotations

__all__: list[str] = []
