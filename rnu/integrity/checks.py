"""The eligibility rules as set-based SQL, one statement per rule, for one program and period.

Each statement reads `chk_enr` (the period's enrollments with the registry facts they are
judged on) and writes findings into `chk_flag`. The evidence's `facts` have the very keys and
values `rnu.eligibility.evaluate` puts in its `RuleCheck.facts`, so an analyst sees the same
trace whether it came from a full run or from `rnu explain` (a test holds both to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rnu.eligibility.rules import Program, Rule

SEVERITY = {
    "not_in_pgh": "medium",
    "cse_missing": "medium",
    "cse_not_qualifying": "high",
    "cse_expired": "medium",
    "age_out_of_range": "high",
    "deceased": "high",
    "incompatible_programs": "high",
    "household_twice": "medium",
    "duplicate_in_program": "high",
    "pgh_duplicate": "low",
}


@dataclass(frozen=True)
class Statement:
    """One rule's SQL, its arguments and the flag kinds it can raise."""

    sql: str
    args: tuple[Any, ...]
    kinds: frozenset[str]


DROP_STAGING = "DROP TABLE IF EXISTS chk_flag, chk_enr"

CREATE_FLAG_STAGING = """
CREATE TEMP TABLE chk_flag (
  kind text, severity text, subject_key text, person_id bigint, household_id bigint,
  roll_row_id bigint, ubigeo text, evidence jsonb
) ON COMMIT DROP
"""

# $1 program, $2 period. The registry as it is now: the household is today's membership.
CREATE_ENROLLMENT_FACTS = """
CREATE TEMP TABLE chk_enr ON COMMIT DROP AS
SELECT e.person_id, e.roll_row_id, coalesce(e.ubigeo, p.ubigeo) AS ubigeo, p.in_pgh,
       p.birth_on, p.death_on, m.household_id, h.cse, h.cse_valid_from, h.cse_valid_to
FROM enrollment e JOIN person p ON p.id = e.person_id
LEFT JOIN household_member m ON m.person_id = e.person_id
LEFT JOIN household h ON h.id = m.household_id
WHERE e.program_code = $1 AND e.period = $2
"""

# Columns of chk_flag filled from chk_enr by every rule statement.
_FROM_ENR = "'person:' || person_id, person_id, household_id, roll_row_id, ubigeo"


def _evidence(rule: str, facts_sql: str) -> str:
    return (
        f"jsonb_build_object('rule', '{rule}', 'code', k, 'rule_version', $1::text, "
        f"'facts', {facts_sql})"
    )


def _age_sql(birth: str, as_of: str = "$2::date") -> tuple[str, str]:
    """Whole years and months completed on `as_of` (0 when born after it), as in Python."""
    years = (
        f"CASE WHEN {birth} > {as_of} THEN 0 ELSE date_part('year', age({as_of}, {birth}))::int END"
    )
    months = (
        f"CASE WHEN {birth} > {as_of} THEN 0 ELSE (date_part('year', age({as_of}, {birth})) * 12 "
        f"+ date_part('month', age({as_of}, {birth})))::int END"
    )
    return years, months


def not_in_pgh(version: str) -> Statement:
    """People on the roll the PGH does not know (a duplicate row's twin is flagged as such)."""
    sql = f"""
    INSERT INTO chk_flag
    SELECT k, 'medium', {_FROM_ENR},
      {_evidence("in_pgh", "jsonb_build_object('in_pgh', false)")}
    FROM (SELECT *, 'not_in_pgh' AS k FROM chk_enr e WHERE NOT in_pgh
          AND NOT EXISTS (SELECT 1 FROM chk_flag d WHERE d.kind = 'duplicate_in_program'
                          AND d.roll_row_id = e.roll_row_id)) x
    """
    return Statement(sql, (version,), frozenset({"not_in_pgh"}))


def cse(rule: Rule, first: date) -> Statement | None:
    if not rule.cse_required:
        return None
    facts = (
        "jsonb_build_object('required', to_jsonb($3::text[]), 'cse', cse, "
        "'valid_from', cse_valid_from, 'valid_to', cse_valid_to, 'must_be_valid', $4::bool, "
        "'as_of', $2::date)"
    )
    sql = f"""
    INSERT INTO chk_flag
    SELECT k, CASE k WHEN 'cse_not_qualifying' THEN 'high' ELSE 'medium' END, {_FROM_ENR},
      {_evidence("cse", facts)}
    FROM (SELECT *, CASE
            WHEN cse IS NULL THEN 'cse_missing'
            WHEN NOT (cse = ANY($3::text[])) THEN 'cse_not_qualifying'
            WHEN $4::bool AND NOT (coalesce(cse_valid_from <= $2::date, true)
                                   AND coalesce($2::date <= cse_valid_to, true))
              THEN 'cse_expired'
          END AS k
          FROM chk_enr WHERE in_pgh AND household_id IS NOT NULL) x
    WHERE k IS NOT NULL
    """
    args = (rule.effective_from, first, list(rule.cse_required), rule.cse_must_be_valid)
    return Statement(sql, args, frozenset({"cse_missing", "cse_not_qualifying", "cse_expired"}))


