"""The public's jobs: a program's masked roll, the published statistics, the open data.

REST, the web pages and GraphQL call these. Rolls pass every entry through the caller's roll
policy; every published count (statistics at each level, the district page, a roll's
``no_listados``) is read off its column's one suppression pattern (``usecases.families``,
``privacy.family``); the open data are those very tables in long format. Answers are cached
per data version as JSON data (``model_dump(mode="json")`` of the models here), so a cached
answer costs no database work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from privacy import masking
from privacy.family import NATION, ColumnPattern
from privacy.policy import RollEntryOut, RollEntryView, roll_page
from privacy.suppression import DEFAULT_K, SENSITIVE_K, k_for
from rnu.cache import ROLL_TTL_S, STATS_TTL_S, digest, roll_key, stats_key
from rnu.errors import NotFound
from rnu.period import PATTERN as PERIOD_PATTERN
from rnu.roll import service as roll_service
from rnu.roll.models import RollSlice
from rnu.stats import service as stats_service
from rnu.ubigeo.reference import by_inei
from usecases import families, wording
from usecases.context import Context
from usecases.families import adult_on, is_count_only

PUBLIC_SCOPE = "publico"

# ---------------------------------------------------------------------------------------------
# Rolls.


class PadronQuery(BaseModel):
    """Query of a roll page; unknown parameters are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    programa: str = Field(min_length=2, max_length=20, pattern=r"^[A-Za-z0-9_]+$")
    ubigeo: str = Field(pattern=r"^\d{6}$")
    periodo: str | None = Field(default=None, pattern=PERIOD_PATTERN)
    q: str | None = Field(default=None, max_length=60)
    page: int = Field(default=1, ge=1, le=roll_service.MAX_PAGE)


class PadronOut(BaseModel):
    programa: str
    ubigeo: str
    departamento: str
    provincia: str
    distrito: str
    periodo: str
    pagina: int
    paginas: int
    total_listados: int
    # Minors and Contigo users are never listed, only counted; None: reserved (too few to say,
    # or the district's count is reserved and this plus the listed entries would give it).
    no_listados: int | None
    entradas: list[RollEntryOut]


def unlisted_shown(pattern: ColumnPattern, ubigeo: str, unlisted: int) -> int | None:
    """A roll page's ``no_listados``: None whenever the district's count is reserved.

    The page lists the others by name, so publishing this beside them would publish the
    district's count (listed + not listed), however the statistics hid it.
    """
    if ubigeo in pattern.hidden or 0 < unlisted < SENSITIVE_K:
        return None
    return unlisted


class ProgramaDistrito(BaseModel):
    """A program on the district page: its latest period there and its published count."""

    codigo: str
    nombre: str
    periodo: str
    usuarios: int | None  # None: reserved (the same cell the statistics reserve)
    k: int


async def district_programs(ctx: Context, ubigeo: str) -> list[ProgramaDistrito]:
    """The programs with users in a district, each count read off its column's pattern."""
    present = await roll_service.district_programs(ctx.session, ubigeo=ubigeo)
    patterns = await families.user_patterns(ctx, {p.program_code: p.period for p in present})
    return [
        ProgramaDistrito(
            codigo=p.program_code,
            nombre=p.program_name,
            periodo=p.period,
            usuarios=patterns[p.program_code].shown(ubigeo),
            k=patterns[p.program_code].k,
        )
        for p in present
    ]


def _views(slice_: RollSlice, secret: bytes) -> list[RollEntryView]:
    return [
        RollEntryView.build(
            secret,
            enrollment_key=e.entry_key,
            dni=e.dni,
            nombres=e.nombres,
            apellido_paterno=e.apellido_paterno,
            apellido_materno=e.apellido_materno,
            birth_date=e.birth_on,
            sex=e.sex,
            ubigeo=e.ubigeo,
            program=e.program_code,
            period=e.period,
        )
        for e in slice_.entries
    ]


def entry_id_of(secret: bytes) -> Any:
    """A roll entry's public id from its key (the id a report points at)."""
    return lambda key: masking.entry_id(secret, key)


async def public_hit(ctx: Context) -> None:
    """The public endpoints' per-client window (rolls, statistics, downloads)."""
    await ctx.limiter.hit(
        PUBLIC_SCOPE, ctx.client, limit=ctx.settings.public_per_client, window_s=60
    )


