"""`fpcheck solve`: the printed table, the JSON and npz files, default bounds, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fpcheck import problems
from fpcheck.cli import main
from fpcheck.grid import Grid, cell_averages
from fpcheck.grid.bounds import default_bounds


def test_solve_prints_and_writes_json_npz_and_plot(tmp_path, capsys):
    js, npz, png = tmp_path / "s.json", tmp_path / "s.npz", tmp_path / "s.png"
    argv = ["solve", "--process", "vp-linear", "--data", "gmm1d-bimodal", "--grid", "512",
            "--times", "0.05,1", "--json", str(js), "--save", str(npz), "--plot", str(png)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "L1 error" in out and "wall time" in out
    data = json.loads(js.read_text())
    assert set(data) == {"times", "l1_error", "error_estimate", "mass", "min", "wall_time_s"}
    assert data["times"] == [0.05, 1.0]
    # Richardson at N = 512 on the default bounds: L1 ~ 1e-8 and the estimate within a factor 3
    err, est = np.array(data["l1_error"]), np.array(data["error_estimate"])
    assert np.all(err < 1e-7) and np.all((est / err > 1 / 3) & (est / err < 3))
    assert np.allclose(data["mass"], 1.0, rtol=0, atol=1e-12)
    saved = np.load(npz)
    assert saved["values"].shape == (2, 512) and saved["edges_0"].shape == (513,)
    h = np.diff(saved["edges_0"])
    assert np.allclose((saved["values"] * h).sum(axis=1), data["mass"], rtol=1e-14)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_solve_in_2d_accepts_one_size_for_every_axis(capsys):
    assert main(["solve", "--process", "ou", "--data", "gmm2d-ring8", "--grid", "160", "--times", "1"]) == 0
    assert "shape=(160, 160)" in capsys.readouterr().out


def test_solve_without_a_closed_form_prints_n_a(capsys):
    argv = ["solve", "--process", "langevin-doublewell", "--data", "doublewell1d", "--grid", "256", "--times", "1"]
    assert main(argv) == 0
    assert "n/a" in capsys.readouterr().out


def test_solve_sub_vp_takes_the_time_stepping_path(capsys):
    argv = ["solve", "--process", "subvp-linear", "--data", "gmm1d-bimodal", "--grid", "256", "--times", "0.2,1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "SDIRK4" in out and "n/a" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--process", "vp-linear", "--data", "gmm1d-bimodal", "--grid", "64x64", "--times", "0.5"], "2 axes"),
        (["--process", "vp-linear", "--data", "gmm1d-bimodal", "--grid", "big", "--times", "0.5"], "--grid"),
        (["--process", "vp-linear", "--data", "gmm1d-bimodal", "--grid", "64", "--times", "a,b"], "--times"),
        (["--process", "vp-linear", "--data", "gmm1d-bimodal", "--grid", "64", "--times", "2"], "time range"),
        (["--process", "vp-linear", "--data", "nope", "--grid", "64", "--times", "0.5"], "known data sets"),
        (["--process", "vp-linear", "--data", "gmm1d-bimodal", "--grid", "64", "--times", "0.5", "--bounds=1"], "LO,HI"),
    ],
)
def test_solve_usage_errors_exit_2(argv, message, capsys):
    assert main(["solve", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:the grid under-resolves:fpcheck.errors.GridWarning")  # 16 cells: a mass check
@pytest.mark.parametrize("process, data", [("vp-linear", "gmm2d-ring8"), ("ve-geometric", "box1d"), ("ou", "gmm3d-tetra")])
def test_default_bounds_hold_the_mass(process, data):
    # The bounds hold all but 1e-13 per component, side and axis at every time: exact cell
    # averages (erf) on them sum to one within 2 d K 1e-13.
    proc, dist = problems.process(process), problems.data(data)
    times = [0.0, 0.3, proc.T]
    bounds = default_bounds(proc, dist, times)
    from fpcheck.analytic import ExactMarginals

    truth = ExactMarginals(proc, dist)
    for t in times:
        grid = Grid(bounds, [16] * dist.dim)
        mass = cell_averages(truth.at(t), grid).mass()
        assert abs(mass - 1.0) <= 2 * dist.dim * len(dist.weights) * 1e-13 + 1e-14
