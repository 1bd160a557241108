"""The truth of a synthetic country: what `rnu synth` did, for scoring RNU against it.

Files in `truth/` (each a CSV with a header line, UTF-8):

* `rows.csv` -- one line per program row written, `file,row_number,true_person_key,defects,
  cases`. `row_number` counts data rows from 1 in file order (`sheet!n` in Excel workbooks).
  `true_person_key` is the PGH key (`CO_HOGAR-NU_ORDEN`) of the person the row is about,
  empty when they are not in the PGH (or for a broken line). `defects` and `cases` are
  `;`-separated codes: what was done to the row (a typo, a mother's DNI, ...) plus who the
  person is when that makes matching hard (twin, father_son, namesake_trap), and the
  integrity cases a correct RNU must flag on that row (re-derived from the person's true
  facts). Every code is described in `codes.csv`.
* `codes.csv` -- `code,column,meaning`: every defect, kind and case code, in English.
* `pgh_duplicates.csv` -- `key_a,key_b`: the same person registered twice in the PGH
  (a re-registration with slips: the pairs a PGH-duplicate check must find).
* `pgh_kin.csv` -- `key_a,key_b,relation`: PGH people of one household who look alike but
  are two people (`twin`: same birth date and surnames; `father_son`: same given names and
  paterno). A PGH-duplicate check that pairs them is wrong.
* `config.json` -- seed, size, period, every rate, and the rows written per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

TRUTH_HEADER = "file,row_number,true_person_key,defects,cases\n"

# code -> (column of rows.csv, meaning)
CODES: dict[str, tuple[str, str]] = {
    "typo": ("defects", "one keyboard or phonetic slip in a name"),
    "swapped_surnames": ("defects", "paterno and materno in each other's columns"),
    "missing_materno": ("defects", "second surname left blank"),
    "mojibake": ("defects", "UTF-8 text re-read as Latin-1/cp1252 in one name"),
    "lost_leading_zeros": ("defects", "DNI written as a number, leading zeros lost"),
    "wrong_check_char": ("defects", "a 9th DNI character that is not its check character"),
    "transposed_digits": ("defects", "two adjacent DNI digits swapped (a DNI of no one)"),
    "missing_document": ("defects", "no document number"),
    "other_date_format": ("defects", "a date in another format than the file's own"),
    "duplicate_row": ("defects", "exact copy of the row before it (the copy carries it)"),
    "broken_line": ("defects", "a line cut short; not a person row"),
    "given_shortened": ("defects", "compound given name cut to one (MARIA DEL CARMEN -> CARMEN)"),
    "given_abbreviated": ("defects", "first given name abbreviated (MA. DEL CARMEN)"),
    "married_name": ("defects", "second surname as a married woman's DE X or VDA. DE X"),
    "given_surname_swapped": ("defects", "given names and paterno in each other's columns"),
    "quechua_variant": ("defects", "Andean surname spelt another way (HUAMAN/WAMAN, CCAMA/CAMA)"),
    "ocr_confusion": ("defects", "one OCR slip in a name (RN for M, 0 for O)"),
    "day_month_swapped": ("defects", "birth date with day and month swapped"),
    "year_off_by_one": ("defects", "birth year one more or one less"),
    "placeholder_birth": ("defects", "birth date written as 01/01 of the right year"),
    "missing_birth_date": ("defects", "no birth date"),
    "mother_dni": ("defects", "a child's row carrying the mother's DNI (a PGH person)"),
    "neighbour_dni": ("defects", "the DNI of an adult of another household (a PGH person)"),
    "twin": ("defects", "the person has a twin in the household (same birth date, surnames)"),
    "father_son": ("defects", "father and son share given names and paterno"),
    "namesake_trap": (
        "defects",
        "not in the PGH; a PGH person of the same district has this exact full name, "
        "another birth date (3+ years apart) and another DNI: any link is false",
    ),
    "cse_not_qualifying": ("cases", "household CSE not one the program requires"),
    "cse_expired": ("cases", "household CSE not valid on the period's first day"),
    "cse_missing": ("cases", "household never classified"),
    "age_out_of_range": ("cases", "outside the program's ages (Juntos: no child under limit)"),
    "deceased": ("cases", "died before the period's first day"),
    "not_in_pgh": ("cases", "the person is not in the PGH"),
    "duplicate_in_program": ("cases", "the same person twice in one roll"),
    "incompatible_programs": ("cases", "also on a roll the program excludes"),
    "household_twice": ("cases", "two titulars of one household on a one-per-household roll"),
}


def write_codes(path: Path) -> None:
    """truth/codes.csv: every code that can appear in rows.csv, with its meaning."""
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "column", "meaning"])
        for code, (column, meaning) in CODES.items():
            writer.writerow([code, column, meaning])


def merge_truth(part: Path, out: IO[str], offsets: dict[tuple[str, str], int]) -> None:
    """Copy a chunk's truth lines, shifting chunk-local row numbers by earlier chunks' rows.

    Excel rows are numbered per sheet as `sheet!n`; text files by data row from 1.
    """
    write = out.write
    with part.open(encoding="utf-8") as fh:
        for line in fh:
            file, sheet, n, key, defects, cases = line.rstrip("\n").split("\t")
            number = int(n) + offsets.get((file, sheet), 0)
            row = f"{sheet}!{number}" if sheet else str(number)
            write(f"{file},{row},{key},{defects},{cases}\n")
