"""Fits of the built-in problems and ``fpcheck fit``: the JSON it promises, the oracle as a floor, the 1/n excess.

In 1D the errors are by quadrature, and the oracle is the exact minimiser of that same metric
over the basis (up to its ridge of 1e-10), so every other fit of the basis must be at least as far
from the truth: a comparison that holds without any Monte-Carlo tolerance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.cli import main
from fpcheck.errors import InputError
from fpcheck.learned import recipes

SCORE_KEYS = {"objective", "n", "times", "relative_fisher_divergence", "weighted_relative_fisher_divergence",
              "oracle_weighted_relative_fisher_divergence", "fit_time_s"}
VELOCITY_KEYS = {"objective", "n", "times", "relative_velocity_error", "integrated_relative_velocity_error",
                 "oracle_integrated_relative_velocity_error", "fit_time_s"}


@pytest.fixture(scope="module")
def small_fits():
    return {obj: recipes.fit_problem(obj, n=4000, seed=3) for obj in recipes.OBJECTIVES}


@pytest.mark.parametrize("objective", sorted(recipes.OBJECTIVES))
def test_every_objective_reports_what_it_promises(small_fits, objective):
    r = small_fits[objective]
    out = r.to_dict()
    keys = SCORE_KEYS if recipes.OBJECTIVES[objective] == "score" else VELOCITY_KEYS
    assert keys <= set(out)
    assert out["objective"] == objective and out["n"] == 4000
    json.dumps(out)  # plain types only
    assert np.all(np.isfinite(r.errors.relative)) and np.isfinite(r.errors.integrated)
    # the oracle is the floor of its basis in this metric (quadrature: exact comparison, 1e-9 for its ridge)
    assert r.oracle_errors.integrated <= r.errors.integrated * (1 + 1e-9)
    assert "oracle" in r.table()


def test_the_dsm_excess_over_the_oracle_shrinks_with_n(small_fits):
    small = small_fits["dsm"]
    large = recipes.fit_problem("dsm", n=40000, seed=3)
    ex_small = small.errors.integrated - small.oracle_errors.integrated
    ex_large = large.errors.integrated - large.oracle_errors.integrated
    # 1/n predicts a ratio of 10; the excess is a chi^2-like sum over ~200 parameters (relative sd ~
    # 0.1 each), and at n = 4000 the ridge also trades variance for bias: demand more than 3
    assert ex_small > 3 * ex_large > 0


def test_esm_on_the_exact_score_is_close_to_its_oracle(small_fits):
    # ESM regresses on the exact score at the same sample points: only the sampling of A separates it from
    # the oracle, so it is much closer to it than DSM, whose targets are noisy
    esm, dsm = small_fits["esm"], small_fits["dsm"]
    assert esm.errors.integrated - esm.oracle_errors.integrated < 0.5 * (dsm.errors.integrated - dsm.oracle_errors.integrated)


def test_bad_arguments():
    with pytest.raises(InputError, match="unknown objective"):
        recipes.fit_problem("mle")
    with pytest.raises(InputError, match="n must be"):
        recipes.fit_problem("dsm", n=10)
    with pytest.raises(InputError, match="t_range"):
        recipes.fit_problem("dsm", n=1000, t_range=(0.0, 1.0))
    with pytest.raises(InputError, match="centres"):
        recipes.default_basis(problems.process("vp-linear"), problems.data("gmm1d-bimodal"), centres=1)


def test_cli_fit_writes_the_json(tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", "--objective", "dsm", "--n", "3000", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert SCORE_KEYS <= set(data) and data["n"] == 3000
    assert len(data["relative_fisher_divergence"]) == len(data["times"])
    assert "relative Fisher divergence" in capsys.readouterr().out
    assert main(["fit", "--objective", "cfm", "--n", "3000", "--tol", "1e-12"]) == 1
    assert main(["fit", "--objective", "dsm", "--n", "10"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--objective", "nope"])
    assert exc.value.code == 2
