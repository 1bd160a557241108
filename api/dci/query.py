"""Search criteria → a typed query: by document, or by conditions over RNU's attributes.

``query_type`` as the spec lists it:

* ``idtype-value``: ``{type, value}`` (or ``identifier_type``/``identifier_value``); types
  ``DNI``, ``CE``, ``CUI`` (``UIN``, ``NID`` read as DNI);
* ``expression``: conditions joined by AND in any of the spec's spellings — a list of
  ``{attribute_name, operator, attribute_value}``, ``{"expression": …}``,
  ``{"type": …, "value": {"expression": …}}``, one bare condition, or the spec's example form
  ``{"collection": …, "query": {"$and": [{"location": {"$eq": "080101"}}, …]}}``;
* ``predicate``: the spec's ``[{seq_num, expression1, condition, expression2}]`` list.

Attributes: ``poverty_score_type`` (``CSE-SISFOH``), ``poverty_score`` (``PE``/``P``/``NP``),
``location``/``ubigeo``, ``programme``, ``period``, ``birth_date`` (lt/gt/le/ge); anything
else — an ``or``/``not`` condition, a numeric poverty score, a ``sort`` — is refused with the
spec's reason code (``rjct.search_criteria.invalid``, ``rjct.sort.invalid``), never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from api.dci.envelope import ItemRejected
from rnu.errors import InvalidInput
from rnu.person import service as person_service
from rnu.person.service import PeopleQuery

MAX_PAGE = 1_000
POVERTY_SCORE_TYPE = "CSE-SISFOH"
ID_TYPES = {"DNI": "DNI", "CE": "CE", "CUI": "CUI", "UIN": "DNI", "NID": "DNI"}
RECORD_TYPES = {
    "person": "Person",
    "group": "Group",
    "household": "Group",
    "member": "Member",
    "beneficiary": "Beneficiary",
}
OPERATORS = {"eq", "in", "lt", "gt", "le", "ge", "startswith"}
INVALID = "rjct.search_criteria.invalid"


@dataclass(frozen=True)
class ByDocument:
    doc_type: str
    number: str


@dataclass(frozen=True)
class ByConditions:
    query: PeopleQuery


SearchQuery = ByDocument | ByConditions


@dataclass(frozen=True)
class Page:
    size: int
    number: int


@dataclass(frozen=True)
class Condition:
    name: str
    operator: str
    value: Any


def refuse(message: str, code: str = INVALID) -> ItemRejected:
    return ItemRejected(code, message)


def record_type(criteria: dict[str, Any], default: str = "Person") -> str:
    """``reg_record_type`` (or ``response_entity``) in the spec's spelling."""
    raw = criteria.get("reg_record_type") or criteria.get("response_entity") or default
    name = str(raw).split(":")[-1].lower()
    if name not in RECORD_TYPES:
        raise refuse(f"reg_record_type {raw} is not offered; use Person, Group or Member")
    return RECORD_TYPES[name]


def by_document(query: Any) -> ByDocument:
    """An idtype-value query."""
    if not isinstance(query, dict):
        raise refuse("an idtype-value query is an object {type, value}")
    if isinstance(query.get("value"), dict) and "type" not in query["value"]:
        query = query["value"]
    raw_type = str(query.get("type") or query.get("identifier_type") or "DNI").upper()
    raw_value = query.get("value", query.get("identifier_value"))
    doc_type = ID_TYPES.get(raw_type.split(":")[-1])
    if doc_type is None:
        raise refuse(f"identifier type {raw_type[:20]} is not offered; use DNI, CE or CUI")
    if not isinstance(raw_value, str | int) or isinstance(raw_value, bool):
        raise refuse("the identifier value must be a string")
    try:
        return ByDocument(doc_type, person_service.normalize_document(str(raw_value), doc_type))
    except InvalidInput as exc:
        raise refuse(str(exc)) from exc


def _mongo(query: dict[str, Any]) -> list[Condition]:
    """``{"$and": [{name: {"$op": value}}, …]}`` (the spec's expression example)."""
    out: list[Condition] = []
    for key, value in query.items():
        if key == "$and":
            if not isinstance(value, list):
                raise refuse("$and takes a list")
            for part in value:
                if not isinstance(part, dict):
                    raise refuse("each $and term is an object")
                out += _mongo(part)
        elif key.startswith("$"):
            raise refuse(f"{key} is not supported; only $and")
        elif isinstance(value, dict) and len(value) == 1:
            [(op, operand)] = value.items()
            out.append(Condition(key, str(op).lstrip("$").lower(), operand))
        else:
            out.append(Condition(key, "eq", value))
    return out


