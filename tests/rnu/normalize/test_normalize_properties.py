"""Properties that must hold for any input a sector file can contain."""

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from rnu.normalize import (
    ERROR_CODES,
    DateError,
    display,
    fold,
    parse_date,
    parse_document,
    split_full_name,
    surname_key,
)

LATIN_TEXT = st.text(alphabet=st.characters(max_codepoint=0x24F, codec="utf-8"), max_size=40)
FOLDED = re.compile(r"^(?:[A-Z0-9?]+(?: [A-Z0-9?]+)*)?$")
SPANISH_TEXT = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.-'/?\ufffd\t"
        "áéíóúüñÁÉÍÓÚÜÑàèìòùÀÈÌÒÙçÇÃÂ‘©\x81\x8d"
    ),
    max_size=40,
)


@given(SPANISH_TEXT)
def test_fold_of_spanish_text_is_plain_ascii(text: str) -> None:
    folded = fold(text)
    assert FOLDED.match(folded), folded
    assert fold(folded) == folded


@given(st.text(max_size=40))
def test_fold_keeps_only_letters_digits_wildcard(text: str) -> None:
    # Letters without a Latin base (Greek, Ŋ, Ə...) are kept rather than lost.
    folded = fold(text)
    assert all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789? " or c.isalpha() for c in folded)
    assert fold(folded) == folded
    assert folded == " ".join(folded.split())


@given(st.text(max_size=40))
def test_display_has_no_edge_or_double_spaces(text: str) -> None:
    shown = display(text)
    assert shown == shown.strip()
    assert "  " not in shown


@given(LATIN_TEXT)
def test_surname_key_is_upper_ascii(text: str) -> None:
    assert re.match(r"^[A-Z]*$", surname_key(text))


@given(
    st.text(max_size=40), st.sampled_from(["NOMBRES PATERNO MATERNO", "PATERNO MATERNO, NOMBRES"])
)
def test_split_full_name_only_raises_value_error(text: str, layout: str) -> None:
    try:
        parts = split_full_name(text, layout)
    except ValueError:
        return
    assert parts.apellido_paterno
    assert fold(parts.apellido_paterno) == parts.apellido_paterno


@given(
    st.one_of(st.none(), st.text(max_size=15), st.integers(), st.floats()),
    st.sampled_from([None, "DNI", "CE", "CUI", "0", "1", "2", "3", "x"]),
)
def test_parse_document_never_raises(value: str | int | float | None, declared: str | None) -> None:
    result = parse_document(value, declared)
    assert result.error is None or result.error in ERROR_CODES
    if result.error is None:
        assert result.number is not None
        assert result.doc_type in {"DNI", "CE", "CUI"}
        if result.doc_type != "CE":
            assert len(result.number) == 8
            assert result.number.isdigit()


@given(st.one_of(st.none(), st.text(max_size=25), st.integers(), st.floats()))
def test_parse_date_only_raises_date_error(value: str | int | float | None) -> None:
    try:
        parsed = parse_date(value, ("auto",), today=date(2025, 1, 1))
    except DateError:
        return
    assert date(1900, 1, 1) <= parsed <= date(2025, 1, 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 1, 1)))
def test_dates_round_trip(day: date) -> None:
    today = date(2025, 1, 1)
    assert parse_date(day.isoformat(), today=today) == day
    assert parse_date(day.strftime("%d/%m/%Y"), ("dmy",), today=today) == day
    assert parse_date(day.strftime("%m/%d/%Y"), ("mdy",), today=today) == day
    assert parse_date(day.strftime("%Y%m%d"), ("ymd_compact",), today=today) == day
    assert parse_date(day.strftime("%d%m%Y"), ("dmy_compact",), today=today) == day
    for text in (day.isoformat(), day.strftime("%Y%m%d"), day.strftime("%d%m%Y")):
        assert parse_date(text, ("auto",), today=today) == day
    serial = (day - date(1899, 12, 30)).days
    if day < date(1900, 3, 1):
        serial -= 1  # before Excel's fake 1900-02-29
    assert parse_date(serial, ("excel",), today=today) == day
