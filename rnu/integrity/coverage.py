"""Subcobertura (exclusion error): who meets a program's rules in a district but is not on it.

Statistics, not flags: counts per district of the people (or households, for household
programs) the PGH shows as meeting the rules in force on the period's first day, and how many
of them the roll reaches. Rules the PGH cannot verify (Contigo's disability) make the program
unmeasurable here rather than overcounted.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from rnu.eligibility.evaluate import period_bounds, rule_in_force
from rnu.eligibility.rules import load_programs


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """One district: units meeting the rules, those enrolled, and the gap between."""

    ubigeo: str
    eligible: int
    enrolled: int

    @property
    def not_enrolled(self) -> int:
        return self.eligible - self.enrolled

    @property
    def rate(self) -> float:
        """Share of the eligible the program does not reach (0 when nobody is eligible)."""
        return self.not_enrolled / self.eligible if self.eligible else 0.0


# $1 program, $2 period, $3 first day, $4 CSE classes ([] none), $5 CSE must be valid,
# $6 min years, $7 max years, $8 max months.
_PERSONS = """
SELECT p.ubigeo, count(*) AS eligible, count(e.person_id) AS enrolled
FROM person p
JOIN household_member m ON m.person_id = p.id
JOIN household h ON h.id = m.household_id
LEFT JOIN enrollment e ON e.person_id = p.id AND e.program_code = $1 AND e.period = $2
WHERE p.in_pgh AND p.ubigeo IS NOT NULL
  AND (p.death_on IS NULL OR p.death_on >= $3::date)
  AND (cardinality($4::text[]) = 0 OR h.cse = ANY($4::text[]))
  AND (cardinality($4::text[]) = 0 OR NOT $5::bool
       OR (coalesce(h.cse_valid_from <= $3::date, true)
           AND coalesce($3::date <= h.cse_valid_to, true)))
  AND ($6::int IS NULL OR p.birth_on <= $3::date - make_interval(years => $6::int))
  AND ($7::int IS NULL OR p.birth_on > $3::date - make_interval(years => $7::int))
  AND ($8::int IS NULL OR p.birth_on > $3::date - make_interval(months => $8::int))
GROUP BY p.ubigeo ORDER BY p.ubigeo
"""

# $1..$5 as above, $6 a living member under this age is required (NULL: no such rule).
_HOUSEHOLDS = """
SELECT h.ubigeo, count(*) AS eligible,
  count(*) FILTER (WHERE EXISTS (
    SELECT 1 FROM household_member m JOIN enrollment e ON e.person_id = m.person_id
    WHERE m.household_id = h.id AND e.program_code = $1 AND e.period = $2)) AS enrolled
FROM household h
WHERE (cardinality($4::text[]) = 0 OR h.cse = ANY($4::text[]))
  AND (cardinality($4::text[]) = 0 OR NOT $5::bool
       OR (coalesce(h.cse_valid_from <= $3::date, true)
           AND coalesce($3::date <= h.cse_valid_to, true)))
  AND ($6::int IS NULL OR EXISTS (
    SELECT 1 FROM household_member m JOIN person p ON p.id = m.person_id
    WHERE m.household_id = h.id AND p.birth_on > $3::date - make_interval(years => $6::int)
      AND (p.death_on IS NULL OR p.death_on >= $3::date)))
GROUP BY h.ubigeo ORDER BY h.ubigeo
"""


async def coverage_gaps(
    conn: asyncpg.Connection, *, program_code: str, period: str
) -> list[CoverageGap] | None:
    """Per district, eligible vs enrolled for a program and period; None when the PGH cannot
    tell who is eligible (a rule it has no data for)."""
    program = load_programs()[program_code]
    rule = rule_in_force(program, period)
    if rule.requires_severe_disability:
        return None
    first, _ = period_bounds(period)
    common = (program_code, period, first, list(rule.cse_required), rule.cse_must_be_valid)
    if program.unit == "household":
        rows = await conn.fetch(_HOUSEHOLDS, *common, rule.household_needs_member_under)
    else:
        rows = await conn.fetch(
            _PERSONS, *common, rule.min_age_years, rule.max_age_years, rule.max_age_months
        )
    return [CoverageGap(r[0], r[1], r[2]) for r in rows]
