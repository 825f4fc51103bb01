"""Great Expectations builds each expectation's configuration anew every time it is read: keep it while validating.

`Expectation.configuration` is a property that serialises the pydantic model (`self.dict()`) and builds a new
`ExpectationConfiguration` on each read. GX 1.24 reads it about 90 times per expectation per validation (once
per domain, success and runtime keyword, per metric it depends on), which made it about a fifth of validate's
CPU: a fixed cost per expectation, paid for every feed of every LA. Nothing changes an expectation while it is
validated, so within `configurations_built_once()` each expectation object's configuration is built on its first
read and reused. The library's own property is restored when the block ends (also on an error), and the objects
are held only for the block, so an id is never reused while cached. The results are the same: the checks'
problems are compared with and without it in tests/test_quality.py.

The Data Docs validate writes have the same kind of fixed cost: GX makes a new Jinja Environment for every view, so
each page compiled the same templates again (about a fifth of validate's CPU for a 34-school LA). Within
`data_docs_templates_compiled_once()` the views share one bytecode cache, filled before a Celery worker forks
(plugins/worker_preload.py): validate 1.33 -> 1.17 s CPU per LA (forks of a warmed process, two alternating pairs
of three). The pages are the same with and without it (tests/test_quality.py).
"""

from __future__ import annotations

import copy
from contextlib import contextmanager


def scipy_stats_when_used() -> None:
    """Import Great Expectations without executing `scipy.stats` until something uses it.

    GX imports `from scipy import stats` at the top of three modules (the KL-divergence expectation and the two
    Kolmogorov-Smirnov metrics) that every `import great_expectations` loads, and reads `stats` only inside their
    functions; none of this project's suites uses them. Executing scipy.stats (about 490 modules with scipy's own)
    was about 1.5 s of the 5.5 s of CPU that importing GX costs each validate process, a fixed cost per LA. Here
    `scipy.stats` is registered with the standard library's `importlib.util.LazyLoader`: the same module, executed
    in full on its first attribute read, so an expectation that does use it gets scipy's own functions. Called
    before GX is first imported; once GX (or scipy.stats) is loaded it does nothing."""
    import importlib.util
    import sys

    if "scipy.stats" in sys.modules or "great_expectations" in sys.modules:
        return
    spec = importlib.util.find_spec("scipy.stats")  # imports the `scipy` package itself (small), not its stats
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scipy.stats"] = module
    spec.loader.exec_module(module)  # lazy: executes nothing until an attribute is read
    setattr(sys.modules["scipy"], "stats", module)  # as the import system binds a submodule on its parent


@contextmanager
def configurations_built_once():
    """Within the block, each expectation's configuration is built once, and so is each configuration's expectation.

    The second half: `ExpectationConfiguration.to_domain_obj()` builds a new pydantic Expectation on every call, and
    GX 1.24 calls it for every metric an expectation depends on (`registry.get_metric_kwargs`, to read the
    expectation's runtime keyword arguments) besides twice in `graph_validate`: about 8 calls per expectation in a
    validation. Within the block a configuration's expectation is built on its first call and given again while the
    configuration is unchanged (every field the library's method reads, compared with a deep copy taken then):
    validate 1.31 -> 1.26 s of CPU per LA (forks of a warmed process, a 34-school demo LA, four alternating pairs of
    two forks: 0.03-0.08 s less in each pair). The results are the same, expectation by expectation
    (tests/test_quality.py).

    And each metric's id is worked out once per content. Every `MetricConfiguration` GX builds while it works out
    which metrics an expectation needs names itself by `IDDict.to_id()` of its keyword arguments (and a metric's
    hash asks again: about 13,800 calls for a 34-school demo LA's validate): GX's `convert_to_json_serializable`
    over them (the known-to-GIAS check's value set is every URN of the LA, in each of that check's metrics), JSON
    with sorted keys, then an MD5. The same arguments recur for every metric of an expectation, so within the block
    an id is kept under a key naming the arguments' exact types and values (`_plain_key`; arguments holding any
    other type are worked out by the library every time) and given again for the same arguments: a third of GX's
    validation CPU, validate 0.94-1.04 -> 0.74-0.84 s per call for a 34-school demo LA (in-process, three
    alternating pairs of six calls), and the same ids as the library's (tests/test_gx_ids.py)."""
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    original = Expectation.__dict__["configuration"]
    original_to_domain_obj = ExpectationConfiguration.__dict__["to_domain_obj"]
    original_to_id = IDDict.__dict__["to_id"]
    built: dict[int, tuple] = {}
    domain: dict[int, tuple] = {}
    ids: dict[tuple, str] = {}

    def configuration(self):
        hit = built.get(id(self))
        if hit is None:
            hit = built[id(self)] = (self, original.fget(self))  # the object is held, so its id stays its own
        return hit[1]

    def to_domain_obj(self):
        state = (self.type, self.kwargs, self.meta, self.severity, self.id, self.notes, self.description,
                 self.rendered_content)  # everything the library's to_domain_obj reads
        hit = domain.get(id(self))
        if hit is None or hit[1] != state:
            hit = domain[id(self)] = (self, copy.deepcopy(state), original_to_domain_obj(self))  # held: ids stay
        return hit[2]

    def to_id(self, id_keys=None, id_ignore_keys=None):
        keys = set(self.keys() if id_keys is None else id_keys) - set(
            self._id_ignore_keys if id_ignore_keys is None else id_ignore_keys)
        if len(keys) < 2:  # the library's own short answer ("key=value" or ())
            return original_to_id(self, id_keys, id_ignore_keys)
        key = _plain_key({k: self[k] for k in keys})
        if key is None:  # a value of another type: the library's own conversion, uncached
            return original_to_id(self, id_keys, id_ignore_keys)
        hit = ids.get(key)
        if hit is None:
            hit = ids[key] = original_to_id(self, id_keys, id_ignore_keys)
        return hit

    Expectation.configuration = property(configuration, doc=original.__doc__)
    ExpectationConfiguration.to_domain_obj = to_domain_obj
    IDDict.to_id = to_id
    try:
        yield
    finally:
        Expectation.configuration = original
        ExpectationConfiguration.to_domain_obj = original_to_domain_obj
        IDDict.to_id = original_to_id
        built.clear()
        domain.clear()
        ids.clear()


