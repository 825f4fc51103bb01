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
sys.path.insert(0, str(REPO / "include"))
from school_improvement.pipeline import STAGES  # noqa: E402  (the stages in order, one process each here)

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
import time
t0 = time.process_time()
for p in sorted(folder.iterdir()):
    if p.suffix == ".csv":
        pd.read_csv(io.BytesIO(p.read_bytes()), dtype=str, keep_default_na=False, encoding="latin-1")
t1 = time.process_time()
line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
page = "<section style='break-after: page'>" + "".join(f"<p>{line}{i}</p>" for i in range(24)) + "</section>"
html = "<html lang='en'><body style='font: 9pt sans-serif'>" + page * pages + "</body></html>"
doc = HTML(string=html).render()
doc.write_pdf(out)
print(json.dumps({"pages": len(doc.pages), "read_cpu": t1 - t0, "render_cpu": time.process_time() - t1}))
"""
# build_reports profiled: its own CPU by the package that spent it (self time), to show what to cut.
PROFILE_CODE = """
import cProfile, json, pstats, sys, time
from collections import defaultdict
from school_improvement import pipeline
cfg = pipeline.RunConfig(**json.loads(sys.argv[1]))
prof = cProfile.Profile(time.process_time)  # CPU, not wall: the machine is shared
prof.enable()
pipeline.build_reports(cfg)
prof.disable()
by = defaultdict(float)
for (path, _line, _name), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(prof).stats.items():
    if "site-packages/" in path:
        key = path.split("site-packages/", 1)[1].split("/")[0].removesuffix(".py")
    elif "/school_improvement/" in path:
        rest = path.split("/school_improvement/", 1)[1].split("/")
        key = "school_improvement." + (rest[0].removesuffix(".py"))
    elif path.startswith("~") or path.startswith("<"):
        key = ("C: " + _name.strip("<>")[:40]) if path.startswith("~") else "other"
    else:
        key = "stdlib"
    by[key] += tottime
print(json.dumps(sorted(by.items(), key=lambda kv: -kv[1])[:12]))
"""

# Which part of the floor each stage is held against: reading the feeds, or laying out and writing the pages.
FLOOR_PART = {"extract": "read_cpu", "validate": "read_cpu", "categorise": None, "flag_letters": None,
              "build_reports": "render_cpu", "publish": None}


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
    from demo_feeds.demo_generator import generate_demo

    t0 = time.perf_counter()
    demo = generate_demo(root / "landing", terms=[term], schools=schools)
    demo_s = time.perf_counter() - t0
    cfg = {"la_code": "999", "term": term, "landing": str(root / "landing"), "work_dir": str(root / "work"),
           "history_url": f"sqlite:///{root / 'history.sqlite'}", "run_id": "bench"}
    stages = {}
    (root / "drive").mkdir(exist_ok=True)  # the LA marks the real share once: publish refuses a drive without it
    (root / "drive" / ".school-improvement-share").write_text("")
    for stage in STAGES:
        kwargs = {"shared_drive": str(root / "drive")} if stage == "publish" else {}
        stages[stage] = measured(STAGE_CODE, json.dumps(cfg), stage, json.dumps(kwargs))
        print(f"  {schools:>5} schools  {stage:<14}{stages[stage]['cpu']:8.1f} s CPU{stages[stage]['peak_mib']:8.0f} MiB",
              flush=True)
    run_dir = root / "work" / "999" / term / "bench"
    return {"cfg": cfg, "schools": demo["schools"], "maintained": demo["maintained"], "demo_s": demo_s, "stages": stages,
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
                res["profile"] = measured(PROFILE_CODE, json.dumps(res["cfg"]))
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
    above_floor(last, floor, base)
    if "profile" in last:
        spent = json.loads(last["profile"]["out"])
        total = sum(t for _, t in spent) or 1.0
        print()
        print(f"  build_reports profiled (cProfile, {last['profile']['cpu']:.1f} s CPU with the profiler's own cost): "
              f"self time by package, the {len(spent)} largest")
        for key, t in spent:
            print(f"    {key:<44}{t:8.1f} s {100 * t / total:5.0f}%")


def above_floor(last: dict, floor: dict, base: dict) -> None:
    """Where the CPU above the floor goes, per stage: each stage without its interpreter+import start, against
    the part of the floor it corresponds to (reading the feeds once for extract, which reads them, and validate,
    which checks them; the plain pages for build_reports; nothing for the decisions and publishing)."""
    parts = json.loads(floor["out"])
    if "read_cpu" not in parts:
        return
    read_floor = parts["read_cpu"]
    render_floor = parts["render_cpu"]
    floor_of = {"read_cpu": read_floor, "render_cpu": render_floor}
    print()
    print(f"  Where the CPU above the floor goes ({last['schools']:,} schools; each stage less one interpreter+import "
          f"start of {base['cpu']:.1f} s; floor: {read_floor:.1f} s reading the feeds, {render_floor:.1f} s laying out "
          f"and writing {last['pages']:,} plain pages, {floor['cpu'] - read_floor - render_floor:.1f} s its own start)")
    print(f"  {'stage':<16}{'CPU s':>8}{'floor s':>9}{'above s':>9}{'of all above':>14}")
    rows = []
    for stage in STAGES:
        cpu = max(last["stages"][stage]["cpu"] - base["cpu"], 0.0)
        part = FLOOR_PART.get(stage)
        f = 0.0
        if part:  # the read floor once, shared by the stages that read and check the feeds, in proportion
            sharers = [s for s in STAGES if FLOOR_PART.get(s) == part]
            total = sum(max(last["stages"][s]["cpu"] - base["cpu"], 0.0) for s in sharers) or 1.0
            f = floor_of[part] * cpu / total
        rows.append((stage, cpu, f, cpu - f))
    above = sum(r[3] for r in rows) or 1.0
    for stage, cpu, f, a in sorted(rows, key=lambda r: -r[3]):
        print(f"  {stage:<16}{cpu:8.1f}{f:9.1f}{a:9.1f}{100 * a / above:13.0f}%")


if __name__ == "__main__":
    main()
