"""A tile-grid map of Peru: one equal square per department on a fixed grid.

Why tiles and not a choropleth: RNU holds no department boundaries under a licence that allows
publishing them, and equal tiles also keep Callao (146 km²) as visible as Loreto. The grid
approximates geography (north at the top, the coast on the left, the Amazon on the right) and is
laid out by CSS grid classes (``c0``..``c4``, ``r0``..``r8`` in ``rnu.css``), since the pages'
CSP forbids inline styles.

Values are whatever the caller already published (``None``: reserved); this module only places
and classes them, it never computes a count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import ceil

# INEI code → (column, row, short label). Five columns, nine rows.
GRID: dict[str, tuple[int, int, str]] = {
    "24": (0, 0, "TUM"),  # Tumbes
    "20": (0, 1, "PIU"),  # Piura
    "06": (1, 1, "CAJ"),  # Cajamarca
    "01": (2, 1, "AMA"),  # Amazonas
    "16": (3, 1, "LOR"),  # Loreto
    "14": (0, 2, "LAM"),  # Lambayeque
    "13": (1, 2, "LAL"),  # La Libertad
    "22": (2, 2, "SAM"),  # San Martín
    "02": (1, 3, "ANC"),  # Áncash
    "10": (2, 3, "HUC"),  # Huánuco
    "25": (3, 3, "UCA"),  # Ucayali
    "07": (0, 4, "CAL"),  # Callao
    "15": (1, 4, "LIM"),  # Lima
    "19": (2, 4, "PAS"),  # Pasco
    "12": (2, 5, "JUN"),  # Junín
    "08": (3, 5, "CUS"),  # Cusco
    "17": (4, 5, "MDD"),  # Madre de Dios
    "11": (1, 6, "ICA"),  # Ica
    "09": (2, 6, "HUV"),  # Huancavelica
    "03": (3, 6, "APU"),  # Apurímac
    "21": (4, 6, "PUN"),  # Puno
    "05": (2, 7, "AYA"),  # Ayacucho
    "04": (3, 7, "ARE"),  # Arequipa
    "18": (4, 7, "MOQ"),  # Moquegua
    "23": (4, 8, "TAC"),  # Tacna
}
CLASSES = 4  # shades for counts above zero (zero has its own, reserved another)


@dataclass(frozen=True)
class Tile:
    codigo: str
    nombre: str
    sigla: str
    columna: int
    fila: int
    valor: int | None  # None: reserved
    clase: str  # "n0" (zero), "n1".."n4", or "nr" (reserved)


@dataclass(frozen=True)
class LegendItem:
    clase: str
    texto: str


@dataclass(frozen=True)
class TileMap:
    tiles: list[Tile]
    leyenda: list[LegendItem]


def _bounds(values: Sequence[int]) -> list[int]:
    """Upper bounds of the shades: quartiles of the positive published values, deduplicated."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    bounds: list[int] = []
    for i in range(1, CLASSES + 1):
        upper = positive[ceil(i * len(positive) / CLASSES) - 1]
        if not bounds or upper > bounds[-1]:
            bounds.append(upper)
    return bounds


def _miles(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def build(values: Mapping[str, int | None], names: Mapping[str, str]) -> TileMap:
    """The 25 tiles with their published value and shade, and the legend of the shades."""
    bounds = _bounds([v for v in values.values() if v is not None])
    tiles = []
    for code, (col, row, short) in GRID.items():
        value = values.get(code)
        if value is None:
            shade = "nr"
        elif value == 0:
            shade = "n0"
        else:
            shade = f"n{next(i for i, b in enumerate(bounds, 1) if value <= b)}"
        tiles.append(Tile(code, names.get(code, code), short, col, row, value, shade))
    legend = [LegendItem("n0", "0")]
    low = min((v for v in values.values() if v), default=1)
    for i, upper in enumerate(bounds, 1):
        text = _miles(upper) if low >= upper else f"{_miles(low)} a {_miles(upper)}"
        legend.append(LegendItem(f"n{i}", text))
        low = upper + 1
    legend.append(LegendItem("nr", "reservado"))
    return TileMap(tiles=sorted(tiles, key=lambda t: (t.fila, t.columna)), leyenda=legend)