_PLAIN = (str, int, bool, type(None))


def _plain_key(value):
    """A hashable key naming `value` exactly by type and content, for values made only of dicts (string keys),
    lists, tuples, strings, integers, booleans, floats and None; None for anything else. Two values with the same key
    have the same JSON after GX's `convert_to_json_serializable` (exact types only: a subclass, a numpy or pandas
    scalar, a set or any other object is not keyed; a float is keyed by its repr, so 0.0 and -0.0 differ)."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is float:
        return (float, repr(value))
    if kind is dict:
        items = []
        for k, v in value.items():
            if type(k) is not str:
                return None
            v = _plain_key(v)
            if v is None:
                return None
            items.append((k, v))
        return (dict, tuple(sorted(items)))
    if kind is list or kind is tuple:
        items = []
        for v in value:
            v = _plain_key(v)
            if v is None:
                return None
            items.append(v)
        return (kind, tuple(items))
    return None


_DATA_DOCS_CODE = None  # one per process; a Celery worker fills it before forking (plugins/worker_preload.py)


def _data_docs_cache():
    """Jinja's bytecode cache, in memory (`.code`): a template's compiled code keyed by its name and file, checked
    against the sha1 of its source on every load (Jinja's own Bucket logic), so a changed template is compiled again.
    Made on first use, so that importing this module does not import Jinja."""
    global _DATA_DOCS_CODE
    if _DATA_DOCS_CODE is None:
        from jinja2 import BytecodeCache

        class InMemory(BytecodeCache):
            def __init__(self):
                self.code: dict[str, bytes] = {}

            def load_bytecode(self, bucket) -> None:
                data = self.code.get(bucket.key)
                if data is not None:
                    bucket.bytecode_from_string(data)  # a stale checksum leaves the bucket empty: compiled anew

            def dump_bytecode(self, bucket) -> None:
                self.code[bucket.key] = bucket.bytecode_to_string()

        _DATA_DOCS_CODE = InMemory()
    return _DATA_DOCS_CODE


@contextmanager
def data_docs_templates_compiled_once():
    """Within the block, GX's Data Docs views share one bytecode cache for their Jinja templates.

    Every `DefaultJinjaView` GX creates while building Data Docs makes its own Jinja Environment, so each page,
    section and component view compiled the same templates again: about a fifth of validate's CPU for a small
    LA. The views' environments are all made alike by GX (its two template packages, the same autoescape and
    extension; the custom folders GX allows are not used here, and a view given one keeps its own compile), so their
    compiled code is the same; Jinja's bytecode cache reuses it, keyed by template name and file and checked
    against the source's checksum on each load. GX's own constructor is restored when the block ends."""
    from great_expectations.render.view.view import DefaultJinjaView

    original = DefaultJinjaView.__dict__["__init__"]
    cache = _data_docs_cache()

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.custom_styles_directory is None and self.custom_views_directory is None:
            self.env.bytecode_cache = cache

    DefaultJinjaView.__init__ = __init__
    try:
        yield
    finally:
        DefaultJinjaView.__init__ = original


def compile_data_docs_templates() -> int:
    """Compile every template of GX's Data Docs views into the shared cache (the worker's warm-up, before it forks),
    so no task compiles them; returns how many compiled."""
    from great_expectations.render.view.view import DefaultJinjaView

    done = 0
    with data_docs_templates_compiled_once():
        env = DefaultJinjaView().env
        for name in env.list_templates():  # the views' templates and the stylesheets they include
            env.get_template(name)
            done += 1
    return done
