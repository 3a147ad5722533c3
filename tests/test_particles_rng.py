"""Counter-based normals: Random123's known answers, reproducibility in any chunking and thread count, quality.

The quality tests draw 2^18 variates at fixed seeds and test at significance level alpha = 1e-3
per statistic (two-sided z bound 3.29): deterministic, and a correct generator fails one of them
with probability 1e-3 per seed, which the fixed seeds make a fixed outcome rather than a flake.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fpcheck.errors import InputError
from fpcheck.particles._rng import normals, normals_reference, philox4x32, philox4x32_reference

Z_CRIT = 3.29  # two-sided, alpha = 1e-3
ALPHA = 1e-3

# Random123's kat_vectors for philox4x32-10: counter, key, output
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_philox_known_answers(counter, key, expected):
    assert philox4x32_reference(counter, key) == expected
    got = philox4x32(*(np.uint64(c) for c in counter), *(np.uint64(k) for k in key))
    assert tuple(int(x) for x in got) == expected


def test_kernel_normals_match_the_python_reference():
    for seed, first, step, dim in ((0, 0, 0, 1), (2**40 + 3, 2**33, 7, 3), (99, 5, 2**32 - 1, 4)):
        np.testing.assert_allclose(
            normals(seed, first, 40, step, dim), normals_reference(seed, first, 40, step, dim), rtol=1e-15, atol=1e-15
        )


def test_any_chunking_and_thread_count_gives_the_same_bits():
    import numba

    whole = normals(2026, 0, 5000, 11, 3)
    pieces = np.concatenate([normals(2026, a, b - a, 11, 3) for a, b in ((0, 1), (1, 777), (777, 4096), (4096, 5000))])
    assert np.array_equal(whole, pieces)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = normals(2026, 0, 5000, 11, 3)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(whole, one)
    # each particle reads one sequence z[j]: step s, component c of a d-dimensional run is z[s d + c]
    flat = np.column_stack([normals(2026, 0, 5000, 33 + c, 1)[:, 0] for c in range(3)])
    assert np.array_equal(flat, whole)


@pytest.mark.parametrize("seed", [1, 20261125])
def test_moments_and_distribution(seed):
    n = 2**18
    z = normals(seed, 0, n, 3, 2).ravel()
    m = z.size
    # z-scores of the sample mean, variance, skewness and excess kurtosis under N(0, 1)
    scores = [
        z.mean() * np.sqrt(m),
        (z.var() - 1.0) / np.sqrt(2.0 / m),
        stats.skew(z) / np.sqrt(6.0 / m),
        stats.kurtosis(z) / np.sqrt(24.0 / m),
    ]
    assert np.all(np.abs(scores) < Z_CRIT), scores
    assert stats.kstest(z, "norm").pvalue > ALPHA


@pytest.mark.parametrize("seed", [1, 20261125])
def test_no_correlation_across_particles_steps_or_components(seed):
    n = 2**17
    a = normals(seed, 0, n, 0, 2)
    b = normals(seed, 0, n, 1, 2)  # the next step
    one = normals(seed, 0, n, 0, 3)  # three components: the second pair straddles the components
    pairs = {
        "neighbouring particles": (a[:-1, 0], a[1:, 0]),
        "consecutive steps": (a[:, 0], b[:, 0]),
        "components": (a[:, 0], a[:, 1]),
        "components across a pair": (one[:, 1], one[:, 2]),
        "the two of a polar pair": (a[:, 0] ** 2, a[:, 1] ** 2),
        "squares across steps": (a[:, 0] ** 2, b[:, 0] ** 2),
    }
    for name, (x, y) in pairs.items():
        r = np.corrcoef(x, y)[0, 1]
        assert abs(r) * np.sqrt(x.size) < Z_CRIT, (name, r)
    # different seeds give independent streams
    c = normals(seed + 1, 0, n, 0, 2)
    assert abs(np.corrcoef(a[:, 0], c[:, 0])[0, 1]) * np.sqrt(n) < Z_CRIT


def test_bad_arguments():
    with pytest.raises(InputError, match="seed"):
        normals(-1, 0, 10, 0, 1)
    with pytest.raises(InputError, match="step"):
        normals(0, 0, 10, 2**32, 1)
    with pytest.raises(InputError, match="dim"):
        normals(0, 0, 10, 0, 0)
