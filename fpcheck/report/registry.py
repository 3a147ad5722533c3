"""The registry of validation cases that ``fpcheck report`` runs.

A case is a function ``run(quick: bool) -> CaseResult`` registered under a section.
Each capability adds its section by registering cases in a module listed in
:data:`SECTION_MODULES`; the runner imports those modules, so the report grows without
the runner changing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CaseResult", "Case", "register", "cases", "SECTION_MODULES"]

#: Modules whose import registers a section's cases, in report order.
SECTION_MODULES = (
    "fpcheck.report.analytic_cases",
    "fpcheck.report.grid_cases",
    "fpcheck.report.particle_cases",
    "fpcheck.report.verify_cases",
    "fpcheck.report.learned_cases",
)

STATUSES = ("pass", "fail", "error")


@dataclass
class CaseResult:
    """What a case found.

    Attributes
    ----------
    passed : bool
        Whether every check of the case held.
    summary : str
        One sentence: what was compared and how it came out.
    metrics : dict
        Named numbers (errors, tolerances, orders), written to the JSON.
    table : tuple(list of str, list of list), optional
        Column names and rows, shown in the markdown and HTML.
    figures : list of (str, matplotlib.figure.Figure)
        File stems and figures; the writer saves and closes them.
    """

    passed: bool
    summary: str
    metrics: dict[str, Any] = field(default_factory=dict)
    table: tuple[list[str], list[list[Any]]] | None = None
    figures: list[tuple[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    """A registered validation case."""

    id: str
    section: str
    title: str
    run: Callable[[bool], CaseResult]


_REGISTRY: dict[str, Case] = {}


def register(section: str, case_id: str, title: str) -> Callable:
    """Decorator: register ``run(quick) -> CaseResult`` under ``section`` as ``<section-slug>/<case_id>``."""

    def wrap(run: Callable[[bool], CaseResult]) -> Callable[[bool], CaseResult]:
        key = f"{section.lower().replace(' ', '-')}/{case_id}"
        if key in _REGISTRY:
            raise ValueError(f"case {key!r} is registered twice")
        _REGISTRY[key] = Case(key, section, title, run)
        return run

    return wrap


def cases() -> list[Case]:
    """Every registered case, sections in :data:`SECTION_MODULES` order."""
    import importlib

    for module in SECTION_MODULES:
        importlib.import_module(module)
    return list(_REGISTRY.values())
