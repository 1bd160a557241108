"""Names: folding, display, splitting by layout and phonetic keys."""

import pytest

from rnu.normalize import (
    PARTICLES,
    NameParts,
    display,
    fold,
    given_name_key,
    split_full_name,
    split_surnames,
    surname_key,
)
from rnu.normalize.names import repair_mojibake

COMMA = "PATERNO MATERNO, NOMBRES"
NAMES_FIRST = "NOMBRES PATERNO MATERNO"
SURNAMES = "PATERNO MATERNO"


class TestFold:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("María José", "MARIA JOSE"),
            ("ÁLVAREZ ÉRIKA ÍÑIGO ÓSCAR ÚRSULA", "ALVAREZ ERIKA INIGO OSCAR URSULA"),
            ("Ñahui Muñoz", "NAHUI MUNOZ"),
            ("GÜERE Pingüino", "GUERE PINGUINO"),
            ("  quispe   mamani \t", "QUISPE MAMANI"),
            ("QUISPE-MAMANI", "QUISPE MAMANI"),
            ("D'ANGELO", "DANGELO"),
            ("O´BRIEN", "OBRIEN"),
            ("QUISPE, JUAN.", "QUISPE JUAN"),
            ("MU?OZ", "MU?OZ"),
            ("MU\ufffdOZ", "MU?OZ"),
            ("JUAN 2DO", "JUAN 2DO"),
            ("", ""),
            ("  ,;  ", ""),
            ("ÆØß", "AEOSS"),
        ],
    )
    def test_plain(self, text: str, expected: str) -> None:
        assert fold(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            # UTF-8 read as cp1252 (Windows) and as Latin-1 (C1 control bytes survive).
            ("QUISPE MAMANI, MARÃ\x8dA", "QUISPE MAMANI MARIA"),
            ("NUÃ‘EZ", "NUNEZ"),
            ("NUÃ\x91EZ", "NUNEZ"),
            ("Ã\x81LVAREZ", "ALVAREZ"),
            ("JosÃ© PeÃ±a", "JOSE PENA"),
            ("GÃœERE", "GUERE"),
            # the undefined cp1252 byte after Ã was dropped: Á or Í, unknown -> wildcard
            ("GARCÃA", "GARC?A"),
            ("JOÃO", "JO?O"),
            # double re-encoding
            ("NUÃƒâ€˜EZ", "NUNEZ"),
            # mixed: a good accent and a broken one in the same field
            ("PEÑA NUÃ‘EZ", "PENA NUNEZ"),
        ],
    )
    def test_mojibake(self, text: str, expected: str) -> None:
        assert fold(text) == expected

    def test_equal_after_fold(self) -> None:
        assert (
            fold("Quispe Mamani, María")
            == fold("QUISPE  MAMANI,MARIA")
            == fold("QUISPE MAMANI, MARÃ\x8dA")
        )


class TestDisplay:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("  María   José  ", "María José"),
            ("QUISPE MAMANI, MARÃ\x8dA", "QUISPE MAMANI, MARÍA"),
            ("NUÃ‘EZ", "NUÑEZ"),
            ("José\x00 Pérez\x85", "José Pérez"),
            ("de la Cruz", "de la Cruz"),
            ("JOÃO", "JOÃO"),
        ],
    )
    def test_display(self, text: str, expected: str) -> None:
        assert display(text) == expected

    @pytest.mark.parametrize("text", ["Peña", "ÑAHUI", "Güere", "São Paulo"])
    def test_good_text_untouched(self, text: str) -> None:
        assert repair_mojibake(text) == text


class TestParticles:
    def test_spanish_particles(self) -> None:
        assert {"DE", "DEL", "LA", "LAS", "LOS", "Y", "SAN", "SANTA"} <= PARTICLES
        assert "QUISPE" not in PARTICLES