async def roll(
    ctx: Context,
    *,
    programa: str,
    ubigeo: str,
    periodo: str | None,
    q: str | None,
    page: int,
) -> dict[str, Any]:
    """One roll page as the caller may see it, cached per data version and role.

    Shared by REST and the web page; the privacy layer decides who is listed (SQL only
    executes that choice) and masks every listed entry.
    """
    programa = programa.upper()
    caller, secret, cache = ctx.caller, ctx.secret, ctx.cache
    version = await ctx.version()
    key = None
    if not caller.districts:  # per-volunteer pages differ by district: not shared in cache
        key = roll_key(
            version,
            caller.role.value,
            program=programa,
            ubigeo=ubigeo,
            period=periodo or "latest",
            q_digest=digest(secret, "q", (q or "").strip().upper()),
            page=page,
        )
        cached = await cache.get_json(key)
        if cached is not None:
            return dict(cached)
    protected_program = is_count_only(programa)
    slice_ = await roll_service.list_roll(
        ctx.session,
        program_code=programa,
        ubigeo=ubigeo,
        period=periodo,
        q=q,
        page=page,
        adult_on=adult_on,
        count_only=protected_program,
    )
    shown = roll_page(_views(slice_, secret), caller, k=1)
    hidden = slice_.not_listed + (len(slice_.entries) - len(shown.entries))
    pattern = (await families.user_patterns(ctx, {programa: slice_.period}))[programa]
    place = by_inei(ubigeo)
    body = PadronOut(
        programa=programa,
        ubigeo=ubigeo,
        departamento=place.departamento if place else "",
        provincia=place.provincia if place else "",
        distrito=place.distrito if place else "",
        periodo=slice_.period,
        pagina=slice_.page,
        paginas=slice_.pages,
        total_listados=slice_.listed_total,
        no_listados=unlisted_shown(pattern, ubigeo, hidden),
        entradas=list(shown.entries),
    ).model_dump(mode="json", exclude_none=False)
    if key is not None:
        await cache.set_json(key, body, ROLL_TTL_S)
    return body


# ---------------------------------------------------------------------------------------------
# Statistics.


class EstadisticasQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nivel: str = Field(default="departamento", pattern=r"^(departamento|provincia|distrito)$")
    padre: str | None = Field(default=None, pattern=r"^(\d{2}|\d{4})$")
    periodo: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    programa: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9_]+$")


class Columna(BaseModel):
    codigo: str
    nombre: str


class ColumnaAlerta(Columna):
    tipo: str  # filtracion | subcobertura


class Fila(BaseModel):
    codigo: str
    nombre: str
    valores: dict[str, int | None]  # None: reserved
    total: int | None


class Tabla(BaseModel):
    """A published count table: suppressed cells are None, zeros are shown."""

    k: int
    columnas: list[Columna]
    filas: list[Fila]
    totales: dict[str, int | None]
    total_general: int | None


class TablaAlertas(Tabla):
    columnas: list[ColumnaAlerta]  # type: ignore[assignment]  # narrowed: each has its tipo


class EstadisticasOut(BaseModel):
    nivel: str
    padre: str | None
    periodos: dict[str, str]
    usuarios: Tabla
    alertas: TablaAlertas
    nota: str


def _sum_if_shown(values: list[int | None]) -> int | None:
    """A total of published numbers only: None as soon as one part is reserved.

    Such a total adds no equation an attacker lacks, which keeps every column's pattern the
    one ``privacy.family`` verified (see ``docs/security.md`` §V8).
    """
    if any(v is None for v in values):
        return None
    return sum(v or 0 for v in values)


def published(
    patterns: Mapping[str, ColumnPattern],
    areas: Sequence[tuple[str, str]],
    parent: str | None,
    labels: Mapping[str, str],
    k: int,
) -> Tabla:
    """One table read off the columns' patterns: rows ``areas`` (all under ``parent``, None for
    the nation), a column per pattern, the parent's counts as column totals. None: reserved."""
    columns = [Columna(codigo=c, nombre=labels.get(c, c)) for c in patterns]
    if not patterns or not areas:
        return Tabla(k=k, columnas=columns, filas=[], totales={}, total_general=0)
    rows = []
    for code, name in areas:
        valores = {c: pattern.shown(code) for c, pattern in patterns.items()}
        total = _sum_if_shown(list(valores.values()))
        rows.append(Fila(codigo=code, nombre=name, valores=valores, total=total))
    totals = {c: pattern.shown(parent or NATION) for c, pattern in patterns.items()}
    return Tabla(
        k=k,
        columnas=columns,
        filas=rows,
        totales=totals,
        total_general=_sum_if_shown(list(totals.values())),
    )


