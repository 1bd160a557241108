"""Masks are deterministic, keep exactly what the policy promises, and ids are keyed."""

import pytest

from privacy import masking
from privacy.masking import dni_hmac, entry_id, initials, mask_dni, mask_name, mask_surname

SECRET = b"test-secret"


class TestMaskDni:
    @pytest.mark.parametrize(
        ("dni", "expected"),
        [
            ("12345678", "*****678"),
            ("01234567", "*****567"),
            ("00000012", "*****012"),  # leading zeros are digits like any other
            (" 12345678 ", "*****678"),
            ("001234567", "******567"),  # a CE number keeps its own length
            ("1234", "*234"),
            ("123", "***"),
            ("12", "**"),
            ("", ""),
        ],
    )
    def test_keeps_last_three(self, dni: str, expected: str) -> None:
        assert mask_dni(dni) == expected


class TestInitials:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("JUAN CARLOS", "J. C."),
            ("juan  carlos ", "J. C."),
            ("ÑAHUI", "Ñ."),
            ("MARÍA DE LOS ÁNGELES", "M. D. L. Á."),
            ("", ""),
            (None, ""),
        ],
    )
    def test_initials(self, name: str | None, expected: str) -> None:
        assert initials(name) == expected


class TestMaskName:
    @pytest.mark.parametrize(
        ("nombres", "paterno", "materno", "expected"),
        [
            ("JUAN CARLOS", "QUISPE", "MAMANI", "JUAN C. Q*** M***"),
            ("juan carlos", "quispe", "mamani", "JUAN C. Q*** M***"),
            ("ROSA", "HUAMAN", None, "ROSA H***"),
            ("ROSA", "HUAMAN", "", "ROSA H***"),
            ("ANA MARIA LUZ", "DE LA CRUZ", "ÑAUPARI", "ANA M. L. D*** Ñ***"),
            # the fixed tail hides surname length: a short and a long surname look alike
            ("LUIS", "LI", "VILLAVICENCIO", "LUIS L*** V***"),
            (None, "QUISPE", "MAMANI", "Q*** M***"),
            (None, None, None, ""),
        ],
    )
    def test_first_name_and_surname_initials(
        self, nombres: str | None, paterno: str | None, materno: str | None, expected: str
    ) -> None:
        assert mask_name(nombres, paterno, materno) == expected

    def test_never_contains_a_full_surname(self) -> None:
        masked = mask_name("JUAN", "QUISPE", "MAMANI")
        assert "QUISPE" not in masked
        assert "MAMANI" not in masked

    @pytest.mark.parametrize(("surname", "expected"), [("QUISPE", "Q***"), ("  ", ""), (None, "")])
    def test_mask_surname(self, surname: str | None, expected: str) -> None:
        assert mask_surname(surname) == expected


class TestEntryId:
    def test_is_stable_across_releases(self) -> None:
        # Ids end up in URLs and citizens' bookmarks: changing the derivation breaks them.
        assert entry_id(SECRET, "JUNTOS:2025-06:H001-1") == "OW6Gjj-4yvWm8uFK"

    def test_same_key_same_id(self) -> None:
        assert entry_id(SECRET, "k1") == entry_id(SECRET, "k1")

    def test_short_and_url_safe(self) -> None:
        ids = {entry_id(SECRET, f"key-{n}") for n in range(500)}
        assert len(ids) == 500
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert all(len(i) == masking.ENTRY_ID_LENGTH and set(i) <= allowed for i in ids)

    def test_depends_on_secret(self) -> None:
        assert entry_id(SECRET, "k1") != entry_id(b"other-secret", "k1")

    def test_empty_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="non-empty secret"):
            entry_id(b"", "k1")


class TestDniHmac:
    def test_exact_value(self) -> None:
        assert dni_hmac(SECRET, "01234567") == (
            "e46397c3807234629b963b086dd8be007358b661e007e1bd3cf1351dcc303186"
        )

    def test_leading_zero_matters_and_spaces_do_not(self) -> None:
        assert dni_hmac(SECRET, "01234567") != dni_hmac(SECRET, "1234567")
        assert dni_hmac(SECRET, " 01234567 ") == dni_hmac(SECRET, "01234567")

    def test_never_contains_the_dni(self) -> None:
        assert "01234567" not in dni_hmac(SECRET, "01234567")

    def test_purposes_are_separated(self) -> None:
        # The public id of an entry keyed by a DNI cannot be matched against audit-log HMACs.
        assert not dni_hmac(SECRET, "01234567").startswith(entry_id(SECRET, "01234567"))
        assert entry_id(SECRET, "01234567") not in dni_hmac(SECRET, "01234567")

    def test_empty_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="non-empty secret"):
            dni_hmac(b"", "01234567")
