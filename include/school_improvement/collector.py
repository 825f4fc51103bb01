"""Python's cyclic garbage collector while a stage runs: few full collections, the objects alive before it frozen.

Python collects its oldest generation whenever the long-lived objects have grown by a quarter, and a full
collection walks every live object. A stage that builds its tables as Python objects (a report's layout; the
evidence stage's checks, 327,200 of them at 4,000 schools; categorise's index of them) keeps growing its long-lived
objects, so it pays more full passes over a larger heap the more schools there are: cost that grows faster than
the schools. The garbage those stages make is nearly all freed by reference counting, so the collector need not
walk their objects while they run; what cycles they leave are freed once the thresholds are restored (or the
process ends).
"""

from __future__ import annotations

import contextlib
import gc

# A report part: the collector does not run by itself at all (a threshold of 0); the write's own collection
# (editions/render.py `_write(release_layout=True)`) frees the layout. Why, with the figures: editions/render.py.
REPORT_GC_THRESHOLDS = (0, 20, 100)
# The evidence and categorise stages (pipeline.py): the young generations collected as by default, the oldest one
# never by itself (a full collection only after a million collections of the middle one). At 4,000 schools
# categorise paid 8 full collections, 1.5 s of its 11 s of CPU, against 4 (0.4 s) at 1,000. The young ones stay:
# without them (a report part's thresholds) the evidence stage's peak at 4,000 schools rose from 645 to 680 MiB.
STAGE_GC_THRESHOLDS = (700, 10, 1_000_000)
# True in a process whose objects were frozen for good before it forked its task processes (a Celery worker's
# preload sets it, plugins/worker_preload.py), and so in every fork: `few_full_collections` then knows they are frozen
# without counting them (`gc.get_freeze_count()` walks every frozen object: 45 ms of CPU in a fork of a preloaded
# worker, once per report part).
OBJECTS_FROZEN_FOR_GOOD = False


@contextlib.contextmanager
def few_full_collections(thresholds: tuple[int, int, int] = REPORT_GC_THRESHOLDS):
    """Run the block with the collector's `thresholds`, the objects alive before it (inputs, modules) frozen, so
    that collection does not walk them. Restored afterwards; objects already frozen before (a Celery worker's
    preloaded modules, plugins/worker_preload.py) stay frozen, so the task process never walks them either."""
    already_frozen = OBJECTS_FROZEN_FOR_GOOD or gc.get_freeze_count()
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if not already_frozen:
            gc.unfreeze()
