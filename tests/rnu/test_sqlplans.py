"""Which plan shapes `rnu.sqlplans.rescans` reports as a table read once per row."""

from __future__ import annotations

from rnu.sqlplans import Plan, rescans


def _scan(relation: str, **extra: str) -> Plan:
    return {"Node Type": "Seq Scan", "Relation Name": relation, "Plan Rows": 1, **extra}


def _loop(inner: Plan, **own: str) -> Plan:
    outer = _scan("outer_table", **{"Parent Relationship": "Outer"})
    return {"Node Type": "Nested Loop", "Join Type": "Inner", **own, "Plans": [outer, inner]}


def _with_subplan(relationship: str, name: str, hashed: bool) -> Plan:
    """An index probe (the loop's inner side) whose filter runs a subplan over `big`."""
    sub = {
        "Node Type": "Aggregate",
        "Parent Relationship": relationship,
        "Subplan Name": name,
        "Plans": [_scan("big", **{"Parent Relationship": "Outer"})],
    }
    test = f"(hashed {name})" if hashed else f"({name})"
    return {
        "Node Type": "Index Scan",
        "Relation Name": "small",
        "Parent Relationship": "Inner",
        "Filter": f"(x = ANY {test})",
        "Plans": [sub],
    }


def test_a_sequential_scan_on_a_loops_inner_side_is_a_rescan() -> None:
    found = list(rescans(_loop(_scan("big", **{"Parent Relationship": "Inner"}))))
    assert [(r.relation, r.where) for r in found] == [('"public"."big"', "Nested Loop (Inner)")]


def test_a_hashed_subplan_or_initplan_on_the_inner_side_runs_once() -> None:
    assert list(rescans(_loop(_with_subplan("SubPlan", "SubPlan 1", hashed=True)))) == []
    assert list(rescans(_loop(_with_subplan("InitPlan", "InitPlan 1", hashed=False)))) == []


def test_a_correlated_subplan_scanning_a_table_is_a_rescan_wherever_it_sits() -> None:
    found = list(rescans(_loop(_with_subplan("SubPlan", "SubPlan 1", hashed=False))))
    assert [(r.relation, r.where) for r in found] == [('"public"."big"', "SubPlan 1")]