def users_k(columns: Iterable[str]) -> int:
    """The table's threshold: 10 when any column is a disability or child program."""
    return max((k_for(c, touches_minors=False) for c in columns), default=DEFAULT_K)


async def statistics(
    ctx: Context,
    *,
    nivel: str = "departamento",
    padre: str | None = None,
    periodo: str | None = None,
    programa: str | None = None,
) -> EstadisticasOut:
    """Both published tables for one level; cached per data version (shared by web and REST).

    Every number comes from the columns' patterns (``usecases.families``), the same ones the
    other levels, the district pages and the rolls read.
    """
    cache = ctx.cache
    version = await ctx.version()
    key = stats_key(version, "public", nivel, padre or "-", periodo or "-", programa or "-")
    cached = await cache.get_json(key)
    if cached is not None:
        return EstadisticasOut.model_validate(cached)
    columns = await stats_service.user_columns(
        ctx.session,
        level=nivel,
        parent=padre,
        period=periodo,
        programs=[programa.upper()] if programa else None,
    )
    areas = stats_service.areas_of(nivel, padre)
    users = await families.user_patterns(ctx, columns.periods)
    flags, flag_k = await families.flag_patterns(ctx)
    flags_table = published(
        flags, areas, padre, {kind: wording.flag_label(kind) for kind in flags}, flag_k
    )
    alertas = TablaAlertas(
        k=flags_table.k,
        columnas=[
            ColumnaAlerta(
                codigo=c.codigo,
                nombre=c.nombre,
                tipo="subcobertura" if stats_service.is_subcobertura(c.codigo) else "filtracion",
            )
            for c in flags_table.columnas
        ],
        filas=flags_table.filas,
        totales=flags_table.totales,
        total_general=flags_table.total_general,
    )
    body = EstadisticasOut(
        nivel=nivel,
        padre=padre,
        periodos=columns.periods,
        usuarios=published(users, areas, padre, columns.names, users_k(users)),
        alertas=alertas,
        nota=(
            "Los valores nulos están reservados: son menores que k o permitirían calcular uno "
            "que lo es. Los ceros se muestran."
        ),
    )
    await cache.set_json(key, body.model_dump(mode="json"), STATS_TTL_S)
    return body


def category_totals(alertas: TablaAlertas, tipo: str) -> list[Fila]:
    """Each area's alerts of one category (filtración or subcobertura), as far as the published
    table already tells them; None where it does not.

    A category's figure is the sum of its kinds when all of them are published, or the area's
    published total minus the other category's kinds when those are all published. Both are
    sums of published numbers, so the page reveals nothing the table does not; blanking an
    area whenever one kind was reserved (as the page did) hid every department's filtración.
    """
    mine = [c.codigo for c in alertas.columnas if c.tipo == tipo]
    others = [c.codigo for c in alertas.columnas if c.tipo != tipo]
    rows = []
    for fila in alertas.filas:
        own = [fila.valores.get(k) for k in mine]
        rest = [fila.valores.get(k) for k in others]
        total: int | None = None
        if all(v is not None for v in own):
            total = sum(v or 0 for v in own)
        elif fila.total is not None and all(v is not None for v in rest):
            total = fila.total - sum(v or 0 for v in rest)
        rows.append(Fila(codigo=fila.codigo, nombre=fila.nombre, valores={}, total=total))
    return rows


async def district_subcobertura(ctx: Context, departamento: str) -> list[Fila]:
    """Each district of a department with its subcobertura alerts, as the API publishes them.

    Read off the same table as ``/api/v1/estadisticas?nivel=distrito&padre=<departamento>``
    (``statistics`` → ``category_totals``), so a district reserved there is reserved here.
    """
    body = await statistics(ctx, nivel="distrito", padre=departamento)
    return category_totals(body.alertas, "subcobertura")


# ---------------------------------------------------------------------------------------------
# Open data.

