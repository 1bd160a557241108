"""Every Spanish word an answer carries: months, dates, CSE, flag kinds, statuses, rule checks.

One home per label, so a citizen page, the JSON API, the open data and the CLI never disagree
(there were three labels for ``deceased`` and four copies of the month names). Sentences are
plain and respectful (es-PE) because analysts read them and, masked, so do citizens. They
never contain a DNI or a name: only the facts of the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rnu.audit.purposes import ANALYST_PURPOSES
from rnu.eligibility.evaluate import RuleCheck, Trace
from rnu.eligibility.rules import load_programs
from rnu.period import MONTHS_ES
from rnu.period import label as period_label

MONTHS = MONTHS_ES  # the month names live with the Period type, which labels itself
WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")

CSE_NAMES = {"PE": "pobre extremo", "P": "pobre", "NP": "no pobre"}
NO_CSE = "sin clasificación socioeconómica"

STATUS = {True: "Cumple", False: "No cumple", None: "No se puede verificar"}

KIND_LABELS = {
    "not_in_pgh": "No figura en el Padrón General de Hogares",
    "cse_missing": "Hogar sin clasificación socioeconómica",
    "cse_not_qualifying": "Clasificación socioeconómica que no califica",
    "cse_expired": "Clasificación socioeconómica no vigente",
    "age_out_of_range": "Edad fuera del rango del programa",
    "deceased": "Persona fallecida antes del periodo",
    "incompatible_programs": "Programas incompatibles en el mismo periodo",
    "household_twice": "Hogar con más de un titular en el programa",
    "duplicate_in_program": "Persona registrada dos veces en el mismo padrón",
    "pgh_duplicate": "Posible persona duplicada en el PGH",
    "citizen_report": "Reporte ciudadano",
}

# A program's roll status, as the citizen's lookup words it.
ENROLLMENT_STATUS = {
    "active": "Figura en el último padrón del programa.",
    "not_in_latest": "No figura en el último padrón del programa.",
}
# Who read a citizen's record (the audit's actor kinds).
ACTOR_KINDS = {
    "analyst": "Analista del RNU",
    "agency": "Entidad del Estado",
    "volunteer": "Voluntario de vigilancia",
    "citizen": "Usted, con su DNI y fecha de nacimiento",
}
# Why someone read a citizen's record: the purposes agencies declare (X-Purpose,
# api.auth.agency.PURPOSES) and analysts choose (rnu.audit.purposes), as the citizen reads them.
PURPOSES = {
    "elegibilidad": "Verificar si usted cumple los requisitos de un programa",
    "pago": "Revisar el padrón antes de pagar un programa",
    "control_filtraciones": "Buscar personas que reciben un programa sin cumplir sus requisitos",
    "fallecidos": "Dar de baja programas de personas fallecidas",
    "verificacion": "Verificar en qué programas figura",
    "carga_padron": "Enviar el padrón de un programa",
    "estadistica": "Elaborar estadísticas",
    "fiscalizacion": "Control de una entidad fiscalizadora",
    "revisar_alerta": "Revisar una alerta sobre su registro",
    "atender_reporte": "Atender un reporte ciudadano sobre su registro",
    "revisar_coincidencia": "Comprobar que un registro de un padrón corresponde a usted",
    "atender_solicitud": "Atender una solicitud o un reclamo suyo",
    "verificacion_campo": "Preparar una verificación en campo",
    "constancia": "Descargar una constancia de su consulta",
}
if missing := set(ANALYST_PURPOSES) - set(PURPOSES):
    raise RuntimeError(f"analyst purposes without wording: {sorted(missing)}")
# Reads recorded without a purpose (before analysts had to choose one): what the reader did.
READ_ACTIONS = {
    "flag.list": "Revisión de la lista de alertas",
    "flag.view": "Revisión de una alerta sobre su registro",
    "flag.export": "Descarga de la lista de alertas",
    "review.list": "Revisión de registros de padrones por confirmar",
    "review.view": "Revisión de registros de padrones por confirmar",
    "review.link": "Confirmación de que un registro de un padrón corresponde a usted",
    "review.confirm_link": "Confirmación de que un registro de un padrón corresponde a usted",
    "review.new_person": "Decisión sobre un registro de un padrón",
    "review.distinct": "Decisión sobre un registro de un padrón",
    "report.prepare": "Preparar un reporte de vigilancia ciudadana",
}
NO_PURPOSE = "Motivo no registrado"
# An analyst opening a person's data must say why (rnu.audit.purposes): the ask, the refusal.
PURPOSE_ASK = (
    "Antes de ver los datos de esta persona, indique para qué los abre. La persona podrá ver "
    "en su consulta quién revisó sus datos, cuándo y para qué."
)
PURPOSE_REQUIRED = (
    "Elija para qué abre los datos de esta persona: sin un motivo de la lista no se muestran."
)
LIMA = ZoneInfo("America/Lima")  # the citizen's clock: Peru keeps UTC-5 all year
# A citizen's report: why it was filed, and where it stands.
REPORT_REASONS = {
    "fallecido": "La persona falleció",
    "no_vive_en_el_distrito": "No vive en el distrito",
    "no_es_pobre": "No es pobre / tiene bienes",
    "pensionista": "Recibe una pensión",
    "duplicado": "Figura dos veces",
    "otro": "Otro motivo",
}
REPORT_STATUS = {
    "recibido": "Recibido",
    "en_revision": "En revisión por un analista",
    "verificado": "Verificado: se tomaron medidas",
    "descartado": "Revisado: no se encontró un problema",
    "cerrado": "Cerrado",
}
# The analysts' queue and flag pages: a flag's status and severity, the steps in its history,
# what an action did, the fields review compares, and the review decisions. A flag's kind is
# worded by KIND_LABELS, the same label the statistics publish.
FLAG_STATUS = {
    "open": "Abierta",
    "confirmed": "Confirmada",
    "dismissed": "Descartada",
    "resolved": "Resuelta",
}
FLAG_SEVERITY = {"high": "Alta", "medium": "Media", "low": "Baja"}
FLAG_EVENTS = {
    "confirm": "Confirmó",
    "dismiss": "Descartó",
    "assign": "Asignó",
    "comment": "Comentó",
    "reopen": "Reabrió",
    "task": "Pidió verificación",
    "task_answer": "Respuesta de campo",
}
FLAG_ACTION_DONE = {
    "confirm": "Alerta confirmada.",
    "dismiss": "Alerta descartada.",
    "reopen": "Alerta reabierta.",
    "assign": "Alerta asignada.",
    "comment": "Comentario agregado.",
    "task": "Tarea enviada al voluntario.",
}
MATCH_FIELDS = {
    "paterno": "Apellido paterno",
    "materno": "Apellido materno",
    "swapped": "Orden de apellidos",
    "nombres": "Nombres",
    "birth_date": "Fecha de nacimiento",
    "sex": "Sexo",
    "ubigeo": "Ubigeo",
    "document": "Documento",
    "place": "Lugar escrito",
}
REVIEW_DECISIONS = {"link": "Vincular", "new_person": "Persona nueva", "distinct": "Distinta"}
# What the analysts' pages must never show as codes: how a row was matched, what became of
# it, how well each field agreed (rnu.matching.scoring.FIELDS levels), a review item's and a
# field task's state, staff roles, and the names and values of a flag's evidence.
MATCH_METHODS = {
    "exact_document": "por documento idéntico",
    "fuzzy": "por nombres y fecha de nacimiento (coincidencia aproximada)",
    "manual_review": "por decisión de un analista",
    "none": "sin vincular",
}
ROW_OUTCOMES = {
    "linked": "vinculada",
    "review": "en revisión",
    "unmatched": "sin persona del PGH",
    "duplicate_row": "fila repetida",
}
AGREEMENT_LEVELS = {
    "exact": "idéntico",
    "equal": "idéntico",
    "same": "igual",
    "phonetic": "suena igual",
    "one_edit": "una letra distinta",
    "one_digit": "un dígito distinto",
    "transposed": "dos dígitos intercambiados",
    "reordered": "las mismas palabras en otro orden",
    "subset": "parte del nombre",
    "first_only": "solo el primer nombre",
    "jw_high": "muy parecido",
    "jw_low": "algo parecido",
    "similar": "parecido",
    "straight": "en el orden habitual",
    "swapped": "apellidos invertidos",
    "given_swapped": "nombre y apellido invertidos",
    "day_month_swap": "día y mes invertidos",
    "year_off_one": "año con un dígito distinto",
    "one_component": "el día, el mes o el año con un error de digitación",
    "within_month": "a menos de un mes",
    "same_year": "el mismo año",
    "close_year": "un año cercano",
    "district": "el mismo distrito",
    "province": "la misma provincia",
    "department": "el mismo departamento",
    "none": "otro departamento",
    "different": "distinto",
    "missing": "falta el dato",
}
REVIEW_STATUS = {
    "open": "Por decidir",
    "linked": "Vinculada a una persona",
    "new_person": "Registrada como persona nueva",
    "distinct": "No es ninguno de los candidatos",
}
TASK_STATUS = {"open": "Pendiente", "answered": "Respondida", "cancelled": "Cancelada"}
TASK_FINDINGS = {
    "confirma": "Se confirma el problema",
    "no_confirma": "No se confirma: la persona cumple",
    "no_ubicado": "No se pudo ubicar a la persona",
}
STAFF_ROLE_LABELS = {
    "analyst": "analista",
    "supervisor": "supervisor",
    "admin": "administrador",
    "volunteer": "voluntario",
}
REPORTER_ROLES = {"public": "Un ciudadano", "volunteer": "Un voluntario de vigilancia"}
SEX_LABELS = {"F": "Femenino", "M": "Masculino"}
# The rule a flag's evidence comes from (rnu.integrity.checks, pgh_duplicates, lists).
EVIDENCE_RULES = {
    "in_pgh": "Figurar en el Padrón General de Hogares",
    "cse": "Clasificación socioeconómica",
    "age": "Edad",
    "household_member": "Menor de edad en el hogar",
    "alive": "Persona viva al inicio del periodo",
    "incompatible": "Programas que no se pueden recibir juntos",
    "one_per_household": "Un titular por hogar",
    "disability": "Discapacidad severa",
    "duplicate_in_program": "Una sola fila por persona en el padrón",
    "pgh_duplicate": "Una sola vez en el PGH",
    "forbidden_list": "Lista externa",
}
# The facts of a flag's evidence (the keys of rnu.eligibility.evaluate.RuleCheck.facts and
# of the duplicate and list checks), and of a citizen report's flag.
EVIDENCE_FACTS = {
    "in_pgh": "Figura en el PGH",
    "required": "Clasificación exigida",
    "cse": "Clasificación del hogar",
    "valid_from": "Clasificación vigente desde",
    "valid_to": "Clasificación vigente hasta",
    "must_be_valid": "Se exige que esté vigente",
    "as_of": "Fecha evaluada",
    "min_age_years": "Edad mínima (años)",
    "max_age_years": "Edad máxima (años)",
    "max_age_months": "Edad máxima (meses)",
    "birth_on": "Fecha de nacimiento",
    "age_years": "Edad (años)",
    "age_months": "Edad (meses)",
    "under": "Debe haber un menor de (años)",
    "youngest_age": "Edad del menor del hogar",
    "death_on": "Fecha de fallecimiento",
    "incompatible_with": "No se puede recibir junto con",
    "also_in": "También recibe",
    "titulars": "Titulares en el hogar",
    "person_key": "Persona (código del PGH)",
    "keys": "Personas (códigos del PGH)",
    "rows": "Filas del padrón",
    "agreements": "Coincidencia por campo",
    "outcome": "Resultado de la comparación",
    "weight": "Peso de la coincidencia",
    "cluster": "Grupo de posibles duplicados",
    "list": "Lista externa",
    "list_row": "Fila de la lista",
    "method": "Cómo se vinculó",
    "count": "Cantidad estimada",
    "report_id": "Reporte N.°",
    "tracking_code": "Código de seguimiento",
    "reason_code": "Motivo del reporte",
    "text": "Texto del reporte",
    "reporter_role": "Quién reportó",
    "duplicate_count": "Reportes iguales recibidos",
    "is_burst": "Llegó en una ráfaga de reportes",
    "enrollment_id": "Inscripción N.°",
    "rule": "Regla",
    "regla": "Regla",
    "fecha_defuncion": "Fecha de fallecimiento",
}
# Outcomes of a pair or a row in a flag's evidence ("linked", "review", "unmatched").
PAIR_OUTCOMES = {**ROW_OUTCOMES, "review": "por revisar"}

# The short names people use for each program (rules.toml holds the official ones).
PROGRAM_SHORT = {
    "JUNTOS": "Juntos",
    "PENSION65": "Pensión 65",
    "QALIWARMA": "Qali Warma",
    "CUNAMAS": "Cuna Más",
    "CONTIGO": "Contigo",
    "FISE": "FISE",
    "BECA18": "Beca 18",
    "SIS": "SIS",
}
# The self-lookup's step-up (api.lookup_guard): the same for every DNI, known or not.
STEP_UP_MESSAGE = (
    "Por su seguridad, hubo varios intentos fallidos con este DNI. Escriba su DNI con el "
    "dígito de verificación, el número o letra que aparece después del guion en su DNI "
    "(por ejemplo 12345678-9), y su fecha de nacimiento."
)
# The site's one error page (web.errors): a title and what to do, per HTTP status.
ERROR_PAGES = {
    400: (
        "Datos no válidos",
        "Algún dato de la dirección o del formulario no es válido. Revíselo e intente de nuevo.",
    ),
    401: ("Debe identificarse", "Para ver esta página, ingrese con su usuario."),
    403: ("Sin permiso", "No tiene permiso para ver esta página."),
    404: (
        "No encontramos esta página",
        "La dirección no existe o cambió. Puede volver al inicio o elegir una sección del menú.",
    ),
    413: ("Archivo demasiado grande", "El archivo o los datos enviados son demasiado grandes."),
    429: (
        "Demasiadas solicitudes",
        "Hizo muchas solicitudes en poco tiempo. Por su seguridad, "
        "espere un momento antes de intentarlo de nuevo.",
    ),
    500: (
        "Ocurrió un error inesperado",
        "No pudimos atender su solicitud. Ya lo estamos "
        "revisando. Intente de nuevo en unos minutos.",
    ),
    503: (
        "Servicio no disponible por un momento",
        "No podemos atenderle en este momento. "
        "Sus datos están a salvo. Intente de nuevo en unos minutos.",
    ),
}


def error_page(status: int) -> tuple[str, str]:
    """(title, message) for an error status; unknown ones read like the nearest family."""
    if status in ERROR_PAGES:
        return ERROR_PAGES[status]
    return ERROR_PAGES[500 if status >= 500 else 400]


BULK_ACTIONS = {
    "assign": "Asignar",
    "confirm": "Confirmar",
    "dismiss": "Descartar",
    "reopen": "Reabrir",
}
BULK_NONE_MARKED = (
    "Marque al menos una alerta de la lista, o elija «Todas las filtradas». No se cambió nada."
)
BULK_REASON_REQUIRED = "Para descartar alertas, escriba el motivo. No se cambió nada."


def bulk_done(changed: int) -> str:
    """What a bulk action did, for the queue page's notice."""
    return (
        "Acción aplicada a 1 alerta." if changed == 1 else f"Acción aplicada a {changed} alertas."
    )


