"""Department → province → district pickers that work as plain GET forms (issue 13.6).

A form with the three selects reloads its page with the next one filled; a level that does not
belong to the one above it is dropped (the department changed, the old province stays behind),
so the same request serves a browser without JavaScript and ``rnu.js``, which reloads only the
form's zone in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rnu.ubigeo.reference import by_inei, departments, districts_of, provinces


@dataclass(frozen=True)
class Lugar:
    """The levels chosen so far (codes, '' when not yet) and the options of each level."""

    departamento: str = ""
    provincia: str = ""
    distrito: str = ""
    departamentos: list[tuple[str, str]] = field(default_factory=list)
    provincias: list[tuple[str, str]] = field(default_factory=list)
    distritos: list[tuple[str, str]] = field(default_factory=list)

    @property
    def nombre(self) -> str:
        """'Distrito (Provincia, Departamento)' of the chosen district, '' before one is."""
        place = by_inei(self.distrito) if self.distrito else None
        if place is None:
            return ""
        return f"{place.distrito} ({place.provincia}, {place.departamento})"

    @property
    def siguiente(self) -> str:
        """What to choose next, for the live region that announces the reloaded zone."""
        if not self.departamento:
            return "Elija el departamento."
        if not self.provincia:
            return "Ahora elija la provincia."
        if not self.distrito:
            return "Ahora elija el distrito."
        return f"Distrito elegido: {self.nombre}."


def elegir(departamento: str = "", provincia: str = "", distrito: str = "") -> Lugar:
    """The pickers' state from what was submitted; a district code alone fills all three."""
    distrito = distrito.strip()
    if by_inei(distrito) is None:
        distrito = ""
    departamento = (departamento.strip() or distrito[:2])[:2]
    provincia = provincia.strip() or distrito[:4]
    deps = departments()
    if departamento not in dict(deps):
        departamento = provincia = distrito = ""
    provs = provinces(departamento) if departamento else []
    if not provincia.startswith(departamento) or provincia not in dict(provs):
        provincia = distrito = ""
    dists = [(d.inei, d.distrito) for d in districts_of(provincia)] if provincia else []
    if not distrito.startswith(provincia or "-"):
        distrito = ""
    return Lugar(
        departamento=departamento,
        provincia=provincia,
        distrito=distrito,
        departamentos=deps,
        provincias=provs,
        distritos=dists,
    )
