"""Finish the OpenAPI document so that clients generated from it read answers as the
server writes them.

flask-smorest and apispec leave out what generators need: which answer fields are
always there, errors and headers the framework answers with, what the server refuses in
every string, and nullable references and enums in shapes generators read (apispec's
``anyOf`` with an empty object first makes openapi-python-client parse every nested
object as that empty object). ``service.api.OperationNames`` names the operations as
they are added; ``finish_document`` does the rest once every blueprint is registered.
"""

import copy
import re

from flask_smorest import Api

ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
METHODS = ("get", "put", "post", "patch", "delete")
EVERYWHERE = {
    "429": "Rate limited: see Retry-After and RateLimit-*",
    "503": "The database is unavailable for a moment: retry after Retry-After",
}
WITH_BODY = {"400": "The body is not valid JSON", "413": "The body is too large"}
# gunicorn answers a request line over 8190 bytes itself, with an HTML page
TOO_LONG = {
    "description": "Request line too long (the HTTP server's own page)",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
REQUEST_ID = {
    "X-Request-Id": {
        "description": "This request's id in the server's logs (the one sent, if sane, "
        "else a new one)",
        "schema": {"type": "string", "maxLength": 128},
    }
}
# every string a request sends is refused (422) when it holds U+0000 (StrictSchema)
NO_NUL = "^[^\\u0000]*$"
NULL_OBJECT = {"type": "object", "nullable": True}
SCHEMA_REF = "#/components/schemas/"


def finish_document(api: Api) -> None:
    """Complete ``api``'s document once every blueprint is registered."""
    declare_framework_errors(api)
    requests, answers = _used_by(api)
    require_written_fields(api, api.document_plugin.written, answers - requests)
    for schema in _dicts([api.spec.components.schemas, api.spec._paths]):
        nullable_reference(schema)
        nullable_enum(schema)
        name_enum_values(schema)
    refuse_nul(api, requests)
    declare_request_id(api)


def declare_framework_errors(api: Api) -> None:
    """Add the framework's error answers to every operation of ``api``'s document.

    Views declare their own business errors (403, 404, 409, ...). Some answers come from
    the framework around them instead and apply to whole classes of operations: malformed
    JSON (400) and oversized bodies (413) wherever there is a body, validation (422)
    wherever there are arguments or the path names one of a list, 404 wherever the path
    names an object, rate limits (429) and an unavailable database (503) everywhere.
    """
    for path, operations in api.spec._paths.items():
        # a path naming one of a list (a network) answers 422 for a name not on it
        listed = any("enum" in p.get("schema", {}) for p in operations.get("parameters", []))
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            extra = dict(EVERYWHERE)
            if "requestBody" in operation:
                extra |= WITH_BODY
            if "requestBody" in operation or operation.get("parameters") or listed:
                extra["422"] = "Validation failed: see errors"
            if "{" in path:
                extra["404"] = "Not found, or not visible to you"
            for status, description in extra.items():
                responses.setdefault(status, _described(description))
            for status in ("429", "503"):
                responses[status] = {**_inline(api, responses[status]), "headers": RETRY_AFTER}
            responses.setdefault("414", copy.deepcopy(TOO_LONG))


def _described(description: str) -> dict:
    return {"description": description, "content": copy.deepcopy(ERROR_BODY)}


def _inline(api: Api, response: dict) -> dict:
    """The response itself where ``response`` refers to a component (a $ref has no
    siblings, such as headers)."""
    target = response.get("$ref", "")
    if not target:
        return response
    return dict(api.spec.components.responses[target.rsplit("/", 1)[1]])


def _used_by(api: Api) -> tuple[set[str], set[str]]:
    """The component schemas requests use (bodies, parameters), and those answers use."""
    schemas = api.spec.components.schemas
    requests, answers = set(), set()
    for item in api.spec._paths.values():
        requests |= _references(item.get("parameters"), schemas)
        for method, operation in item.items():
            if method in METHODS:
                sent = [operation.get("requestBody"), operation.get("parameters")]
                requests |= _references(sent, schemas)
                answers |= _references(operation.get("responses"), schemas)
    return requests, answers


def require_written_fields(api: Api, written: dict[str, list[str]], names: set[str]) -> None:
    """Mark as required the fields an answer always carries, in the schemas ``names`` that
    only answers use (a request's schema keeps its own required fields)."""
    schemas = api.spec.components.schemas
    for name in sorted(names):
        properties = schemas[name].get("properties", {})
        always = [key for key in written.get(name, ()) if key in properties]
        if always:
            schemas[name]["required"] = sorted({*schemas[name].get("required", ()), *always})


def refuse_nul(api: Api, requests: set[str]) -> None:
    """Declare on every string a request sends (body, query, header, path) what the server
    refuses: U+0000. Strings with their own format, enum or pattern keep theirs."""
    sent = [api.spec.components.schemas[name] for name in sorted(requests)]
    for item in api.spec._paths.values():
        sent.append(item.get("parameters"))
        for method, operation in item.items():
            if method in METHODS:
                sent += [operation.get("requestBody"), operation.get("parameters")]
    for schema in _dicts(sent):
        if schema.get("type") == "string" and not {"format", "enum", "pattern"} & set(schema):
            schema["pattern"] = NO_NUL


def declare_request_id(api: Api) -> None:
    """Every answer (but gunicorn's own 414 page) carries its request's ``X-Request-Id``."""
    answers = list(api.spec.components.responses.values())
    for item in api.spec._paths.values():
        for method, operation in item.items():
            if method in METHODS:
                answers += [a for status, a in operation["responses"].items() if status != "414"]
    for answer in answers:
        if "$ref" not in answer:
            answer["headers"] = {**answer.get("headers", {}), **REQUEST_ID}


def _references(node, schemas: dict, found: set | None = None) -> set[str]:
    """The component schemas ``node`` refers to, directly or through other schemas."""
    found = set() if found is None else found
    if isinstance(node, dict):
        target = node.get("$ref", "")
        if target.startswith(SCHEMA_REF) and target[len(SCHEMA_REF) :] not in found:
            name = target[len(SCHEMA_REF) :]
            found.add(name)
            _references(schemas.get(name), schemas, found)
        for value in node.values():
            _references(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, schemas, found)
    return found


def _dicts(node):
    """Every object in ``node``, a tree of dicts and lists, outermost first."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            yield from _dicts(value)


def nullable_reference(schema: dict) -> None:
    """Rewrite apispec's nullable reference, ``anyOf: [{type: object, nullable}, $ref]``,
    as ``oneOf: [$ref], nullable: true``: generators then read the referenced schema
    (or null) instead of matching any object to the empty one first."""
    branches = schema.get("anyOf")
    if isinstance(branches, list) and NULL_OBJECT in branches and len(branches) > 1:
        schema["oneOf"] = [branch for branch in branches if branch != NULL_OBJECT]
        schema["nullable"] = True
        del schema["anyOf"]


def nullable_enum(schema: dict) -> None:
    """Rewrite apispec's nullable enum, ``type, enum: [..., null], nullable``, as
    ``oneOf: [{type, enum: [...]}], nullable: true`` (the shape of nullable references):
    openapi-python-client makes three enum classes of the first, one (or None) of the
    second."""
    enum = schema.get("enum")
    if schema.get("nullable") and isinstance(enum, list) and None in enum and "type" in schema:
        values = [value for value in enum if value is not None]
        schema["oneOf"] = [{"type": schema.pop("type"), "enum": values}]
        del schema["enum"]


def name_enum_values(schema: dict) -> None:
    """Name the values of a string enum (``x-enum-varnames``) where generators would
    give two of them one name (``GMT+0`` and ``GMT0`` both become ``GMT0``); null, which
    generators turn into an optional value, gets none."""
    values = [value for value in schema.get("enum") or () if isinstance(value, str)]
    if len({re.sub(r"[^0-9A-Za-z]", "", value).upper() for value in values}) == len(values):
        return
    names = [_enum_name(value) for value in values]
    if len(set(names)) == len(names):
        schema["x-enum-varnames"] = names


def _enum_name(value: str) -> str:
    signed = re.sub(r"-(?=\d)", "_MINUS_", re.sub(r"\+(?=\d)", "_PLUS_", value))
    return re.sub(r"[^0-9A-Za-z]+", "_", signed).strip("_").upper()
