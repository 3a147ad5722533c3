"""The learning section of the report: its cases, criteria and the tabulated field, in quick mode."""

from __future__ import annotations

import numpy as np
import pytest

from fpcheck.report import cases, run_report
from fpcheck.report import learned_cases as lc


def test_the_learning_section_registers_its_cases():
    ids = {c.id for c in cases() if c.section == lc.SECTION}
    assert ids == {f"learning/{o}" for o in lc.OBJECTIVES} | {"learning/fields", "learning/end-to-end"}


def test_every_case_has_a_measured_allowance():
    for objective in lc.OBJECTIVES:
        for quick in (True, False):
            n = lc.n_samples(quick)
            assert lc.EXCESS[(objective, n)] > 0
            assert lc.allowed_error(objective, n, 1e-4) == pytest.approx(1e-4 + lc.EXCESS_MARGIN * lc.EXCESS[(objective, n)])
    assert set(lc.QUICK_OBJECTIVES) <= set(lc.OBJECTIVES)
    assert set(lc.REFERENCE.values()) <= set(lc.OBJECTIVES)


def test_the_tabulated_field_follows_the_field_and_falls_back_outside_its_grid():
    def field(x, t):
        return np.sin(3 * x) * (1 + t) - x

    tab = lc._Tabulated(field, lo=-4, hi=4, points=2001)
    x = np.random.default_rng(0).uniform(-4, 4, (500, 1))
    assert tab.deviation(x, (0.01, 0.5)) < 1e-8
    far = np.array([[-7.0], [9.0]])
    np.testing.assert_array_equal(tab(far, 0.3), field(far, 0.3))
    assert tab(x, 0.2).shape == x.shape


def test_quick_mode_skips_the_slow_objectives(tmp_path):
    records, _ = run_report(tmp_path, quick=True, select=lambda c: c.id == "learning/ssm", stream=None)
    assert [r.status for r in records] == ["pass"]
    assert records[0].summary.startswith("Skipped in quick mode") and records[0].metrics["skipped"] is True


def test_dsm_passes_in_quick_mode_with_its_figure_and_row(tmp_path):
    records, out = run_report(tmp_path, quick=True, select=lambda c: c.id == "learning/dsm", stream=None)
    (r,) = records
    assert r.status == "pass", r.summary
    m = r.metrics
    assert m["n"] == lc.N_QUICK
    assert m["oracle"] <= m["integrated"] <= m["allowed"]
    assert np.isfinite(m["max_relative"]) and m["fit_time_s"] > 0
    columns, rows = r.table
    assert len(rows) == 1 and rows[0][0] == "dsm" and rows[0][-1] == "ok"
    assert len(r.figures) == 1 and (out / "figures" / r.figures[0]).is_file()


def test_end_to_end_is_skipped_in_quick_mode(tmp_path):
    records, _ = run_report(tmp_path, quick=True, select=lambda c: c.id == "learning/end-to-end", stream=None)
    (r,) = records
    assert r.status == "pass" and r.metrics["skipped"] is True and "full report" in r.summary
