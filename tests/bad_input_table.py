"""Print the bad-input corpus as a table: `make corpus` (or `python tests/bad_input_table.py [--no-pipeline]`).

Every case of tests/bad_input_cases.py is read; the dangerous ones are also run through the pipeline's stages
onto a shared drive that already holds an edition. Totals: cases tried, clear errors, warnings, accepted,
crashes (must be 0) and wrong editions published (must be 0); exit status 1 if either is not 0, or a case no
longer gives its recorded outcome.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "include"), str(REPO / "plugins"), str(HERE)]
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from bad_input_cases import ACCEPTED, CASES, CRASH, ERROR, WARNING, run_case, run_pipeline_case  # noqa: E402

REAL_SAMPLES = REPO.parent / "shared" / "dfe" / "samples"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-pipeline", action="store_true", help="skip running the dangerous cases through the stages")
    ap.add_argument("--only", default="", help="only the cases whose name contains this text")
    args = ap.parse_args(argv)

    counts = {k: 0 for k in ("tried", ERROR, "unclear", WARNING, ACCEPTED, CRASH, "skipped", "mismatch",
                             "pipeline", "wrong_editions", "pipeline_crashes")}
    rows = []
    with tempfile.TemporaryDirectory(prefix="si-corpus-") as tmp:
        tmp = Path(tmp)
        demo = None
        for i, case in enumerate(CASES):
            if args.only not in case.name:
                continue
            res = run_case(case, tmp / f"case-{i}", REAL_SAMPLES if REAL_SAMPLES.is_dir() else None)
            if res.outcome == "skipped":
                counts["skipped"] += 1
                rows.append((case.name, case.outcome, "skipped", "", res.detail))
                continue
            counts["tried"] += 1
            counts[res.outcome] += 1
            if res.outcome == ERROR and res.problem.file not in str(res.problem):
                counts["unclear"] += 1
            bad = res.mismatches(case)
            counts["mismatch"] += bool(bad)
            pipe = ""
            if case.dangerous and not args.no_pipeline:
                if demo is None:
                    from demo_feeds.demo_generator import generate_demo

                    demo = tmp / "demo-landing"
                    generate_demo(demo, terms=["2025-26-autumn"])
                pr = run_pipeline_case(case, demo, tmp / f"pipeline-{i}")
                counts["pipeline"] += 1
                counts["wrong_editions"] += pr.wrong_edition(case)
                counts["pipeline_crashes"] += pr.crash
                understood = case.pipeline != "accepted" or (pr.stopped_at is None and case.pipeline_check(
                    {"categorisation": pr.categorisation, "moderated_urn": pr.moderated_urn}))
                counts["mismatch"] += not understood
                if case.pipeline == "accepted":
                    outcome = "categorised as expected" if understood else "NOT AS EXPECTED"
                elif pr.stopped_at:
                    outcome = f"stopped at {pr.stopped_at}"
                else:
                    outcome = "published with the warning" if pr.warning_in_edition else \
                        "published" if pr.published else "ran (nothing published)"
                pipe = ("WRONG EDITION: " if pr.wrong_edition(case) else "") + outcome
            detail = "; ".join(bad) if bad else str(res.problem or "")
            rows.append((case.name, case.outcome, res.outcome + ("" if not bad else " (MISMATCH)"), pipe, detail))

    w = max(len(r[0]) for r in rows)
    print(f"{'case':{w}}  {'expected':8}  {'got':19}  {'through the stages':32}  first problem")
    for name, expected, got, pipe, detail in rows:
        print(f"{name:{w}}  {expected:8}  {got:19}  {pipe:32}  {detail[:110]}")
    print()
    print(f"cases tried              {counts['tried']}" + (f"  (skipped {counts['skipped']}: real files absent)"
                                                          if counts["skipped"] else ""))
    print(f"clear errors             {counts[ERROR] - counts['unclear']}  (naming the file; row and column where the "
          "file has them)")
    if counts["unclear"]:
        print(f"unclear errors           {counts['unclear']}")
    print(f"warnings                 {counts[WARNING]}")
    print(f"accepted                 {counts[ACCEPTED]}")
    print(f"crashes                  {counts[CRASH] + counts['pipeline_crashes']}  (must be 0)")
    print(f"wrong editions published {counts['wrong_editions']}  (must be 0; {counts['pipeline']} dangerous cases "
          "run through the stages" + (", skipped" if args.no_pipeline else "") + ")")
    print(f"not as recorded          {counts['mismatch']}")
    failed = counts[CRASH] + counts["pipeline_crashes"] + counts["wrong_editions"] + counts["mismatch"] + counts["unclear"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
