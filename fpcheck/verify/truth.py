r"""The ground truth a verdict is measured against: an affine process, Gaussian-mixture data, and their exact fields.

For data :math:`q_0 = \sum_k w_k \mathcal N(m_k, S_k)` and an affine process with kernel
:math:`(a_t, c_t, s_t^2)` (MATH.md 1), every marginal is again a mixture,
:math:`q_t = \sum_k w_k \mathcal N(a_t m_k + c_t, a_t^2 S_k + s_t^2 I)`, with an exact score and
probability-flow velocity; :class:`~fpcheck.particles.fields.ExactField` evaluates them compiled,
which is what a sampler is handed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analytic import ExactMarginals
from ..distributions import Distribution, GaussianMixture
from ..errors import InputError
from ..processes import AffineProcess, Process

__all__ = ["Truth", "resolve_truth"]


@dataclass
class Truth:
    """An affine process and Gaussian-mixture data, with their names (``None`` for objects passed directly)."""

    process: AffineProcess
    data: GaussianMixture
    process_name: str | None = None
    data_name: str | None = None
    _field: object = field(default=None, init=False, repr=False)

    @property
    def dim(self) -> int:
        return self.data.dim

    @property
    def T(self) -> float:
        return float(self.process.T)

    @property
    def field(self):
        """The compiled :class:`~fpcheck.particles.fields.ExactField` (built on first use)."""
        if self._field is None:
            from ..particles.fields import ExactField

            self._field = ExactField(self.process, self.data)
        return self._field

    def at(self, t: float) -> GaussianMixture:
        r"""The exact marginal :math:`q_t`."""
        return ExactMarginals(self.process, self.data).at(float(t))

    def describe(self) -> str:
        p = self.process_name or repr(self.process)
        d = self.data_name or repr(self.data)
        return f"{p} x {d}"


def resolve_truth(process: str | Process, data: str | Distribution) -> Truth:
    """Build a :class:`Truth` from registry names (``fpcheck list``) or objects.

    Raises
    ------
    InputError
        When the process is not affine or the data is not a Gaussian mixture: only those have the
        exact marginals a verdict is measured against.
    UnknownNameError
        For a name that is not in the registry (the message lists the known ones).
    """
    from .. import problems

    p_name = process if isinstance(process, str) else None
    d_name = data if isinstance(data, str) else None
    proc = problems.process(process) if isinstance(process, str) else process
    dat = problems.data(data) if isinstance(data, str) else data
    if not isinstance(proc, AffineProcess):
        raise InputError(
            f"verification needs an affine process (exact marginals), got {p_name or type(proc).__name__}; "
            f"choose one of {', '.join(problems.affine_processes())}"
        )
    if not isinstance(dat, GaussianMixture):
        raise InputError(
            f"verification needs Gaussian-mixture data (exact marginals and scores), got "
            f"{d_name or type(dat).__name__}; choose a gmm* data set (fpcheck list)"
        )
    return Truth(proc, dat, p_name, d_name)
