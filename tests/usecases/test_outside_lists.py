"""Outside lists for `rnu crosscheck`: a mapping needs no [program]; a bad one is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnu.errors import InvalidInput
from usecases.lists import read_list

LIST = "nombre,dni,fecha\nJUAN PEREZ QUISPE,12345678,1980-01-02\nANA ROJAS,,\n"
COLUMNS = """
[columns]
full_name = "nombre"
doc_number = "dni"
birth_date = "fecha"
[names]
layout = "NOMBRES PATERNO MATERNO"
"""


def test_a_mapping_without_program_reads_the_list(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text(LIST, encoding="utf-8")
    (tmp_path / "m.toml").write_text(COLUMNS, encoding="utf-8")
    rows, rejected = read_list(tmp_path / "l.csv", tmp_path / "m.toml")
    assert [(r.apellido_paterno, r.doc_number) for r in rows] == [
        ("PEREZ", "12345678"),
        ("ROJAS", None),
    ]
    assert rejected == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[columns\n", "is not valid TOML"),
        ('[columns]\nbogus = "x"\n', "unknown canonical fields in \\[columns\\]: \\['bogus'\\]"),
        ('[file]\nformat = "pdf"\n' + COLUMNS, "file.format must be one of"),
    ],
)
def test_a_bad_mapping_is_an_invalid_input_naming_it(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "l.csv").write_text(LIST, encoding="utf-8")
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"m.toml.*{expected}"):
        read_list(tmp_path / "l.csv", tmp_path / "m.toml")
