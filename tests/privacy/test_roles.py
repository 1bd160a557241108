"""Callers carry what their role is bound to, and refuse being half-built."""

import pytest

from privacy.roles import SCOPE_PERSON_READ, Caller, Role


class TestCaller:
    def test_citizen_needs_a_subject(self) -> None:
        with pytest.raises(ValueError, match="citizen caller needs"):
            Caller(Role.CITIZEN)

    @pytest.mark.parametrize(
        ("caller", "expected"),
        [
            (Caller(Role.AGENCY, scopes=frozenset({SCOPE_PERSON_READ})), True),
            (Caller(Role.AGENCY), False),
            # a scope only means something for an agency
            (Caller(Role.ANALYST, scopes=frozenset({SCOPE_PERSON_READ})), False),
        ],
    )
    def test_has_scope(self, caller: Caller, expected: bool) -> None:
        assert caller.has_scope(SCOPE_PERSON_READ) is expected

    def test_role_values(self) -> None:
        assert [r.value for r in Role] == ["public", "citizen", "volunteer", "analyst", "agency"]
