"""The analysts' dashboard: per program and department, in each program's latest period.

Filtered by program, department or province and period; with a trend of the flags per kind
over the latest periods (issue 13.9: it showed only the latest period, as tables).

Staff see raw counts (no small-cell suppression: this is not published); viewing it reads no
person's data, so it writes no audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.dashboard import repository
from rnu.errors import InvalidInput, InvalidPeriod, NotFound
from rnu.period import Period
from rnu.stats.service import SUBCOBERTURA_PREFIXES
from rnu.ubigeo.reference import department_name, province_name

# Kinds that mean someone receives a benefit without qualifying (issue 4, item 2).
FILTRACION_KINDS = (
    "cse_not_qualifying",
    "cse_expired",
    "cse_missing",
    "age_out_of_range",
    "deceased",
    "not_in_pgh",
)
EXPIRY_WINDOW = timedelta(days=90)


@dataclass
class DashboardRow:
    """One program in one department."""

    program_code: str
    period: str
    department: str
    department_name: str
    users: int = 0
    flags_by_kind: dict[str, int] = field(default_factory=dict)
    flags_by_status: dict[str, int] = field(default_factory=dict)
    filtracion_people: int = 0
    subcobertura: int | None = None
    cse_expiring: int = 0

    @property
    def filtracion_rate(self) -> float | None:
        """Share of users with an open or confirmed filtración flag."""
        return self.filtracion_people / self.users if self.users else None

    @property
    def open_flags(self) -> int:
        return self.flags_by_status.get("open", 0)


@dataclass(frozen=True)
class TrendPeriod:
    """Flags raised for one period, per kind (the dashboard's trend)."""

    period: str
    by_kind: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


@dataclass(frozen=True)
class Dashboard:
    rows: list[DashboardRow]
    periods: dict[str, str]
    expiring_until: date
    place: str = ""  # the department's or province's ubigeo prefix shown; '' the country
    place_name: str = "Todo el país"
    trend: list[TrendPeriod] = field(default_factory=list)
    available_periods: list[str] = field(default_factory=list)

    def totals(self) -> list[DashboardRow]:
        """One row per program, every department shown added up (named by the place shown)."""
        out: dict[str, DashboardRow] = {}
        for r in self.rows:
            t = out.setdefault(
                r.program_code, DashboardRow(r.program_code, r.period, self.place, self.place_name)
            )
            t.users += r.users
            t.filtracion_people += r.filtracion_people
            t.cse_expiring += r.cse_expiring
            for k, n in r.flags_by_kind.items():
                t.flags_by_kind[k] = t.flags_by_kind.get(k, 0) + n
            for k, n in r.flags_by_status.items():
                t.flags_by_status[k] = t.flags_by_status.get(k, 0) + n
            if r.subcobertura is not None:
                t.subcobertura = (t.subcobertura or 0) + r.subcobertura
        return [out[k] for k in sorted(out)]


def _department_name(code: str) -> str:
    try:
        return department_name(code) if code else "Sin ubigeo"
    except NotFound:
        return code


TREND_PERIODS = 6  # how many of the latest periods the trend shows


def _place(department: str | None, province: str | None) -> tuple[str, str]:
    """(ubigeo prefix, name) of what is shown: a province inside its department, or one."""
    if province and (not department or province.startswith(department)):
        try:
            dep = department_name(province[:2])
            return province, f"Provincia de {province_name(province)} ({dep})"
        except NotFound:
            raise InvalidInput(f"unknown province {province}") from None
    if department:
        try:
            return department, f"Departamento de {department_name(department)}"
        except NotFound:
            raise InvalidInput(f"unknown department {department}") from None
    return "", "Todo el país"


def _trend(counts: dict[tuple[str, str], int], limit: int) -> list[TrendPeriod]:
    by_period: dict[str, dict[str, int]] = {}
    for (period, kind), n in counts.items():
        by_period.setdefault(period, {})[kind] = n
    ordered = sorted(by_period, key=_period_key)[-limit:]
    return [TrendPeriod(p, dict(sorted(by_period[p].items()))) for p in ordered]


def _period_key(text: str) -> tuple[int, int, str]:
    try:
        p = Period.parse(text)
    except InvalidPeriod:
        return (0, 0, text)
    return (p.year, p.month or 0, text)


async def build(
    session: AsyncSession,
    *,
    today: date,
    program_code: str | None = None,
    department: str | None = None,
    province: str | None = None,
    period: str | None = None,
) -> Dashboard:
    """Counts per program and department, each program in its latest loaded period.

    ``period``: that period instead, for the programs that have it; ``department`` (2 digits)
    or ``province`` (4): only that place. The trend shows flags per kind over the latest
    ``TREND_PERIODS`` periods of the same program and place.
    """
    place, place_name = _place(department, province)
    if period:
        Period.parse(period)  # InvalidPeriod: a typo is an error, not an empty dashboard
    known = await repository.program_periods(session)
    periods = await repository.latest_periods(session)
    if program_code:
        periods = {k: v for k, v in periods.items() if k == program_code}
    if period:
        periods = {k: period for k in periods if period in known.get(k, [])}
    shown_programs = [program_code] if program_code else list(known)
    available = sorted({p for k in shown_programs for p in known.get(k, [])}, key=_period_key)
    users = await repository.count_users(session, periods=periods, place=place)
    flags = await repository.count_flags(session, periods=periods, place=place)
    flagged = await repository.count_flagged_people(
        session, periods=periods, kinds=list(FILTRACION_KINDS), place=place
    )
    under = await repository.subcobertura(
        session, prefixes=list(SUBCOBERTURA_PREFIXES), place=place
    )
    for key, n in (await _coverage_estimates(session, periods, place)).items():
        under[key] = under.get(key, 0) + n
    expiring = await repository.count_cse_expiring(
        session, periods=periods, start=today, end=today + EXPIRY_WINDOW, place=place
    )
    trend = _trend(
        await repository.flags_per_period(session, program_code=program_code, place=place),
        TREND_PERIODS,
    )
    rows: dict[tuple[str, str], DashboardRow] = {}

    def row(key: tuple[str, str]) -> DashboardRow:
        program, dep = key
        if key not in rows:
            rows[key] = DashboardRow(program, periods.get(program, ""), dep, _department_name(dep))
        return rows[key]

    for key, n in users.items():
        row(key).users = n
    for (program, dep, kind, status), n in flags.items():
        r = row((program, dep))
        r.flags_by_kind[kind] = r.flags_by_kind.get(kind, 0) + n
        r.flags_by_status[status] = r.flags_by_status.get(status, 0) + n
    for key, n in flagged.items():
        row(key).filtracion_people = n
    for key, n in under.items():
        if key[0] in periods:
            row(key).subcobertura = n
    for key, n in expiring.items():
        row(key).cse_expiring = n
    selected = [r for r in rows.values() if not place or r.department == place[:2]]
    selected.sort(key=lambda r: (r.program_code, r.department))
    return Dashboard(
        rows=selected,
        periods=periods,
        expiring_until=today + EXPIRY_WINDOW,
        place=place,
        place_name=place_name,
        trend=trend,
        available_periods=available,
    )


async def _coverage_estimates(
    session: AsyncSession, periods: dict[str, str], place: str = ""
) -> dict[tuple[str, str], int]:
    """Eligible-but-not-enrolled units per program and department, from the PGH itself.

    `rnu.integrity.coverage` counts, per district, who meets each program's rules as of its
    latest period and who is enrolled; a program whose rules need data the PGH lacks
    (Contigo's disability) has no estimate.
    """
    from rnu.eligibility.rules import load_programs
    from rnu.integrity.coverage import coverage_gaps

    known = load_programs()
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    estimates: dict[tuple[str, str], int] = {}
    for program_code, period in periods.items():
        if program_code not in known:  # a program onboarded by mapping, without rules yet
            continue
        gaps = await coverage_gaps(raw, program_code=program_code, period=period)
        for gap in gaps or ():
            if not gap.ubigeo.startswith(place):
                continue
            key = (program_code, gap.ubigeo[:2])
            estimates[key] = estimates.get(key, 0) + max(gap.not_enrolled, 0)
    return estimates