def age(program: Program, rule: Rule, first: date) -> Statement | None:
    """Person programs' age limits (Juntos' household requirement is `household_member`)."""
    limits = (rule.min_age_years, rule.max_age_years, rule.max_age_months)
    if program.unit != "person" or all(v is None for v in limits):
        return None
    years, months = _age_sql("birth_on")
    facts = (
        "jsonb_strip_nulls(jsonb_build_object('min_age_years', $3::int, "
        "'max_age_years', $4::int, 'max_age_months', $5::int)) || jsonb_build_object("
        f"'birth_on', birth_on, 'age_years', {years}, 'age_months', {months}, "
        "'as_of', $2::date)"
    )
    sql = f"""
    INSERT INTO chk_flag
    SELECT k, 'high', {_FROM_ENR}, {_evidence("age", facts)}
    FROM (SELECT *, 'age_out_of_range' AS k FROM chk_enr WHERE birth_on IS NOT NULL AND (
            ($3::int IS NOT NULL AND birth_on > $2::date - make_interval(years => $3::int))
         OR ($4::int IS NOT NULL AND birth_on <= $2::date - make_interval(years => $4::int))
         OR ($5::int IS NOT NULL AND birth_on <= $2::date - make_interval(months => $5::int))
    )) x
    """
    return Statement(sql, (rule.effective_from, first, *limits), frozenset({"age_out_of_range"}))


def household_member(rule: Rule, first: date) -> Statement | None:
    """Juntos: no living member under the limit on the first day (kind age_out_of_range)."""
    if rule.household_needs_member_under is None:
        return None
    years, _ = _age_sql("youngest_birth")
    facts = (
        f"jsonb_build_object('under', $3::int, 'youngest_age', "
        f"CASE WHEN youngest_birth IS NULL THEN NULL ELSE {years} END, 'as_of', $2::date)"
    )
    # Set-based: the youngest living member per household in one pass, then a join.
    sql = f"""
    INSERT INTO chk_flag
    SELECT k, 'high', {_FROM_ENR}, {_evidence("household_member", facts)}
    FROM (SELECT e.*, 'age_out_of_range' AS k, y.youngest_birth
          FROM chk_enr e
          LEFT JOIN (
            SELECT m2.household_id, max(p2.birth_on) AS youngest_birth
            FROM household_member m2 JOIN person p2 ON p2.id = m2.person_id
            WHERE m2.household_id IN (SELECT household_id FROM chk_enr)
              AND p2.birth_on IS NOT NULL
              AND (p2.death_on IS NULL OR p2.death_on >= $2::date)
            GROUP BY m2.household_id) y ON y.household_id = e.household_id
          WHERE e.household_id IS NOT NULL) x
    WHERE youngest_birth IS NULL OR youngest_birth <= $2::date - make_interval(years => $3::int)
    """
    args = (rule.effective_from, first, rule.household_needs_member_under)
    return Statement(sql, args, frozenset({"age_out_of_range"}))


def deceased(rule: Rule, first: date) -> Statement:
    facts = "jsonb_build_object('death_on', death_on, 'as_of', $2::date)"
    sql = f"""
    INSERT INTO chk_flag
    SELECT k, 'high', {_FROM_ENR}, {_evidence("alive", facts)}
    FROM (SELECT *, 'deceased' AS k FROM chk_enr WHERE death_on < $2::date) x
    """
    return Statement(sql, (rule.effective_from, first), frozenset({"deceased"}))


def incompatible(rule: Rule, period: str) -> Statement | None:
    if not rule.incompatible_with:
        return None
    facts = (
        "jsonb_build_object('incompatible_with', to_jsonb($3::text[]), 'also_in', to_jsonb(also))"
    )
    sql = f"""
    INSERT INTO chk_flag
    SELECT k, 'high', {_FROM_ENR}, {_evidence("incompatible", facts)}
    FROM (SELECT e.*, 'incompatible_programs' AS k, o.also
          FROM chk_enr e
          JOIN (SELECT person_id, array_agg(program_code ORDER BY program_code) AS also
                FROM enrollment WHERE period = $2 AND program_code = ANY($3::text[])
                GROUP BY person_id) o ON o.person_id = e.person_id) x
    """
    args = (rule.effective_from, period, list(rule.incompatible_with))
    return Statement(sql, args, frozenset({"incompatible_programs"}))


