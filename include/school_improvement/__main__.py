"""Operator commands: `python -m school_improvement check FILE...` (run from the repo root with PYTHONPATH=include).

Subcommands are registered in SUBCOMMANDS: each entry maps a name to a function that configures its
argparse sub-parser and sets `func`, so new commands (e.g. `compare`) only add one entry.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

from .errors import FeedError, Problem


def _print_problem(p: Problem) -> None:
    print(f"  {p.severity.upper():8} {p}" + (f"  [{p.check}]" if p.check else ""))


def run_check(args: argparse.Namespace) -> int:
    """Read each file, validate the ones that parse together (so URNs are checked against a GIAS file given alongside)."""
    from .ingest.feeds import read_feed
    from .quality.suites import validate

    feeds, critical = [], False
    levels = None  # with --term, the LA's rule set's levels, for a moderation decision naming none
    if args.term:
        from .errors import RulesError
        from .rules import rule_set_for
        from .terms import Term

        try:
            own = rule_set_for(Term.parse(args.term).reference_date, la_code=args.la or None)
            levels = (own.id, tuple(own.levels))
        except (RulesError, ValueError):
            pass  # said below, where the term's rule set is looked up
    for name in args.files:
        path = Path(name)
        print(f"{path}:")
        if not path.is_file():
            print(f"  CRITICAL {path}: file not found")
            critical = True
            continue
        try:
            from .ingest.links import is_links_file, read_links

            feed = read_links(path) if is_links_file(path) else read_feed(path, levels)
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
        # Problems are judged where they matter: in another LA's row (a whole-England download) a warning.
        report = validate(feeds, la_code=args.la or None)
        for feed in feeds:
            mine = [p for p in report.problems if p.file == feed.source]
            print(f"{feed.source}: {len(mine)} quality problem(s)")
            for p in sorted(mine, key=lambda p: (p.severity != "critical", p.row or 0)):
                _print_problem(p)
        critical = critical or bool(report.critical)
    later = []
    if feeds and args.term:
        # As the run for that term: files and rows from after it are not used (the rule set's results_known).
        from .errors import RulesError
        from .ingest.termdata import scope_urns
        from .quality.data_age import known_at_term
        from .rules import rule_set_for
        from .terms import Term

        term = Term.parse(args.term)
        try:
            known = rule_set_for(term.reference_date, la_code=args.la or None).results_known
        except RulesError as err:
            print(f"  CRITICAL {err}")
            critical, known = True, {}
        feeds, later = known_at_term(feeds, term, known, scope_urns(feeds, args.la) if args.la else None)
    if feeds:
        # What the run checks of the files together: which files it takes, and whether the LA's schools are there.
        from .quality.feed_set import EXPECTED_FEEDS, feed_presence, feed_set_checks, missing_file

        together = later + feed_set_checks(feeds, args.la or "")
        if args.la and any(f.kind == "gias" for f in feeds):
            # Kinds not given to `check` are not missing from the run: only what is said of the files given counts.
            not_given = {missing_file(kind) for kind in EXPECTED_FEEDS}
            together += [p for p in feed_presence(feeds, args.la)
                         if p.severity == "critical" or p.file not in not_given]
        if together:
            print("the files together:")
            for p in together:
                _print_problem(p)
        critical = critical or any(p.severity == "critical" for p in together)
    print("RESULT: critical problems found" if critical else "RESULT: ok (no critical problems)")
    return 1 if critical else 0


def _build_check(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("files", nargs="+", metavar="FILE", help="feed files (.csv or .xlsx)")
    sub.add_argument("--no-gx", action="store_true", help="only read the files; skip the Great Expectations suites")
    sub.add_argument("--la", default="", help="the LA's code: rows for other LAs' schools are set aside (problems "
                     "in them are warnings); with a GIAS file, the LA's schools are those GIAS lists for it")
    sub.add_argument("--term", default="", type=optional_term_arg, help="e.g. 2021-22-autumn: say which files and "
                     "rows the run of that term would not use, being from after it")
    sub.set_defaults(func=run_check)


def run_dag(args: argparse.Namespace) -> int:
    """Run the termly DAG for one term through Airflow itself (`airflow dags test`), then say where outputs are."""
    import json
    import os
    import shlex
    import shutil
    import subprocess

    from .publish.edition import read_current
    from .terms import Term

    term = str(Term.parse(args.term))
    # The LA is bound to its DAG and its folders come from include/config/las.yaml, which reads SI_LANDING and
    # SI_SHARED_DRIVE (the demo LA does): the run itself chooses only the term.
    conf = {"term": term}
    env = dict(os.environ)
    if args.landing:
        env["SI_LANDING"] = str(Path(args.landing).resolve())
    if args.shared_drive:
        env["SI_SHARED_DRIVE"] = str(Path(args.shared_drive).resolve())
    dag_id = args.dag_id or f"termly_school_improvement_{args.la}"
    import yaml

    # The same file the DAGs read: SI_LAS_FILE names a deployment's own (plugins/la_config.py).
    las_file = Path(os.environ.get("SI_LAS_FILE") or Path(__file__).resolve().parents[1] / "config" / "las.yaml")
    entries = {str(la.get("la_code")): la for la in (yaml.safe_load(las_file.read_text()) or {}).get("las") or []
               if isinstance(la, dict)}
    if args.la not in entries:
        print(f"LA {args.la} is not in {las_file}: add it there (landing: \"${{SI_LANDING}}\", shared_drive: "
              f"\"${{SI_SHARED_DRIVE}}\") and it gets the DAG termly_school_improvement_{args.la}")
        return 2
    # The folders the DAG will use, as plugins/la_config.py reads them: a flag the LA's entry does not take (a
    # literal folder there) would be silently ignored, and the run would read and publish elsewhere.
    repo = Path(__file__).resolve().parents[2]
    folders = {}
    for key, flag, var, default in (("landing", args.landing, "SI_LANDING", repo / "landing"),
                                    ("shared_drive", args.shared_drive, "SI_SHARED_DRIVE", repo / "shared-drive")):
        raw = str(entries[args.la].get(key) or "")
        value = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), raw) or str(default)
        option = "--" + key.replace("_", "-")
        if flag and ("://" in value or Path(flag).resolve() != Path(value).resolve()):
            print(f"{option} {flag} would be ignored: {las_file} sets LA {args.la}'s {key} to {raw!r} ({value}), "
                  f"and the DAG uses that: nothing was run. Run with {option} {value} (or without {option}), or "
                  f"set {key}: \"${{{var}}}\" for LA {args.la} in {las_file}.")
            return 2
        if not flag and f"${{{var}}}" in raw and not os.environ.get(var):
            print(f"{las_file} takes LA {args.la}'s {key} from {option} ({raw!r}): give {option}; nothing was run.")
            return 2
        folders[key] = value
    # Publish would refuse an unmarked drive only at the end, after retries that leave the terminal silent for many
    # minutes (a share that is briefly unmounted deserves them; a folder never marked does not): say it now.
    from .publish.edition import SHARE_SENTINEL

    local_drive = "://" not in folders["shared_drive"]
    drive = Path(folders["shared_drive"]).resolve() if local_drive else None
    if local_drive and not (drive / SHARE_SENTINEL).is_file():
        print(f"{drive} does not hold the file {SHARE_SENTINEL}, so it is not the shared "
              f"drive: nothing was run. If it is the right folder, place an empty {SHARE_SENTINEL} file at its root "
              "once (README, Mark the shared drive once).")
        return 2
    try:
        before = read_current(drive, args.la, term) if local_drive else None
    except Exception:  # noqa: BLE001 -- a corrupt current.json: the publish replaces it, and it is read after
        before = None
    airflow = shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"
    cmd = [airflow, "dags", "test", dag_id, "-c", json.dumps(conf)]
    print(f"$ {shlex.join(cmd)}", flush=True)  # quoted: the operator can paste it into a shell to run it again
    log_file = Path(os.environ.get("AIRFLOW_HOME", ".")) / f"dags-test-{args.la}-{term}.log"
    with open(log_file, "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    tail = log_file.read_text(errors="replace").splitlines()
    finished = [ln for ln in tail if "DagRun Finished" in ln]
    if rc != 0 or not finished or "state=success" not in finished[-1]:
        message = error_message(tail)
        print(f"The DAG run for {term} failed" + (":" if message else " (no error message found in the log):"))
        print("\n".join(message))
        print(f"\nLast lines of the Airflow log ({log_file}):")
        print("\n".join(tail[-40:]))
        print(f"\nThe DAG run for {term} failed; full log: {log_file}")
        return rc or 1
    if not local_drive:
        print(f"Term {term} for LA {args.la}: the DAG run succeeded and published to {folders['shared_drive']} "
              f"(its current.json there names the edition); landing folder {folders['landing']}; log: {log_file}")
        return 0
    current = read_current(drive, args.la, term)
    if not current:
        print(f"The DAG run for {term} succeeded but no current edition was found under {drive}; log: {log_file}")
        return 1
    t = Term.parse(term)
    edition = drive / args.la / t.academic_year / t.season / current["edition"]
    if before and (before.get("edition"), before.get("published_at")) == (current.get("edition"),
                                                                          current.get("published_at")):
        # Publish keeps the current edition when this run's reports are the same as it (read from the drive the
        # run published to, so never an edition of another drive).
        print(f"Term {term} for LA {args.la}: unchanged, {current['edition']} stays current (this run's reports "
              f"are the same as it; published {current.get('published_at')}).")
    else:
        print(f"Term {term} for LA {args.la}: {current['edition']} is current (published {current.get('published_at')}), "
              "published by this run.")
    print(f"  landing folder:     {folders['landing']}")
    print(f"  general edition:    {edition / 'general' / 'report.pdf'} and CSVs beside it")
    print(f"  restricted edition: {edition / 'restricted' / 'report.pdf'}, CSVs, drafts/ and data_docs/")
    print(f"  manifest:           {edition / 'manifest.json'}   Airflow log: {log_file}")
    return 0


_LOG_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\[\d{4}-\d{2}-\d{2}|\s*File \"|Traceback )")
_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Exception|Error|Failed|Conflict|Busy|Share))(?:: (.*))?$")


def error_message(lines: list[str], limit: int = 60) -> list[str]:
    """The last exception's message in an Airflow task log (the line `SomethingError: ...` and the lines of the
    message after it, up to the next log or traceback line), so an operator reads the cause before the log."""
    for i in range(len(lines) - 1, -1, -1):
        m = _EXCEPTION_LINE.match(lines[i].strip())
        if not m:
            continue
        out = [m.group(2) or m.group(1)]
        for ln in lines[i + 1:]:
            if not ln.strip() or _LOG_LINE.match(ln):
                break
            out.append(ln)
        return out[:limit]
    return []


def term_arg(text: str) -> str:
    """A --term as the feeds' term columns are read: 2021-22-autumn, or "Autumn 2021", "2021/22 Autumn" (then given
    in the canonical form); anything else is a usage error naming the forms, not a traceback."""
    from .ingest.feeds import _parse_term
    from .terms import Term

    try:
        return str(Term.parse(text))
    except ValueError as err:
        term = _parse_term(text) if text.strip() else None
        if term is None:
            raise argparse.ArgumentTypeError(f"{err}; 'Autumn 2021' and '2021/22 Autumn' are read too") from None
        return term


def optional_term_arg(text: str) -> str:
    """term_arg, or "" for none given (check's default: argparse passes a string default through the type too)."""
    return term_arg(text) if text else ""


def _build_run_dag(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--la", default="999")
    sub.add_argument("--term", required=True, type=term_arg, help="e.g. 2025-26-spring (or 'Spring 2026')")
    sub.add_argument("--landing", default="",
                     help="the feeds' folder, for an LA whose landing in las.yaml is ${SI_LANDING}; default: las.yaml's")
    sub.add_argument("--shared-drive", default="",
                     help="for an LA whose shared_drive in las.yaml is ${SI_SHARED_DRIVE}; default: las.yaml's")
    sub.add_argument("--dag-id", default="", help="default: termly_school_improvement_<la>")
    sub.set_defaults(func=run_dag)


from .ingest.sources import cli_builder as _build_fetch  # noqa: E402 (the fetch command lives with the fetchers)


def run_compare(args: argparse.Namespace) -> int:
    """One term's feeds under two rule sets: which schools change category or letters, and why. Publishes nothing."""
    from .errors import FeedError, RulesError, ValidationFailed
    from .decisions.what_if import run_what_if

    if len(args.rules) != 2:
        print("compare needs exactly two rule sets: --rules A --rules B")
        return 2
    try:
        out = run_what_if(args.la, args.term, args.landing, args.rules[0], args.rules[1], args.out, args.history_url)
    except (FeedError, ValidationFailed, RulesError, FileNotFoundError, ValueError) as err:
        print(f"compare stopped: {err}")
        return 1
    print(f"{out['schools']} schools compared under {args.rules[0]} and {args.rules[1]}: "
          f"{out['category_changes']} change category, {out['letter_changes']} change letter; "
          f"{out.get('academy_changes', 0)} academies' concerns or next step change; {out.get('alert_changes', 0)} schools' "
          f"member alerts change.")
    print(f"  {Path(out['folder']) / 'compare.csv'}\n  {Path(out['folder']) / 'compare.pdf'}")
    return 0


def _build_compare(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--term", required=True, type=term_arg, help="e.g. 2025-26-spring (or 'Spring 2026')")
    sub.add_argument("--rules", action="append", required=True, metavar="RULE_SET",
                     help="a rule set id under include/rules/, or a draft .yaml kept elsewhere (give twice: A then B)")
    sub.add_argument("--la", default="999")
    sub.add_argument("--landing", default="landing", help="feeds, as <landing>/<la>/<term>/ or the folder itself")
    sub.add_argument("--out", default="policy-what-if",
                     help="where compare.csv and compare.pdf go (never the shared drive's editions)")
    sub.add_argument("--history-url", default=None, help="history database, for change since last term (optional)")
    sub.set_defaults(func=run_compare)


# name -> (help, builder). Add new subcommands here.
SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "check": ("read and validate feed files; exit 1 on any critical problem", _build_check),
    "run-dag": ("run the termly DAG for one term through Airflow (airflow dags test)", _build_run_dag),
    "fetch": ("fetch GIAS, Ofsted MI or EES into the store of fetched copies", _build_fetch),
    "compare": ("policy what-if: one term under two rule sets; which schools change, and why", _build_compare),
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
