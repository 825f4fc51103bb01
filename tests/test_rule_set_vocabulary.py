"""All of the policy in the rule set, in one vocabulary (issue 11).

- Every rule-set key is a field of the pydantic model (unknown keys fail to load) and every field is read by code.
- Code under include/ names no rule id, intelligence flag or letter: those are rule-set and vocabulary data.
- The feed specs, the Great Expectations value sets, the demo and the report labels take their codes from the
  vocabulary, and a rule set naming a code outside it fails to load.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from school_improvement import EXPECTATIONS_DIR, INCLUDE_DIR, PACKAGE_DIR, RULES_DIR, rules as rules_mod
from school_improvement import vocabulary as vocab_mod
from school_improvement.errors import RulesError
from school_improvement.rules import all_rule_sets, load_rule_set
from school_improvement.vocabulary import VOCAB

# Fields for the reader of the YAML, not the code: shown in the docs, never policy.
DOCUMENTATION_FIELDS = {"note", "source", "description"}
# Issue 10's block (years with no published results), read by the results code of that change.
OPTIONAL_FREE_BLOCKS = {"published_results"}
# Validation-only functions do not count as reading a key: a key only validated changes nothing.
VALIDATION_ONLY = {"_vocabulary_problems", "_consistent", "_one_kind", "all_evidence", "_bands_known",
                   "_classes_known", "load_rule_set", "_load_raw", "_merge", "_where", "_messages",
                   "_located_mapping", "_evidence_paths", "_load_rule_set", "_threshold_problems", "_files_signature",
                   "_leaves"}


def _code_corpus() -> str:
    """The source that uses rule sets: every module, and of rules.py / vocabulary.py only the non-validation code."""
    parts = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        if path.name not in ("rules.py", "vocabulary.py"):
            parts.append(src)
            continue
        tree = ast.parse(src)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in VALIDATION_ONLY:
                parts.append(ast.get_source_segment(src, node) or "")
    return "\n".join(parts)


def _models(module) -> list[type[BaseModel]]:
    return [v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == module.__name__]


@pytest.mark.slow  # every rule set read and every module under include/ searched (over test-fast's CPU budget)
@pytest.mark.parametrize("module", [rules_mod, vocab_mod], ids=["rules", "vocabulary"])
def test_every_rule_set_and_vocabulary_key_is_read_by_code(module):
    corpus = _code_corpus()
    unread = []
    for model in _models(module):
        assert model.model_config.get("extra") == "forbid", f"{model.__name__} must forbid unknown keys"
        for name in model.model_fields:
            if name in DOCUMENTATION_FIELDS | OPTIONAL_FREE_BLOCKS:
                continue
            if not re.search(rf"\.{name}\b|[\"']{name}[\"']", corpus):
                unread.append(f"{model.__name__}.{name}")
    assert not unread, f"keys read by nothing (policy that changes nothing): {unread}"


@pytest.mark.slow  # every rule set read and every module under include/ searched (over test-fast's CPU budget)
def test_every_threshold_is_read_by_code():
    corpus = _code_corpus()
    for rs in all_rule_sets():
        unread = [k for k in rs.thresholds if not re.search(rf"[\"']{k}[\"']", corpus)]
        assert not unread, f"{rs.id}: thresholds read by nothing: {unread}"


@pytest.mark.slow  # every rule set read and every module under include/ searched (over test-fast's CPU budget)
def test_the_detector_finds_an_unread_key(tmp_path):
    """The check above can fail: an unknown key is refused when the rule set loads."""
    raw = yaml.safe_load((RULES_DIR / "cambs-2021-23.yaml").read_text(encoding="utf-8"))
    raw["member_alerts"]["told"] = "School name and ward"
    (tmp_path / "cambs-2021-23.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(RulesError, match="told"):
        load_rule_set("cambs-2021-23", tmp_path)


@pytest.mark.parametrize("edit, says", [
    (lambda r: r["criteria"][0]["evidence"].append({"intelligence": ["safeguardng"]}), "unknown intelligence flag"),
    (lambda r: r["member_alerts"]["letters_issued"].append("final_warning"), "not in the vocabulary"),
    (lambda r: r["criteria"][0].update(level="amber"), "level 'amber'"),
    (lambda r: r["criteria"][0]["evidence"].append({"indicator": "attainment_wobbly"}), "unknown indicators"),
    (lambda r: r["criteria"][0]["evidence"].append({"adviser": "LM-X9"}), "unknown criterion"),
    (lambda r: r.pop("review_by"), "review_by"),
])
def test_a_rule_set_is_validated_against_the_vocabulary_when_it_loads(tmp_path, edit, says):
    raw = yaml.safe_load((RULES_DIR / "cambs-2021-23.yaml").read_text(encoding="utf-8"))
    edit(raw)
    (tmp_path / "cambs-2021-23.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(RulesError, match=re.escape(says)):
        load_rule_set("cambs-2021-23", tmp_path)


def _rule_ids() -> set[str]:
    ids = set()
    for rs in all_rule_sets():
        ids |= {c.id for c in rs.criteria} | {o.id for o in rs.overriding.conditions}
        ids |= {i.id for r in rs.letters.values() for i in r.indicators} | {i.id for i in rs.academy_concerns.indicators}
    return ids


def _feed_names() -> set[str]:
    """Feed kinds and column names: the readers' words, which happen to share a few flags' spelling."""
    from school_improvement.ingest import feeds

    names = set(feeds.FEED_KINDS)
    for v in vars(feeds).values():
        if isinstance(v, list) and v and hasattr(v[0], "name"):
            names |= {c.name for c in v}
        if isinstance(v, dict):
            for cols in v.values():
                if isinstance(cols, list) and cols and hasattr(cols[0], "name"):
                    names |= {c.name for c in cols}
    return names


# The demo generator writes fictional feeds: it names flags and letters as an LA officer would type them.
CODE_EXEMPT = {"demo_feeds"}


@pytest.mark.slow  # every rule set read and every module under include/ searched (over test-fast's CPU budget)
def test_code_under_include_names_no_rule_id_flag_or_letter():
    ids, readers = _rule_ids(), _feed_names()
    codes = (set(VOCAB.intelligence_flags) | set(VOCAB.letters)) - readers
    rule_id = re.compile(r"\b(?:[A-Z]{2,3})-[A-Z]?\d{1,2}\b")
    found = []
    for path in sorted(INCLUDE_DIR.rglob("*.py")):
        if path.relative_to(INCLUDE_DIR).parts[0] in CODE_EXEMPT:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                s = node.value
                if s in codes or any(m in ids for m in rule_id.findall(s)):
                    found.append(f"{path.relative_to(INCLUDE_DIR)}:{node.lineno}: {s[:60]!r}")
    assert not found, "policy written in Python (move it to the rule set):\n" + "\n".join(found)


def test_feed_specs_demo_expectations_and_labels_take_codes_from_the_vocabulary():
    from demo_feeds import demo_generator as demo
    from school_improvement.ingest import feeds
    from school_improvement.editions import cells

    assert feeds.INTELLIGENCE_FLAGS == tuple(VOCAB.intelligence_flags)
    assert feeds.LETTER_TYPES == tuple(VOCAB.letters)
    assert set(feeds.MODERATION_CATEGORIES) == set(VOCAB.support_levels)
    assert tuple(demo.INTEL_FLAGS) == feeds.INTELLIGENCE_FLAGS and tuple(demo.LETTER_CODES) == feeds.LETTER_TYPES
    for kind, column, expected in [("la_intelligence", "flag", list(VOCAB.intelligence_flags)),
                                   ("la_intelligence", "severity", VOCAB.severities),
                                   ("letters_log", "letter", list(VOCAB.letters)),
                                   ("moderation", "final_category", list(VOCAB.support_levels)),
                                   ("adviser_judgements", "area", list(VOCAB.areas))]:
        suite = json.loads((Path(EXPECTATIONS_DIR) / f"{kind}.json").read_text(encoding="utf-8"))
        sets = [e["kwargs"]["value_set"] for e in suite["expectations"]
                if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == column]
        assert sets == [expected], f"{kind}.json value set for {column} differs from include/vocabulary.yaml"
    for code, label in VOCAB.support_levels.items():
        assert cells.LEVEL_LABELS[code] == label
    for code, label in VOCAB.letters.items():
        assert cells.LETTER_LABELS[code] == label


def test_every_rule_set_uses_only_vocabulary_codes():
    for rs in all_rule_sets():
        assert set(rs.levels) <= set(VOCAB.support_levels)
        for _, evidence in rs.all_evidence():
            for e in evidence:
                assert set(e.intelligence or []) <= set(VOCAB.intelligence_flags)
                assert set(e.letter_issued or []) <= set(VOCAB.letters)


def test_the_la_feeds_doc_lists_the_vocabulary():
    doc = (INCLUDE_DIR.parent / "docs" / "LA_FEEDS.md").read_text(encoding="utf-8")
    row = next(ln for ln in doc.splitlines() if ln.startswith("| `flag` |"))
    assert re.findall(r"`(\w+)`", row.split("|")[3])[1:] == list(VOCAB.intelligence_flags)  # after `intelligence_flags`
    row = next(ln for ln in doc.splitlines() if ln.startswith("| `severity` |"))
    assert re.findall(r"`(\w+)`", row)[1:] == VOCAB.severities
