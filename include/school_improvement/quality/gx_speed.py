"""Great Expectations builds each expectation's configuration anew every time it is read: keep it while validating.

`Expectation.configuration` is a property that serialises the pydantic model (`self.dict()`) and builds a new
`ExpectationConfiguration` on each read. GX 1.24 reads it about 90 times per expectation per validation (once
per domain, success and runtime keyword, per metric it depends on), which made it about a fifth of validate's
CPU: a fixed cost per expectation, paid for every feed of every LA. Nothing changes an expectation while it is
validated, so within `configurations_built_once()` each expectation object's configuration is built on its first
read and reused. The library's own property is restored when the block ends (also on an error), and the objects
are held only for the block, so an id is never reused while cached. The results are the same: the checks'
problems are compared with and without it in tests/test_quality.py.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def configurations_built_once():
    from great_expectations.expectations.expectation import Expectation

    original = Expectation.__dict__["configuration"]
    built: dict[int, tuple] = {}

    def configuration(self):
        hit = built.get(id(self))
        if hit is None:
            hit = built[id(self)] = (self, original.fget(self))  # the object is held, so its id stays its own
        return hit[1]

    Expectation.configuration = property(configuration, doc=original.__doc__)
    try:
        yield
    finally:
        Expectation.configuration = original
        built.clear()
