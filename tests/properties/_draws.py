"""Composite draws for the property tests, built from the public :mod:`fpcheck.strategies`."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fpcheck import strategies as fst

from ._helpers import Mixture, SmoothField


@st.composite
def process_at_time(draw, dim: int | None = None, lo_frac: float = 0.01, hi_frac: float = 0.99, kinds=fst.AFFINE_KINDS):
    """An affine process and a time in ``[lo_frac T, hi_frac T]`` (room for central differences)."""
    process = draw(fst.affine_processes(dim, kinds=kinds))
    return process, draw(fst.times(process, lo_frac, hi_frac))


@st.composite
def smooth_fields(draw, mixture: Mixture):
    r"""A random :class:`SmoothField` in the mixture's standardised coordinate.

    Centre: the mixture's mean; scale :math:`\ell`: its largest standard deviation
    (:math:`\sqrt{\lambda_{\max}}` of the total covariance, at least every component's width).
    Entries of :math:`A, b, c` lie in [-2, 2], those of :math:`w` in [-1/2, 1/2], so that the
    tanh's poles lie at least :math:`\pi\ell/(2|w|) \ge \pi\ell/\sqrt d` off the real axis: the
    trapezoid rule then converges like :math:`e^{-2\pi \cdot \pi\ell/(\sqrt d h)}`, negligible on grids
    with :math:`h \le \ell/4`.
    """
    d = mixture.dim
    big, small = fst.floats(-2.0, 2.0), fst.floats(-0.5, 0.5)
    mean, cov = mixture.moments()
    return SmoothField(
        A=draw(hnp.arrays(np.float64, (d, d), elements=big)),
        b=draw(hnp.arrays(np.float64, (d,), elements=big)),
        c=draw(hnp.arrays(np.float64, (d,), elements=big)),
        w=draw(hnp.arrays(np.float64, (d,), elements=small)),
        e=draw(big),
        centre=mean,
        scale=float(np.sqrt(np.linalg.eigvalsh(cov).max())),
    )
