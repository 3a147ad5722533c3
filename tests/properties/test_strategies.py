"""The public strategies draw what their docstrings promise: valid, bounded, well-conditioned objects."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpcheck import OU, VE, GaussianMixture, SubVP, VP
from fpcheck import strategies as fst
from fpcheck.errors import InputError
from fpcheck.schedules import Constant, Cosine, GeometricSigma, Linear


@given(schedule=fst.schedules())
def test_schedules_are_in_their_documented_ranges(schedule):
    t = np.linspace(0.0, schedule.T, 11)
    assert np.all(schedule.beta(t) >= 0) and np.all(np.isfinite(schedule.integral(t)))
    if isinstance(schedule, Constant):
        assert 0.1 <= schedule.beta_value <= 20.0
    elif isinstance(schedule, Linear):
        assert 0.01 <= schedule.b0 < schedule.b1 <= 30.0 and schedule.b1 >= 1.0
    elif isinstance(schedule, Cosine):
        assert 0.002 <= schedule.s <= 0.05 and 5.0 <= schedule.beta_max <= 30.0
    else:
        assert isinstance(schedule, GeometricSigma)
        assert 1e-3 <= schedule.sigma_min <= 0.1 and 1.0 <= schedule.sigma_max <= 60.0


@pytest.mark.parametrize("dim", [None, 1, 3])
@given(data=st.data())
def test_affine_processes_fit_the_dimension(dim, data):
    process = data.draw(fst.affine_processes(dim))
    assert isinstance(process, (VP, SubVP, VE, OU))
    if isinstance(process, VE):
        assert isinstance(process.schedule, GeometricSigma)
    if isinstance(process, OU):
        assert 0.2 <= process.gamma <= 3.0 and 0.1 <= process.beta <= 3.0
        assert process.mu.ndim == 0 or (dim is not None and process.mu.shape == (dim,))
    t = data.draw(fst.times(process, lo_frac=0.5))
    assert 0.5 * process.T <= t <= process.T


@pytest.mark.parametrize("dim", [1, 2, 3])
@given(data=st.data())
def test_gaussian_mixtures_are_well_conditioned(dim, data):
    mixture = data.draw(fst.gaussian_mixtures(dim))
    assert isinstance(mixture, GaussianMixture) and mixture.dim == dim
    k = len(mixture.weights)
    assert 1 <= k <= 4 and np.all(mixture.weights >= 0.25 / (0.25 + (k - 1)) - 1e-15)
    assert np.all(np.abs(mixture.means) <= 3.0)
    eig = np.linalg.eigvalsh(mixture.covs)
    assert np.all(eig >= 0.05 * (1 - 1e-12)) and np.all(eig <= 1.5 * (1 + 1e-12))


@given(R=fst.rotations(3))
def test_rotations_are_orthogonal_with_unit_determinant(R):
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-14)
    assert abs(np.linalg.det(R) - 1.0) < 1e-13


@given(x=fst.points(2, n=(1, 5), bound=2.0))
def test_points_have_the_requested_shape_and_bound(x):
    assert x.ndim == 2 and x.shape[1] == 2 and 1 <= x.shape[0] <= 5
    assert np.all(np.abs(x) <= 2.0)


@given(v=fst.floats(-3.0, 3.0))
def test_floats_have_no_denormal_scale_values(v):
    assert v == 0.0 or abs(v) >= 3e-9


def test_bad_arguments_are_rejected():
    with pytest.raises(InputError):
        fst.gaussian_mixtures(0)
    with pytest.raises(InputError):
        fst.affine_processes(kinds=("vp", "langevin"))
    with pytest.raises(InputError):
        fst.times(OU(), lo_frac=0.5, hi_frac=0.1)


def test_import_fpcheck_does_not_load_hypothesis():
    code = "import sys, fpcheck; fpcheck.ExactMarginals; fpcheck.problems; assert 'hypothesis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