def staff_error(detail: object) -> str:
    """A refused analyst action as a Spanish sentence (the service's English detail after)."""
    return f"No se pudo completar la acción: {detail}."


def espera(seconds: int) -> str:
    """How long to wait, in words: 'unos segundos', '1 minuto', '15 minutos', '2 horas'."""
    if seconds < 60:
        return "unos segundos"
    if seconds < 3600:
        minutes = -(-seconds // 60)
        return "1 minuto" if minutes == 1 else f"{minutes} minutos"
    hours = -(-seconds // 3600)
    return "1 hora" if hours == 1 else f"{hours} horas"


ALERT_CATEGORIES = {"filtracion": "Filtración", "subcobertura": "Subcobertura"}


def cse_label(code: object) -> str:
    """'PE' -> 'pobre extremo'; anything else (None included) -> 'sin clasificación'."""
    return CSE_NAMES.get(str(code), "sin clasificación")


def program_short(code: str | None) -> str:
    return PROGRAM_SHORT.get(code or "", code or "")


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, str):
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value[:10])
    return value


def fecha_larga(value: date | datetime | str | None) -> str:
    """'2026-03-09' -> '9 de marzo de 2026' (what citizens read)."""
    if value is None or value == "":
        return ""
    day = _as_date(value)
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


def dia_y_fecha(day: date) -> str:
    """A day as a waiting room announces it: 'lunes 9 de marzo'."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]}"


def periodo(value: str | None) -> str:
    """'2026-10' -> 'octubre de 2026'; a yearly '2026' stays '2026'."""
    return period_label(value)


def miles(value: int | None) -> str:
    """12345 -> '12 345' (the grouping RAE recommends for Spanish, non-breaking)."""
    return "" if value is None else f"{value:,}".replace(",", "\u00a0")


def flag_label(kind: str) -> str:
    """A flag kind as published statistics name it (a kind without a label: its words)."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def kind_label(kind: str) -> str:
    """A flag kind in Spanish; kinds of outside lists read as 'Figura en la lista …'."""
    return KIND_LABELS.get(kind, f"Figura en la lista externa «{kind}»")


