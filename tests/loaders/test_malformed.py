"""A corpus of malformed files: encodings, shapes, garbage. Counts always add up."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from loaders.base import Reject
from loaders.errors import EncodingMismatch, FileRejected
from loaders.juntos import COLUMNS as JUNTOS_COLUMNS
from loaders.juntos import JuntosLoader
from loaders.reasons import REASONS
from loaders.sis import COLUMNS as SIS_COLUMNS
from loaders.sis import SisLoader
from tests.loaders.conftest import TODAY, read_all

SIS_HEADER = ",".join(SIS_COLUMNS)
GOOD_SIS = "1,12345678,PEÑA,NÚÑEZ,JOSÉ,1980-01-02,M,150101,SUBSIDIADO,2020-05-06"
JUNTOS_HEADER = "|".join(JUNTOS_COLUMNS)
GOOD_JUNTOS = "202610|080101|H1|12345678|PEÑA NÚÑEZ, JOSÉ|02/01/1980|200.00|ACTIVO"


def sis(*lines: str, encoding: str = "utf-8", prefix: bytes = b"") -> bytes:
    return prefix + ("\n".join(lines) + "\n").encode(encoding)


def load_sis(data: bytes) -> list[Any]:
    return read_all(SisLoader(period="2026-10", today=TODAY), data)


def load_juntos(data: bytes) -> list[Any]:
    return read_all(JuntosLoader(period="2026-10", today=TODAY), data)


def reasons(rows: list[object]) -> list[tuple[str, ...]]:
    return [r.reasons if isinstance(r, Reject) else () for r in rows]


class TestEncoding:
    def test_latin1_file_declared_utf8_is_rejected_as_a_whole(self):
        data = sis(SIS_HEADER, GOOD_SIS, GOOD_SIS, GOOD_SIS, encoding="latin-1")
        with pytest.raises(EncodingMismatch) as caught:
            load_sis(data)
        assert (caught.value.code, caught.value.declared) == ("encoding_mismatch", "utf-8")

    def test_utf8_file_declared_latin1_is_rejected_as_a_whole(self):
        data = sis(JUNTOS_HEADER, GOOD_JUNTOS, GOOD_JUNTOS, GOOD_JUNTOS)
        with pytest.raises(EncodingMismatch) as caught:
            load_juntos(data)
        assert caught.value.detected == "utf-8"

    def test_one_undecodable_line_is_a_row_reject(self):
        bad = GOOD_SIS.encode("latin-1")
        data = sis(SIS_HEADER, GOOD_SIS) + bad + b"\n" + sis(GOOD_SIS)
        rows = load_sis(data)
        assert reasons(rows) == [(), ("encoding_error",), ()]
        assert [r.row_number for r in rows] == ["1", "2", "3"]

    def test_bom_is_dropped_even_when_not_announced(self):
        rows = load_sis(sis(SIS_HEADER, GOOD_SIS, prefix=b"\xef\xbb\xbf"))
        assert reasons(rows) == [()]

    def test_utf16_is_rejected(self):
        data = ("\n".join([SIS_HEADER, GOOD_SIS]) + "\n").encode("utf-16")
        with pytest.raises(EncodingMismatch) as caught:
            load_sis(data)
        assert caught.value.detected == "utf-16"

    def test_latin1_declared_file_reads_windows_1252_characters(self):
        data = sis(JUNTOS_HEADER, GOOD_JUNTOS.replace("JOSÉ", "JOSÉ ‘PEPE’"), encoding="cp1252")
        (row,) = load_juntos(data)
        assert row.nombres == "JOSÉ ‘PEPE’"


class TestShape:
    def test_empty_file_and_header_only_yield_nothing(self):
        assert load_sis(b"") == []
        assert load_sis(sis(SIS_HEADER)) == []
        assert load_sis(b"\n\n  \n") == []

    def test_wrong_delimiter_rejects_the_file(self):
        with pytest.raises(FileRejected) as caught:
            load_sis(sis(SIS_HEADER.replace(",", ";"), GOOD_SIS.replace(",", ";")))
        assert caught.value.code == "header_missing"

    def test_missing_header_rejects_the_file(self):
        with pytest.raises(FileRejected) as caught:
            load_sis(sis(GOOD_SIS, GOOD_SIS))
        assert caught.value.code == "header_missing"

    def test_missing_column_in_header_rejects_the_file(self):
        header = SIS_HEADER.replace(",REGIMEN", "")
        with pytest.raises(FileRejected) as caught:
            load_sis(sis(header))
        assert caught.value.code == "missing_columns"

    def test_extra_and_reordered_columns_are_found_by_name(self):
        columns = list(reversed(SIS_COLUMNS)) + ["OBSERVACION"]
        values = list(reversed(GOOD_SIS.split(","))) + ["ninguna"]
        (row,) = load_sis(sis(",".join(columns).lower(), ",".join(values)))
        assert (row.doc_number, row.apellido_materno) == ("12345678", "NÚÑEZ")
        assert row.raw["OBSERVACION"] == "ninguna"

    def test_missing_and_extra_fields_in_rows(self):
        rows = load_sis(sis(SIS_HEADER, GOOD_SIS + ",extra", "1,12345678,PEÑA", GOOD_SIS))
        assert reasons(rows) == [("wrong_field_count",), ("wrong_field_count",), ()]

    def test_truncated_last_line_versus_short_line(self):
        rows = load_sis(sis(SIS_HEADER, "1,123", GOOD_SIS)[:-1] + b"\n1,1234")
        assert reasons(rows) == [("wrong_field_count",), (), ("truncated_line",)]

    def test_last_line_without_newline_is_fine_when_complete(self):
        assert reasons(load_sis(sis(SIS_HEADER, GOOD_SIS)[:-1])) == [()]

    def test_crlf_line_endings(self):
        data = (SIS_HEADER + "\r\n" + GOOD_SIS + "\r\n").encode()
        (row,) = load_sis(data)
        assert row.extra["fec_afiliacion"] == "2020-05-06"

    def test_binary_garbage_line(self):
        rows = load_sis(sis(SIS_HEADER, GOOD_SIS) + b"\x00\x01\x02\xff\xfe\n" + sis(GOOD_SIS))
        assert reasons(rows) == [(), ("binary_garbage",), ()]

    def test_control_characters_in_a_broken_line(self):
        rows = load_sis(sis(SIS_HEADER, "\x01\x02garbage\x1f"))
        assert reasons(rows) == [("binary_garbage",)]

    def test_binary_file_is_rejected(self):
        with pytest.raises(FileRejected) as caught:
            load_juntos(b"PK\x03\x04" + bytes(range(256)) * 10)
        assert caught.value.code == "not_text"

    def test_giant_field(self):
        giant = GOOD_SIS.replace("JOSÉ", "A" * 1_000_000)
        rows = load_sis(sis(SIS_HEADER, giant, GOOD_SIS))
        assert reasons(rows) == [("field_too_long",), ()]
        assert len(rows[0].raw["NOMBRES"]) == 1000  # the reject keeps a preview only

    def test_line_longer_than_the_read_limit_is_drained(self):
        rows = load_sis(sis(SIS_HEADER, "x" * 3_000_000, GOOD_SIS))
        assert reasons(rows) == [("field_too_long",), ()]

    def test_giant_quoted_field(self):
        rows = load_sis(sis(SIS_HEADER, GOOD_SIS.replace("JOSÉ", '"' + "B" * 200_000 + '"')))
        assert reasons(rows) == [("field_too_long",)]

    def test_truncated_gzip_rejects_the_file(self):
        data = gzip.compress(sis(SIS_HEADER, *[GOOD_SIS] * 2000))
        with pytest.raises(FileRejected) as caught:
            load_sis(data[: len(data) // 2])
        assert caught.value.code == "unreadable_file"


class TestValues:
    def test_seven_digit_dni_and_check_characters(self):
        rows = load_sis(
            sis(
                SIS_HEADER,
                GOOD_SIS.replace("12345678", "1234567"),
                GOOD_SIS.replace("12345678", "123456789"),
                GOOD_SIS.replace("12345678", "12345678Z"),
                GOOD_SIS.replace("12345678", "00000000"),
            )
        )
        assert [(r.doc_number, r.doc_notes) for r in rows] == [
            ("01234567", ("leading_zeros_restored",)),
            ("12345678", ("wrong_check_char",)),
            (None, ("dni_not_numeric",)),
            (None, ("dni_placeholder",)),
        ]

    def test_three_date_formats_and_bad_dates(self):
        rows = load_sis(
            sis(
                SIS_HEADER,
                *(
                    GOOD_SIS.replace("1980-01-02", value)
                    for value in (
                        "02/01/1980",
                        "19800102",
                        "1980-01-02T00:00:00",
                        "1980-02-30",
                        "2030-01-01",
                        "1890-01-01",
                        "ayer",
                    )
                ),
            )
        )
        dates = [getattr(r, "birth_date", None) for r in rows[:3]]
        assert {d.isoformat() for d in dates if d} == {"1980-01-02"}
        # The row has a DNI and names: a bad birth date is a note, the date None.
        assert reasons(rows)[3:] == [()] * 4
        assert [(r.birth_date, r.doc_notes) for r in rows[3:]] == [
            (None, ("impossible_date",)),
            (None, ("future_date",)),
            (None, ("too_old",)),
            (None, ("unparseable_date",)),
        ]

    def test_formula_like_names_are_data(self):
        (row,) = load_sis(sis(SIS_HEADER, GOOD_SIS.replace("JOSÉ", "=SUM(A1)")))
        assert row.nombres == "=SUM(A1)"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        sis(SIS_HEADER),
        sis(SIS_HEADER, GOOD_SIS, "", SIS_HEADER, "broken", "1,2,3,4,5,6,7,8,9,10,11"),
        sis(SIS_HEADER, *[GOOD_SIS] * 3, "\x00\x00", GOOD_SIS.replace("M,", "Q,")),
        sis(SIS_HEADER, GOOD_SIS.replace("JOSÉ", "Z" * 1_000_000), GOOD_SIS),
    ],
)
def test_counts_add_up(data: bytes):
    """Every non-blank, non-header line is one row, loaded or rejected, numbered 1..n."""
    rows = load_sis(data)
    text_lines = data.decode("utf-8", "replace").splitlines()
    expected = [line for line in text_lines[1:] if line.strip() and line != SIS_HEADER]
    assert [r.row_number for r in rows] == [str(n) for n in range(1, len(expected) + 1)]
    for row in rows:
        if isinstance(row, Reject):
            assert all(code in REASONS for code in row.reasons)
