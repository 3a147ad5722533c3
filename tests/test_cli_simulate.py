"""`fpcheck simulate`: the printed table, the JSON, npz and PNG files, exit codes 0 / 1 / 2.

The runs are statistical checks with fixed seeds at the command's default family-wise level
alpha = 0.01 (Holm within a time, Bonferroni across the times).  The passing runs have no bias
that their n can see: exact transitions; RK4 at 100 steps, whose KS distance to q_t at n = 10^6
is the same at 100 and 400 steps (8.1e-4, Monte-Carlo level); EM for Langevin at dt = 1e-3 (see
test_particles_simulate.py).  The failing runs are off by many standard errors (stated at the
test), so both outcomes are far from the threshold.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.cli import main
from fpcheck.particles.checks import check_against_truth, grid_truth
from fpcheck.particles.methods import METHODS
from fpcheck.particles.simulate import simulate

BASE = ["simulate", "--process", "vp-linear", "--data", "gmm1d-bimodal"]
JSON_KEYS = {
    "process", "data", "method", "n", "steps", "seed", "alpha", "times",
    "cdf_distance_squared", "cdf_distance_se", "tests", "passed", "wall_time_s",
}


def test_a_passing_run_prints_and_writes_json_npz_and_plot(tmp_path, capsys):
    js, npz, png = tmp_path / "s.json", tmp_path / "s.npz", tmp_path / "s.png"
    argv = BASE + ["--method", "flow-rk4", "--n", "20000", "--steps", "100", "--times", "0.5,0", "--seed", "3",
                   "--json", str(js), "--save", str(npz), "--plot", str(png)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "vp-linear x gmm1d-bimodal: flow-rk4, n = 20000, 100 steps, seed 3" in out
    assert "d^2 +- se" in out and "min Holm p" in out and "verdict" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("0.5 ", "0 "))]
    assert [r[0] for r in rows] == ["0.5", "0"] and all(r[-2:] == ["ok", "analytic+grid"] for r in rows)
    assert "PASS: family-wise alpha 0.01 over 2 time(s)" in out

    data = json.loads(js.read_text())
    assert set(data) == JSON_KEYS
    assert data["times"] == [0.5, 0.0]  # generation runs from T down
    assert (data["n"], data["steps"], data["seed"], data["alpha"]) == (20000, 100, 3, 0.01)
    names = (data["process"], data["data"], data["method"])
    assert names == ("vp-linear", "gmm1d-bimodal", "flow-rk4") and data["passed"] is True
    assert len(data["tests"]) == 2
    for tests in data["tests"]:
        assert [t["name"] for t in tests] == ["mean z", "variance z", "AD", "KS", "binned chi2"]
        assert set(tests[0]) == {"name", "statistic", "pvalue", "holm_p", "rejected"}
        assert not any(t["rejected"] for t in tests) and all(t["holm_p"] >= t["pvalue"] for t in tests)
    # the figures are those of the library calls the command composes
    proc, dist = problems.process("vp-linear"), problems.data("gmm1d-bimodal")
    sol = simulate(proc, dist, "flow-rk4", 20000, [0.5, 0.0], steps=100, seed=3)
    grid_sol, _ = grid_truth(proc, dist, sol.times)
    checks = check_against_truth(sol.samples, sol.times, proc, dist, seed=3, grid_solution=grid_sol)
    assert data["cdf_distance_squared"] == [c.family.distance.value for c in checks]
    assert data["cdf_distance_se"] == [c.family.distance.se for c in checks]
    assert [[t["pvalue"] for t in ts] for ts in data["tests"]] == [[t.pvalue for t in c.family.tests] for c in checks]

    saved = np.load(npz)
    assert saved["times"].tolist() == [0.5, 0.0] and saved["samples"].shape == (2, 20000, 1)
    assert np.array_equal(saved["samples"], sol.samples)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_grid_and_a_grid_only_truth_show_in_the_table(tmp_path, capsys):
    js = tmp_path / "s.json"
    argv = ["simulate", "--process", "vp-linear", "--data", "gmm2d-ring8", "--method", "exact", "--n", "5000",
            "--times", "0.3,1", "--no-grid", "--json", str(js)]
    assert main(argv) == 0
    assert "analytic+grid" not in capsys.readouterr().out
    assert all("binned chi2" not in [t["name"] for t in ts] for ts in json.loads(js.read_text())["tests"])
    # Langevin in its stationary density: EM at dt = 1e-3 against the grid truth alone
    argv = ["simulate", "--process", "langevin-doublewell", "--data", "doublewell1d", "--method", "em", "--n", "5000",
            "--steps", "500", "--times", "0.5", "--seed", "1", "--json", str(js)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ok       grid" in out and "analytic" not in out
    data = json.loads(js.read_text())
    assert data["times"] == [0.5] and data["steps"] == 500
    assert [t["name"] for t in data["tests"][0]] == ["AD", "KS", "binned chi2"]


@pytest.mark.parametrize("method", ["reverse-em", "flow-euler"])
def test_a_biased_run_exits_one(method, tmp_path, capsys):
    # --steps 3 over [0, 1] lands on 4 steps (2 per output interval): dt = 0.25 against the VP rate
    # beta/2 up to 10, so the discrete chains' laws are far from q_t.  Reverse EM is off everywhere
    # (d^2 > 10 se at both times); Euler's flow shrinks the variance at t = 0.5 by 13% (a
    # 6.5-sigma variance z-test) and at t = 0 misplaces the modes (d^2 = 22 se).
    js = tmp_path / "s.json"
    argv = BASE + ["--method", method, "--n", "5000", "--steps", "3", "--times", "0.5,0", "--seed", "1",
                   "--json", str(js)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "REJECT" in out and "FAIL: family-wise alpha 0.01 over 2 time(s)" in out
    data = json.loads(js.read_text())
    assert data["passed"] is False and data["steps"] == 4 and data["times"] == [0.5, 0.0]
    assert all(any(t["rejected"] for t in ts) for ts in data["tests"])
    d2, se = np.array(data["cdf_distance_squared"]), np.array(data["cdf_distance_se"])
    assert d2[-1] > 10 * se[-1]
    if method == "reverse-em":
        assert d2[0] > 10 * se[0]
    else:
        variance = next(t for t in data["tests"][0] if t["name"] == "variance z")
        assert variance["rejected"] and variance["statistic"] < -5


@pytest.mark.parametrize(
    "argv, message",
    [
        (BASE + ["--method", "nope", "--times", "0.5"], "unknown method 'nope'; choose one of exact, em, reverse-em"),
        (["simulate", "--process", "langevin-doublewell", "--data", "doublewell1d", "--method", "reverse-em",
          "--times", "0.5"], "affine process"),
        (BASE + ["--method", "exact", "--times", "a,b"], "--times must be comma-separated numbers"),
        (BASE + ["--method", "exact", "--times", "2"], "time range"),
        (BASE + ["--method", "exact", "--times", "0.5", "--n", "0"], "n must be a positive integer"),
        (["simulate", "--process", "vp-linear", "--data", "nope", "--method", "exact", "--times", "0.5"],
         "known data sets"),
    ],
)
def test_usage_errors_exit_2_with_the_message_on_stderr(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.startswith("fpcheck simulate: error: ")


def test_missing_arguments_are_argparse_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(BASE + ["--times", "0.5"])
    assert exc.value.code == 2 and "--method" in capsys.readouterr().err


def test_help_lists_every_method(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "methods:" in out
    for name, summary in METHODS.items():
        assert f"  {name:<13} {summary}" in out
    main([])
    assert "simulate" in capsys.readouterr().out