LICENCIA = {
    "nombre": "Open Data Commons Attribution License (ODC-By) v1.0",
    "url": "https://opendatacommons.org/licenses/by/1-0/",
    "atribucion": "Registro Nacional de Usuarios (RNU)",
}
DATASETS: dict[str, dict[str, str]] = {
    "usuarios-por-departamento": {"nivel": "departamento", "tabla": "usuarios"},
    "usuarios-por-provincia": {"nivel": "provincia", "tabla": "usuarios"},
    "usuarios-por-distrito": {"nivel": "distrito", "tabla": "usuarios"},
    "alertas-por-departamento": {"nivel": "departamento", "tabla": "alertas"},
    "alertas-por-provincia": {"nivel": "provincia", "tabla": "alertas"},
}
TITULOS = {
    "usuarios": "Usuarios de cada programa social por {nivel} (último periodo de cada programa)",
    "alertas": "Alertas de integridad abiertas (filtración y subcobertura) por {nivel}",
}
DICCIONARIO: dict[str, list[dict[str, str]]] = {
    "usuarios": [
        {
            "campo": "ubigeo",
            "tipo": "texto",
            "descripcion": "Código INEI del área (2, 4 o 6 dígitos).",
        },
        {
            "campo": "nombre",
            "tipo": "texto",
            "descripcion": "Nombre del departamento, provincia o distrito.",
        },
        {
            "campo": "programa",
            "tipo": "texto",
            "descripcion": "Código del programa social (JUNTOS, PENSION65, …).",
        },
        {"campo": "periodo", "tipo": "texto", "descripcion": "Periodo del padrón, AAAA-MM."},
        {
            "campo": "usuarios",
            "tipo": "entero o vacío",
            "descripcion": "Personas en el padrón del programa en el área y periodo. Vacío: "
            "reservado por secreto estadístico (menos de k, o permitiría calcular uno que lo es).",
        },
        {
            "campo": "k",
            "tipo": "entero",
            "descripcion": "Umbral de reserva del programa: 5, o 10 para los programas de "
            "niñez o discapacidad.",
        },
    ],
    "alertas": [
        {"campo": "ubigeo", "tipo": "texto", "descripcion": "Código INEI del área."},
        {"campo": "nombre", "tipo": "texto", "descripcion": "Nombre del área."},
        {
            "campo": "tipo_alerta",
            "tipo": "texto",
            "descripcion": "Código de la verificación que levantó la alerta.",
        },
        {
            "campo": "categoria",
            "tipo": "texto",
            "descripcion": "filtracion (recibe sin calificar) o subcobertura "
            "(califica y no recibe).",
        },
        {
            "campo": "alertas",
            "tipo": "entero o vacío",
            "descripcion": "Alertas abiertas o confirmadas. Vacío: reservado por "
            "secreto estadístico.",
        },
        {"campo": "k", "tipo": "entero", "descripcion": "Umbral de reserva de la tabla."},
    ],
}


def _long_rows(body: EstadisticasOut, table: str) -> list[dict[str, Any]]:
    """One CSV/JSON line per area and column (program or alert kind)."""
    if table == "usuarios":
        data: Tabla = body.usuarios
        return [
            {
                "ubigeo": fila.codigo,
                "nombre": fila.nombre,
                "programa": column,
                "periodo": body.periodos.get(column, ""),
                "usuarios": value,
                "k": k_for(column, touches_minors=False),
            }
            for fila in data.filas
            for column, value in fila.valores.items()
        ]
    kinds = {c.codigo: c.tipo for c in body.alertas.columnas}
    return [
        {
            "ubigeo": fila.codigo,
            "nombre": fila.nombre,
            "tipo_alerta": column,
            "categoria": kinds.get(column, ""),
            "alertas": value,
            "k": body.alertas.k,
        }
        for fila in body.alertas.filas
        for column, value in fila.valores.items()
    ]


async def dataset_rows(ctx: Context, name: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The dataset's description and its rows; NotFound for an unknown name."""
    spec = DATASETS.get(name)
    if spec is None:
        raise NotFound("no such dataset")
    body = await statistics(ctx, nivel=spec["nivel"])
    return spec, _long_rows(body, spec["tabla"])


def catalogue() -> dict[str, Any]:
    return {
        "licencia": LICENCIA,
        "conjuntos": [
            {
                "nombre": name,
                "titulo": TITULOS[spec["tabla"]].format(nivel=spec["nivel"]),
                "csv": f"/api/v1/datos-abiertos/{name}.csv",
                "json": f"/api/v1/datos-abiertos/{name}.json",
                "diccionario": f"/api/v1/datos-abiertos/diccionario#{spec['tabla']}",
            }
            for name, spec in DATASETS.items()
        ],
    }
