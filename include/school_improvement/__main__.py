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


def run_demo(args: argparse.Namespace) -> int:
    from .demo import generate_demo

    out = generate_demo(Path(args.out), la_code=args.la, terms=args.terms or None, seed=args.seed,
                        schools=args.schools)
    print(f"demo feeds for LA {args.la} written under {Path(args.out) / args.la}: "
          f"{', '.join(sorted(str(t) for t in out.get('terms', args.terms or [])))}")
    return 0


def _build_demo(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--out", required=True, help="landing root; feeds go to <out>/<la>/<term>/")
    sub.add_argument("--la", default="999", help="LA code (the demo LA is fictional)")
    sub.add_argument("--terms", nargs="*", help="terms to generate, e.g. 2025-26-autumn 2025-26-spring")
    sub.add_argument("--seed", type=int, default=2025)
    sub.add_argument("--schools", type=int, help="scale the roster (250 schools) to about this many, for benchmarks")
    sub.set_defaults(func=run_demo)


def run_dag(args: argparse.Namespace) -> int:
    """Run the termly DAG for one term through Airflow itself (`airflow dags test`), then say where outputs are."""
    import json
    import os
    import shutil
    import subprocess

    from .publish import read_current
    from .terms import Term

    term = str(Term.parse(args.term))
    conf = {"la_code": args.la, "term": term, "landing": str(Path(args.landing).resolve()),
            "shared_drive": str(Path(args.shared_drive).resolve())}
    airflow = shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"
    cmd = [airflow, "dags", "test", args.dag_id, "-c", json.dumps(conf)]
    print(f"$ {' '.join(cmd)}", flush=True)
    log_file = Path(os.environ.get("AIRFLOW_HOME", ".")) / f"dags-test-{args.la}-{term}.log"
    with open(log_file, "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    tail = log_file.read_text(errors="replace").splitlines()
    finished = [ln for ln in tail if "DagRun Finished" in ln]
    if rc != 0 or not finished or "state=success" not in finished[-1]:
        print("\n".join(tail[-60:]))
        print(f"The DAG run for {term} failed; full log: {log_file}")
        return rc or 1
    drive = Path(args.shared_drive).resolve()
    current = read_current(drive, args.la, term)
    if not current:
        print(f"The DAG run for {term} succeeded but no current edition was found under {drive}; log: {log_file}")
        return 1
    t = Term.parse(term)
    edition = drive / args.la / t.academic_year / t.season / current["edition"]
    print(f"Term {term} for LA {args.la}: {current['edition']} is current (published {current.get('published_at')}).")
    print(f"  general edition:    {edition / 'general' / 'report.pdf'} and CSVs beside it")
    print(f"  restricted edition: {edition / 'restricted' / 'report.pdf'}, CSVs, drafts/ and data_docs/")
    print(f"  manifest:           {edition / 'manifest.json'}   Airflow log: {log_file}")
    return 0


def _build_run_dag(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--la", default="999")
    sub.add_argument("--term", required=True)
    sub.add_argument("--landing", required=True)
    sub.add_argument("--shared-drive", required=True)
    sub.add_argument("--dag-id", default="termly_school_improvement")
    sub.set_defaults(func=run_dag)


# name -> (help, builder). Add new subcommands here.
SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "check": ("read and validate feed files; exit 1 on any critical problem", _build_check),
    "demo": ("generate the fictional demo LA's feeds in the real formats", _build_demo),
    "run-dag": ("run the termly DAG for one term through Airflow (airflow dags test)", _build_run_dag),
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
