"""Declare in the OpenAPI document the errors every operation can answer with.

Views declare their own business errors (403, 404, 409, ...). Some answers come from
the framework around them instead and apply to whole classes of operations: malformed
JSON (400) and oversized bodies (413) wherever there is a body, validation (422)
wherever there are arguments or the path names one of a list, 404 wherever the path
names an object, rate limits (429) and an unavailable database (503) everywhere.
"""

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


def _described(description: str) -> dict:
    return {"description": description, "content": ERROR_BODY}


def declare_common_errors(api: Api) -> None:
    """Add the framework's error answers to every operation of ``api``'s document."""
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
            responses.setdefault("414", TOO_LONG)
