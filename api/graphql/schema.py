"""The agencies' GraphQL schema, its abuse limits and its router at /graphql.

Limits, cheapest first: the body is checked before authentication or any SQL (one operation,
no batching, at most ``MAX_TOKENS`` tokens, depth at most ``MAX_DEPTH``, cost at most
``MAX_COST`` with each field weighted by the page sizes above it, variables included), then
validation repeats depth and tokens and adds the alias limit. Introspection is reachable
only after the agency key is checked, since the whole router requires it. Errors other than
refusals are masked: no stack trace or SQL leaves.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from fastapi import Depends, Request
from graphql import (
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
)
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.fastapi import GraphQLRouter

from api.auth.agency import authenticate_agency
from api.graphql.context import Info, get_context
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
from privacy.suppression import k_for, suppress
from rnu.errors import InvalidInput, RnuError
from rnu.person import service as person_service

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_COST = 100_000
MAX_BODY_BYTES = 200_000
AUDIT_ACTION = "graphql.read"


# ---------------------------------------------------------------------------------------------
# Cost: every field costs the product of the page sizes of the lists above it.


def _argument(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, VariableNode):
        return variables.get(value.name.value)
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, ListValueNode):
        return value.values
    return None


def _list_factor(field: FieldNode, variables: dict[str, Any]) -> int:
    for arg in field.arguments or ():
        value = _argument(arg.value, variables)
        if arg.name.value == "first" and isinstance(value, int):
            return max(1, min(value, person_service.MAX_DOCUMENTS))
        if arg.name.value == "documents":
            if isinstance(value, list | tuple):
                return max(1, min(len(value), person_service.MAX_DOCUMENTS))
            return person_service.MAX_DOCUMENTS  # unknown: assume the most it may hold
    if field.name.value in {"members", "enrollments", "areas", "flags", "programs"}:
        return 50
    return 1


def query_cost(
    selection: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    multiplier: int = 1,
    seen: frozenset[str] = frozenset(),
) -> int:
    """The cost of a selection set (fragments expanded once per path, cycles ignored)."""
    if selection is None:
        return 0
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            factor = multiplier * _list_factor(node, variables)
            total += multiplier + query_cost(node.selection_set, fragments, variables, factor, seen)
        elif isinstance(node, InlineFragmentNode):
            total += query_cost(node.selection_set, fragments, variables, multiplier, seen)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in fragments and name not in seen:
                total += query_cost(
                    fragments[name].selection_set, fragments, variables, multiplier, seen | {name}
                )
    return total


# ---------------------------------------------------------------------------------------------
# Before authentication: a cheap look at the body, so abuse costs no SQL at all.


def _depth(
    selection: SelectionSetNode | None, fragments: dict[str, Any], seen: frozenset[str]
) -> int:
    if selection is None:
        return 0
    deepest = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            if node.name.value.startswith("__"):
                continue
            deepest = max(deepest, 1 + _depth(node.selection_set, fragments, seen))
        elif isinstance(node, InlineFragmentNode):
            deepest = max(deepest, _depth(node.selection_set, fragments, seen))
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in fragments and name not in seen:
                deepest = max(
                    deepest, _depth(fragments[name].selection_set, fragments, seen | {name})
                )
    return deepest


def _operations(definitions: Any) -> Iterator[ExecutableDefinitionNode]:
    for d in definitions:
        if isinstance(d, OperationDefinitionNode):
            yield d


async def precheck(request: Request) -> None:
    """Refuse batches, oversized or too-deep queries before the key is even looked up."""
    if request.method != "POST":
        return
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput(f"request body over {MAX_BODY_BYTES} bytes")
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type:
        return  # Strawberry answers other content types itself
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise InvalidInput("the body is not valid JSON") from exc
    if isinstance(data, list):
        raise InvalidInput("batched GraphQL requests are not supported: send one operation")
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        raise InvalidInput("the body must be a JSON object with a 'query' string")
    try:
        document = parse(data["query"], max_tokens=MAX_TOKENS, no_location=True)
    except GraphQLError as exc:
        raise InvalidInput(f"query refused: {exc.message}") from exc
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    raw_variables = data.get("variables")
    variables: dict[str, Any] = raw_variables if isinstance(raw_variables, dict) else {}
    for operation in _operations(document.definitions):
        depth = _depth(operation.selection_set, fragments, frozenset())
        if depth > MAX_DEPTH:
            raise InvalidInput(f"query depth {depth} exceeds the limit of {MAX_DEPTH}")
        cost = query_cost(operation.selection_set, fragments, variables)
        if cost > MAX_COST:
            raise InvalidInput(f"query cost {cost} exceeds the limit of {MAX_COST}")


# ---------------------------------------------------------------------------------------------
# Audit: the person fields the request returned, written before the session commits.


class AuditReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        await context.audit.flush(context.session, context.agency, AUDIT_ACTION)


def _masked(error: GraphQLError) -> bool:
    """Mask anything that is not a refusal RNU raised on purpose or a validation error."""
    original = error.original_error
    return not (original is None or isinstance(original, RnuError | PermissionError | GraphQLError))


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
            first or len(documents) or 1, after, maximum=person_service.MAX_DOCUMENTS
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
            await person_service.get_by_documents(
                info.context.session,
                numbers=[n for n in numbers if n is not None],
                doc_type=document_type.value,
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
        rows = await person_service.list_programs(info.context.session)
        return paginate([Program.from_domain(p) for p in rows], first, after)

    @strawberry.field(
        permission_classes=[CanReadCoverage],
        description="Users of a program per area under a ubigeo, small cells suppressed.",
    )
    async def coverage(
        self, info: Info, program: str, ubigeo: str | None = None, period: str | None = None
    ) -> Coverage:
        from rnu.stats import service as stats_service

        code = program.strip().upper()
        _check_ubigeo(ubigeo)
        person_service.check_period(period)
        if ubigeo is None:
            level, parent = "departamento", None
        elif len(ubigeo) == 2:
            level, parent = "provincia", ubigeo
        else:
            level, parent = "distrito", ubigeo[:4]
        table = await stats_service.users_by_area(
            info.context.session, level=level, parent=parent, period=period, programs=[code]
        )
        if code not in table.columns:
            raise InvalidInput(f"no loaded roll for program {code}")
        k = k_for(code, False)
        published = suppress(table.grid(), k)
        names = dict(table.areas)
        areas = [
            CoverageArea(ubigeo=row[0], name=names.get(row[0], ""), count=published.cells[i][0])
            for i, row in enumerate(published.row_labels)
        ]
        total = published.grand_total
        if ubigeo is not None and len(ubigeo) == 6:
            areas = [a for a in areas if a.ubigeo == ubigeo]
            total = areas[0].count if areas else 0
        return Coverage(
            program=code,
            period=table.periods.get(code),
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
        rows, total = await flag_repository.list_flags(
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
        flags = [
            Flag(
                id=r["id"],
                kind=r["kind"],
                severity=r["severity"],
                status=r["status"],
                program_code=r["program_code"],
                period=r["period"],
                ubigeo=r["ubigeo"],
                created_at=r["created_at"],
            )
            for r in rows
        ]
        return connection(flags, start, total)


schema = strawberry.Schema(
    query=Query,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskErrors(should_mask_error=_masked),
        AuditReads,
    ],
)


def make_router() -> GraphQLRouter[Any, None]:
    """The router at /graphql: POST only, no IDE, no batching, agency key required."""
    return GraphQLRouter(
        schema,
        path="/graphql",
        graphql_ide=None,
        allow_queries_via_get=False,
        context_getter=get_context,
        dependencies=[Depends(precheck), Depends(authenticate_agency)],
        tags=["agencias"],
    )
