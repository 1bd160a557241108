"""rnu.coverage: DNI parsing, the pluggable second factor and the lookup's domain result."""

from __future__ import annotations

import pytest

from rnu.coverage import service
from rnu.errors import InvalidInput, NotFound
from rnu.normalize.documents import dni_check_chars
from tests.api.public_support import seed_person


class TestParseDni:
    @pytest.mark.parametrize("raw", ["01234567", " 01234567 ", "0123 4567"])
    def test_plain(self, raw):
        assert service.parse_dni(raw) == "01234567"

    def test_with_check_character(self):
        digit, letter = dni_check_chars("01234567")
        assert service.parse_dni(f"01234567-{digit}") == "01234567"
        assert service.parse_dni(f"01234567{letter.lower()}") == "01234567"

    @pytest.mark.parametrize("raw", ["1234567", "012345678901", "0123456X7", "00000000", "abc"])
    def test_refused(self, raw):
        with pytest.raises(InvalidInput):
            service.parse_dni(raw)


class TestLookup:
    async def test_programs_household_and_trace(self, session):
        person = await seed_person(session, doc_number="05555555", programs=("PENSION65", "SIS"))
        coverage = await service.lookup(
            session, dni="05555555", second_factor="1950-03-09", subject_hmac="x"
        )
        assert coverage.person.id == person.id
        assert coverage.household is not None
        assert coverage.household.cse == "PE"
        assert [p.program_code for p in coverage.programs] == ["PENSION65", "SIS"]
        assert {t.program for t in coverage.traces} == {"PENSION65", "SIS"}
        assert coverage.access_log == ()

    @pytest.mark.parametrize(
        ("dni", "birth"), [("05555555", "1950-03-10"), ("05555556", "1950-03-09")]
    )
    async def test_unknown_and_wrong_factor_are_the_same_error(self, session, dni, birth):
        await seed_person(session, doc_number="05555555")
        with pytest.raises(NotFound, match="no person matches this DNI and second factor"):
            await service.lookup(session, dni=dni, second_factor=birth, subject_hmac="x")

    def test_birth_date_factor(self):
        factor = service.SECOND_FACTORS["fecha_nacimiento"]
        assert factor.normalize(" 1950-03-09 ") == "1950-03-09"
        with pytest.raises(InvalidInput):
            factor.normalize("09/03/1950")
        assert factor.normalize("2000-02-29") == "2000-02-29"  # a leap day is a date
        with pytest.raises(InvalidInput):
            factor.normalize("2001-02-29")  # and a non-leap year's is not
