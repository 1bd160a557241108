from collections import Counter

import pytest

from rnu.errors import NotFound
from rnu.ubigeo import reference
from rnu.ubigeo.reference import (
    District,
    by_inei,
    department_name,
    departments,
    districts,
    districts_of,
    fold,
    inei_from_reniec,
    province_name,
    provinces,
    reniec_from_inei,
    resolve,
)


class TestData:
    def test_counts(self):
        assert len(departments()) == 25
        assert len({d.inei[:4] for d in districts()}) == 196
        assert sum(len(provinces(code)) for code, _ in departments()) == 196
        assert len(districts()) == 1891

    def test_inei_codes_are_six_digits_and_unique(self):
        codes = [d.inei for d in districts()]
        assert all(len(c) == 6 and c.isdigit() for c in codes)
        assert len(set(codes)) == len(codes)
        assert codes == sorted(codes)

    def test_reniec_codes_are_six_digits_and_unique(self):
        codes = [d.reniec for d in districts() if d.reniec is not None]
        assert all(len(c) == 6 and c.isdigit() for c in codes)
        assert len(set(codes)) == len(codes) == 1839

    def test_names_keep_accents_and_enye(self):
        assert department_name("02") == "Áncash"
        district = by_inei("090710")
        assert district is not None
        assert (district.departamento, district.distrito) == ("Huancavelica", "Ñahuimpuquio")

    def test_no_duplicate_names_within_a_province(self):
        keys = Counter((d.inei[:4], fold(d.distrito)) for d in districts())
        assert [k for k, n in keys.items() if n > 1] == []


class TestCodes:
    def test_lima(self):
        assert by_inei("150101") == District("150101", "140101", "Lima", "Lima", "Lima")
        assert reniec_from_inei("150101") == "140101"
        assert inei_from_reniec("140101") == "150101"

    def test_iquitos(self):
        assert by_inei("160101") == District("160101", "150101", "Loreto", "Maynas", "Iquitos")
        assert inei_from_reniec("150101") == "160101"

    def test_callao(self):
        assert by_inei("070101") == District("070101", "240101", "Callao", "Callao", "Callao")
        assert inei_from_reniec("240101") == "070101"
        assert department_name("07") == "Callao"

    def test_district_that_moved_province_keeps_its_reniec_code(self):
        assert by_inei("160801") == District("160801", "150107", "Loreto", "Putumayo", "Putumayo")

    def test_new_district_has_no_reniec_code(self):
        district = by_inei("050413")
        assert district is not None
        assert district.distrito == "Putis"
        assert district.reniec is None
        assert reniec_from_inei("050413") is None

    def test_unknown_codes(self):
        assert by_inei("999999") is None
        assert reniec_from_inei("999999") is None
        assert inei_from_reniec("999999") is None

    def test_spurious_package_duplicate_is_dropped(self):
        assert by_inei("090708") is None
        assert by_inei("090709") is not None


class TestDrillDown:
    def test_departments_in_code_order(self):
        assert departments()[:3] == [("01", "Amazonas"), ("02", "Áncash"), ("03", "Apurímac")]
        assert departments()[-1] == ("25", "Ucayali")

    def test_provinces_of_lima(self):
        assert provinces("15")[0] == ("1501", "Lima")
        assert len(provinces("15")) == 10
        assert provinces("99") == []

    def test_districts_of_callao(self):
        assert [d.distrito for d in districts_of("0701")] == [
            "Callao",
            "Bellavista",
            "Carmen de La Legua Reynoso",
            "La Perla",
            "La Punta",
            "Ventanilla",
            "Mi Perú",
        ]
        assert districts_of("9999") == []

    def test_names(self):
        assert department_name("10") == "Huánuco"
        assert province_name("1103") == "Nasca"

    @pytest.mark.parametrize("call", [lambda: department_name("26"), lambda: province_name("1599")])
    def test_unknown_name_raises_not_found(self, call):
        with pytest.raises(NotFound):
            call()


class TestFold:
    @pytest.mark.parametrize(
        ("text", "folded"),
        [
            ("HUÁNUCO", "HUANUCO"),
            ("Huanuco", "HUANUCO"),
            (" huanuco ", "HUANUCO"),
            ("Ñahuimpuquio", "NAHUIMPUQUIO"),
            ("Güeppí", "GUEPPI"),
            ("PROV. CONST. DEL CALLAO", "PROV CONST DEL CALLAO"),
            ("Lurigancho - Chosica", "LURIGANCHO CHOSICA"),
            ("san  juan\tde   lurigancho", "SAN JUAN DE LURIGANCHO"),
            ("ANCO_HUALLO", "ANCO HUALLO"),
            ("", ""),
        ],
    )
    def test_fold(self, text, folded):
        assert fold(text) == folded


