"""The ``fpcheck`` command line: argument parsing only, composing the layers below.

Exit status: 0 when everything checked passed, 1 when a check failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__
from .errors import FPCheckError

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
fpcheck validates diffusion generative models against exact truths: the
analytic transition kernel of affine forward processes, a grid Fokker-Planck
solver and particle simulations.

commands:
  list     the named processes and data sets, with their parameters
  report   run the validation cases and write a report (markdown, HTML, JSON, figures)

Run 'fpcheck COMMAND --help' for a command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fpcheck`` command."""
    parser = argparse.ArgumentParser(
        prog="fpcheck", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"fpcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="list named processes and data sets", description="List the named processes and data sets.")

    rep = sub.add_parser(
        "report",
        help="run the validation cases and write a report",
        description=(
            "Run every registered validation case and write DIR/report.md, DIR/index.html "
            "(self-contained), DIR/results.json and DIR/figures/*.png. Exits 1 if any case fails."
        ),
    )
    rep.add_argument("--quick", action="store_true", help="smaller grids and fewer cases (about a minute)")
    rep.add_argument("--out", default="reports/latest", metavar="DIR", help="output directory (default: %(default)s)")
    rep.add_argument("--only", metavar="TEXT", help="run only the cases whose id contains TEXT")
    rep.add_argument("--quiet", action="store_true", help="do not print progress")
    return parser


def _cmd_list(args: argparse.Namespace) -> int:
    from . import problems

    print(problems.describe(), end="")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import run_report
    from .report.writers import summary_counts

    select = None if not args.only else (lambda case: args.only in case.id)
    mode = "quick" if args.quick else "full"
    if not args.quiet:
        print(f"fpcheck {__version__}: {mode} report into {args.out}")
    records, out = run_report(args.out, quick=args.quick, select=select, stream=None if args.quiet else sys.stdout)
    if not records:
        print(f"fpcheck report: no case id contains {args.only!r}", file=sys.stderr)
        return 2
    counts = summary_counts(records)
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors; wrote {out / 'index.html'}")
    for r in records:
        if r.status != "pass":
            print(f"  {r.status.upper()}: {r.id}: {r.summary}")
    return 0 if counts["fail"] == counts["error"] == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fpcheck`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {"list": _cmd_list, "report": _cmd_report}[args.command]
    try:
        return handler(args)
    except FPCheckError as exc:
        print(f"fpcheck {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
