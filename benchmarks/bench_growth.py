"""Benchmark: cost against county size, and one county term against its floor. Prints figures; asserts nothing.

    make bench-growth                                   # 250, 1,000 and 4,000 schools
    make bench-growth BENCH_SCHOOLS="250 1000"          # a quicker pair
    PYTHONPATH=include python benchmarks/bench_growth.py --schools 250 1000 [--term 2025-26-spring]

Growth: the demo is scaled consistently across every feed (`generate_demo(schools=N)`, every kind of school in
proportion) and each stage runs in its own process, so its CPU seconds (user + system) and peak memory (maximum
resident set) are the operating system's own figures for that stage, imports included. The fitted exponent is
the slope of log CPU against log schools: 1.0 is linear; the goal is at most 1.05 for every stage.

County term against the floor: the in-process stages of the largest size against what any implementation must
at least do: pandas reading the same feed bytes, and WeasyPrint laying out and writing the same number of plain
(untagged, text-only) pages as the term's PDFs. The goal is at most 1.3 times the floor.

Figures from a shared machine drift: compare ratios and exponents, not absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports", "publish")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO / "plugins"),
                                                     os.environ.get("PYTHONPATH", "")]),
       "GX_ANALYTICS_ENABLED": "False"}

STAGE_CODE = """
import json, sys
from school_improvement import pipeline
cfg = pipeline.RunConfig(**json.loads(sys.argv[1]))
kwargs = json.loads(sys.argv[3])
out = getattr(pipeline, sys.argv[2])(cfg, **kwargs)
print(json.dumps(out, default=str))
"""

IMPORT_CODE = "from school_improvement import pipeline\n"

FLOOR_CODE = """
import io, json, os, sys
from pathlib import Path
import pandas as pd
from weasyprint import HTML
folder, pages, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
for p in sorted(folder.iterdir()):
    if p.suffix == ".csv":
        pd.read_csv(io.BytesIO(p.read_bytes()), dtype=str, keep_default_na=False, encoding="latin-1")
line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
page = "<section style='break-after: page'>" + "".join(f"<p>{line}{i}</p>" for i in range(24)) + "</section>"
html = "<html lang='en'><body style='font: 9pt sans-serif'>" + page * pages + "</body></html>"
doc = HTML(string=html).render()
doc.write_pdf(out)
print(json.dumps({"pages": len(doc.pages)}))
"""


def measured(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter: its CPU seconds (user + system) and peak resident memory, as the kernel
    accounted them for that process (wait4), and the last line it printed."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", code, *args], env=ENV, stdout=out, stderr=err, text=True)
        _, status, ru = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        lines = out.read().strip().splitlines()
        if child.returncode != 0:
            raise RuntimeError(f"child failed ({child.returncode}):\n{err.read()[-3000:]}")
    return {"cpu": ru.ru_utime + ru.ru_stime, "peak_mib": ru.ru_maxrss / 1024, "wall": wall,
            "out": lines[-1] if lines else ""}


def fit_exponent(sizes: list[int], values: list[float]) -> float | None:
    pts = [(math.log(s), math.log(v)) for s, v in zip(sizes, values) if v > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def pdf_pages(folder: Path) -> int:
    from pypdf import PdfReader

    return sum(len(PdfReader(p).pages) for p in folder.rglob("*.pdf") if p.name != "draft_letters.pdf")


def one_size(root: Path, schools: int, term: str) -> dict:
    from demo_feeds.generate import generate_demo

    t0 = time.perf_counter()
    demo = generate_demo(root / "landing", terms=[term], schools=schools)
    demo_s = time.perf_counter() - t0
    cfg = {"la_code": "999", "term": term, "landing": str(root / "landing"), "work_dir": str(root / "work"),
           "history_url": f"sqlite:///{root / 'history.sqlite'}", "run_id": "bench"}
    stages = {}
    for stage in STAGES:
        kwargs = {"shared_drive": str(root / "drive")} if stage == "publish" else {}
        stages[stage] = measured(STAGE_CODE, json.dumps(cfg), stage, json.dumps(kwargs))
        print(f"  {schools:>5} schools  {stage:<14}{stages[stage]['cpu']:8.1f} s CPU{stages[stage]['peak_mib']:8.0f} MiB",
              flush=True)
    run_dir = root / "work" / "999" / term / "bench"
    return {"schools": demo["schools"], "maintained": demo["maintained"], "demo_s": demo_s, "stages": stages,
            "pages": pdf_pages(run_dir / "staged"), "landing": root / "landing" / "999" / term, "run_dir": run_dir}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, nargs="+", default=[250, 1000, 4000])
    ap.add_argument("--term", default="2025-26-spring")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO / "include"))

    base = measured(IMPORT_CODE)
    print(f"python + domain package import: {base['cpu']:.1f} s CPU, {base['peak_mib']:.0f} MiB (in every stage below)")
    results = []
    for n in args.schools:
        with tempfile.TemporaryDirectory(prefix=f"si-bench-{n}-") as tmp:
            res = one_size(Path(tmp), n, args.term)
            if n == args.schools[-1]:
                res["floor"] = measured(FLOOR_CODE, str(res["landing"]), str(res["pages"]), str(Path(tmp) / "floor.pdf"))
            results.append(res)

    sizes = [r["schools"] for r in results]
    print()
    print("Growth: CPU seconds (peak MiB) per stage, each stage in its own process")
    head = "".join(f"{f'{s:,} schools':>22}" for s in sizes)
    print(f"{'stage':<14}{head}{'exponent':>10}")
    for stage in STAGES + ("total",):
        if stage == "total":
            cpus = [sum(st["cpu"] for st in r["stages"].values()) for r in results]
            peaks = [max(st["peak_mib"] for st in r["stages"].values()) for r in results]
        else:
            cpus = [r["stages"][stage]["cpu"] for r in results]
            peaks = [r["stages"][stage]["peak_mib"] for r in results]
        # The exponent of the work a stage does for the schools: its import cost is paid once whatever the size.
        k = fit_exponent(sizes, [c - base["cpu"] * (len(STAGES) if stage == "total" else 1) for c in cpus])
        cells = "".join(f"{c:12.1f} ({p:6.0f})" for c, p in zip(cpus, peaks))
        print(f"{stage:<14}{cells}{(f'{k:10.2f}' if k is not None else '       n/a')}")
    print(f"{'report pages':<14}" + "".join(f"{r['pages']:>22,}" for r in results))
    print(f"{'per school':<14}" + "".join(
        f"{1000 * sum(st['cpu'] for st in r['stages'].values()) / r['schools']:>19.1f} ms" for r in results))

    last = results[-1]
    floor = last["floor"]
    county = sum(st["cpu"] for st in last["stages"].values())
    print()
    print(f"County term at {last['schools']:,} schools against the floor ({last['pages']:,} plain pages laid out and "
          f"written + pandas reading the same feed bytes, one process)")
    print(f"  stages: {county:.1f} s CPU in {len(STAGES)} processes ({county - len(STAGES) * base['cpu']:.1f} s "
          f"without the {len(STAGES)} interpreter+import starts)")
    print(f"  floor:  {floor['cpu']:.1f} s CPU, peak {floor['peak_mib']:.0f} MiB ({floor['out']})")
    print(f"  ratio stages / floor: {county / floor['cpu']:.2f} "
          f"(without the starts: {(county - (len(STAGES) - 1) * base['cpu']) / floor['cpu']:.2f}); goal <= 1.3")


if __name__ == "__main__":
    main()
