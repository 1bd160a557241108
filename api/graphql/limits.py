"""What one operation may cost, measured on the parsed document with the schema's types.

No SQL and no key are needed, so abuse is refused before either. Four figures:

- **depth**: the longest chain of nested fields (introspection fields not counted);
- **aliases**: aliased fields, fragments expanded where they are used;
- **cost**: every field costs the number of times it can be resolved, the product of the list
  sizes above it. A connection's size is its ``first`` (``DEFAULT_PAGE`` when absent, capped at
  its maximum); ``persons`` returns the smaller of ``first`` and the number of ``documents``
  (``MAX_DOCUMENTS`` when the list is not known). Arguments are coerced by name, so their order
  in the query cannot change the figure;
- **records**: the most person records the operation can return (every ``Person``-typed field,
  times the list sizes above it) -- what the agency's record quota is reserved for.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    value_from_ast,
)
from graphql.execution.values import VariableValues, get_argument_values

from api.graphql.types import DEFAULT_PAGE, MAX_PAGE
from rnu.person.service import MAX_DOCUMENTS

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_COST = 100_000
# A plain list of objects whose length the schema does not bound (none today).
UNBOUNDED_LIST = 50
# Connections whose page may be larger than MAX_PAGE.
PAGE_MAXIMUM = {"areas": 2_000, "persons": MAX_DOCUMENTS}
PERSON_TYPE = "Person"


@dataclass(frozen=True)
class Measure:
    """The four figures of one operation (see the module docstring)."""

    depth: int
    aliases: int
    cost: int
    records: int


def _is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


def _page_size(field: GraphQLField, node: FieldNode, variables: VariableValues | None) -> int:
    """How many items a connection field returns at most, read from its arguments by name."""
    maximum = PAGE_MAXIMUM.get(node.name.value, MAX_PAGE)
    try:
        args = get_argument_values(field, node, variables)
    except Exception:  # variables unknown or invalid: the worst case, or a literal first
        args = {}
        for arg in node.arguments or ():
            definition = field.args.get(arg.name.value)
            if arg.name.value == "first" and definition is not None:
                value = value_from_ast(arg.value, definition.type)
                if isinstance(value, int):
                    args["first"] = value
        if "first" not in args:
            return maximum
    first = args.get("first")
    documents = args.get("documents")
    if isinstance(documents, list):
        maximum = min(maximum, len(documents))
        size = maximum if first is None else first
    else:
        size = DEFAULT_PAGE if first is None else first
    return max(0, min(int(size), maximum))


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues | None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.aliases = 0
        self.cost = 0
        self.records = 0

    def _field_type(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            found: GraphQLField | None = parent.fields.get(name)
            return found
        return None

    def walk(
        self,
        selection: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        multiplier: int,
        seen: frozenset[str],
    ) -> int:
        """Add this selection's aliases, cost and records; return its depth."""
        if selection is None:
            return 0
        deepest = 0
        for node in selection.selections:
            if isinstance(node, FieldNode):
                deepest = max(deepest, self._field(node, parent, multiplier, seen))
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                deepest = max(deepest, self.walk(node.selection_set, inner, multiplier, seen))
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    deepest = max(
                        deepest,
                        self.walk(fragment.selection_set, inner, multiplier, seen | {name}),
                    )
        return deepest

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        multiplier: int,
        seen: frozenset[str],
    ) -> int:
        if node.alias is not None:
            self.aliases += 1
        self.cost += multiplier
        if node.name.value.startswith("__"):
            return 0  # introspection and __typename: not data, not counted in depth
        field = self._field_type(parent, node.name.value)
        if field is None:  # unknown: validation refuses it, but its depth still counts
            return 1 + self.walk(node.selection_set, None, multiplier, seen)
        return_type: GraphQLOutputType = field.type
        named = get_named_type(return_type)
        inner = multiplier
        if _is_connection(named):
            inner = multiplier * _page_size(field, node, self.variables)
        elif isinstance(get_nullable_type(return_type), GraphQLList) and not (
            parent is not None and _is_connection(parent)
        ):
            inner = multiplier * UNBOUNDED_LIST  # edges of a connection are already counted
        if named.name == PERSON_TYPE:
            self.records += inner
        return 1 + self.walk(node.selection_set, named, inner, seen)


def measure(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues | None,
) -> Measure:
    """Depth, aliases, cost and records of ``operation`` with these (coerced) variables;
    None: variables unknown, so the sizes they decide count at their maximum."""
    root = schema.get_root_type(operation.operation)
    walker = _Walker(schema, fragments, variables)
    depth = walker.walk(operation.selection_set, root, 1, frozenset())
    return Measure(depth=depth, aliases=walker.aliases, cost=walker.cost, records=walker.records)
