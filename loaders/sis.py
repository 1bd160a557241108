"""MINSA's SIS subsidiado roll: gzip, UTF-8, comma separated; the largest file, streamed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.fields import PersonFields, cached_display, parse_any_date, parse_ubigeo
from loaders.sector import ProgramLoader
from loaders.text import maybe_gunzip, read_delimited

COLUMNS = (
    "TIPO_DOC",
    "NUM_DOC",
    "APE_PAT",
    "APE_MAT",
    "NOMBRES",
    "FEC_NAC",
    "SEXO",
    "UBIGEO_ADSCRIPCION",
    "REGIMEN",
    "FEC_AFILIACION",
)
# Type codes for which a clean 8-digit number needs no further parsing, and the document
# type each gives (as `loaders.fields.document` reads them): a minor's CUI is the same
# 8-digit number as the DNI it becomes, and a quarter of SIS rows are minors.
_CLEAN_TYPES = {"1": "DNI", "01": "DNI", "DNI": "DNI", "3": "CUI", "03": "CUI", "CUI": "CUI"}
_SEXES = {"M": "M", "F": "F"}
_CACHE_LIMIT = 200_000
_NO_DOCUMENT = ("missing_document",)  # what the general builder notes for a blank document
_MISS: Any = object()  # per-file caches are cleared past this size: memory stays flat


class SisLoader(ProgramLoader):
    """`sis_YYYYMM.csv.gz`; a plain (not gzipped) CSV is read as well.

    Millions of rows: a row whose every field is already clean (the vast majority) is
    assembled directly with per-file caches; any other row goes through the general
    `PersonRowBuilder`, so both paths give the same result for the same row.
    """

    sector: ClassVar[str] = "sis"
    program: ClassVar[str] = "SIS"
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "utf-8"

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        build = self.builder().build
        formats, today, period = self.date_formats, self.today, self.period
        dates: dict[str, date | str | None] = {}
        names: dict[str, str] = {}
        ubigeos: dict[str, str | None] = {}
        # affiliation date as read -> (its parse, its ISO form for `extra`)
        affiliations: dict[str, tuple[date | str | None, str]] = {}
        # (regimen, affiliation date) as read -> the `extra` dict, one per distinct pair:
        # rows share it (nothing mutates a row's extra), a million rows hold a few thousand
        extras: dict[tuple[str, str], dict[str, str]] = {}
        for item in read_delimited(
            maybe_gunzip(stream), encoding=self.encoding, delimiter=",", columns=COLUMNS
        ):
            if type(item) is Reject:
                yield item
                continue
            number, raw = item  # type: ignore[misc]  # narrowed by the type() check above
            if len(dates) > _CACHE_LIMIT:
                dates.clear()
                names.clear()
                ubigeos.clear()
                affiliations.clear()
                extras.clear()
            nac, afil = raw["FEC_NAC"], raw["FEC_AFILIACION"]
            born = dates.get(nac, _MISS)
            if born is _MISS:
                born = dates[nac] = parse_any_date(nac, formats, today)
            affiliation = affiliations.get(afil)
            if affiliation is None:
                enrolled = parse_any_date(afil, formats, today)
                iso = enrolled.isoformat() if type(enrolled) is date else ""
                affiliation = affiliations[afil] = (enrolled, iso)
            if type(affiliation[0]) is str:
                yield _general(build, number, raw, {}, [affiliation[0]])
                continue
            regimen = raw["REGIMEN"]
            extra = extras.get((regimen, afil))
            if extra is None:
                extra = extras[(regimen, afil)] = {
                    "regimen": regimen.strip(),
                    "fec_afiliacion": affiliation[1],
                }
            doc, pat, mat, nom = raw["NUM_DOC"], raw["APE_PAT"], raw["APE_MAT"], raw["NOMBRES"]
            sex = _SEXES.get(raw["SEXO"])
            ubi = raw["UBIGEO_ADSCRIPCION"]
            code = ubigeos.get(ubi, _MISS)
            if code is _MISS:
                code = ubigeos[ubi] = parse_ubigeo(ubi) or None
            declared = raw["TIPO_DOC"]
            doc_type = _CLEAN_TYPES.get(declared)
            notes: tuple[str, ...] | None = None
            if (
                doc_type is not None
                and len(doc) == 8
                and doc.isdigit()
                and doc.isascii()
                and doc.count(doc[0]) != 8
            ):
                notes = ()
            elif not doc and not declared:  # no document at all: the general builder's note
                notes = _NO_DOCUMENT
            if (
                notes is not None
                and type(born) is date
                and sex is not None
                and code is not None
                and (names.get(pat) or names.setdefault(pat, cached_display(pat))) == pat
                and (names.get(mat) or names.setdefault(mat, cached_display(mat))) == mat
                and (names.get(nom) or names.setdefault(nom, cached_display(nom))) == nom
                and pat
                and mat
                and nom
            ):
                # Clean already: display() left the names unchanged, so they are their own
                # display forms. Positional arguments: this line runs millions of times.
                full_name = f"{pat} {mat}, {nom}"
                yield CanonicalRow(
                    number, period, doc_type, doc if notes is not _NO_DOCUMENT else None, notes,
                    nom, pat, mat, full_name, born, sex, code, None, extra, raw
                )  # fmt: skip
            else:
                yield _general(build, number, raw, extra, [])


def _general(
    build: Callable[..., CanonicalRow | Reject],
    number: str,
    raw: dict[str, str],
    extra: dict[str, str],
    reasons: list[str],
) -> CanonicalRow | Reject:
    """One SIS row through the general builder (the slower path, for rows needing repair)."""
    return build(
        number,
        raw,
        PersonFields(
            doc=raw["NUM_DOC"],
            declared=raw["TIPO_DOC"],
            nombres=raw["NOMBRES"],
            paterno=raw["APE_PAT"],
            materno=raw["APE_MAT"],
            birth=raw["FEC_NAC"],
            sex=raw["SEXO"],
            ubigeo=raw["UBIGEO_ADSCRIPCION"],
        ),
        extra=extra,
        reasons=reasons,
    )
