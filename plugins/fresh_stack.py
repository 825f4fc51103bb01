"""Run a stage at the start of a fresh block of CPython's frame stack, so its hot loops cannot straddle a block edge.

Why: CPython 3.11 keeps the frames of Python calls on a per-thread stack made of 16 KiB blocks ("data stack
chunks"). A call whose frame does not fit in the current block maps a new block (mmap) and the return unmaps it
(munmap), so a loop that calls a function at exactly the depth of a block edge pays an mmap, a munmap and a page
fault on every call (CPython issue gh-142183, "Calls across stack chunks perform badly", fixed in 3.13+ by keeping
one spare block; not in 3.11). Whether a stage hits an edge depends only on how deep the stack already is when it
starts. In one Python process a stage starts a few frames deep and does not; in an Airflow task on a Celery worker
it starts under about a hundred inherited frames (Celery's pool loop, the Task SDK supervisor that forked the task,
the task runner, the operator), and the validate stage measured 3.3 s of CPU and 333,000 minor page faults there
against 1.5 s and 16,000 in a plain fork of the same preloaded process: the edge sat in a pandas / Great
Expectations loop. Padding the stack of that plain fork by about 100 small frames reproduced it (3.3 s, 310,000 faults).

The fix: call the stage through a function whose own frame is larger than any free space left in an ordinary
block (FRAME_WORDS locals, never assigned). CPython must then map a new block for it, sized to the next power of
two above the frame plus its minimum overhead: 128 KiB, of which about 70 KiB is left free above the trampoline's
frame for the stage's own calls. The stage then starts at a known place, with more room before the next edge than
in a plain Python process (whose first block is 16 KiB), however deep the caller was. The cost is one 128 KiB
mapping per call. Python versions that cache a spare block (3.13 and later) do not need this, and are not harmed by it.
"""

from __future__ import annotations

from typing import Any, Callable

# Words (8 bytes each) of the trampoline's frame: above 2,048 so it never fits in a 16 KiB block that already holds
# a frame, and (with CPython's 1,000-word minimum overhead) just above 64 KiB, so the new block is 128 KiB with
# about 70 KiB free above it.
FRAME_WORDS = 7200


def _trampoline(fn, /, *args, **kwargs):
    return fn(*args, **kwargs)


# The same function with FRAME_WORDS more local variables, none ever assigned: only its frame grows. (Built from the
# code object rather than from source, which would take 20 ms to compile in every process that loads plugins/.)
_code = _trampoline.__code__
_names = _code.co_varnames + tuple(f"_w{i}" for i in range(FRAME_WORDS))
_trampoline.__code__ = _code.replace(co_varnames=_names, co_nlocals=len(_names))


def call_on_fresh_stack(fn: Callable[..., Any], /, *args, **kwargs) -> Any:
    """`fn(*args, **kwargs)`, with its frames at the start of a fresh 128 KiB block of the frame stack."""
    return _trampoline(fn, *args, **kwargs)
