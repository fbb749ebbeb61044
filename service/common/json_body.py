"""JSON answers written straight from bodies already in their schema's shape.

Dumping through marshmallow was the largest Python cost of a nearby answer (about a
third of the in-process time for 20 venues) and 8-10 ms of a year's footfall (~530
entries, against 0.7 ms for ``json``). With ``CHECK_JSON_SHAPE`` set (the tests set it)
every such answer is also dumped by its schema and must come out identical, types
included, so a body that drifts from its schema fails the tests that reach it.
flask-smorest returns a ``Response`` as it is.
"""

import json
from datetime import date, datetime

from flask import Response, current_app
from marshmallow import Schema


def _encode(value):
    """What marshmallow's DateTime and Date fields write: ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _text(body) -> str:
    return json.dumps(body, default=_encode, separators=(",", ":"))


def as_json(body: dict, schema: type[Schema]) -> Response:
    """``body`` as a JSON answer; dumped by ``schema`` it must come out the same (the
    class: building a schema instance costs more than writing the JSON)."""
    text = _text(body)
    if current_app.config.get("CHECK_JSON_SHAPE"):
        dumped = json.dumps(schema().dump(body), default=_encode, sort_keys=True)
        written = json.dumps(json.loads(text), sort_keys=True)
        if written != dumped:
            raise AssertionError(f"body differs from {schema.__name__}:\n{written}\n{dumped}")
    return Response(text, mimetype="application/json")
