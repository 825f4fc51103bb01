"""Benchmark: cost against county size, and one county term against its floor. Prints figures; asserts nothing.

    make bench-growth                                   # 250, 1,000 and 4,000 schools
    make bench-growth BENCH_SCHOOLS="250 1000"          # a quicker pair
    PYTHONPATH=include python benchmarks/bench_growth.py --schools 250 1000 [--term 2025-26-spring]
    PYTHONPATH=include python benchmarks/bench_growth.py --schools 250 1000 4000 --growth-only   # no floors
    PYTHONPATH=include python benchmarks/bench_growth.py --schools 250 500 1000 2000 4000 --growth-only --repeats 3
    PYTHONPATH=include python benchmarks/bench_growth.py --schools 250 1000 4000 --repeats 5 --last-stage flag_letters
    PYTHONPATH=include python benchmarks/bench_growth.py --last-stage categorise --instructions categorise

Growth: the demo is scaled consistently across every feed (`generate_demo(schools=N)`, every kind of school in
proportion) and each stage runs in its own process, so its CPU seconds (user + system) and peak memory (maximum
resident set) are the operating system's own figures for that stage, imports included. The fitted exponent is
the slope of log CPU against log schools: 1.0 is linear. The goal's figure, growth k (at most 1.05 for every
stage), fits CPU = fixed + b x schools ** k to the CPU of the stage's call alone, read in the child around it:
the interpreter's start and the package's imports are the same at every size and only add their noise.

Three sizes fit growth k exactly, so the noise of one run goes straight into it: on this 2-core shared machine a
stage's CPU moved by 10-20% from one run to the next, and growth k by tenths. More sizes and `--repeats N` make
it a fit: N rounds over all the sizes (the machine's drift falls on every size alike, not on whichever ran last),
each stage run from the same history and drive each time, its run of least CPU kept; "k by round" prints the
exponent of each round alone, to show the spread. `--last-stage categorise` repeats the evidence stages without
the reports' minutes. `--instructions [STAGE ...]` counts instructions under valgrind instead of CPU seconds:
the same count on every run, so it says whether a stage's work grows faster than the schools, noise or none.

County term against the floor: the in-process stages of the smallest size (a county: 250 schools by default)
against what any implementation must at least do: pandas reading the same feed bytes, and WeasyPrint laying out
and writing the same number of plain (untagged, text-only) pages as the term's PDFs. The goal is at most 1.3 times
the floor. Beside it, the floor made honest: the same pages written as the brief requires them (tagged PDF/UA-1),
and pages holding what the issue's school profile holds (tables, sparklines; fixed synthetic content, no project
code), so the ratio splits into what those requirements cost and what is the project's own overhead. The floors
are one WeasyPrint document each, all their pages held at once: at the largest size (9,218 pages at 4,000
schools) the tagged profile floor alone held 15.8 GiB of this 24 GiB machine, for a county no LA is.

Figures from a shared machine drift: compare ratios and exponents, not absolute seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "include"))
from school_improvement.pipeline import STAGES  # noqa: E402  (the stages in order, one process each here)
from school_improvement.collector import REPORT_GC_THRESHOLDS  # noqa: E402  (GC_AS_THE_STAGES)

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO / "plugins"),
                                                     os.environ.get("PYTHONPATH", "")]),
       "GX_ANALYTICS_ENABLED": "False"}

# The stage's own CPU is read around its call too: the interpreter's start and the package's imports (a second or
# two that varied by tenths from one run to the next here) are the same work at every size, so they only add noise
# to the growth fit, never growth.
STAGE_CODE = """
import json, resource, sys
from school_improvement import pipeline
cfg = pipeline.RunConfig(**json.loads(sys.argv[1]))
kwargs = json.loads(sys.argv[3])
def _cpu():  # the stage's child processes too, should one start any
    return sum(ru.ru_utime + ru.ru_stime for ru in map(resource.getrusage,
                                                       (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
t0 = _cpu()
out = getattr(pipeline, sys.argv[2])(cfg, **kwargs)
print(json.dumps({"stage_cpu": _cpu() - t0, "result": out}, default=str))
"""

IMPORT_CODE = "from school_improvement import pipeline\n"

# Every floor reads the same feed bytes with pandas first (its read_cpu), the collector set as the report stage's.
READ_FEEDS_CODE = """gc.freeze(); gc.set_threshold(*REPORT_GC_THRESHOLDS)  # the collector as the report stage runs it (GC_AS_THE_STAGES)
t0 = time.process_time()
for p in sorted(folder.iterdir()):
    if p.suffix == ".csv":
        pd.read_csv(io.BytesIO(p.read_bytes()), dtype=str, keep_default_na=False, encoding="latin-1")
t1 = time.process_time()
"""

FLOOR_CODE = """
import io, json, os, sys
from pathlib import Path
import pandas as pd
from weasyprint import HTML
folder, pages, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
import gc, time
REPORT_GC_THRESHOLDS = """ + repr(REPORT_GC_THRESHOLDS) + """
""" + READ_FEEDS_CODE + """line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
page = "<section style='break-after: page'>" + "".join(f"<p>{line}{i}</p>" for i in range(24)) + "</section>"
html = "<html lang='en'><body style='font: 9pt sans-serif'>" + page * pages + "</body></html>"
doc = HTML(string=html).render()
doc.write_pdf(out)
print(json.dumps({"pages": len(doc.pages), "read_cpu": t1 - t0, "render_cpu": time.process_time() - t1}))
"""
# The floor made honest (printed beside the plain one above, which stays as it was): the same feed reading, and
# the same number of pages written as the brief requires them, tagged PDF/UA-1, either (a) the plain text pages
# above or (b) pages holding what a school profile holds (the profile page: a heading, the level's line,
# a six-column table of figures with two sparkline SVGs, bullets with evidence, a confidential box), fixed
# synthetic content and no project code. WeasyPrint as installed, plus the library fix that any PDF/UA writer of
# this size needs (pydyf's page references built once per page count instead of once per tagged box: reported
# upstream, see docs/upstream/), inlined here so that the floor does not run the project's own code.
FLOOR_UA_CODE = """
import io, json, sys, time
from pathlib import Path
import pandas as pd
import pydyf
from weasyprint import HTML
folder, pages, out, kind = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
_refs = pydyf.PDF.page_references.fget
def _cached(pdf):
    key = len(pdf.pages["Kids"])
    hit = pdf.__dict__.get("_floor_refs")
    if hit is None or hit[0] != key:
        hit = pdf.__dict__["_floor_refs"] = (key, _refs(pdf))
    return hit[1]
pydyf.PDF.page_references = property(_cached)
import gc
REPORT_GC_THRESHOLDS = """ + repr(REPORT_GC_THRESHOLDS) + """
""" + READ_FEEDS_CODE + """if kind == "plain":
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
    page = "<section style='break-after: page'>" + "".join(f"<p>{line}{i}</p>" for i in range(24)) + "</section>"
    html = "<html lang='en'><head><title>Floor</title></head><body style='font: 9pt sans-serif'>" + page * pages + "</body></html>"
else:
    import base64
    def svg(body, w, h):
        s = f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><title>t</title>{body}</svg>'
        return "data:image/svg+xml;base64," + base64.b64encode(s.encode()).decode()
    trend = svg('<path d="M4,18 L45,10 L86,6" fill="none" stroke="#555" stroke-dasharray="3,2"/>'
                '<path d="M4,20 L45,12 L86,4" fill="none" stroke="#1f3b5a"/><circle cx="45" cy="12" r="2"/>', 90, 24)
    ci = svg('<path d="M45,1 V13" stroke="#999"/><path d="M30,7 H60" stroke="#4393c3" stroke-width="2"/>'
             '<circle cx="45" cy="7" r="2.5"/>', 90, 14)
    css = ("@page { size: A4; margin: 15mm; @bottom-right { content: 'Page ' counter(page) } }"
           "body { font: 9pt sans-serif } h3 { font-size: 11pt } .muted { color: #555 }"
           ".badge { padding: 0 1mm; font-weight: bold; background: #fde0c5 } .term { border: 0.5pt solid #999; margin-right: 1mm }"
           "table { border-collapse: collapse; width: 100%; font-size: 8pt; table-layout: fixed }"
           "th, td { border: 0.5pt solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top }"
           "th { background: #e8eef5 } td.num { text-align: right } img.spark { width: 22mm }"
           ".conf { border: 1pt solid #8b0000; padding: 1mm 2mm } section { break-after: page }")
    row = lambda label, spark: (f"<tr><th scope='row'>{label}</th><td class='num'>61</td><td class='num'>64</td>"
                                f"<td class='num'>66</td><td class='num'>61</td><td>{spark}</td></tr>")
    def profile(n):
        bullets = "".join(
            f"<div><p><strong>Area {a}</strong></p><ul>" + "".join(
                f"<li>Criterion {a}.{b} of the Strategy, as written, for school {n} "
                f"<span class='muted'>(evidence: figure {b} below the national figure in 2024-25)</span></li>"
                for b in range(2)) + "</ul></div>" for a in range(2))
        return (f"<section><h3>Fictional School {n} <span class='muted'>(URN {100000 + n})</span></h3>"
                f"<p><span class='badge'>Medium support</span> · last term: low (more support) · Primary · ward W{n % 40} "
                f"· adviser A{n % 12} · visits this term 3</p><p class='muted'>Support plan: termly visits and a review.</p>"
                "<p><strong>Level over recent terms:</strong> " + "".join(
                    f"<span class='term'>2025-26-{t}: medium</span>" for t in ("autumn", "spring", "summer")) + "</p>"
                "<table><thead><tr><th scope='col'>Measure</th><th scope='col'>2022-23</th><th scope='col'>2023-24</th>"
                "<th scope='col'>2024-25</th><th scope='col'>National</th><th scope='col'>Trend / interval</th></tr></thead><tbody>"
                + row("Reading, writing and maths expected standard", f"<img class='spark' src='{trend}' alt='Trend: 61, 64, 66'>")
                + row("Reading progress (confidence interval)", f"<img class='spark' src='{ci}' alt='Progress +0.4'>")
                + row("Overall absence", "") + row("Persistent absence", "") + row("Disadvantaged gap (points)", "")
                + "</tbody></table><p><strong>Ofsted:</strong> Good (2019); report card 2025: secure.</p>"
                "<p><strong>Why this level: the Strategy's bullets, with the evidence</strong></p>" + bullets
                + "<p><strong>Letters flagged:</strong> none.</p><div class='conf'><p><strong>LA intelligence (confidential)</strong></p>"
                "<p>2025-09-12 · staffing (medium) · HR: two vacancies at the start of term.</p></div></section>")
    html = (f"<html lang='en'><head><title>Floor</title><style>{css}</style></head><body>"
            + "".join(profile(n) for n in range(pages)) + "</body></html>")
doc = HTML(string=html).render(pdf_variant="pdf/ua-1")
doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
print(json.dumps({"pages": len(doc.pages), "read_cpu": t1 - t0, "render_cpu": time.process_time() - t1,
                  "elements_per_page": round((html.count("<") - html.count("</")) / max(len(doc.pages), 1))}))
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

# GC_AS_THE_STAGES: the report stage builds its parts with few full collections (school_improvement/collector.py
# `few_full_collections`: 18% of its CPU was Python's collector walking the layout). The floors run the same collector
# settings, so that the ratio does not credit the stages with a saving any implementation could make.

# Which part of the floor each stage is held against: reading the feeds, or laying out and writing the pages.
FLOOR_PART = {"extract": "read_cpu", "validate": "read_cpu", "categorise": None, "flag_letters": None,
              "build_reports": "render_cpu", "publish": None}


# The child's own peak resident memory, written last to its stderr. wait4's ru_maxrss is not it: Linux keeps, across
# the exec, the high-water mark of the memory the child was forked (vfork: shared) from, so every stage's "peak"
# was at least this bench's own size (359 MiB for each stage at 1,000 schools, once the demo was generated in it).
# VmHWM is the high-water mark of the memory the child's program itself used after the exec.
PEAK_TAIL = """
import sys as _sys
_sys.stderr.write("\\n" + next((l for l in open("/proc/self/status") if l.startswith("VmHWM:")), "VmHWM: 0 kB"))
"""


def _peak_kib(err: str) -> int | None:
    line = next((ln for ln in reversed(err.splitlines()) if ln.startswith("VmHWM:")), None)
    return int(line.split()[1]) if line and int(line.split()[1]) else None


def measured(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter: its CPU seconds (user + system) as the kernel accounted them for that
    process (wait4), its own peak resident memory (VmHWM, see PEAK_TAIL), and the last line it printed."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", code + PEAK_TAIL, *args], env=ENV, stdout=out, stderr=err,
                                 text=True)
        _, status, ru = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        lines = out.read().strip().splitlines()
        errors = err.read()
        if child.returncode != 0:
            raise RuntimeError(f"child failed ({child.returncode}):\n{errors[-3000:]}")
    return {"cpu": ru.ru_utime + ru.ru_stime, "peak_mib": (_peak_kib(errors) or ru.ru_maxrss) / 1024, "wall": wall,
            "out": lines[-1] if lines else ""}


# `--instructions`: every stage run under valgrind's cachegrind without its cache simulation, which counts the
# instructions the process executed. The count is the same on every run whatever the machine's load (the CPU
# seconds of a stage moved by 10-20% between runs here), so it tells whether the work grows faster than the schools;
# CPU seconds may still grow a little faster than it, as the data outgrows the processor's caches.
VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no")


def counted(code: str, *args: str) -> dict:
    """Run `code` under cachegrind: the instructions it executed (billions, as "cpu") and the last line it
    printed. No peak memory: the process's memory is valgrind's."""
    with tempfile.TemporaryDirectory(prefix="si-bench-cg-") as tmp:
        out_file = Path(tmp) / "cachegrind.out"
        t0 = time.perf_counter()
        child = subprocess.run([*VALGRIND, f"--cachegrind-out-file={out_file}", sys.executable, "-c", code, *args],
                               env=ENV, capture_output=True, text=True)
        if child.returncode != 0:
            raise RuntimeError(f"child failed under valgrind ({child.returncode}):\n{child.stderr[-3000:]}")
        summary = next(ln for ln in out_file.read_text().splitlines() if ln.startswith("summary:"))
    lines = child.stdout.strip().splitlines()
    return {"cpu": int(summary.split()[1]) / 1e9, "peak_mib": float("nan"), "wall": time.perf_counter() - t0,
            "out": lines[-1] if lines else ""}


MEASURE = {"cpu": measured, "instructions": counted}
UNIT = {"cpu": "s CPU", "instructions": "G instr"}


def fit_exponent(sizes: list[int], values: list[float]) -> float | None:
    pts = [(math.log(s), math.log(v)) for s, v in zip(sizes, values) if v > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def fit_with_fixed_cost(sizes: list[int], values: list[float]) -> tuple[float, float, float] | None:
    """(a, b, k) of `value = a + b * schools ** k`, least squares (k on a grid of 0.001): the exponent of the work
    that grows with the schools, whatever a stage's fixed cost (its own imports, Great Expectations' set-up, a
    report part's fonts and templates). The slope of log CPU against log schools (`fit_exponent`) counts a fixed
    cost as work that does not grow, so a stage whose start costs seconds looks sublinear however its work grows:
    at 250, 1,000 and 4,000 schools, a stage of 2 s fixed + 1 ms x schools ** 1.2 fits 0.82 that way (less a
    0.4 s start), 1.20 here.
    Three sizes determine the three figures (for sizes in one ratio, k is log((v3 - v2) / (v2 - v1)) / log(ratio));
    fewer cannot, and costs that do not rise with the schools have no such exponent (None). With three sizes each
    must cost more than the one before; with more, a dip between two small sizes (a stage whose fixed cost dwarfs
    its growth there: a run's noise) does not stop the fit, but the cost must still rise from the first to the last."""
    pts = sorted(zip(sizes, values))
    steps = [v2 - v1 for (_, v1), (_, v2) in zip(pts, pts[1:])]
    if len({s for s, _ in pts}) < 3 or (len(pts) == 3 and min(steps) <= 0) or pts[-1][1] <= pts[0][1]:
        return None
    best = None
    for i in range(300, 3001):
        k = i / 1000
        xs = [s ** k for s, _ in pts]
        mx, my = sum(xs) / len(xs), sum(v for _, v in pts) / len(pts)
        sxx = sum((x - mx) ** 2 for x in xs)
        b = sum((x - mx) * (v - my) for x, (_, v) in zip(xs, pts)) / sxx
        a = my - b * mx
        err = sum((a + b * x - v) ** 2 for x, (_, v) in zip(xs, pts))
        if b > 0 and (best is None or err < best[0]):
            best = (err, a, b, k)
    return None if best is None or best[3] in (0.3, 3.0) else best[1:]


def pdf_pages(folder: Path) -> int:
    """Pages of the term's PDFs. poppler's pdfinfo where installed: pypdf 7 refuses the 4,000-school reports
    (LimitReachedError: a stream inflating past its 75 MB guard), which stopped the bench after its last stage."""
    from pypdf import PdfReader

    def pages(p: Path) -> int:
        if shutil.which("pdfinfo"):
            out = subprocess.run(["pdfinfo", str(p)], capture_output=True, text=True, check=True).stdout
            return int(next(ln.split()[1] for ln in out.splitlines() if ln.startswith("Pages:")))
        return len(PdfReader(p).pages)

    return sum(pages(p) for p in folder.rglob("*.pdf") if p.name != "draft_letters.pdf")


def _saved(root: Path, stage: str = "stage") -> Path:
    """The history database and the shared drive as they are before `stage`, for its repeats to start from."""
    keep = root / f"before-{stage}"
    if keep.exists():
        shutil.rmtree(keep)
    keep.mkdir()
    if (root / "history.sqlite").exists():
        shutil.copy2(root / "history.sqlite", keep / "history.sqlite")
    shutil.copytree(root / "drive", keep / "drive")
    return keep


def _restore(root: Path, keep: Path) -> None:
    (root / "history.sqlite").unlink(missing_ok=True)
    if (keep / "history.sqlite").exists():
        shutil.copy2(keep / "history.sqlite", root / "history.sqlite")
    shutil.rmtree(root / "drive")
    shutil.copytree(keep / "drive", root / "drive")


def _stage_run(cfg: dict, root: Path, stage: str, count: str = "cpu") -> dict:
    kwargs = {"shared_drive": str(root / "drive")} if stage == "publish" else {}
    run = MEASURE[count](STAGE_CODE, json.dumps(cfg), stage, json.dumps(kwargs))
    # Instructions are counted for the whole process: its start and imports are a fixed count, which the fit takes out.
    run["stage_cpu"] = json.loads(run["out"])["stage_cpu"] if count == "cpu" else run["cpu"]
    run["unit"] = UNIT[count]
    return run


def first_round(root: Path, schools: int, term: str, stages: tuple, repeats: int = 1, count: str = "cpu",
                counted_stages: tuple = STAGES) -> dict:
    """The demo at `schools` and each of `stages` once, in order; with repeats to come, the history and drive as
    they were before each stage are kept for them (`again`). Counting instructions, a stage not among
    `counted_stages` runs only for the next stages' inputs, at full speed, and is not reported."""
    from demo_feeds.demo_generator import generate_demo

    t0 = time.perf_counter()
    demo = generate_demo(root / "landing", terms=[term], schools=schools)
    demo_s = time.perf_counter() - t0
    cfg = {"la_code": "999", "term": term, "landing": str(root / "landing"), "work_dir": str(root / "work"),
           "history_url": f"sqlite:///{root / 'history.sqlite'}", "run_id": "bench"}
    (root / "drive").mkdir(exist_ok=True)  # the LA marks the real share once: publish refuses a drive without it
    (root / "drive" / ".school-improvement-share").write_text("")
    runs = {}
    for stage in stages:
        if repeats > 1:
            _saved(root, stage)
        if count == "instructions" and stage not in counted_stages:
            _stage_run(cfg, root, stage)
            continue
        runs[stage] = [_stage_run(cfg, root, stage, count)]
        _print_run(schools, stage, runs[stage][-1])
    run_dir = root / "work" / "999" / term / "bench"
    return {"cfg": cfg, "root": root, "count": count, "schools": demo["schools"], "maintained": demo["maintained"],
            "demo_s": demo_s, "runs": runs, "pages": pdf_pages(run_dir / "staged") if "build_reports" in stages else 0,
            "landing": root / "landing" / "999" / term, "run_dir": run_dir}


def again(res: dict) -> None:
    """Each stage of a size once more, each from the history and drive it first started from, so that it does the
    same work (a re-run of categorise would otherwise compare with its first run's results in the history, and
    publish find its edition already on the drive)."""
    for stage, runs in res["runs"].items():
        _restore(res["root"], res["root"] / f"before-{stage}")
        runs.append(_stage_run(res["cfg"], res["root"], stage, res["count"]))
        _print_run(res["schools"], stage, runs[-1], len(runs))


def _print_run(schools: int, stage: str, run: dict, round_: int = 1) -> None:
    where = (f" ({run['stage_cpu']:6.1f} s in the stage){run['peak_mib']:7.0f} MiB" if run["unit"] == "s CPU" else "")
    print(f"  {schools:>5} schools  {stage:<16}{run['cpu']:7.1f} {run['unit']}{where}"
          + (f"  round {round_}" if round_ > 1 else ""), flush=True)


def kept_runs(res: dict) -> dict:
    """Per stage, its run of least CPU in the stage: the machine's noise only ever adds to a run, and every round
    does the same work."""
    return {stage: min(runs, key=lambda r: r["stage_cpu"]) for stage, runs in res["runs"].items()}


def _kept(root: str, schools: int) -> str:
    folder = Path(root) / str(schools)
    if folder.exists():
        shutil.rmtree(folder)  # a run of its own: no landing, run folder or history left by an earlier one
    folder.mkdir(parents=True)
    return str(folder)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, nargs="+", default=[250, 1000, 4000])
    ap.add_argument("--term", default="2025-26-spring")
    ap.add_argument("--keep", metavar="DIR", help="build each size under DIR/<schools> and keep it (landing, run "
                    "folder, history), to profile a stage there afterwards; default: temporary folders, removed")
    ap.add_argument("--repeats", type=int, default=1, help="run each stage this many times per size, in rounds over "
                    "the sizes (so that the machine's drift falls on every size alike), each from the same history and "
                    "drive, and keep its run of least CPU in the stage (the peak memory is that run's)")
    ap.add_argument("--last-stage", choices=STAGES, default=STAGES[-1], help="stop after this stage (the stages "
                    "before it still run, for its inputs): e.g. categorise, to repeat the evidence stages many times "
                    "without the reports' minutes; the floors need build_reports")
    ap.add_argument("--instructions", nargs="*", choices=STAGES, metavar="STAGE", help="count the instructions of "
                    "these stages (none named: every stage) under valgrind (cachegrind) instead of their CPU seconds: "
                    "the same figure on every run, whatever the machine's load; about 25 times slower, one round, no "
                    "floors or peak memory; the other stages run only for their inputs")
    ap.add_argument("--growth-only", action="store_true", help="the growth table only: no floors (at the smallest "
                    "size, the county) and no profile of build_reports at the largest size (about as much again as "
                    "the largest size's stages)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO / "include"))
    stages = STAGES[:STAGES.index(args.last_stage) + 1]
    count = "cpu" if args.instructions is None else "instructions"
    counted_stages = tuple(args.instructions or STAGES)
    floors = "build_reports" in stages and not args.growth_only and count == "cpu"
    repeats = 1 if count == "instructions" else args.repeats  # a count is the same every time

    base = MEASURE[count](IMPORT_CODE)
    print(f"python + domain package import: {base['cpu']:.1f} {UNIT[count]}"
          + (f", {base['peak_mib']:.0f} MiB" if count == "cpu" else "") + " (in every stage below)")
    with contextlib.ExitStack() as folders:
        results = []
        for n in args.schools:
            tmp = Path(_kept(args.keep, n) if args.keep else
                       folders.enter_context(tempfile.TemporaryDirectory(prefix=f"si-bench-{n}-")))
            results.append(first_round(tmp, n, args.term, stages, repeats, count, counted_stages))
        for _ in range(repeats - 1):
            for res in results:
                again(res)
        for res in results:
            res["stages"] = kept_runs(res)
        last = results[-1]
        if floors:
            county = min(results, key=lambda r: r["schools"])  # the county term: the floors at its pages
            tmp = county["root"]
            county["floor"] = measured(FLOOR_CODE, str(county["landing"]), str(county["pages"]), str(tmp / "floor.pdf"))
            for kind in ("plain", "profile"):
                county[f"floor_ua_{kind}"] = measured(FLOOR_UA_CODE, str(county["landing"]), str(county["pages"]),
                                                      str(tmp / f"floor-ua-{kind}.pdf"), kind)
            last["profile"] = measured(PROFILE_CODE, json.dumps(last["cfg"]))  # where the largest size's CPU goes
        report(results, base, repeats)


def report(results: list[dict], base: dict, repeats: int) -> None:
    sizes = [r["schools"] for r in results]
    stages = tuple(results[0]["runs"])  # those measured
    print()
    counting = results[0]["count"] == "instructions"
    print(("Growth: instructions (billions) per stage, counted by valgrind, each stage in its own process" if counting
           else "Growth: CPU seconds (peak MiB) per stage, each stage in its own process")
          + (f"; of {repeats} rounds over the sizes, each stage's run of least CPU" if repeats > 1 else ""))
    head = "".join(f"{f'{s:,} schools':>22}" for s in sizes)
    fixed, per = ("fixed G", "M instr/school added") if counting else ("fixed s", "ms/school added")
    print(f"{'stage':<16}{head}{'exponent':>10}{'growth k':>10}{fixed:>9}"
          + (f"{per:>{22 if counting else 18}}" if len(sizes) > 1 else "")
          + (f"{'k by round':>13}" if repeats > 1 else ""))
    for stage in stages + ("total",):
        if stage == "total":
            cpus = [sum(st["cpu"] for st in r["stages"].values()) for r in results]
            own = [sum(st["stage_cpu"] for st in r["stages"].values()) for r in results]
            peaks = [max(st["peak_mib"] for st in r["stages"].values()) for r in results]
            rounds = [[sum(runs[i]["stage_cpu"] for runs in r["runs"].values()) for r in results]
                      for i in range(repeats)]
        else:
            cpus = [r["stages"][stage]["cpu"] for r in results]
            own = [r["stages"][stage]["stage_cpu"] for r in results]
            peaks = [r["stages"][stage]["peak_mib"] for r in results]
            rounds = [[r["runs"][stage][i]["stage_cpu"] for r in results] for i in range(repeats)]
        # exponent: the slope of log CPU on log schools, less the interpreter+import start (paid once whatever the
        # size). growth k: the exponent of the part that grows, every fixed cost of the stage taken out
        # (fit_with_fixed_cost on the CPU in the stage's call: the start and imports are fixed, and only noise to
        # the fit); the goal (at most 1.05) reads growth k, since a fixed cost hides growth in the other.
        k = fit_exponent(sizes, [c - base["cpu"] * (len(stages) if stage == "total" else 1) for c in cpus])
        fit = fit_with_fixed_cost(sizes, own)
        cells = "".join(f"{c:12.1f} ({p:6.0f})" if p == p else f"{c:12.1f}{'':9}" for c, p in zip(cpus, peaks))
        # What one more school costs, between each pair of sizes: flat when the stage is linear.
        added = " ".join(f"{1000 * (c2 - c1) / (n2 - n1):.1f}"
                         for n1, n2, c1, c2 in zip(sizes, sizes[1:], own, own[1:]))
        # The exponent of each round alone: how far one round's noise moves it.
        by_round = [f[2] for f in map(lambda v: fit_with_fixed_cost(sizes, v), rounds) if f]
        spread = f"{min(by_round):.2f}-{max(by_round):.2f}" if by_round else "n/a"
        print(f"{stage:<16}{cells}{(f'{k:10.2f}' if k is not None else '       n/a')}"
              f"{(f'{fit[2]:10.2f}{fit[0]:9.1f}' if fit else '       n/a      n/a')}"
              + (f"{added:>{22 if counting else 18}}" if len(sizes) > 1 else "")
              + (f"{spread:>13}" if repeats > 1 else ""))
    if counting:
        print("  exponent: log instructions on log schools, less the interpreter+import start's; growth k: "
              "instructions = fixed + b x schools ** k; M instr/school added: between each pair of sizes")
    else:
        print("  exponent: log CPU on log schools, less the interpreter+import start; growth k: the CPU in the stage's "
              "call = fixed + b x schools ** k, the goal's figure (at most 1.05); ms/school added: of the CPU in the "
              "stage's call, between each pair of sizes"
              + ("; k by round: growth k of each round alone" if repeats > 1 else ""))
    if "build_reports" in stages:
        print(f"{'report pages':<16}" + "".join(f"{r['pages']:>22,}" for r in results))
    print(f"{'per school':<16}" + "".join(
        f"{1000 * sum(st['cpu'] for st in r['stages'].values()) / r['schools']:>{17 if counting else 19}.1f} "
        f"{'M instr' if counting else 'ms'}" for r in results))

    term = next((r for r in results if "floor" in r), None)  # the county term: the smallest size
    if term is None:
        return
    floor = term["floor"]
    county = sum(st["cpu"] for st in term["stages"].values())
    print()
    print(f"County term at {term['schools']:,} schools against the floor ({term['pages']:,} plain pages laid out and "
          f"written + pandas reading the same feed bytes, one process)")
    print(f"  stages: {county:.1f} s CPU in {len(STAGES)} processes ({county - len(STAGES) * base['cpu']:.1f} s "
          f"without the {len(STAGES)} interpreter+import starts)")
    print(f"  floor:  {floor['cpu']:.1f} s CPU, peak {floor['peak_mib']:.0f} MiB ({floor['out']})")
    print(f"  ratio stages / floor: {county / floor['cpu']:.2f} "
          f"(without the starts: {(county - (len(STAGES) - 1) * base['cpu']) / floor['cpu']:.2f}); goal <= 1.3")
    honest_floor(term, floor, county, base)
    above_floor(term, floor, base)
    largest = results[-1]
    if "profile" in largest:
        spent = json.loads(largest["profile"]["out"])
        total = sum(t for _, t in spent) or 1.0
        print()
        print(f"  build_reports at {largest['schools']:,} schools profiled (cProfile, "
              f"{largest['profile']['cpu']:.1f} s CPU with the profiler's own cost): self time by package, "
              f"the {len(spent)} largest")
        for key, t in spent:
            print(f"    {key:<44}{t:8.1f} s {100 * t / total:5.0f}%")


def honest_floor(term: dict, floor: dict, county: float, base: dict) -> None:
    """The floor as the brief requires the pages (tagged PDF/UA-1) and as the issue asks for them (profile pages),
    beside the plain one: how much of the ratio is those requirements and how much the project's own overhead."""
    if "floor_ua_plain" not in term:
        return
    plain, ua, prof = floor, term["floor_ua_plain"], term["floor_ua_profile"]
    starts = (len(STAGES) - 1) * base["cpu"]  # the stages' extra interpreter+import starts (the floor pays one)
    print()
    print(f"  The floor made honest ({term['pages']:,} pages, the same feed reading, each floor in its own process):")
    print(f"  {'floor':<58}{'CPU s':>8}{'peak MiB':>10}{'pages':>7}{'elements/page':>14}{'stages / floor':>16}"
          f"{'without starts':>16}")
    rows = [("plain, untagged text pages (the goal line above)", plain),
            ("(a) plain text pages, tagged PDF/UA-1 (the brief)", ua),
            ("(b) profile pages (tables, sparklines), tagged PDF/UA-1", prof)]
    for label, f in rows:
        out = json.loads(f["out"]) if f["out"].startswith("{") else {}
        print(f"  {label:<58}{f['cpu']:8.1f}{f['peak_mib']:10.0f}{out.get('pages', ''):>7}"
              f"{out.get('elements_per_page', ''):>14}{county / f['cpu']:16.2f}"
              f"{(county - starts) / f['cpu']:16.2f}")
    gap = county - plain["cpu"]
    if gap > 0:
        parts = [("PDF/UA-1 tagging, (a) - plain", ua["cpu"] - plain["cpu"]),
                 ("profile content, (b) - (a)", prof["cpu"] - ua["cpu"]),
                 ("the stages' extra interpreter+import starts", starts),
                 ("the project's own overhead, stages - (b) - starts", county - prof["cpu"] - starts)]
        print(f"  The {gap:.1f} s of stage CPU above the plain floor:")
        for label, v in parts:
            print(f"    {label:<56}{v:8.1f} s {100 * v / gap:5.0f}%")
        print("  (b) is a synthetic profile on every page, laid out with the library's own user-agent sheet (the report "
              "uses editions/lean_ua.py): an estimate of what the content costs, not a bound; the report's own pages "
              "average about 70 elements (735 pages, ~52,000 elements in the restricted report at 627 schools).")


def above_floor(term: dict, floor: dict, base: dict) -> None:
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
    print(f"  Where the CPU above the floor goes ({term['schools']:,} schools; each stage less one interpreter+import "
          f"start of {base['cpu']:.1f} s; floor: {read_floor:.1f} s reading the feeds, {render_floor:.1f} s laying out "
          f"and writing {term['pages']:,} plain pages, {floor['cpu'] - read_floor - render_floor:.1f} s its own start)")
    print(f"  {'stage':<16}{'CPU s':>8}{'floor s':>9}{'above s':>9}{'of all above':>14}")
    rows = []
    for stage in STAGES:
        cpu = max(term["stages"][stage]["cpu"] - base["cpu"], 0.0)
        part = FLOOR_PART.get(stage)
        f = 0.0
        if part:  # the read floor once, shared by the stages that read and check the feeds, in proportion
            sharers = [s for s in STAGES if FLOOR_PART.get(s) == part]
            total = sum(max(term["stages"][s]["cpu"] - base["cpu"], 0.0) for s in sharers) or 1.0
            f = floor_of[part] * cpu / total
        rows.append((stage, cpu, f, cpu - f))
    above = sum(r[3] for r in rows) or 1.0
    for stage, cpu, f, a in sorted(rows, key=lambda r: -r[3]):
        print(f"  {stage:<16}{cpu:8.1f}{f:9.1f}{a:9.1f}{100 * a / above:13.0f}%")


if __name__ == "__main__":
    main()
