"""Beyond "what do I receive": the programs a citizen appears to qualify for but is not on.

The rules engine judges the person against every program whose roll RNU holds and that they
are not on (``rnu.coverage`` → ``PersonCoverage.not_received``); this module keeps the ones
no rule rules out and says, in plain Spanish, what to do and where to go.

Where to go comes from ``GUIDES``, one row per program with its source. A phone number is
listed only where an official page of the program gives it; otherwise the row names the
program's official channel, because a wrong number sends a person to the wrong place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel

from rnu.eligibility.evaluate import Trace
from rnu.eligibility.rules import load_programs
from usecases import wording


@dataclass(frozen=True, kw_only=True)
class Guide:
    """What a person who may qualify for a program does next, and where (es-PE)."""

    que_hacer: str
    donde: str
    canal: str  # the program's official channel, in words
    telefono: str | None = None  # only when an official page of the program lists it
    fuente: str  # where ``donde``/``telefono`` come from, for the reader and the maintainer


ULE = "La Unidad Local de Empadronamiento (ULE) de su municipalidad distrital"

GUIDES: dict[str, Guide] = {
    "JUNTOS": Guide(
        que_hacer=(
            "Juntos incorpora hogares de los distritos donde trabaja, a partir del Padrón "
            "General de Hogares. Pregunte si su distrito tiene incorporación abierta y lleve "
            "el DNI de quienes viven en su hogar."
        ),
        donde=f"{ULE}, o la oficina de Juntos de su región.",
        canal="La página de Juntos en www.gob.pe (busque «Juntos»).",
        fuente="Requisitos: reglas del RNU. Dónde ir: canal oficial del programa (MIDIS).",
    ),
    "PENSION65": Guide(
        que_hacer=(
            "Pensión 65 es para personas de 65 años o más en pobreza extrema. Pida en su "
            "municipalidad que presenten su solicitud al programa; lleve su DNI."
        ),
        donde=f"{ULE}, o la oficina de Pensión 65 de su región.",
        canal="La página de Pensión 65 en www.gob.pe (busque «Pensión 65»).",
        fuente="Requisitos: reglas del RNU. Dónde ir: canal oficial del programa (MIDIS).",
    ),
    "QALIWARMA": Guide(
        que_hacer=(
            "La alimentación escolar se recibe en las escuelas públicas que el programa "
            "atiende. Pregunte en la escuela si la tiene y si el estudiante está registrado."
        ),
        donde="La dirección de la institución educativa pública donde estudia.",
        canal="La página del programa de alimentación escolar del MIDIS en www.gob.pe.",
        fuente="Requisitos: reglas del RNU. Dónde ir: canal oficial del programa (MIDIS).",
    ),
    "CUNAMAS": Guide(
        que_hacer=(
            "Cuna Más atiende a niñas y niños menores de 3 años (cuidado diurno o visitas al "
            "hogar) en los distritos donde trabaja. Pregunte si hay un servicio cerca."
        ),
        donde="El local o comité de Cuna Más de su comunidad, o su municipalidad distrital.",
        canal="La página de Cuna Más en www.gob.pe (busque «Cuna Más»).",
        fuente="Requisitos: reglas del RNU. Dónde ir: canal oficial del programa (MIDIS).",
    ),
    "CONTIGO": Guide(
        que_hacer=(
            "Contigo es una pensión para personas con discapacidad severa en situación de "
            "pobreza. Necesita el certificado de discapacidad que diga «severa»; con él, "
            "presente su solicitud."
        ),
        donde=(
            "El certificado lo da un establecimiento de salud autorizado (pregunte en su "
            "centro de salud); la solicitud, en la OMAPED de su municipalidad."
        ),
        canal="La página de Contigo en www.gob.pe (busque «Contigo»).",
        fuente="Requisitos: reglas del RNU. Dónde ir: canal oficial del programa (MIDIS).",
    ),
    "FISE": Guide(
        que_hacer=(
            "El vale FISE descuenta parte del balón de gas (GLP) de 10 kg. Además de la "
            "clasificación, su hogar debe cocinar con gas y gastar poca electricidad."
        ),
        donde=(
            "La oficina comercial de la empresa de electricidad de su zona, con su DNI y su "
            "último recibo de luz."
        ),
        canal="Osinergmin, que administra el FISE, y el Ministerio de Energía y Minas.",
        fuente=(
            "Requisitos: reglas del RNU. Dónde ir: Ministerio de Energía y Minas, vale de "
            "descuento FISE (solicitud en la empresa de distribución eléctrica)."
        ),
    ),
    "BECA18": Guide(
        que_hacer=(
            "Beca 18 se postula en la convocatoria anual de PRONABEC, para jóvenes que "
            "terminan la secundaria. Revise las fechas y los requisitos de la convocatoria."
        ),
        donde="Las sedes regionales de PRONABEC, o en línea durante la convocatoria.",
        canal="La página de PRONABEC en www.gob.pe (busque «Beca 18»).",
        fuente="Requisitos: reglas del RNU. Dónde ir: canal oficial de PRONABEC (MINEDU).",
    ),
    "SIS": Guide(
        que_hacer=(
            "El SIS gratuito cubre a quien no tiene otro seguro de salud y tiene clasificación "
            "pobre o pobre extremo. La afiliación es gratuita: lleve su DNI."
        ),
        donde="Cualquier establecimiento de salud público (posta o centro de salud).",
        canal="Aló SIS, la línea de atención del Seguro Integral de Salud.",
        telefono="(01) 514-5555",
        fuente="Seguro Integral de Salud, preguntas frecuentes (www.sis.gob.pe).",
    ),
}

if missing := set(load_programs()) - set(GUIDES):
    raise RuntimeError(f"programs without a guide: {sorted(missing)}")

AVISO = (
    "Esto es una orientación, no una decisión: cada programa confirma los requisitos, y "
    "algunos atienden solo en ciertos distritos o tienen cupos."
)
ALCANCE = "Solo revisamos los programas cuyo padrón está cargado en el RNU."


class PosibleOut(BaseModel):
    """A program the person is not on and no rule rules out, with what to do next."""

    codigo: str
    nombre: str
    periodo: str  # the latest roll the person was judged against
    cumple: bool | None  # True: every rule met; None: one could not be verified here
    resumen: str
    explicacion: list[str]
    que_hacer: str
    donde: str
    canal: str
    telefono: str | None
    fuente: str


def summary(trace: Trace, *, household: bool) -> str:
    """One sentence: who appears to qualify, for which roll, and how sure RNU is."""
    name = wording.program_name(trace.program)
    roll = f"el padrón de {wording.periodo(trace.period)}"
    if household:
        who, on = "su hogar", "nadie de su hogar figura en"
    else:
        who, on = "usted", "no figura en"
    if trace.eligible:
        return f"Según los datos del RNU, {who} cumple los requisitos de {name}, pero {on} {roll}."
    return (
        f"Según los datos del RNU, {who} podría cumplir los requisitos de {name} ({on} {roll}); "
        "falta un dato que el RNU no tiene."
    )


def posibles(traces: Iterable[Trace]) -> list[PosibleOut]:
    """The traces no rule rules out (eligible, or only unverifiable), worded; others dropped."""
    programs = load_programs()
    out = []
    for trace in traces:
        if trace.eligible is False:
            continue
        guide = GUIDES[trace.program]
        program = programs[trace.program]
        out.append(
            PosibleOut(
                codigo=trace.program,
                nombre=program.name,
                periodo=trace.period,
                cumple=trace.eligible,
                resumen=summary(trace, household=program.unit == "household"),
                explicacion=[line for _, line in wording.explain_lines(trace)],
                que_hacer=guide.que_hacer,
                donde=guide.donde,
                canal=guide.canal,
                telefono=guide.telefono,
                fuente=guide.fuente,
            )
        )
    return out