class TestSplitSurnames:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("QUISPE MAMANI", ("QUISPE", "MAMANI")),
            ("quispe  mamani", ("QUISPE", "MAMANI")),
            ("DE LA CRUZ QUISPE", ("DE LA CRUZ", "QUISPE")),
            ("QUISPE DE LA CRUZ", ("QUISPE", "DE LA CRUZ")),
            ("DEL AGUILA", ("DEL AGUILA", None)),
            ("DEL AGUILA DE LOS RIOS", ("DEL AGUILA", "DE LOS RIOS")),
            ("SAN MARTIN SANTA CRUZ", ("SAN MARTIN", "SANTA CRUZ")),
            ("PAZ Y MIÑO QUISPE", ("PAZ Y MINO", "QUISPE")),
            ("QUISPE", ("QUISPE", None)),
            ("QUISPE ???", ("QUISPE", None)),
            ("QUISPE MAMANI HUAMAN", ("QUISPE", "MAMANI HUAMAN")),
            ("QUISPE DE", ("QUISPE DE", None)),
            ("PEÃ‘A", ("PENA", None)),
        ],
    )
    def test_split(self, text: str, expected: tuple[str, str | None]) -> None:
        assert split_surnames(text) == expected

    @pytest.mark.parametrize("text", ["", "   ", "???", "12345", "DE LA", ","])
    def test_garbage(self, text: str) -> None:
        with pytest.raises(ValueError, match="no surname"):
            split_surnames(text)


class TestSplitFullName:
    @pytest.mark.parametrize(
        ("text", "layout", "expected"),
        [
            # Juntos
            ("QUISPE MAMANI, JUAN CARLOS", COMMA, NameParts("JUAN CARLOS", "QUISPE", "MAMANI")),
            ("QUISPE DE LA CRUZ, JUAN", COMMA, NameParts("JUAN", "QUISPE", "DE LA CRUZ")),
            ("DE LA CRUZ QUISPE,MARÍA", COMMA, NameParts("MARIA", "DE LA CRUZ", "QUISPE")),
            ("DEL AGUILA, ROSA", COMMA, NameParts("ROSA", "DEL AGUILA", None)),
            ("QUISPE MAMANI, MARÃ\x8dA", COMMA, NameParts("MARIA", "QUISPE", "MAMANI")),
            ("QUISPE MAMANI,", COMMA, NameParts("", "QUISPE", "MAMANI")),
            ("QUISPE MAMANI, JUAN, CARLOS", COMMA, NameParts("JUAN CARLOS", "QUISPE", "MAMANI")),
            # comma lost: surnames still first
            ("QUISPE MAMANI JUAN CARLOS", COMMA, NameParts("JUAN CARLOS", "QUISPE", "MAMANI")),
            ("QUISPE JUAN", COMMA, NameParts("JUAN", "QUISPE", None)),
            # FISE, Qali Warma
            (
                "JUAN CARLOS QUISPE MAMANI",
                NAMES_FIRST,
                NameParts("JUAN CARLOS", "QUISPE", "MAMANI"),
            ),
            ("juan quispe mamani", NAMES_FIRST, NameParts("JUAN", "QUISPE", "MAMANI")),
            ("JUAN QUISPE DE LA CRUZ", NAMES_FIRST, NameParts("JUAN", "QUISPE", "DE LA CRUZ")),
            ("JUAN DE LA CRUZ QUISPE", NAMES_FIRST, NameParts("JUAN", "DE LA CRUZ", "QUISPE")),
            (
                "MARIA DE LOS ANGELES QUISPE MAMANI",
                NAMES_FIRST,
                NameParts("MARIA DE LOS ANGELES", "QUISPE", "MAMANI"),
            ),
            ("ROSA DEL AGUILA", NAMES_FIRST, NameParts("ROSA", "DEL AGUILA", None)),
            ("SANTA QUISPE MAMANI", NAMES_FIRST, NameParts("SANTA", "QUISPE", "MAMANI")),
            ("JUAN QUISPE", NAMES_FIRST, NameParts("JUAN", "QUISPE", None)),
            # a middle word that is only ever a given name: two names, materno missing
            (
                "GABRIELA KATHERINE RUIZ",
                NAMES_FIRST,
                NameParts("GABRIELA KATHERINE", "RUIZ", None),
            ),
            # a word that is also a surname keeps the usual reading
            ("MARÍA SALVADOR LEÓN", NAMES_FIRST, NameParts("MARIA", "SALVADOR", "LEON")),
            ("JOSÉ  PEÃ‘A  RÍOS", NAMES_FIRST, NameParts("JOSE", "PENA", "RIOS")),
            # Cuna Más, Contigo, Beca 18: one apellidos field
            ("QUISPE MAMANI", SURNAMES, NameParts("", "QUISPE", "MAMANI")),
            ("DE LA CRUZ", SURNAMES, NameParts("", "DE LA CRUZ", None)),
        ],
    )
    def test_layouts(self, text: str, layout: str, expected: NameParts) -> None:
        assert split_full_name(text, layout) == expected

    @pytest.mark.parametrize(
        ("text", "layout"),
        [
            ("", COMMA),
            (", JUAN", COMMA),
            ("QUISPE", COMMA),
            ("", NAMES_FIRST),
            ("JUAN", NAMES_FIRST),
            ("??? 123", NAMES_FIRST),
            ("", SURNAMES),
            ("QUISPE MAMANI, JUAN", "NOMBRES, PATERNO"),
        ],
    )
    def test_garbage(self, text: str, layout: str) -> None:
        with pytest.raises(ValueError, match="surname|split|layout"):
            split_full_name(text, layout)

    def test_parts_are_frozen(self) -> None:
        parts = split_full_name("QUISPE MAMANI, JUAN", COMMA)
        with pytest.raises(AttributeError):
            parts.nombres = "PEDRO"  # type: ignore[misc]