def purpose_label(purpose: str | None, action: str | None = None) -> str:
    """Why a record was read, in words: the purpose, else what the reader was doing."""
    if purpose:
        if purpose in PURPOSES:
            return PURPOSES[purpose]
        text = purpose.replace("_", " ")  # a code without wording: its words, as written
        return text[:1].upper() + text[1:]
    return READ_ACTIONS.get(action or "", NO_PURPOSE)


def reader_label(actor_kind: str, reader: str, agency_name: str | None = None) -> str:
    """Who read: an agency by its public name (its code when it has none), staff by kind."""
    if actor_kind == "agency":
        if agency_name:
            return agency_name
        # Audit rows name clients ``agency:<id>:<code>``: never show the id part.
        return reader.rsplit(":", 1)[-1] if reader.startswith("agency:") else reader
    return ACTOR_KINDS.get(actor_kind, "RNU")


def hora(value: datetime) -> str:
    """A moment's time of day in Lima, 24-hour: '14:05'."""
    return value.astimezone(LIMA).strftime("%H:%M")


def fecha_hora(value: datetime) -> str:
    """A moment in Lima time: '3 de diciembre de 2026, 14:05' (the citizens' one format)."""
    local = value.astimezone(LIMA)
    return f"{fecha_larga(local.date())}, {local:%H:%M}"