def conditions(expression: Any) -> list[Condition]:
    """Flatten any of the spec's expression spellings into AND-ed conditions."""
    if isinstance(expression, list):
        return [c for e in expression for c in conditions(e)]
    if not isinstance(expression, dict):
        raise refuse("an expression is an object or a list of conditions")
    if isinstance(expression.get("value"), dict) and "expression" in expression["value"]:
        return conditions(expression["value"]["expression"])
    if "expression" in expression:
        return conditions(expression["expression"])
    if "attribute_name" in expression:
        return [
            Condition(
                str(expression["attribute_name"]),
                str(expression.get("operator", "eq")).lower(),
                expression.get("attribute_value"),
            )
        ]
    if "expression1" in expression:
        if str(expression.get("condition", "and")).lower() != "and":
            raise refuse("only 'and' conditions are supported")
        return conditions(expression["expression1"]) + conditions(expression.get("expression2", []))
    if isinstance(expression.get("query"), dict):  # {"collection": …, "query": {…}}
        return _mongo(expression["query"])
    if any(k.startswith("$") for k in expression):
        return _mongo(expression)
    raise refuse("unrecognised expression")


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise refuse("birth_date must be an ISO date (YYYY-MM-DD)") from exc


def _apply(condition: Condition, values: dict[str, Any]) -> None:
    name, op, value = condition.name.lower(), condition.operator, condition.value
    if op not in OPERATORS:
        raise refuse(f"operator {op[:10]} is not supported")
    if name == "poverty_score_type":
        if str(value).upper() != POVERTY_SCORE_TYPE:
            raise refuse(f"poverty_score_type must be {POVERTY_SCORE_TYPE}")
    elif name == "poverty_score" and op in ("eq", "in"):
        items = value if isinstance(value, list) else [value]
        scores = tuple(str(v).upper() for v in items)
        if not set(scores) <= {"PE", "P", "NP"}:
            raise refuse("poverty_score (CSE-SISFOH) is one of PE, P, NP")
        values["cse"] = scores
    elif name in ("location", "ubigeo", "address.geo") and op in ("eq", "startswith"):
        values["ubigeo_prefix"] = str(value)
    elif name in ("programme", "program", "programme_code", "programme_identifier") and (
        op == "eq"
    ):
        values["program_code"] = str(value).upper()
    elif name in ("period", "enrolment_period", "enrollment_period") and op == "eq":
        values["period"] = str(value)
    elif name == "birth_date" and op in ("lt", "gt", "le", "ge"):
        day = _day(value)
        if op == "le":
            day += timedelta(days=1)
        elif op == "ge":
            day -= timedelta(days=1)
        values["birth_before" if op in ("lt", "le") else "birth_after"] = day
    else:
        raise refuse(f"condition {name[:40]} {op} is not supported")


def by_conditions(expression: Any) -> ByConditions:
    """An expression or predicate query over poverty score, place, programme, period, birth."""
    values: dict[str, Any] = {}
    for condition in conditions(expression):
        _apply(condition, values)
    try:
        return ByConditions(PeopleQuery(**values))
    except (TypeError, InvalidInput) as exc:
        raise refuse(str(exc)) from exc


def search_query(criteria: dict[str, Any]) -> SearchQuery:
    """The query of one search item."""
    query_type = str(criteria.get("query_type", "")).lower()
    if query_type == "idtype-value":
        return by_document(criteria.get("query"))
    if query_type in ("expression", "predicate"):
        return by_conditions(criteria.get("query"))
    raise refuse("query_type must be idtype-value, expression or predicate")


def page(criteria: dict[str, Any]) -> Page:
    """``pagination`` (page_size required by the spec when given; page_number from 1)."""
    raw = criteria.get("pagination")
    if raw in (None, ""):
        return Page(100, 1)
    if not isinstance(raw, dict) or "page_size" not in raw:
        raise refuse("pagination needs page_size", "rjct.pagination.invalid")
    try:
        size = int(raw["page_size"])
        number = int(raw.get("page_number", 1))
    except (TypeError, ValueError) as exc:
        raise refuse("page_size/page_number must be numbers", "rjct.pagination.invalid") from exc
    if not 1 <= size <= MAX_PAGE or not 1 <= number <= 1_000_000:
        raise refuse(f"page_size 1..{MAX_PAGE}, page_number ≥ 1", "rjct.pagination.invalid")
    return Page(size, number)


def check_sort(criteria: dict[str, Any]) -> None:
    """RNU answers in registry order: a requested sort is refused, not ignored."""
    sort = criteria.get("sort")
    if sort not in (None, "", []):
        raise refuse("sorting is not offered; results come in registry order", "rjct.sort.invalid")
