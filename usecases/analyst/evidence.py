"""A flag's evidence as an analyst reads it: the rule's sentence and every fact in words.

The checks store evidence as ``{rule, code, rule_version, facts}`` with the very facts of
``rnu.eligibility.evaluate.RuleCheck`` (so the sentence is the one ``rnu explain`` writes);
the duplicate, PGH-duplicate and list checks and citizen reports store their own facts. The
pages showed these as codes (``facts {'in_pgh': False}``, ``rule_version 2002-01``); this is
the one place they are put into Spanish, with the labels of ``usecases.wording``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rnu.eligibility.evaluate import RuleCheck
from usecases import wording

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_PROGRAM_LISTS = frozenset({"incompatible_with", "also_in"})


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class EvidenceView:
    """The evidence of one flag in words: what was checked, under which rule, and the facts."""

    rule: str | None
    sentence: str | None
    version: str | None
    facts: list[Fact] = field(default_factory=list)


def _row(item: Mapping[str, Any]) -> str:
    parts = [f"fila {item.get('row', '?')}"]
    outcome = wording.row_outcome(item.get("outcome"), item.get("method"))
    if outcome:
        parts.append(outcome)
    if item.get("weight") is not None:
        parts.append(f"peso {wording.peso(float(item['weight']))}")
    return ", ".join(parts)


def fact_value(name: str, value: Any) -> str:
    """One fact's value in words: yes/no, dates, CSE and program names, match levels."""
    if value is None:
        return "sin dato"
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if name in _PROGRAM_LISTS and isinstance(value, list):
        return ", ".join(wording.program_name(str(v)) for v in value) or "ninguno"
    if name == "required" and isinstance(value, list):
        return wording.cse_required([str(v) for v in value])
    if name == "cse":
        return wording.cse_label(value)
    if name == "agreements" and isinstance(value, Mapping):
        return "; ".join(wording.agreements(value)) or "sin detalle"
    if name == "rows" and isinstance(value, list):
        return "; ".join(_row(r) for r in value if isinstance(r, Mapping))
    if name == "outcome":
        return wording.PAIR_OUTCOMES.get(str(value), str(value))
    if name == "method":
        return wording.match_method(str(value))
    if name == "reason_code":
        return wording.REPORT_REASONS.get(str(value), str(value))
    if name == "reporter_role":
        return wording.REPORTER_ROLES.get(str(value), str(value))
    if name == "weight" and isinstance(value, int | float):
        return wording.peso(float(value))
    if isinstance(value, int | float):
        return wording.miles(int(value)) if isinstance(value, int) else wording.peso(value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        return wording.fecha_larga(value)
    if isinstance(value, list):
        return ", ".join(fact_value(name, v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{fact_label(k)}: {fact_value(k, v)}" for k, v in value.items())
    return str(value)


def fact_label(name: str) -> str:
    """A fact's name in words; a name without wording reads as its words, capitalised."""
    if name in wording.EVIDENCE_FACTS:
        return wording.EVIDENCE_FACTS[name]
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _sentence(program_code: str | None, rule: str, code: str, facts: dict[str, Any]) -> str | None:
    """The rule's sentence, as ``rnu explain`` writes it; None when facts do not fit it."""
    if not program_code or rule not in wording.RULE_SENTENCES:
        return None
    try:
        return wording.sentence(program_code, RuleCheck(rule, False, facts, code))
    except (KeyError, TypeError, ValueError):  # evidence written by an older check
        return None


def evidence_view(evidence: Mapping[str, Any] | None, program_code: str | None) -> EvidenceView:
    """The flag's stored evidence in Spanish words (nothing of it shown as a code)."""
    evidence = dict(evidence or {})
    rule = evidence.pop("rule", None)
    code = evidence.pop("code", None)
    version = evidence.pop("rule_version", None)
    facts = evidence.pop("facts", None)
    fact_items = dict(facts) if isinstance(facts, Mapping) else {}
    fact_items.update(evidence)  # evidence without the facts envelope (reports, older rows)
    rule_name = wording.EVIDENCE_RULES.get(str(rule)) if rule else None
    sentence = (
        _sentence(program_code, str(rule), str(code or rule), fact_items)
        if rule is not None and isinstance(facts, Mapping)
        else None
    )
    shown = [Fact(fact_label(k), fact_value(k, v)) for k, v in fact_items.items()]
    if rule is not None and rule_name is None:
        shown.insert(0, Fact(fact_label("rule"), str(rule)))
    return EvidenceView(
        rule=rule_name,
        sentence=sentence,
        version=wording.rule_version(str(version)) if version else None,
        facts=shown,
    )
