"""flask-smorest's Api with a human-readable ``message`` on every error, and the apispec
plugin that names every operation and notes what each answer always carries (read by
``service.common.openapi.finish_document``)."""

import copy
import re

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask import current_app
from flask_smorest import Api, error_handler
from marshmallow import fields

from service.common.networks import NetworkConverter, parameter_schema
from service.common.openapi import METHODS, SCHEMA_REF

DEFAULT_MESSAGES = {
    400: "The request body is not valid JSON.",
    401: "Authentication is required.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "Some fields are invalid; see errors for what to fix.",
    500: "Internal server error.",
}


# operationId = a verb for the HTTP method + the MethodView's name ("ById" and the like
# dropped); a view named for an action it takes (ApproveClaim) keeps its name.
VERBS = {"get": "get", "post": "create", "put": "put", "patch": "update", "delete": "delete"}
ACTIONS = frozenset(
    {
        *("Accept", "Approve", "Change", "Claim", "Decline", "Login", "Logout", "Refresh"),
        *("Register", "Reject", "Verify"),
    }
)


def operation_id(view: str, method: str, *, lists: bool) -> str:
    """The camelCase name of ``method`` on the MethodView named ``view``: ``listMyCheckins``
    for a GET answering a list, ``createCheckin`` for a POST to ``Checkins``."""
    noun = re.sub(r"By[A-Z][a-z]*$", "", view)
    if re.match(r"[A-Z][a-z]*", noun).group() in ACTIONS:
        return noun[0].lower() + noun[1:]
    if method == "post":
        noun = re.sub(r"ies$", "y", noun) if noun.endswith("ies") else re.sub(r"s$", "", noun)
    verb = "list" if lists and method == "get" else VERBS[method]
    return verb + noun


class OperationNames(BasePlugin):
    """Name every operation (``operationId``) after its view and method, unless the view
    names it with ``@blp.doc(operationId=...)``; note which answer fields a schema always
    writes (all but those whose metadata says when they are ``omitted``)."""

    def __init__(self):
        self.spec = None
        self.written: dict[str, list[str]] = {}

    def init_spec(self, spec):
        """Keep the spec: the list answers' schemas are read from its components."""
        self.spec = spec

    def schema_helper(self, name, definition, **kwargs):
        """Record the fields ``name`` always writes; describe when the others are left out;
        add the schema's own keywords (its ``json_schema`` attribute: rules between
        fields that no one field states, such as ``oneOf`` of required fields)."""
        schema = kwargs.get("schema")
        if schema is None:
            return None
        instance = resolve_schema_instance(schema)
        properties = definition.get("properties", {})
        self.written[name] = []
        for field_name, field in instance.dump_fields.items():
            key = field.data_key or field_name
            omitted = field.metadata.get("omitted")
            if omitted is None:
                self.written[name].append(key)
            elif key in properties:
                text = properties[key].get("description", "").rstrip(".")
                properties[key]["description"] = f"{text}. Left out {omitted}.".lstrip(". ")
        return copy.deepcopy(getattr(instance, "json_schema", {}))

    def operation_helper(self, path=None, operations=None, **kwargs):
        """Give each operation of the path its operationId."""
        view = kwargs["rule"].endpoint.rsplit(".", 1)[-1]
        for method, operation in operations.items():
            if method in METHODS:
                lists = self._answers_a_list(operation)
                operation.setdefault("operationId", operation_id(view, method, lists=lists))

    def _answers_a_list(self, operation: dict) -> bool:
        for status, answer in operation.get("responses", {}).items():
            if not str(status).startswith("2") or not isinstance(answer, dict):
                continue
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            for candidate in schema.get("oneOf", [schema]):
                name = candidate.get("$ref", "").removeprefix(SCHEMA_REF)
                resolved = self.spec.components.schemas.get(name, candidate)
                if resolved.get("type") == "array" or "items" in resolved.get("properties", {}):
                    return True
        return False


class ErrorSchema(error_handler.ErrorSchema):
    """Every error body: ``code``, ``status`` and ``message``; ``errors`` says which
    fields were wrong."""

    message = fields.String(metadata={"description": "What went wrong and what to do"})
    errors = fields.Dict(
        metadata={
            "description": "What was wrong, by location (json, query, ...) and field",
            "omitted": "when no field was at fault",
        }
    )


class IrlApi(Api):
    """Api whose error bodies always carry ``message``; paths may name a ``network``."""

    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        """Bind to the app, with the ``network`` path converter (before any route) and
        operations named after their views."""
        app.url_map.converters["network"] = NetworkConverter
        self.document_plugin = OperationNames()
        spec_kwargs = {"extra_plugins": [self.document_plugin], **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(NetworkConverter, parameter_schema)

    def handle_http_exception(self, error):
        """Add a default message when the error has none (validation, bad JSON), and the
        ``Allow`` header to a 405."""
        payload, status, headers = super().handle_http_exception(error)
        if status == 413:
            payload["message"] = too_large_message(current_app.config.get("MAX_CONTENT_LENGTH"))
        if "message" not in payload:
            payload["message"] = DEFAULT_MESSAGES.get(status, error.description or error.name)
        if status == 405 and getattr(error, "valid_methods", None):
            # RFC 9110 §15.5.6: a 405 names the methods the resource does support
            headers = {**(headers or {}), "Allow": ", ".join(sorted(error.valid_methods))}
        return payload, status, headers


def too_large_message(limit: int | None) -> str:
    """The 413's message, naming the limit (``MAX_CONTENT_LENGTH``) in MiB or KiB."""
    if not limit:
        return DEFAULT_MESSAGES[413]
    if limit % (1024 * 1024) == 0:
        size = f"{limit // (1024 * 1024)} MiB"
    elif limit % 1024 == 0:
        size = f"{limit // 1024} KiB"
    else:
        size = f"{limit} bytes"
    return f"The request body is larger than the {size} limit; send less at a time."
