"""The checks a GraphQL query passes before anything else runs: no SQL, no key needed.

Parsed (at most ``MAX_TOKENS`` tokens), one operation chosen as the GraphQL spec's
GetOperation() does, depth measured before validation walks the document, validated against
the schema (plus the introspection rule where introspection is off), variables coerced, then
aliases and cost measured (``api.graphql.limits``). Each failure is a ``Refusal`` with its
code. Requests (``api.graphql.http``) and query registration (``api.graphql.persisted``) both
use ``check_operation``, so a registered query passed exactly what a request passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import VariableValues, get_variable_values

from api.graphql.errors import Code, Refusal
from api.graphql.limits import MAX_ALIASES, MAX_COST, MAX_DEPTH, MAX_TOKENS, Measure, measure
from api.graphql.schema import schema


@dataclass(frozen=True)
class Operation:
    """A query that passed every check before the key, with what it may cost."""

    query: str
    operation_name: str | None
    variables: dict[str, Any]
    measure: Measure


def _parse(query: str) -> DocumentNode:
    try:
        return parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as exc:
        code = Code.TOKEN_LIMIT_EXCEEDED if "tokens" in exc.message else Code.GRAPHQL_PARSE_FAILED
        raise Refusal(code, exc.message, errors=[exc]) from None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """GetOperation() of the GraphQL spec."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) == 1:
            return operations[0]
        message = (
            "Must provide an operation."
            if not operations
            else "Must provide operation name if query contains multiple operations."
        )
    else:
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return operation
        message = f"Unknown operation named '{name}'."
    raise Refusal(Code.OPERATION_RESOLUTION_FAILURE, message)


def _validate(graphql_schema: GraphQLSchema, document: DocumentNode, introspection: bool) -> None:
    rules = list(specified_rules)
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    errors = validate(graphql_schema, document, rules)
    if not errors:
        return
    closed = all("introspection" in e.message for e in errors) and not introspection
    code = Code.INTROSPECTION_DISABLED if closed else Code.GRAPHQL_VALIDATION_FAILED
    raise Refusal(code, errors[0].message, errors=errors)


def check_operation(
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    introspection: bool,
) -> Operation:
    """Every check a query passes before anything else runs; Refusal on the first failure.

    ``variables`` None (registering a persisted query): not coerced, and list sizes that
    depend on them count at their maximum.
    """
    graphql_schema = schema._schema
    document = _parse(query)
    operation = _operation(document, operation_name)
    if operation.operation is not OperationType.QUERY:
        raise Refusal(Code.GRAPHQL_VALIDATION_FAILED, "this endpoint runs queries only")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    # Depth first, before validation walks the document (variables unknown: depth ignores them).
    depth = measure(graphql_schema, operation, fragments, None).depth
    if depth > MAX_DEPTH:
        raise Refusal(
            Code.DEPTH_LIMIT_EXCEEDED, f"query depth {depth} exceeds the limit of {MAX_DEPTH}"
        )
    _validate(graphql_schema, document, introspection)
    coerced: VariableValues | None = None
    if variables is not None:
        definitions = operation.variable_definitions or ()
        values = get_variable_values(graphql_schema, definitions, variables)
        if isinstance(values, list):
            raise Refusal(Code.BAD_USER_INPUT, values[0].message, errors=values)
        coerced = values
    figures = measure(graphql_schema, operation, fragments, coerced)
    if figures.aliases > MAX_ALIASES:
        raise Refusal(
            Code.ALIAS_LIMIT_EXCEEDED,
            f"{figures.aliases} aliases exceed the limit of {MAX_ALIASES}",
        )
    if figures.cost > MAX_COST:
        raise Refusal(
            Code.COST_LIMIT_EXCEEDED,
            f"query cost {figures.cost} exceeds the limit of {MAX_COST}",
        )
    name = operation.name.value if operation.name else None
    return Operation(query=query, operation_name=name, variables=variables or {}, measure=figures)
