"""Shared test set-up: strict floating point, deterministic randomness, headless plots.

* ``np.seterr(all="raise", under="ignore")`` for every test, so a silent overflow or
  0/0 in the code under test fails loudly (code that expects them uses ``np.errstate``).
* A seeded ``rng`` fixture; hypothesis runs under the derandomized ``ci`` profile
  (no deadline, no example database, bounded example counts), so the suite is deterministic.
* Matplotlib's Agg backend, with figures closed after each test.
* ``--runslow`` enables tests marked ``slow``.
"""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("FPCHECK_HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _strict_floating_point():
    old = np.seterr(all="raise", under="ignore")
    yield
    np.seterr(**old)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator with a fixed seed: every test that draws samples is reproducible."""
    return np.random.default_rng(20261125)
