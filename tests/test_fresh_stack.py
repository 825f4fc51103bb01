"""plugins/fresh_stack.py: a stage called through it cannot sit on an edge of CPython's frame-stack blocks.

The measure is the process's minor page faults (not time): a loop whose callee's frame lands on a block edge maps a
fresh block on every call and faults on its first page, so N calls cost about N faults; off an edge they cost none.
The loop is run under every stack depth across more than one 16 KiB block, once called directly (on this Python the
edge must be found at some depth: that shows the measure can see it) and once through call_on_fresh_stack (no depth
may show it). Each run is in a fresh interpreter, so pytest's own stack and allocations do not blur the count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CALLS = 2000

SCAN = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from fresh_stack import call_on_fresh_stack
through = sys.argv[2] == "fresh"
CALLS = int(sys.argv[3])

def callee():  # a frame larger than pad's, so some depth puts the edge between the loop's frame and this one
    a = b = c = d = e = f = g = h = i = j = k = l = m = n = o = p = q = r = s = t = u = v = w = x = y = z = 0
    return a

def loop():
    for _ in range(CALLS):
        callee()

def pad(depth, fn):
    return fn() if depth == 0 else pad(depth - 1, fn)

def faults(depth):
    def measured():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        call_on_fresh_stack(loop) if through else loop()
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return pad(depth, measured)

loop()  # warm: first-call costs are not the edge's
print(json.dumps({depth: faults(depth) for depth in range(0, 400)}))
"""


def _scan(how: str) -> dict[int, int]:
    out = subprocess.run([sys.executable, "-c", SCAN, str(REPO / "plugins"), how, str(CALLS)],
                         capture_output=True, text=True, timeout=300, check=True)
    return {int(k): v for k, v in json.loads(out.stdout).items()}


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="CPython 3.13+ keeps a spare block: no edge to find")
def test_a_loop_on_a_block_edge_faults_on_every_call():
    """The measure sees the problem: at some depth, the direct loop faults about once per call."""
    faults = _scan("direct")
    worst = max(faults, key=faults.get)
    assert faults[worst] >= CALLS * 0.9, f"no depth put the loop on a block edge: {faults}"
    assert sorted(faults.values())[len(faults) // 2] < CALLS / 20  # most depths do not


def test_through_call_on_fresh_stack_no_depth_faults_per_call():
    faults = _scan("fresh")
    worst = max(faults, key=faults.get)
    # A fresh 128 KiB block is mapped on each call: its first pages fault, a handful, not one per loop iteration.
    assert faults[worst] < CALLS / 20, f"at depth {worst} the loop faulted {faults[worst]} times"


def test_call_on_fresh_stack_passes_arguments_and_results_and_exceptions():
    sys.path.insert(0, str(REPO / "plugins"))
    from fresh_stack import call_on_fresh_stack

    assert call_on_fresh_stack(lambda a, /, b, *, c=0: (a, b, c), 1, 2, c=3) == (1, 2, 3)
    with pytest.raises(ZeroDivisionError):
        call_on_fresh_stack(lambda: 1 / 0)
