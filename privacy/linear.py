"""Which unknowns a system of published linear equations pins down exactly (a rank test).

An attacker who knows every published number knows, for each published equation (a total
equals the sum of its parts), a linear equation over the hidden numbers. A hidden number ``x_i``
is *determined* exactly when its unit vector lies in the row space of those equations
restricted to the hidden numbers; otherwise some change along the null space moves it and
keeps every equation true. Interval attacks (non-negativity, LP bounds) are a different
question and are not answered here.

The test is run per connected component (hidden numbers that share an equation), so a
country-sized family costs a few small SVDs, not one big one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

import numpy as np

V = TypeVar("V", bound=Hashable)

_TOLERANCE = 1e-8


def _components(equations: list[dict[V, int]]) -> list[tuple[list[V], list[dict[V, int]]]]:
    """Group the equations (already restricted to hidden unknowns) by shared unknowns."""
    parent: dict[V, V] = {}

    def find(x: V) -> V:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for equation in equations:
        names = list(equation)
        for name in names:
            parent.setdefault(name, name)
        for name in names[1:]:
            a, b = find(names[0]), find(name)
            if a != b:
                parent[a] = b
    groups: dict[V, tuple[list[V], list[dict[V, int]]]] = {}
    for name in parent:
        groups.setdefault(find(name), ([], []))[0].append(name)
    for equation in equations:
        groups[find(next(iter(equation)))][1].append(equation)
    return list(groups.values())


def determined(equations: Iterable[Mapping[V, int]], hidden: Iterable[V]) -> set[V]:
    """The hidden unknowns that the equations (each ``sum(coef * x) = known``) fix exactly.

    ``equations`` may name published numbers too: they are constants and are dropped. A hidden
    unknown that appears in no equation is not determined.
    """
    secret = set(hidden)
    restricted = []
    for equation in equations:
        row = {name: coef for name, coef in equation.items() if name in secret and coef}
        if row:
            restricted.append(row)
    found: set[V] = set()
    for names, rows in _components(restricted):
        column = {name: j for j, name in enumerate(names)}
        matrix = np.zeros((len(rows), len(names)))
        for i, row in enumerate(rows):
            for name, coef in row.items():
                matrix[i, column[name]] = coef
        _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > _TOLERANCE * max(1.0, float(singular[0]))).sum())
        basis = vt[:rank]  # orthonormal basis of the row space
        # e_j lies in the row space iff its projection keeps its whole length.
        reach = (basis**2).sum(axis=0)
        found.update(name for name, j in column.items() if reach[j] > 1 - 1e-6)
    return found
