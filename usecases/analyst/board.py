"""The dashboard as a page draws it: the scope in words, summary figures and chart geometry.

The page has no JavaScript and its CSP forbids inline styles, so the charts are SVG ``rect``s
whose ``x`` and ``width`` (in percent of a 100-unit viewBox) are computed here, coloured by
CSS class; every number is also written in the page's text, so the charts need no labels
inside the SVG (which a phone would shrink to a few pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

from rnu.dashboard.service import Dashboard, DashboardRow
from usecases import wording

_KIND_ORDER = list(wording.KIND_LABELS)
COLOURS = 11  # classes s0 … s10 in staff.css


def kind_class(kind: str) -> str:
    """A kind's colour class, the same on every chart and legend."""
    index = _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)
    return f"s{index % COLOURS}"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # percent of the largest value
    css: str


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    x: float
    width: float
    css: str


@dataclass(frozen=True)
class TrendBar:
    period: str
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True)
class BoardView:
    """What the dashboard page shows, worded and measured."""

    scope: str
    program: str
    period: str
    figures: list[Figure]
    kinds: list[Bar]
    trend: list[TrendBar]
    legend: list[tuple[str, str]]
    totals: list[DashboardRow]


def _percent(value: int, largest: int) -> float:
    return round(100 * value / largest, 2) if largest else 0.0


def _trend(board: Dashboard) -> tuple[list[TrendBar], list[tuple[str, str]]]:
    largest = max((t.total for t in board.trend), default=0)
    kinds: dict[str, None] = {}
    bars = []
    for t in board.trend:
        x = 0.0
        segments = []
        for kind, n in sorted(
            t.by_kind.items(),
            key=lambda kv: _KIND_ORDER.index(kv[0]) if kv[0] in _KIND_ORDER else len(_KIND_ORDER),
        ):
            width = _percent(n, largest)
            segments.append(
                Segment(wording.kind_label(kind), n, round(x, 2), width, kind_class(kind))
            )
            x += width
            kinds[kind] = None
        bars.append(TrendBar(wording.periodo(t.period), t.total, segments))
    ordered = sorted(kinds, key=lambda k: _KIND_ORDER.index(k) if k in _KIND_ORDER else 99)
    return bars, [(wording.kind_label(k), kind_class(k)) for k in ordered]


def board_view(board: Dashboard, *, program_code: str | None, period: str | None) -> BoardView:
    """The dashboard's scope ("Departamento de Piura · Juntos · octubre de 2026"), figures
    over the programs shown, flags per kind in the periods shown, and the trend."""
    totals = board.totals()
    users = sum(r.users for r in totals)
    flagged = sum(r.filtracion_people for r in totals)
    by_kind: dict[str, int] = {}
    for r in totals:
        for kind, n in r.flags_by_kind.items():
            by_kind[kind] = by_kind.get(kind, 0) + n
    estimates = [r.subcobertura for r in totals if r.subcobertura is not None]
    figures = [
        Figure("Usuarios en los padrones", wording.miles(users)),
        Figure("Alertas abiertas", wording.miles(sum(r.open_flags for r in totals))),
        Figure(
            "Usuarios con alerta de filtración",
            f"{wording.miles(flagged)} ({wording.peso(100 * flagged / users)} %)"
            if users
            else "sin usuarios",
        ),
        Figure(
            "Subcobertura estimada",
            wording.miles(sum(estimates)) if estimates else "sin estimación",
        ),
        Figure("CSE que vence en 90 días", wording.miles(sum(r.cse_expiring for r in totals))),
    ]
    largest = max(by_kind.values(), default=0)
    kinds = [
        Bar(wording.kind_label(k), n, _percent(n, largest), kind_class(k))
        for k, n in sorted(by_kind.items(), key=lambda kv: -kv[1])
    ]
    trend, legend = _trend(board)
    return BoardView(
        scope=board.place_name,
        program=wording.program_short(program_code) if program_code else "Todos los programas",
        period=wording.periodo(period) if period else "el último periodo de cada programa",
        figures=figures,
        kinds=kinds,
        trend=trend,
        legend=legend,
        totals=totals,
    )
