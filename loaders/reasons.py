"""Reason codes for rejected rows and files, with the Spanish message sector staff read.

The codes are stable machine identifiers (stored with each quarantined row); the messages
are what a sector's data officer sees when asked to fix and resend a row, so they say what
is wrong and, where it helps, what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Row-level codes: a `Reject` carries one or more of these; on a loaded row the
# person-field codes are notes instead (see `loaders.fields`).
_ROW: dict[str, str] = {
    "wrong_field_count": (
        "La fila no tiene el número de campos esperado. Revise que no falten ni sobren separadores."
    ),
    "truncated_line": (
        "La última fila del archivo está incompleta: el archivo parece cortado. Envíe el "
        "archivo completo."
    ),
    "wrong_line_length": "La fila no tiene el largo fijo que corresponde a este archivo.",
    "encoding_error": (
        "La fila tiene caracteres que no se pueden leer con la codificación acordada para "
        "el archivo."
    ),
    "binary_garbage": "La fila contiene datos binarios o caracteres de control; no es texto.",
    "field_too_long": "Un campo de la fila es demasiado largo para ser un dato válido.",
    "unparseable_date": "Una fecha no tiene un formato reconocible.",
    "impossible_date": ("Una fecha no existe en el calendario (por ejemplo, 31 de febrero)."),
    "future_date": "Una fecha es posterior a la fecha de hoy.",
    "too_old": "Una fecha es anterior a 1900; revise el año.",
    "missing_date": "Falta una fecha obligatoria.",
    "missing_birth_date": "Falta la fecha de nacimiento.",
    "not_identifiable": (
        "La fila no tiene datos suficientes para identificar a la persona: hace falta un "
        "documento válido, o los nombres junto con un apellido, o uno de ellos junto con la "
        "fecha de nacimiento. Los demás motivos indican qué dato falta o no es válido."
    ),
    "missing_name": "Faltan los nombres y los apellidos de la persona.",
    "missing_given_name": "Faltan los nombres de la persona.",
    "missing_surname": "Faltan los apellidos de la persona.",
    "duplicate_row": (
        "La fila es una copia exacta de otra fila del mismo archivo; se cargó una sola vez. "
        "Revise que el archivo no repita filas."
    ),
    "name_unparseable": (
        "No se pudo separar el nombre completo en apellidos y nombres. Revise el orden de "
        "los datos y la coma."
    ),
    "invalid_ubigeo": "El ubigeo no es válido: debe tener 6 dígitos.",
    "place_not_found": (
        "El departamento, la provincia y el distrito indicados no corresponden a un lugar "
        "conocido. Revise cómo están escritos."
    ),
    "invalid_sex": "El sexo no es válido: debe ser M o F (o 1 y 2 donde así se acordó).",
    "invalid_period": "El periodo no es válido: use año y mes, por ejemplo 202610.",
    "period_mismatch": "El periodo de la fila no coincide con el periodo del archivo.",
    "invalid_json": "La línea no es un objeto JSON válido.",
    "invalid_amount": "El monto no es un número válido. Use punto como separador decimal.",
    "invalid_household_key": (
        "Falta el código del hogar o el número de orden del integrante, o no es válido."
    ),
    "invalid_area": "El área debe ser U (urbana) o R (rural).",
    "invalid_cse": (
        "La clasificación socioeconómica debe ser PE, P o NP, o quedar vacía si no fue evaluada."
    ),
    "invalid_relationship": "El parentesco debe ser un número.",
    "duplicate_key": (
        "Otra fila del padrón tiene el mismo código de hogar y número de orden; se cargó la "
        "primera. Revise la numeración de los integrantes."
    ),
    # Document problems: a note on program rows (matching decides), a reject where the
    # document is the only identifier (RENIEC deaths).
    "missing_document": "Falta el número de documento.",
    "dni_too_short": "El DNI tiene menos de 8 dígitos.",
    "dni_too_long": "El DNI tiene más dígitos de los que corresponden.",
    "dni_not_numeric": "El DNI contiene caracteres que no son dígitos.",
    "wrong_check_char": "El carácter de verificación no corresponde al número de DNI.",
    "dni_placeholder": (
        "El DNI es un valor de relleno (por ejemplo 00000000), no el documento de una persona."
    ),
    "ce_invalid_length": "El carné de extranjería no tiene un largo válido.",
    "ce_not_alphanumeric": "El carné de extranjería contiene símbolos no permitidos.",
    # Codes of rows an agency pushes through the API (rnu.agency.uploads).
    "invalid_document": "El documento no es válido para el tipo de documento indicado.",
    "invalid_date": "La fecha no es válida: use el formato AAAA-MM-DD.",
}

# File-level codes: carried by `loaders.errors.FileRejected`; nothing of the file is loaded.
_FILE: dict[str, str] = {
    "encoding_mismatch": (
        "El archivo está en una codificación distinta de la acordada (por ejemplo, Latin-1 en "
        "lugar de UTF-8). Vuelva a exportarlo con la codificación acordada."
    ),
    "header_missing": (
        "El archivo no empieza con la fila de encabezados acordada. Revise también que use el "
        "separador de campos acordado."
    ),
    "missing_columns": "Faltan columnas obligatorias en la fila de encabezados.",
    "unknown_columns": ("El archivo no tiene las columnas que indica su configuración de carga."),
    "unreadable_file": (
        "El archivo está dañado o no es del tipo esperado (por ejemplo, un comprimido "
        "incompleto o un libro de Excel dañado)."
    ),
    "not_text": "El archivo no es de texto: parece un archivo binario enviado por error.",
}

REASONS: Mapping[str, str] = MappingProxyType({**_ROW, **_FILE})
ROW_REASONS: frozenset[str] = frozenset(_ROW)
FILE_REASONS: frozenset[str] = frozenset(_FILE)

_UNKNOWN = "La fila no es válida ({code}). Comuníquese con el equipo del RNU."


def message(code: str) -> str:
    """Return the Spanish message for a reason code (a generic one for an unknown code)."""
    return REASONS.get(code) or _UNKNOWN.format(code=code)