def one_per_household(rule: Rule) -> Statement | None:
    if not rule.one_per_household:
        return None
    facts = "jsonb_build_object('titulars', titulars)"
    sql = f"""
    INSERT INTO chk_flag
    SELECT k, 'medium', {_FROM_ENR}, {_evidence("one_per_household", facts)}
    FROM (SELECT *, 'household_twice' AS k,
            count(*) OVER (PARTITION BY household_id) AS titulars
          FROM chk_enr WHERE household_id IS NOT NULL) x
    WHERE titulars > 1
    """
    return Statement(sql, (rule.effective_from,), frozenset({"household_twice"}))


# $1 batch id. Rows of one file that matching gave the same PGH person (two DNIs, a DNI row
# and a row the matcher sent to review with that person first). Two linked rows: each is
# flagged. A row waiting in review is not evidence against the beneficiary's own row
# (issue 10): with one linked row only the review rows are flagged, and the flag is held
# "por verificar" (repository.write_flags) until a reviewer decides. One pass over the
# batch's rows in person order: the counts per person, then the evidence's list of rows
# (in row id order, the window's) for the people seen twice only, not for every person.
SAME_PERSON_ROWS = """
WITH counted AS (
  SELECT id, row_number, person_id, outcome, method, weight, ubigeo,
         count(*) OVER person AS n, count(*) FILTER (WHERE outcome = 'linked') OVER person AS linked
  FROM roll_row WHERE batch_id = $1 AND outcome IN ('linked', 'review') AND person_id IS NOT NULL
  WINDOW person AS (PARTITION BY person_id)
), g AS (
  SELECT *, jsonb_agg(jsonb_build_object('row', row_number, 'outcome', outcome,
              'method', method, 'weight', round(weight::numeric, 2)))
            OVER (PARTITION BY person_id ORDER BY id
                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS rows
  FROM counted WHERE n > 1 AND linked > 0
)
INSERT INTO chk_flag
SELECT 'duplicate_in_program', 'high', 'row:' || g.row_number, g.person_id, m.household_id,
  g.id, coalesce(g.ubigeo, p.ubigeo),
  jsonb_build_object('rule', 'duplicate_in_program', 'code', 'duplicate_in_program',
    'facts', jsonb_build_object('person_key', p.pgh_key, 'rows', g.rows))
FROM g JOIN person p ON p.id = g.person_id AND p.in_pgh
LEFT JOIN household_member m ON m.person_id = g.person_id
WHERE g.outcome = 'review' OR (g.outcome = 'linked' AND g.linked > 1)
"""

# $1 batch id. Unmatched rows and the linked people born the same day: names compared in
# Python. The PGH's birth date is used (the linked row's own may carry a typo). A row a
# reviewer judged to be someone else (method manual_review) is not second-guessed here, nor
# a person of the other sex (when both say one): those are left out here rather than sent
# to Python to be skipped (about half of the candidates).
UNMATCHED_TWIN_CANDIDATES = """
SELECT u.id, u.row_number, u.nombres, u.apellido_paterno, u.apellido_materno,
       l.id, l.row_number, p.id, p.pgh_key, p.nombres, p.apellido_paterno, p.apellido_materno,
       m.household_id, coalesce(u.ubigeo, p.ubigeo)
FROM roll_row u
JOIN person p ON p.birth_on = u.birth_on AND p.in_pgh
JOIN roll_row l ON l.batch_id = u.batch_id AND l.person_id = p.id AND l.outcome = 'linked'
LEFT JOIN household_member m ON m.person_id = p.id
WHERE u.batch_id = $1 AND u.outcome = 'unmatched' AND u.birth_on IS NOT NULL
  AND u.method IS DISTINCT FROM 'manual_review'
  AND (coalesce(u.sex, '') = '' OR coalesce(p.sex, '') = '' OR u.sex = p.sex)
ORDER BY u.id, l.id
"""


def rule_statements(program: Program, rule: Rule, period: str, first: date) -> list[Statement]:
    """The statements of every rule of `program` in force in `period`, in a fixed order."""
    found = [
        not_in_pgh(rule.effective_from),
        cse(rule, first),
        age(program, rule, first),
        household_member(rule, first),
        deceased(rule, first),
        incompatible(rule, period),
        one_per_household(rule),
    ]
    return [s for s in found if s is not None]
