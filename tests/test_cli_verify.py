"""fpcheck verify from the command line: a sampler in a separate file, as a user writes one; exit statuses 0, 1, 2."""

from __future__ import annotations

import json
import textwrap

import pytest

from fpcheck.cli import main

SAMPLERS = textwrap.dedent(
    """
    import numpy as np

    def euler_maruyama(score, shape, rng, steps):
        x = rng.standard_normal(shape)
        ts = np.linspace(1.0, 0.0, steps + 1)
        for t, t_next in zip(ts[:-1], ts[1:]):
            h, beta = t - t_next, 0.1 + 19.9 * t
            x = x + (0.5 * beta * x + beta * score(x, t)) * h + np.sqrt(beta * h) * rng.standard_normal(shape)
        return x

    def wrong_sign(score, shape, rng, steps):
        x = rng.standard_normal(shape)
        ts = np.linspace(1.0, 0.0, steps + 1)
        for t, t_next in zip(ts[:-1], ts[1:]):
            h, beta = t - t_next, 0.1 + 19.9 * t
            x = x + (-0.5 * beta * x + beta * score(x, t)) * h + np.sqrt(beta * h) * rng.standard_normal(shape)
        return x

    def global_rng(score, shape, rng, steps):
        return np.random.standard_normal(shape)

    def score(x, t):
        from fpcheck import problems
        from fpcheck.analytic import ExactMarginals

        return 0.9 * ExactMarginals(problems.process("vp-linear"), problems.data("gmm1d-bimodal")).score(x, t)

    def model(n, rng):
        return np.where(rng.random((n, 1)) < 0.3, -2.0, 1.5) + 0.5 * rng.standard_normal((n, 1))
    """
)


@pytest.fixture
def samplers(tmp_path):
    path = tmp_path / "my_samplers.py"
    path.write_text(SAMPLERS)
    return path


ARGS = ["--process", "vp-linear", "--data", "gmm1d-bimodal", "--steps", "10,20,40,80,160", "--n", "5000", "--no-progress"]


def test_a_correct_sampler_passes_and_writes_json_and_a_report(samplers, tmp_path, capsys):
    out = tmp_path / "v.json"
    rc = main(["verify", f"{samplers}:euler_maruyama", "--kind", "sampler", *ARGS, "--json", str(out),
               "--report", str(tmp_path / "rep")])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "VERDICT: PASS" in text
    payload = json.loads(out.read_text())
    assert payload["verdict"] == "pass" and payload["steps"] == [10, 20, 40, 80, 160]
    assert (tmp_path / "rep" / "index.html").exists() and (tmp_path / "rep" / "report.md").exists()
    assert list((tmp_path / "rep" / "figures").glob("*.png"))


def test_a_wrong_sampler_fails(samplers, capsys):
    rc = main(["verify", f"{samplers}:wrong_sign", "--kind", "sampler", *ARGS])
    text = capsys.readouterr().out
    assert rc == 1 and "VERDICT: FAIL" in text and "as steps -> infinity" in text


def test_a_zoo_sampler_by_module_path(capsys):
    rc = main(["verify", "fpcheck.verify.zoo:DDIM", "--kind", "sampler", *ARGS])
    # the class itself is not a sampler (calling it builds one): the guard names what went wrong
    assert rc == 2
    assert "sampler" in capsys.readouterr().err


def test_a_model(samplers, capsys):
    rc = main(["verify", f"{samplers}:model", "--kind", "model", "--process", "vp-linear", "--data", "gmm1d-bimodal",
               "--n", "20000"])
    assert rc in (0, 1) and "VERDICT" in capsys.readouterr().out


def test_a_score_against_its_tolerance(samplers, tmp_path, capsys):
    # 0.9 times the exact score: relative Fisher divergence exactly 0.01 at every time
    common = ["--kind", "score", "--process", "vp-linear", "--data", "gmm1d-bimodal", "--n", "2000", "--times", "0.1,0.5"]
    out = tmp_path / "s.json"
    assert main(["verify", f"{samplers}:score", *common, "--tol", "0.02", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["verdict"] == "pass" and payload["relative_fisher_divergence"] == pytest.approx([0.01, 0.01], rel=1e-9)
    assert main(["verify", f"{samplers}:score", *common, "--tol", "0.005"]) == 1
    assert "exceeds the tolerance" in capsys.readouterr().out


@pytest.mark.parametrize(
    "target, match",
    [
        ("nowhere.py:f", "not found"),
        ("{path}:missing", "no attribute"),
        ("{path}", "no colon"),
        ("{path}:global_rng", "same rng seed differ"),
    ],
)
def test_bad_targets_exit_2(samplers, capsys, target, match):
    rc = main(["verify", target.format(path=samplers), "--kind", "sampler", *ARGS])
    assert rc == 2
    assert match in capsys.readouterr().err


def test_bad_names_exit_2(samplers, capsys):
    rc = main(["verify", f"{samplers}:euler_maruyama", "--kind", "sampler", "--process", "vp-linear", "--data", "nope",
               "--n", "1000"])
    assert rc == 2 and "unknown data set" in capsys.readouterr().err