def veces(count: int) -> str:
    return "1 vez" if count == 1 else f"{miles(count)} veces"


def fecha(value: str | date | None) -> str:
    """An ISO date as DD/MM/YYYY, the way people in Peru write it."""
    if value is None:
        return "—"
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return day.strftime("%d/%m/%Y")


def cse_required(codes: list[str]) -> str:
    """['PE', 'P'] -> 'pobre extremo o pobre'."""
    names = [CSE_NAMES.get(c, c) for c in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " o " + names[-1]


def program_name(code: str) -> str:
    program = load_programs().get(code)
    return program.name if program else code


def _window(f: Mapping[str, Any]) -> str:
    if f.get("valid_to") and f.get("valid_from"):
        return f", vigente del {fecha(f['valid_from'])} al {fecha(f['valid_to'])}"
    if f.get("valid_to"):
        return f", vigente hasta {fecha(f['valid_to'])}"
    return ""


def _cse(p: str, c: RuleCheck) -> str:
    f = c.facts
    if c.code == "cse_not_required":
        return f"{p} no exige clasificación socioeconómica (CSE)."
    need = f"{p} requiere CSE {cse_required(f['required'])}"
    if c.code == "cse_unknown":
        return f"{need}; no se puede verificar porque la persona no figura en el PGH."
    if c.code == "cse_missing":
        return f"{need}; su hogar no tiene CSE (nunca fue evaluado)."
    has = f"su hogar tiene CSE {CSE_NAMES.get(f['cse'], f['cse'])}"
    if c.code == "cse_not_qualifying":
        return f"{need}; {has}{_window(f)}."
    if c.code == "cse_expired":
        return f"{need} vigente al {fecha(f['as_of'])}; {has}{_window(f)}."
    if not f.get("must_be_valid"):
        return f"{need} (en este periodo no se exige que esté vigente); {has}{_window(f)}."
    return f"{need}; {has}{_window(f)}."


def _limits(f: Mapping[str, Any]) -> str:
    parts = []
    if f.get("min_age_years") is not None:
        parts.append(f"tener {f['min_age_years']} años o más")
    if f.get("max_age_years") is not None:
        parts.append(f"tener menos de {f['max_age_years']} años")
    if f.get("max_age_months") is not None:
        parts.append(f"tener menos de {f['max_age_months']} meses")
    return " y ".join(parts)


def _age(p: str, c: RuleCheck) -> str:
    f = c.facts
    need = f"{p} requiere {_limits(f)}"
    if c.code == "age_unknown":
        return f"{need}; no se conoce su fecha de nacimiento."
    if f.get("max_age_months") is not None:
        age = f"{f['age_months']} meses"
    else:
        age = f"{f['age_years']} años"
    return f"{need}; al {fecha(f['as_of'])} tenía {age}."


def _member(p: str, c: RuleCheck) -> str:
    f = c.facts
    need = f"{p} requiere que en el hogar viva alguien menor de {f['under']} años"
    if c.code == "household_unknown":
        return f"{need}; no se puede verificar porque la persona no figura en el PGH."
    if c.code == "member_ok":
        return f"{need}; el menor del hogar tenía {f['youngest_age']} años al {fecha(f['as_of'])}."
    return f"{need}; al {fecha(f['as_of'])} no había nadie menor de {f['under']} años en su hogar."


def _alive(p: str, c: RuleCheck) -> str:
    f = c.facts
    if c.code == "alive":
        return "RENIEC no registra su fallecimiento."
    death = fecha(f["death_on"])
    if c.code == "deceased":
        return (
            f"RENIEC registra su fallecimiento el {death}, antes del inicio del periodo "
            f"({fecha(f['as_of'])}); {p} no debió incluirla."
        )
    if c.code == "died_during_period":
        return f"RENIEC registra su fallecimiento el {death}, durante el periodo; le correspondía."
    return f"RENIEC registra su fallecimiento el {death}, después del periodo."


def _incompatible(p: str, c: RuleCheck) -> str:
    f = c.facts
    names = " ni ".join(program_name(x) for x in f["incompatible_with"])
    if c.code == "compatible":
        return f"{p} no puede recibirse junto con {names}; en este periodo no recibe {names}."
    also = ", ".join(program_name(x) for x in f["also_in"])
    return f"{p} no puede recibirse junto con {names}; en este periodo también recibe {also}."


def _household(p: str, c: RuleCheck) -> str:
    n = c.facts["titulars"]
    need = f"{p} se entrega a un solo titular por hogar"
    if c.code == "household_unknown":
        return f"{need}; no se puede verificar porque la persona no figura en el PGH."
    if c.code == "one_titular":
        return f"{need}; su hogar tiene un solo titular en este periodo."
    return f"{need}; su hogar figura con {n} titulares en este periodo."


def _in_pgh(p: str, c: RuleCheck) -> str:
    if c.passed:
        return "Figura en el Padrón General de Hogares (PGH)."
    return f"{p} se verifica con el Padrón General de Hogares (PGH); esta persona no figura en él."


def _disability(p: str, c: RuleCheck) -> str:
    if c.passed:
        return f"{p} requiere discapacidad severa; el padrón indica un certificado CONADIS."
    return (
        f"{p} requiere discapacidad severa; el PGH no registra discapacidad, "
        "por eso no se puede verificar aquí."
    )


_BY_RULE: dict[str, Callable[[str, RuleCheck], str]] = {
    "in_pgh": _in_pgh,
    "cse": _cse,
    "age": _age,
    "household_member": _member,
    "alive": _alive,
    "incompatible": _incompatible,
    "one_per_household": _household,
    "disability": _disability,
}


def sentence(program_code: str, check: RuleCheck) -> str:
    """One check as one Spanish sentence."""
    return _BY_RULE[check.rule](program_name(program_code), check)


def explain_lines(trace: Trace) -> list[tuple[str, str]]:
    """(status, sentence) for every check of a trace, in order."""
    return [(STATUS[c.passed], sentence(trace.program, c)) for c in trace.checks]


def verdict(trace: Trace) -> str:
    """The trace's conclusion in one sentence."""
    name = program_name(trace.program)
    when = f"el periodo {trace.period}"
    if trace.eligible is True:
        return f"Cumple todas las reglas de {name} para {when}."
    if trace.eligible is None:
        return f"No incumple ninguna regla de {name} para {when}, pero alguna no se pudo verificar."
    broken = ", ".join(kind_label(k).lower() for k in trace.kinds)
    return f"No cumple las reglas de {name} para {when}: {broken}."


def rule_version(version: str | None) -> str:
    """A rule's version (its first period, '2002-01') as 'Regla vigente desde enero de 2002'."""
    if not version:
        return ""
    return f"Regla vigente desde {period_label(version)}"


def match_method(method: str | None) -> str:
    """How a row was linked to its person, in words ('' when it was not)."""
    return MATCH_METHODS.get(method or "", (method or "").replace("_", " "))


def row_outcome(outcome: str | None, method: str | None = None) -> str:
    """A loaded row's fate, with how it was linked: 'vinculada por documento idéntico'."""
    text = ROW_OUTCOMES.get(outcome or "", (outcome or "").replace("_", " "))
    how = MATCH_METHODS.get(method or "") if outcome == "linked" else None
    return f"{text} {how}" if how else text


def agreement(field_name: str, level: object) -> str:
    """One field's agreement: 'Apellido paterno: una letra distinta'."""
    name = MATCH_FIELDS.get(field_name, field_name.replace("_", " ").capitalize())
    text = AGREEMENT_LEVELS.get(str(level), str(level).replace("_", " "))
    return f"{name}: {text}"


def agreements(levels: Mapping[str, object] | None) -> list[str]:
    """Every compared field's agreement in words, in the matcher's field order."""
    if not levels:
        return []
    order = list(MATCH_FIELDS)
    known = sorted((f for f in levels if f in MATCH_FIELDS), key=order.index)
    return [agreement(f, levels[f]) for f in known]


def staff_role(role: str | None) -> str:
    return STAFF_ROLE_LABELS.get(role or "", role or "")


def peso(weight: float | None) -> str:
    """A match weight as people read decimals here: 9.5 -> '9,5'."""
    return "" if weight is None else f"{weight:.1f}".replace(".", ",")


RULE_SENTENCES = frozenset(_BY_RULE)  # the rules ``sentence`` can word


def staff_actor(actor: str | None) -> str:
    """A flag event's actor ('supervisor:ana') as 'ana (supervisor)'; a system step: 'RNU'."""
    if not actor:
        return "RNU"
    role, _, name = actor.partition(":")
    if not name:
        return actor
    return f"{name} ({STAFF_ROLE_LABELS.get(role, role)})"
