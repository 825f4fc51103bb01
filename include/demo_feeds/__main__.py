"""`python -m demo_feeds`: write the fictional demo LA's feeds (or the blank LA-held templates)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .demo_generator import generate_demo, write_templates


def _count(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of schools, at least 1: {text}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo_feeds", description=__doc__.splitlines()[0])
    p.add_argument("--out", help="landing root; feeds go to <out>/<la>/<term>/")
    p.add_argument("--la", default="999", help="LA code (the demo LA is fictional)")
    p.add_argument("--terms", nargs="*", help="terms to generate, e.g. 2025-26-autumn 2025-26-spring")
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--schools", type=_count, help="scale the roster (250 schools) to about this many, for benchmarks")
    p.add_argument("--templates", metavar="FOLDER", help="write the blank LA-held feed templates here instead")
    p.add_argument("--log-sent-from", metavar="SHARED_DRIVE",
                   help="instead: add the letters of each of --terms' published editions on this shared drive to the "
                        "letters log of the later terms in --out (the demo LA signs, sends and logs them)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.templates:
        for path in write_templates(Path(args.templates)):
            print(path)
        return 0
    if not args.out:
        build_parser().error("--out is required (or --templates FOLDER)")
    if args.log_sent_from:
        from .log_sent import edition_letters, log_sent_letters

        for term in args.terms or []:
            added = log_sent_letters(Path(args.out), args.la, term,
                                     edition_letters(args.log_sent_from, args.la, term), seed=args.seed)
            print(f"letters of {term}'s edition logged as sent: "
                  f"{', '.join(f'{n} in {t}' for t, n in added.items()) or 'no later term in the landing'}")
        return 0
    try:
        out = generate_demo(Path(args.out), la_code=args.la, terms=args.terms or None, seed=args.seed,
                            schools=args.schools)
    except ValueError as exc:  # a roster too small or too large, a phase the demo lacks: said, nothing written
        print(f"python -m demo_feeds: error: {exc}", file=sys.stderr)
        return 2
    print(f"demo feeds for LA {args.la} written under {Path(args.out) / args.la}: "
          f"{', '.join(sorted(str(t) for t in out.get('terms', args.terms or [])))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
