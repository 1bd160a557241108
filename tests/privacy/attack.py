"""An attacker who collects every published number of a column family and solves for the rest.

Unknowns are per district and programme: the users a roll page lists by name (``listed``) and
the ones it only counts (``unlisted``). Every published number — a statistics cell at any
level, a row, column or grand total, a district page's count, a roll page's ``total_listados``
and ``no_listados`` — is a known linear combination of them (a ``Fact``); a reserved one
(``None``) is a combination the attacker wants. It is recovered exactly when its vector lies in
the span of the published ones: the rank test here, written independently of
``privacy.linear`` and ``privacy.family`` so it can judge them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Var = tuple[str, str, str]  # (district, programme, "listed" | "unlisted")


@dataclass(frozen=True)
class Fact:
    """One published (or reserved: ``value`` None) number and what it adds up."""

    where: str
    terms: Mapping[Var, int]
    value: int | None


def under(area: str, districts: Iterable[str]) -> list[str]:
    """The districts in an area ("" is the whole country)."""
    return [d for d in districts if d.startswith(area)]


def cell(area: str, programme: str, districts: Iterable[str]) -> dict[Var, int]:
    """The users of ``programme`` in ``area``: everyone, listed or not, in its districts."""
    terms: dict[Var, int] = {}
    for district in under(area, districts):
        terms[(district, programme, "listed")] = 1
        terms[(district, programme, "unlisted")] = 1
    return terms


def _add(*parts: Mapping[Var, int]) -> dict[Var, int]:
    out: dict[Var, int] = {}
    for part in parts:
        for var, coef in part.items():
            out[var] = out.get(var, 0) + coef
    return out


def table_facts(
    table: Mapping[str, Any], parent: str | None, districts: Sequence[str], where: str
) -> list[Fact]:
    """Every number of a published users table (``usecases.public.Tabla`` as JSON)."""
    columns = [c["codigo"] for c in table["columnas"]]
    top = parent or ""
    facts = []
    for fila in table["filas"]:
        cells = [cell(fila["codigo"], c, districts) for c in columns]
        for column, terms in zip(columns, cells, strict=True):
            facts.append(Fact(f"{where} {fila['codigo']}/{column}", terms, fila["valores"][column]))
        facts.append(Fact(f"{where} {fila['codigo']}/total", _add(*cells), fila["total"]))
    tops = [cell(top, c, districts) for c in columns]
    for column, terms in zip(columns, tops, strict=True):
        facts.append(Fact(f"{where} total/{column}", terms, table["totales"].get(column)))
    if table["filas"]:
        facts.append(Fact(f"{where} total general", _add(*tops), table["total_general"]))
    return facts


def roll_facts(district: str, programme: str, body: Mapping[str, Any]) -> list[Fact]:
    """A roll page: its listed entries are public by name, and its ``no_listados``."""
    where = f"padrón {district}/{programme}"
    return [
        Fact(f"{where} listados", {(district, programme, "listed"): 1}, body["total_listados"]),
        Fact(f"{where} no listados", {(district, programme, "unlisted"): 1}, body["no_listados"]),
    ]


def recovered(facts: Sequence[Fact]) -> list[Fact]:
    """The reserved facts whose value follows exactly from the published ones."""
    names = sorted({var for fact in facts for var in fact.terms})
    index = {var: j for j, var in enumerate(names)}

    def vector(fact: Fact) -> np.ndarray:
        row = np.zeros(len(names))
        for var, coef in fact.terms.items():
            row[index[var]] += coef
        return row

    published = [vector(f) for f in facts if f.value is not None]
    if published:
        _, singular, vt = np.linalg.svd(np.array(published), full_matrices=False)
        rank = int((singular > 1e-9 * max(1.0, float(singular[0]))).sum())
        basis = vt[:rank]
    else:
        basis = np.zeros((0, len(names)))
    found = []
    for fact in facts:
        if fact.value is None and fact.terms:
            v = vector(fact)
            residual = v - basis.T @ (basis @ v)
            if np.linalg.norm(residual) < 1e-6:
                found.append(fact)
    return found


def truth_of(fact: Fact, truth: Mapping[Var, int]) -> int:
    return sum(coef * truth.get(var, 0) for var, coef in fact.terms.items())
