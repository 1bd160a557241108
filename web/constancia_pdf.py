"""The constancia as a one-page PDF (fpdf2, pure Python): what it certifies and its code.

Core PDF fonts (Helvetica) cover Latin-1, which holds every letter of Spanish; the few
typographic characters outside it are replaced, so no font file ships with the app.
"""

from __future__ import annotations

from fpdf import FPDF

from usecases.constancia import Emitida

_OUTSIDE_LATIN1 = str.maketrans({"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'"})
TITLE = "Constancia de consulta"
ISSUER = "Registro Nacional de Usuarios de programas sociales (RNU)"


def _text(value: str) -> str:
    return value.translate(_OUTSIDE_LATIN1).encode("latin-1", "replace").decode("latin-1")


class _Doc(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, _text(f"{ISSUER} · página {self.page_no()}"), align="C")


def render(c: Emitida, verify_url: str) -> bytes:
    """The PDF's bytes. ``verify_url`` is the site's /verificar, printed with the code."""
    pdf = _Doc(format="A4")
    pdf.set_title(TITLE)
    pdf.set_author(ISSUER)
    pdf.set_creation_date(c.emitida)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: int = 11, bold: bool = False, gap: float = 1.5) -> None:
        pdf.set_font("Helvetica", style="B" if bold else "", size=size)
        pdf.multi_cell(width, size * 0.5, _text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line(ISSUER, size=10)
    line(TITLE, size=18, bold=True, gap=4)
    cert = c.certificado
    line(f"Nombre: {c.nombre_completo}")
    line(f"DNI: {cert.dni}")
    line(f"Emitida el {c.emitida_texto} (hora de Lima).", gap=4)
    line("Programas sociales en los que figura", size=13, bold=True)
    if cert.programas:
        for prog in cert.programas:
            line(f"- {prog.nombre}: último padrón en el que figura, {prog.periodo}. {prog.estado}")
    else:
        line("No figura en el padrón de ningún programa social cargado en el RNU.")
    pdf.ln(2)
    line("Clasificación socioeconómica", size=13, bold=True)
    line(cert.hogar, gap=4)
    if c.orientacion:
        line("Otros programas que podría solicitar", size=13, bold=True)
        line("Orientación: no forma parte de lo certificado.", size=9)
        for item in c.orientacion:
            line(f"- {item}", size=10)
        pdf.ln(2)
    line("Verificación", size=13, bold=True)
    line(f"Código de verificación: {c.codigo}", size=14, bold=True)
    line(
        f"Cualquier persona puede comprobar esta constancia en {verify_url} escribiendo el "
        "código. La verificación muestra lo que aquí se certifica, con el DNI enmascarado y el "
        "nombre abreviado."
    )
    line(f"Huella del contenido (SHA-256): {c.huella}", size=8)
    return bytes(pdf.output())
