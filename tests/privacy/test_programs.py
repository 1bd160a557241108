"""Program codes are compared in one spelling, whatever the sector file wrote."""

import pytest

from privacy.programs import is_child_program, is_disability_program, program_key


@pytest.mark.parametrize(
    ("code", "key", "disability", "child"),
    [
        ("CONTIGO", "CONTIGO", True, False),
        (" contigo ", "CONTIGO", True, False),
        ("Cuna Más", "CUNAMAS", False, True),
        ("CUNA_MAS", "CUNAMAS", False, True),
        ("qali-warma", "QALIWARMA", False, True),
        ("PENSIÓN 65", "PENSION65", False, False),
        ("JUNTOS", "JUNTOS", False, False),
    ],
)
def test_program_classification(code: str, key: str, disability: bool, child: bool) -> None:
    assert program_key(code) == key
    assert is_disability_program(code) is disability
    assert is_child_program(code) is child
