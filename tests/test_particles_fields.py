"""Compiled exact fields against ExactMarginals, user-field checks, and the import path.

Deterministic: every comparison is to round-off.  The compiled fields and ExactMarginals compute
the same sums in a different order from independently factored tables, so they agree to a few
ulps of the largest term; the tests allow 1e-12 of the size of the terms (``|f| + alpha g^2 |s|``
for the drifts, ``|s|`` for the score), i.e. about 5000 ulps.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.analytic import ExactMarginals
from fpcheck.distributions import GaussianMixture
from fpcheck.errors import InputError
from fpcheck.particles.fields import ExactField, _call_field, build_tables, flow_velocity
from fpcheck.processes import OU

RTOL = 1e-12

CASES = [
    ("vp-linear", "gmm1d-bimodal"),
    ("vp-linear", "gmm2d-ring8"),
    ("subvp-linear", "gmm2d-aniso"),
    ("ou", "gmm2d-aniso"),
    ("vp-cosine", "gmm3d-tetra"),
    ("ve-geometric", "gmm3d-tetra"),
]


def _points(truth: ExactMarginals, t: float, rng) -> np.ndarray:
    """Samples of q_t and points far out in its tails (|x| up to 30 standard deviations)."""
    spread = np.sqrt(np.trace(truth.cov(t)))
    far = truth.mean(t) + 30 * spread * rng.uniform(-1, 1, size=(50, truth.dim))
    return np.concatenate([truth.sample(200, t, rng), far])


@pytest.mark.parametrize("proc_name, data_name", CASES)
def test_exact_field_matches_exact_marginals(proc_name, data_name, rng):
    proc, data = problems.process(proc_name), problems.data(data_name)
    truth, field = ExactMarginals(proc, data), ExactField(proc, data)
    for t in proc.T * np.array([0.0, 0.01, 0.3, 1.0]):
        x = _points(truth, t, rng)
        s = truth.score(x, t)
        np.testing.assert_allclose(field.score(x, t), s, rtol=RTOL, atol=RTOL * np.abs(s).max())
        f = proc.drift(x, t)
        for alpha, name in ((0.5, "velocity"), (1.0, "reverse_drift")):
            size = np.abs(f) + alpha * proc.g2(t) * np.abs(s)
            err = np.abs(getattr(field, name)(x, t) - getattr(truth, name)(x, t))
            assert np.all(err <= RTOL * (size + size.max())), (name, t, (err / (size + size.max())).max())


def test_tables_hold_the_pushed_mixture():
    # the tables at t are those of data.push_affine(kernel(t)): means, precision, normaliser
    proc, data = OU(1.3, [0.5, -1.0], 0.7, T=2.0), problems.data("gmm2d-aniso")
    times = np.array([0.0, 0.4, 2.0])
    tab = build_tables(proc, data, times)
    for j, t in enumerate(times):
        q = ExactMarginals(proc, data).at(t)
        np.testing.assert_allclose(tab.mean[j], q.means, rtol=1e-14, atol=1e-14)
        prec = np.einsum("kij,kil->kjl", tab.linv[j], tab.linv[j])
        np.testing.assert_allclose(prec, np.linalg.inv(q.covs), rtol=1e-12)
        logdet = np.linalg.slogdet(q.covs)[1]
        np.testing.assert_allclose(tab.lognorm[j], np.log(q.weights) - 0.5 * logdet - np.log(2 * np.pi), rtol=1e-13)
        rate, shift, g2 = proc.coefficients(t)
        assert tab.rate[j] == rate and tab.g2[j] == g2
        np.testing.assert_array_equal(tab.shift[j], shift)
    assert np.all(np.triu(tab.linv, 1) == 0)


def test_flow_velocity_is_f_minus_half_g2_score(rng):
    proc, data = problems.process("vp-linear"), problems.data("gmm2d-ring8")
    truth, field = ExactMarginals(proc, data), ExactField(proc, data)
    x = truth.sample(100, 0.4, rng)
    v = flow_velocity(proc, truth.score)
    assert "ExactMarginals.score" in v.__name__
    np.testing.assert_allclose(v(x, 0.4), truth.velocity(x, 0.4), rtol=1e-14, atol=1e-14)
    # MATH.md 3 for VP: v = -beta/2 (x + score), not the lecture's -beta/2 x + beta score
    beta = proc.schedule.beta(0.4)
    np.testing.assert_allclose(v(x, 0.4), -0.5 * beta * (x + truth.score(x, 0.4)), rtol=1e-13, atol=1e-13)
    assert flow_velocity(proc, field) == field.velocity
    assert flow_velocity(proc, field.score) == field.velocity


def test_user_fields_are_checked_and_named():
    x = np.zeros((4, 2))

    def wrong_shape(y, t):
        return y[:, :1]

    with pytest.raises(InputError, match=r"wrong_shape returned shape \(4, 1\) at t = 0\.25"):
        _call_field(wrong_shape, "wrong_shape", x, 0.25)
    with pytest.raises(InputError, match=r"returned 8 NaN or inf value\(s\) at t = 0\.5"):
        _call_field(lambda y, t: np.full_like(y, np.nan), "nan_field", x, 0.5)
    with pytest.raises(InputError, match="not an array"):
        _call_field(lambda y, t: "score", "text", x, 0.5)
    # array-likes (here a list) are accepted through np.asarray
    assert _call_field(lambda y, t: y.tolist(), "lists", x, 0.5).shape == (4, 2)
    proc = problems.process("vp-linear")
    v = flow_velocity(proc, wrong_shape)
    with pytest.raises(InputError, match=r"wrong_shape.*at t = 0\.3"):
        v(x, 0.3)


def test_exact_field_refuses_what_it_cannot_compile():
    proc = problems.process("vp-linear")
    with pytest.raises(InputError, match=r"ExactMarginals\(process, data\)\.score"):
        ExactField(proc, problems.data("checkerboard2d"))
    with pytest.raises(InputError, match="affine"):
        ExactField(problems.process("langevin-doublewell"), problems.data("gmm1d-bimodal"))
    with pytest.raises(InputError, match="dimensional"):
        ExactField(OU(1.0, [0.0, 0.0, 0.0]), problems.data("gmm2d-ring8"))
    field = ExactField(proc, GaussianMixture.isotropic([1.0], [[0.0]], 1.0))
    with pytest.raises(InputError, match="time range"):
        field.score([[0.0]], 1.5)
    with pytest.raises(InputError, match="shape"):
        field.velocity(np.zeros((3, 2)), 0.5)


def test_importing_the_particle_modules_compiles_nothing():
    code = (
        "import sys, fpcheck.particles.fields, fpcheck.particles.reverse, fpcheck.particles.flow, "
        "fpcheck.particles.solution; print('numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
