"""Operator commands: `python -m school_improvement check FILE...` (run from the repo root with PYTHONPATH=include).

Subcommands are registered in SUBCOMMANDS: each entry maps a name to a function that configures its
argparse sub-parser and sets `func`, so new commands (e.g. `demo`) only add one entry.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from .errors import FeedError, Problem


def _print_problem(p: Problem) -> None:
    print(f"  {p.severity.upper():8} {p}" + (f"  [{p.check}]" if p.check else ""))


def run_check(args: argparse.Namespace) -> int:
    """Read each file, validate the ones that parse together (so URNs are checked against a GIAS file given alongside)."""
    from .feeds import read_feed
    from .quality import validate

    feeds, critical = [], False
    for name in args.files:
        path = Path(name)
        print(f"{path}:")
        if not path.is_file():
            print(f"  CRITICAL {path}: file not found")
            critical = True
            continue
        try:
            feed = read_feed(path)
        except FeedError as err:
            for p in err.problems:
                _print_problem(p)
            critical = True
            continue
        print(f"  kind {feed.kind}; {feed.rows} rows ({len(feed.schools)} schools, {len(feed.comparators)} comparators); "
              f"academic year {feed.academic_year or 'not stated'}; {len(feed.statuses)} status/suppressed cells")
        feeds.append(feed)
        if args.no_gx:  # validate() reports these itself
            for p in feed.warnings:
                _print_problem(p)
    if feeds and not args.no_gx:
        report = validate(feeds)
        for feed in feeds:
            mine = [p for p in report.problems if p.file == feed.source]
            print(f"{feed.source}: {len(mine)} quality problem(s)")
            for p in sorted(mine, key=lambda p: (p.severity != "critical", p.row or 0)):
                _print_problem(p)
        critical = critical or bool(report.critical)
    print("RESULT: critical problems found" if critical else "RESULT: ok (no critical problems)")
    return 1 if critical else 0


def _build_check(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("files", nargs="+", metavar="FILE", help="feed files (.csv or .xlsx)")
    sub.add_argument("--no-gx", action="store_true", help="only read the files; skip the Great Expectations suites")
    sub.set_defaults(func=run_check)


# name -> (help, builder). Add new subcommands here (a `demo` subcommand belongs in this dict).
SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "check": ("read and validate feed files; exit 1 on any critical problem", _build_check),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m school_improvement", description=__doc__.splitlines()[0])
    subs = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, builder) in SUBCOMMANDS.items():
        builder(subs.add_parser(name, help=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
