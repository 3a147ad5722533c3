"""The report runner and writers: files, JSON schema, failure handling."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pytest

from fpcheck.report import CaseResult, cases, register, run_report
from fpcheck.report import registry


@pytest.fixture
def isolated_registry(monkeypatch):
    """A registry holding only what the test registers (the real one is restored afterwards)."""
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "SECTION_MODULES", ())
    return registry


def _register_toy_cases():
    @register("Toy section", "good", "a passing case")
    def good(quick):
        fig = plt.figure()
        plt.plot([0, 1], [0, 1])
        return CaseResult(True, "all fine", metrics={"error": 1e-12, "nan": float("nan")},
                          table=(["a", "b"], [[1, 2.5e-9]]), figures=[("line", fig)])

    @register("Toy section", "bad", "a failing case")
    def bad(quick):
        return CaseResult(False, "error 3 above tolerance 1")

    @register("Toy section", "broken", "a crashing case")
    def broken(quick):
        raise RuntimeError("boom")


def test_runner_writes_every_format_and_records_statuses(isolated_registry, tmp_path):
    _register_toy_cases()
    records, out = run_report(tmp_path / "rep", quick=True, stream=None)
    assert [r.status for r in records] == ["pass", "fail", "error"]
    assert "RuntimeError: boom" in records[2].summary
    data = json.loads((out / "results.json").read_text())
    assert data["summary"] == {"pass": 1, "fail": 1, "error": 1}
    assert data["quick"] is True
    good = data["cases"][0]
    assert good["id"] == "toy-section/good"
    assert good["metrics"] == {"error": 1e-12, "nan": None}  # non-finite numbers become null, not invalid JSON
    assert good["table"] == {"columns": ["a", "b"], "rows": [[1, 2.5e-9]]}
    figure = out / good["figures"][0]
    assert figure.is_file() and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert "1 passed, 1 failed, 1 errors" in md and "| a | b |" in md and good["figures"][0] in md
    html = (out / "index.html").read_text()
    assert "data:image/png;base64," in html and "FAIL" in html and "ERROR" in html


def test_stale_figures_are_removed(isolated_registry, tmp_path):
    out = tmp_path / "rep"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old.png").write_bytes(b"x")
    _register_toy_cases()
    run_report(out, stream=None)
    assert not (out / "figures" / "old.png").exists()


def test_duplicate_case_ids_are_refused(isolated_registry):
    register("S", "x", "first")(lambda quick: CaseResult(True, ""))
    with pytest.raises(ValueError, match="registered twice"):
        register("S", "x", "second")(lambda quick: CaseResult(True, ""))


def test_the_analytic_section_registers_every_affine_process():
    from fpcheck import problems

    ids = {c.id for c in cases()}
    for name in problems.affine_processes():
        for check in ("kernel-fokker-planck", "moments", "densities"):
            assert f"analytic-truth/{name}/{check}" in ids


def test_analytic_cases_pass_in_quick_mode(tmp_path):
    records, _ = run_report(tmp_path, quick=True, select=lambda c: "/vp-linear/" in c.id, stream=None)
    assert len(records) == 3
    assert all(r.status == "pass" for r in records), [(r.id, r.summary) for r in records]
    kernel = next(r for r in records if r.id.endswith("kernel-fokker-planck"))
    assert kernel.metrics["min_order"] >= 4.0


def test_grid_cases_pass_in_quick_mode_and_keep_their_warnings(tmp_path):
    records, out = run_report(tmp_path, quick=True, select=lambda c: c.id.startswith("grid-truth/"), stream=None)
    assert [r.status for r in records] == ["pass"] * 6, [(r.id, r.summary) for r in records]
    b1 = records[0]
    assert min(b1.metrics["orders_richardson"]) >= 3.8 and min(b1.metrics["orders_plain"]) >= 1.9
    # B2 on [-6, 6]^2 touches the boundary at t = 1 on purpose: the warning is in the report
    b2 = next(r for r in records if r.id.endswith("b2-densities"))
    assert any("outermost cells" in w for w in b2.warnings)
    assert "outermost cells" in (out / "report.md").read_text()


def test_verification_section_passes_in_quick_mode(tmp_path):
    records, out = run_report(tmp_path, quick=True, select=lambda c: c.id == "verification/zoo-1d", stream=None)
    assert [r.status for r in records] == ["pass"], [r.summary for r in records]
    assert "quick mode" in records[0].summary
    rows = records[0].table[1]
    assert {r[0] for r in rows} >= {"reverse-em", "ddim", "reverse-em-drift-sign"}
    assert all((r[1] == "yes") == (r[2] == "pass") for r in rows)
    assert len(records[0].figures) == len(rows)
