"""Validation reports: a registry of cases, a runner, and markdown / HTML / JSON writers.

``fpcheck report`` runs every registered case and writes ``report.md``, a self-contained
``index.html``, ``results.json`` and ``figures/*.png``.  A failed case makes it exit non-zero.
"""

from .registry import Case, CaseResult, cases, register
from .runner import CaseRecord, run_report

__all__ = ["Case", "CaseResult", "CaseRecord", "cases", "register", "run_report"]
