"""The command line: help, version, list, report and its exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fpcheck import __version__, problems
from fpcheck.cli import main
from fpcheck.report import CaseResult, register
from fpcheck.report import registry


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"fpcheck {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "report" in out and "list" in out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_list_prints_every_name_with_parameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in [*problems.PROCESSES, *problems.DATASETS]:
        assert name in out
    assert "b0=0.1, b1=20.0" in out and "sigma_min=0.01, sigma_max=50.0" in out


def test_report_runs_and_exits_zero(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "--quick", "--out", str(out), "--only", "ou/moments"]) == 0
    printed = capsys.readouterr().out
    assert "[  1/1]" in printed and "1 passed, 0 failed" in printed
    assert json.loads((out / "results.json").read_text())["summary"]["pass"] == 1
    assert (out / "index.html").is_file() and (out / "report.md").is_file()


def test_report_exits_one_when_a_case_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "SECTION_MODULES", ())
    register("S", "bad", "fails")(lambda quick: CaseResult(False, "off by 3"))
    assert main(["report", "--out", str(tmp_path), "--quiet"]) == 1
    assert "FAIL: s/bad: off by 3" in capsys.readouterr().out


def test_report_with_no_matching_case_is_a_usage_error(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path), "--only", "no-such-case", "--quiet"]) == 2
    assert "no case id contains" in capsys.readouterr().err


def test_module_entry_point_and_lazy_import():
    # `python -m fpcheck` works, and importing fpcheck loads none of the heavy dependencies
    # (scipy, matplotlib, numba): they are imported on first use, so `import fpcheck` stays fast.
    run = subprocess.run([sys.executable, "-m", "fpcheck", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and __version__ in run.stdout
    code = "import sys, fpcheck; print(sorted(m for m in ('scipy', 'matplotlib', 'numba') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "[]"
