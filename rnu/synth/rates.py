"""Every configurable rate of the synthetic country, with defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass

CASES = (
    "cse_not_qualifying",
    "cse_expired",
    "cse_missing",
    "age_out_of_range",
    "deceased",
    "not_in_pgh",
    "duplicate_in_program",
    "incompatible_programs",
    "household_twice",
)
DEFECTS = (
    "typo",
    "swapped_surnames",
    "missing_materno",
    "lost_leading_zeros",
    "wrong_check_char",
    "transposed_digits",
    "missing_document",
    "other_date_format",
    "mojibake",
    "duplicate_row",
    # a real padrón's harsher defects (rnu.synth.defects)
    "given_shortened",
    "given_abbreviated",
    "married_name",
    "given_surname_swapped",
    "quechua_variant",
    "ocr_confusion",
    "day_month_swapped",
    "year_off_by_one",
    "placeholder_birth",
    "missing_birth_date",
    "mother_dni",
    "neighbour_dni",
)
# Tags of rows by who the person is rather than what was done to the row: a twin, a father
# or son sharing the given names (both in the PGH, not duplicates of each other), and a
# namesake trap (not in the PGH; a PGH person of the same district has the same full name,
# another birth date and another DNI). They appear in the `defects` column as well.
KINDS = ("twin", "father_son", "namesake_trap")


@dataclass(frozen=True, slots=True)
class Rates:
    """Shares of rows (cases, defects) or of people (population) the generator injects.

    A case rate is the share of a roll's rows carrying that case, in the rolls where the case
    can happen (e.g. cse_* only where the program requires a CSE). A defect rate is the share
    of rows of a file where the defect can apply. Rows with two cases or defects are possible.
    """

    # integrity cases (share of rows of each roll where the case applies)
    cse_not_qualifying: float = 0.008
    cse_expired: float = 0.008
    cse_missing: float = 0.006
    age_out_of_range: float = 0.006
    deceased: float = 0.005
    not_in_pgh: float = 0.006
    duplicate_in_program: float = 0.006
    incompatible_programs: float = 0.01
    household_twice: float = 0.006
    # data defects (share of rows of each file where the defect applies)
    typo: float = 0.015
    swapped_surnames: float = 0.006
    missing_materno: float = 0.006
    lost_leading_zeros: float = 0.006
    wrong_check_char: float = 0.005
    transposed_digits: float = 0.005
    missing_document: float = 0.006
    other_date_format: float = 0.006
    mojibake: float = 0.005
    duplicate_row: float = 0.005
    broken_line: float = 0.0005
    given_shortened: float = 0.006
    given_abbreviated: float = 0.004
    married_name: float = 0.006
    given_surname_swapped: float = 0.004
    quechua_variant: float = 0.006
    ocr_confusion: float = 0.004
    day_month_swapped: float = 0.004
    year_off_by_one: float = 0.004
    placeholder_birth: float = 0.003
    missing_birth_date: float = 0.004
    mother_dni: float = 0.004
    neighbour_dni: float = 0.002
    # format variations that are not defects (a correct check character appended)
    check_char_appended: float = 0.03
    # population
    pgh_duplicate: float = 0.005
    twin: float = 0.02  # share of births that are twins
    father_son: float = 0.06  # share of sons given their father's given names
    namesake_trap: float = 0.004  # per person-roll row: a namesake outside the PGH as well
    death: float = 0.006
    disability: float = 0.015

    def as_dict(self) -> dict[str, float]:
        """Plain dict for truth/config.json."""
        return asdict(self)

    def case(self, name: str) -> float:
        """Rate of an integrity case by code."""
        return float(getattr(self, name))