class TestResolve:
    @pytest.mark.parametrize(
        ("departamento", "provincia", "distrito", "code"),
        [
            ("HUÁNUCO", "HUÁNUCO", "HUÁNUCO", "100101"),
            ("Huanuco", "Huanuco", "Huanuco", "100101"),
            (" huanuco ", "  huánuco", "AMARILIS ", "100102"),
            ("LIMA", "LIMA", "LIMA", "150101"),
            ("LIMA METROPOLITANA", "LIMA", "SAN JUAN DE LURIGANCHO", "150132"),
            ("Lima Región", "Huaura", "Santa María", "150810"),
            ("CALLAO", "CALLAO", "VENTANILLA", "070106"),
            ("PROV. CONST. DEL CALLAO", "PROV. CONST. DEL CALLAO", "LA PUNTA", "070105"),
            ("CALLAO", "PROVINCIA CONSTITUCIONAL DEL CALLAO", "BELLAVISTA", "070102"),
            ("LIMA", "CALLAO", "BELLAVISTA", "070102"),
            ("CUZCO", "CUZCO", "SANTIAGO", "080106"),
            ("Departamento de Cusco", "Provincia de Cusco", "Distrito de Wanchaq", "080108"),
            ("LORETO", "MAYNAS", "IQUITOS", "160101"),
        ],
    )
    def test_official_and_variant_names(self, departamento, provincia, distrito, code):
        assert resolve(departamento, provincia, distrito) == code

    @pytest.mark.parametrize(
        ("departamento", "provincia", "distrito", "code"),
        [
            ("ICA", "NAZCA", "NAZCA", "110301"),  # former spelling, still used by RENIEC
            ("ANCASH", "HUARAZ", "PAMPAS", "020109"),  # now Pampas Grande
            ("ANCASH", "PALLASCA", "PAMPAS", "021509"),  # the other Pampas keeps its name
            ("LIMA", "HUAROCHIRI", "LARAOS", "150712"),  # now San Pedro de Laraos
            ("LIMA", "YAUYOS", "LARAOS", "151018"),
            ("LORETO", "MAYNAS", "PUTUMAYO", "160801"),  # moved to the new Putumayo province
            ("LIMA", "LIMA", "LURIGANCHO - CHOSICA", "150118"),
            ("CALLAO", "CALLAO", "CARMEN DE LA LEGUA", "070103"),
            ("AREQUIPA", "AREQUIPA", "CERCADO", "040101"),
            ("LIMA", "LIMA", "CERCADO DE LIMA", "150101"),
        ],
    )
    def test_former_names_and_aliases(self, departamento, provincia, distrito, code):
        assert resolve(departamento, provincia, distrito) == code

    def test_without_province_when_unique_in_department(self):
        assert resolve("AREQUIPA", None, "MIRAFLORES") == "040110"
        assert resolve("AREQUIPA", "", "MIRAFLORES") == "040110"

    def test_without_province_when_ambiguous(self):
        # Lima has a Miraflores in the province of Lima and another in Yauyos.
        assert resolve("LIMA", None, "MIRAFLORES") is None

    def test_unreadable_province_falls_back_to_department(self):
        assert resolve("AREQUIPA", "AREQIPA", "YANAHUARA") == "040126"

    def test_readable_province_without_that_district(self):
        assert resolve("AREQUIPA", "CAMANA", "YANAHUARA") is None

    @pytest.mark.parametrize(
        ("departamento", "provincia", "distrito"),
        [
            ("LIMA", "LIMA", "ATLANTIS"),
            ("ATLANTIS", "LIMA", "LIMA"),
            ("", "", "MIRAFLORES"),
            ("LIMA", "LIMA", ""),
            ("LIMA", "LIMA", "?"),
        ],
    )
    def test_unknown_or_ambiguous_gives_none(self, departamento, provincia, distrito):
        assert resolve(departamento, provincia, distrito) is None

    @pytest.mark.parametrize(
        ("departamento", "provincia", "distrito", "code"),
        [
            ("HU?NUCO", "HU?NUCO", "AMARILIS", "100102"),  # accent lost to '?'
            ("SAN MART?N", "MOYOBAMBA", "MOYOBAMBA", "220101"),
            ("JUN\u00c3\u008dN", "HUANCAYO", "EL TAMBO", "120114"),  # UTF-8 read as Latin-1
            ("Jun\u00c3\u00adn", "Huancayo", "El Tambo", "120114"),  # UTF-8 read as cp1252
            ("\u00c3\u0081NCASH", "HUARAZ", "INDEPENDENCIA", "020105"),
        ],
    )
    def test_damaged_encodings(self, departamento, provincia, distrito, code):
        assert resolve(departamento, provincia, distrito) == code

    def test_every_official_triple_resolves_to_its_code(self):
        for d in districts():
            assert resolve(d.departamento, d.provincia, d.distrito) == d.inei, d

    def test_every_alias_resolves_to_its_district(self):
        """RENIEC/SUNAT spellings and the package's equivalences lead to the same district."""
        rows = list(reference._read_csv("aliases.csv"))
        assert rows
        for row in rows:
            assert resolve(row["departamento"], row["provincia"], row["distrito"]) == row["inei"]
