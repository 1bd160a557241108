"""The agencies' GraphQL schema: the queries, their resolvers, and how errors leave them.

The HTTP endpoint, its checks and limits live beside it (``api.graphql.http``,
``api.graphql.limits``). Errors other than refusals are masked: no stack trace or SQL leaves;
and none is logged with its message or the query text (``api.graphql.errors.log_errors``),
since either can hold a DNI.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableValidation, MaskErrors
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext

from api.graphql.context import Context, Info
from api.graphql.errors import log_errors
from api.graphql.permissions import CanReadCoverage, CanReadFlags, CanReadPeople
from api.graphql.types import (
    Connection,
    Coverage,
    CoverageArea,
    DocumentType,
    Flag,
    FlagFilter,
    Person,
    PersonLookup,
    Program,
    build_people,
    connection,
    page_bounds,
    paginate,
)
from privacy.family import NATION
from rnu.errors import InvalidInput, RnuError
from rnu.person import service as person_service
from rnu.stats import service as stats_service
from usecases import families

AUDIT_ACTION = "graphql.read"


class SettlingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, exposing the work it settles in the background to the
    request (``Context.in_flight``), which waits for it before committing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.context_value, Context):
            self.context_value.in_flight.background.append(self.background_futures)


def _masked(error: GraphQLError) -> bool:
    """Mask anything that is not a refusal RNU raised on purpose or a validation error."""
    original = error.original_error
    return not (original is None or isinstance(original, RnuError | PermissionError | GraphQLError))


class MaskUnexpected(MaskErrors):
    """Strawberry's masking, keeping the path and saying what happened by code only."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_masked, error_message="internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )


class RnuSchema(strawberry.Schema):
    """Strawberry's schema with RNU's error log: codes and paths, never texts."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors)


# ---------------------------------------------------------------------------------------------
# The schema.


def _check_ubigeo(ubigeo: str | None) -> str | None:
    if ubigeo is not None and not (ubigeo.isdigit() and len(ubigeo) in (2, 4, 6)):
        raise InvalidInput("ubigeo must be 2, 4 or 6 digits")
    return ubigeo


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="The person holding a document, or null when the registry has none.",
    )
    async def person(
        self, info: Info, document: str, document_type: DocumentType = DocumentType.DNI
    ) -> Person | None:
        number = person_service.normalize_document(document, document_type.value)
        record = await info.context.loaders.person_by_document.load((document_type.value, number))
        return (await build_people(info, [record]))[0]

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="A batch check of up to 1,000 documents, in the order given.",
    )
    async def persons(
        self,
        info: Info,
        documents: list[str],
        document_type: DocumentType = DocumentType.DNI,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[PersonLookup]:
        if len(documents) > person_service.MAX_DOCUMENTS:
            raise InvalidInput(f"at most {person_service.MAX_DOCUMENTS} documents per query")
        start, size = page_bounds(
            len(documents) if first is None else first,
            after,
            maximum=person_service.MAX_DOCUMENTS,
        )
        page = documents[start : start + size]
        numbers: list[str | None] = []
        for raw in page:
            try:
                numbers.append(person_service.normalize_document(raw, document_type.value))
            except InvalidInput:
                numbers.append(None)
        # One query for the whole page, without a DataLoader future per document.
        records = iter(
            await info.context.in_flight.guard(
                person_service.get_by_documents(
                    info.context.session,
                    numbers=[n for n in numbers if n is not None],
                    doc_type=document_type.value,
                )
            )
        )
        found = [next(records) if n is not None else None for n in numbers]
        people = iter(await build_people(info, found))
        lookups = [
            PersonLookup(document=raw, valid=n is not None, person=next(people))
            for raw, n in zip(page, numbers, strict=True)
        ]
        return connection(lookups, start, len(documents))

    @strawberry.field(description="A program and its latest loaded period.")
    async def program(self, info: Info, code: str) -> Program | None:
        found = await info.context.loaders.program_by_code.load(code.strip().upper())
        return Program.from_domain(found) if found else None

    @strawberry.field(description="Every program.")
    async def programs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Program]:
        rows = await info.context.in_flight.guard(
            person_service.list_programs(info.context.session)
        )
        return paginate([Program.from_domain(p) for p in rows], first, after)

    @strawberry.field(
        permission_classes=[CanReadCoverage],
        description="Users of a program per area under a ubigeo, small cells suppressed.",
    )
    async def coverage(
        self, info: Info, program: str, ubigeo: str | None = None, period: str | None = None
    ) -> Coverage:

        code = program.strip().upper()
        _check_ubigeo(ubigeo)
        person_service.check_period(period)
        if ubigeo is None:
            level, parent = "departamento", None
        elif len(ubigeo) == 2:
            level, parent = "provincia", ubigeo
        else:
            level, parent = "distrito", ubigeo[:4]
        columns = await info.context.in_flight.guard(
            stats_service.user_columns(
                info.context.session, level=level, parent=parent, period=period, programs=[code]
            )
        )
        if code not in columns.periods:
            raise InvalidInput(f"no loaded roll for program {code}")
        # The column's one pattern (usecases.families): the cells the public tables reserve.
        wanted = {code: columns.periods[code]}
        public = info.context.public
        found = (
            families.user_patterns(public, wanted)
            if public is not None
            else families.compute_user_patterns(info.context.session, wanted)
        )
        pattern = (await info.context.in_flight.guard(found))[code]
        k = pattern.k
        areas = [
            CoverageArea(ubigeo=area, name=name, count=pattern.shown(area))
            for area, name in stats_service.areas_of(level, parent)
        ]
        total = pattern.shown(parent or NATION)
        if ubigeo is not None and len(ubigeo) == 6:
            areas = [a for a in areas if a.ubigeo == ubigeo]
            total = areas[0].count if areas else 0
        return Coverage(
            program=code,
            period=columns.periods.get(code),
            level=level,
            k=k,
            total=total,
            _areas=areas,
        )

    @strawberry.field(permission_classes=[CanReadFlags], description="Integrity flags.")
    async def flags(
        self,
        info: Info,
        filter: FlagFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Flag]:
        from rnu.flag import repository as flag_repository

        f = filter or FlagFilter()
        place = _check_ubigeo(f.ubigeo)
        start, size = page_bounds(first, after)
        rows, total = await info.context.in_flight.guard(
            flag_repository.list_flags(
                info.context.session,
                filters=flag_repository.FlagFilter(
                    kind=f.kind,
                    program_code=f.program_code,
                    period=f.period,
                    department=place if place and len(place) == 2 else None,
                    province=place if place and len(place) == 4 else None,
                    district=place if place and len(place) == 6 else None,
                    status=f.status,
                    severity=f.severity,
                ),
                offset=start,
                limit=size,
            )
        )
        flags = [
            Flag(
                id=r.id,
                kind=r.kind,
                severity=r.severity,
                status=r.status,
                program_code=r.program_code,
                period=r.period,
                ubigeo=r.ubigeo,
                created_at=r.created_at,
            )
            for r in rows
        ]
        return connection(flags, start, total)


schema = RnuSchema(
    query=Query,
    # Validation already ran, with RNU's extra rules, before the key (api.graphql.checks
    # check_operation, which every execution passes); running it again cost ~3 ms CPU.
    extensions=[MaskUnexpected, DisableValidation],
    execution_context_class=SettlingExecutionContext,
)
