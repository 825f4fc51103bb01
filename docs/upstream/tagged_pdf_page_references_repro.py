"""Minimal reproduction: WeasyPrint's tagged (PDF/UA) write reads pydyf's `PDF.page_references` once per tagged
box, and each read builds a tuple of every page, so the write costs boxes x pages.

    pip install weasyprint==70.0      # pydyf 0.13.0
    python tagged_pdf_page_references_repro.py

Prints, per page count: the reads of `page_references` during `write_pdf`, the CPU seconds of the write without
and with a cached tuple, and whether the bytes are identical. Nothing but WeasyPrint and pydyf is imported.
"""

import io
import time

import pydyf
from weasyprint import HTML

ORIGINAL = pydyf.PDF.__dict__["page_references"]
READS = 0


def counting(pdf):
    global READS
    READS += 1
    return ORIGINAL.fget(pdf)


def cached(pdf):
    key = len(pdf.pages["Kids"])
    hit = pdf.__dict__.get("_refs")
    if hit is None or hit[0] != key:
        hit = pdf.__dict__["_refs"] = (key, ORIGINAL.fget(pdf))
    return hit[1]


def document(pages: int, rows_per_page: int = 40):
    rows = "".join(f"<tr><td>row {r}</td><td>{r}</td></tr>" for r in range(rows_per_page))
    page = f"<h2>Section</h2><table><tr><th>Name</th><th>Figure</th></tr>{rows}</table>"
    html = "<html lang='en'><head><title>repro</title></head><body>" + \
        "<div style='break-after: page'></div>".join(page for _ in range(pages)) + "</body></html>"
    return HTML(string=html).render(pdf_variant="pdf/ua-1")


def write(doc, getter) -> tuple[float, bytes]:
    pydyf.PDF.page_references = property(getter)
    try:
        out = io.BytesIO()
        t0 = time.process_time()
        doc.write_pdf(out, pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)
        return time.process_time() - t0, out.getvalue()
    finally:
        pydyf.PDF.page_references = ORIGINAL


if __name__ == "__main__":
    import os

    os.environ["SOURCE_DATE_EPOCH"] = "0"  # reproducible font subsets, so the bytes can be compared
    print(f"{'pages':>6} {'reads':>8} {'write s':>9} {'cached s':>9} {'ratio':>6}  identical")
    for pages in (50, 100, 200, 400):
        doc = document(pages)
        READS = 0
        plain_s, plain = write(doc, counting)
        cached_s, fast = write(doc, cached)
        print(f"{len(doc.pages):>6} {READS:>8} {plain_s:>9.2f} {cached_s:>9.2f} {plain_s / cached_s:>6.2f}  {plain == fast}")