class TestSurnameKey:
    @pytest.mark.parametrize(
        "variants",
        [
            ["HUAMÁN", "GUAMÁN", "HUAMANÍ", "GUAMANI", "WAMAN", "huaman"],
            ["QUISPE", "QUISPI", "KISPE", "Quispe"],
            ["MAMANI", "MAMANY"],
            ["CCAHUANA", "CAHUANA", "CAGUANA"],
            ["CONDORI", "CUNDURI", "CONDORE"],
            ["LLANOS", "YANOS"],
            ["VILCA", "BILCA"],
            ["ZAPATA", "SAPATA"],
            ["CESPEDES", "SESPEDES", "ZESPEDES"],
            ["HERRERA", "ERRERA"],
            ["MUÑOZ", "MU?OZ", "MUNOZ", "MUÃ‘OZ"],
            ["GARCÍA", "GARC?A", "GARCIA"],
            ["DE LA CRUZ", "CRUZ", "de la Cruz"],
            ["QQUECCAÑO", "QUECAÑO", "KEKANO"],
            ["XIMENA", "JIMENA"],
            ["MAYTA", "MAITA"],
            ["ÑAHUI", "NAHUI", "?AHUI"],
        ],
    )
    def test_variants_share_key(self, variants: list[str]) -> None:
        keys = {surname_key(v) for v in variants}
        assert len(keys) == 1, keys
        assert keys.pop() != ""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("HUAMAN", "WMN"),
            ("QUISPE", "KSP"),
            ("MAMANI", "MMN"),
            ("CHOQUE", "CK"),
            ("ALVAREZ", "ALBRS"),
            ("ORTIZ", "URTS"),
            ("SAN MARTIN", "MRTN"),
            ("", ""),
            ("???", ""),
        ],
    )
    def test_exact_key(self, text: str, expected: str) -> None:
        assert surname_key(text) == expected

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            ("QUISPE", "MAMANI"),
            ("CHAVEZ", "SAAVEDRA"),
            ("ROSAS", "RIOS"),
            ("CHOQUE", "QUISPE"),
            ("ARIAS", "RIOS"),
        ],
    )
    def test_different_surnames_differ(self, a: str, b: str) -> None:
        assert surname_key(a) != surname_key(b)


class TestGivenNameKey:
    @pytest.mark.parametrize(
        ("a", "b"),
        [
            ("MARÍA DEL PILAR", "MARIA"),
            ("YESENIA", "LLESENIA"),
            ("WILBER", "HUILBER"),
            ("ELIZABETH", "ELISABET"),
            ("JHON", "JON"),
            ("DEL CARMEN", "CARMEN"),
        ],
    )
    def test_variants_share_key(self, a: str, b: str) -> None:
        assert given_name_key(a) == given_name_key(b) != ""

    def test_santa_is_a_given_name(self) -> None:
        assert given_name_key("SANTA ROSA") == "SNT"

    def test_only_first_name(self) -> None:
        assert given_name_key("JUAN CARLOS") == given_name_key("JUAN") == "JN"
