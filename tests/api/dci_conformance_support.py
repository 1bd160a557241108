"""The DCI spec's schemas as validators (tests/api/dci_spec/), with the spec's defects patched.

Each patch below is a defect of the spec's YAML that makes a schema unusable as written
(docs/dci.md, "Defects of the specification", says what RNU does about each):

1. ``Query`` (search ``query``, subscribe ``filter``) is a ``oneOf`` whose first two branches
   both accept ``{type, value: {...}}``: every idtype-value or expression query matches two
   branches, so ``oneOf`` fails for all of them → ``anyOf``.
2. ``AttributeValue`` is a ``oneOf`` of ``integer`` and ``number`` (and string, boolean,
   object): every integer matches two → ``anyOf``.
3. ``TxnStatusRequest.attribute_value`` is a ``oneOf`` of TransactionId and CorrelationId,
   both plain strings: every string matches two → ``anyOf``.
4. ``NotifyEventRequest...response_entity`` has ``type: enum``, not a JSON Schema type →
   the ``type`` is dropped (the ``enum`` stays).
5. ``SubscribeResponse...subscriptions`` items require ``subscription_code`` and
   ``subscribe_criteria``, which are not among its properties (``code`` is): RNU sends both
   spellings, so no patch — the schema is validated as written.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker

SPEC_DIR = Path(__file__).parent / "dci_spec"
EXAMPLES = SPEC_DIR / "examples"
JSON = dict[str, Any]


def _patched(components: JSON) -> JSON:
    schemas = copy.deepcopy(components["schemas"])
    schemas["Query"]["anyOf"] = schemas["Query"].pop("oneOf")  # 1
    value = schemas["AttributeValue"]["allOf"][1]
    value["anyOf"] = value.pop("oneOf")  # 2
    attribute = schemas["TxnStatusRequest"]["properties"]["txnstatus_request"]["properties"][
        "attribute_value"
    ]
    attribute["anyOf"] = attribute.pop("oneOf")  # 3
    entity = schemas["NotifyEventRequest"]["properties"]["notify_event"]["items"]["properties"][
        "data"
    ]["properties"]["response_entity"]
    entity.pop("type")  # 4
    return {"schemas": schemas}


@cache
def components() -> JSON:
    spec = yaml.safe_load((SPEC_DIR / "ibr_v1.0.0.yaml").read_text(encoding="utf-8"))
    return _patched(spec["components"])


def validator(schema: JSON) -> Draft202012Validator:
    root = {**schema, "components": components()}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root, format_checker=FormatChecker())


def component(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def envelope_schema(message: str, *, action: str | None, header: str) -> JSON:
    """A whole message as the spec's paths define it: signature, header (+action), message."""
    header_schema: JSON = component(header)
    if action is not None:
        header_schema = {"allOf": [header_schema, {"properties": {"action": {"enum": [action]}}}]}
    return {
        "type": "object",
        "properties": {
            "signature": component("MsgSignature"),
            "header": header_schema,
            "message": {
                "type": "object",
                "oneOf": [component(message), component("EncryptedMessage")],
            },
        },
        "required": ["header", "message"],
    }


def errors_of(schema: JSON, body: Any) -> list[str]:
    """Every violation, as ``path: message`` (empty when the body conforms)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator(schema).iter_errors(body)
    ]


def assert_conforms(schema: JSON, body: Any) -> None:
    problems = errors_of(schema, body)
    assert not problems, "\n".join(problems[:20])


def answer_conforms(body: Any, message: str, action: str) -> None:
    """A synchronous answer: callback header with this action, message of this schema."""
    assert_conforms(
        envelope_schema(message, action=action, header="MsgCallbackHeader_V1.0.0"), body
    )


def request_conforms(body: Any, message: str, action: str) -> list[str]:
    """The violations of a request against the spec (the spec's own samples have some)."""
    return errors_of(envelope_schema(message, action=action, header="MsgHeader_V1.0.0"), body)


def example(name: str) -> JSON:
    import json

    data: JSON = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data
