"""Benchmark: each stage of one term on the demo LA, timed in-process. Prints figures; asserts nothing.

    make bench            # or: PYTHONPATH=include python benchmarks/bench_pipeline.py [TERM]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from school_improvement import pipeline
from demo_feeds.demo_generator import generate_demo


def main(term: str = "2025-26-spring") -> None:
    root = Path(tempfile.mkdtemp(prefix="si-bench-"))
    t0 = time.perf_counter()
    generate_demo(root / "landing", terms=[term])
    print(f"{'demo feeds':<16}{time.perf_counter() - t0:8.1f} s")
    cfg = pipeline.RunConfig(la_code="999", term=term, landing=str(root / "landing"), work_dir=str(root / "work"),
                             history_url=f"sqlite:///{root / 'history.sqlite'}", run_id="bench")
    total = 0.0
    (root / "drive").mkdir(exist_ok=True)  # the LA marks the real share once: publish refuses a drive without it
    (root / "drive" / ".school-improvement-share").write_text("")
    for stage in pipeline.STAGES:
        kwargs = {"shared_drive": str(root / "drive")} if stage == "publish" else {}
        t0 = time.perf_counter()
        out = getattr(pipeline, stage)(cfg, **kwargs)
        took = time.perf_counter() - t0
        total += took
        summary = {k: (len(v) if isinstance(v, list) else v) for k, v in out.items()
                   if k in ("files", "rule_set", "letters", "status", "edition", "warnings")}
        print(f"{stage:<16}{took:8.1f} s   {summary}")
    pages = {}
    for edition in ("restricted", "general"):
        from pypdf import PdfReader

        pages[edition] = len(PdfReader(cfg.run_dir / "staged" / edition / "report.pdf").pages)
    print(f"{'total':<16}{total:8.1f} s   report pages: {pages}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
