"""validate's cache of Great Expectations' metric ids (quality/gx_speed.py): the same ids as the library's, never one
of other content, and the library's method back after the block. (That a whole validation's results are the same
with and without the block is test_quality.py's test_configurations_built_once_changes_no_result_and_restores_gx.)"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from school_improvement.quality.gx_speed import _plain_key, configurations_built_once


def test_plain_key_names_type_and_content_and_refuses_other_values():
    assert _plain_key({"a": 1, "b": [1, 2]}) == _plain_key({"b": [1, 2], "a": 1})  # JSON with sorted keys: the same
    assert _plain_key({"a": [1, 2]}) != _plain_key({"a": [2, 1]})
    assert len({_plain_key(v) for v in (1, True, 1.0, "1", None, 0.0, -0.0)}) == 7  # different JSON, different keys
    assert _plain_key({"a": [1, 2]}) != _plain_key({"a": (1, 2)})  # the same JSON, but never wrong to tell apart
    for other in (np.int64(1), {1, 2}, dt.datetime(2026, 1, 1), {1: "a"}, {"a": {"b": np.float64(0.5)}}):
        assert _plain_key(other) is None  # the library's own conversion, uncached

    class Text(str):
        pass

    assert _plain_key(Text("a")) is None


CASES = [
    ({"column": "urn", "value_set": [100001, 100002], "parse_strings_as_datetimes": False}, None, None),
    ({"value_set": [100001, 100002], "column": "urn", "parse_strings_as_datetimes": False}, None, None),
    ({"column": "urn", "value_set": [100001, 100002, 100003], "parse_strings_as_datetimes": False}, None, None),
    ({"column": "urn", "value_set": [100001, 100002], "parse_strings_as_datetimes": False}, None, {"value_set"}),
    ({"column": "urn", "value_set": [100001, 100002], "parse_strings_as_datetimes": False}, {"column"}, None),
    ({"column": "x", "min_value": 0.0, "max_value": None}, None, None),
    ({"column": "x", "min_value": -0.0, "max_value": None}, None, None),
    ({"column": "x", "min_value": 1, "max_value": None}, None, None),
    ({"column": "x", "min_value": True, "max_value": None}, None, None),
    ({"column": "x", "min_value": float("nan"), "max_value": "2026-01-15T00:00:00"}, None, None),
    ({"column": "x", "max_value": dt.datetime(2026, 1, 15), "mostly": np.float64(0.9)}, None, None),
    ({"column_list": ["urn", "term"], "ignore_row_if": "all_values_are_missing", "row_condition": None}, None, None),
    ({}, None, None),
]


def test_ids_within_the_block_are_the_librarys():
    from great_expectations.core.id_dict import IDDict

    library = IDDict.__dict__["to_id"]
    expected = [library(IDDict(d), keys, ignore) for d, keys, ignore in CASES]
    assert expected[0] == expected[1] and len(set(expected)) == len(CASES) - 1  # alike only where their JSON is
    with configurations_built_once():
        assert IDDict.__dict__["to_id"] is not library
        for _ in range(2):  # first computed, then from the cache
            assert [IDDict(d).to_id(keys, ignore) for d, keys, ignore in CASES] == expected
        changed = IDDict({"column": "urn", "value_set": [100001, 100002], "parse_strings_as_datetimes": False})
        first = changed.to_id()
        changed["value_set"].append(100003)  # the same object, other content: another id
        assert changed.to_id() == expected[2] != first
    assert IDDict.__dict__["to_id"] is library
    with pytest.raises(RuntimeError), configurations_built_once():
        raise RuntimeError("a check that fails mid-way")
    assert IDDict.__dict__["to_id"] is library
