"""Fast JSON answers: same text as the schema's dump, and drift is caught."""

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from marshmallow import Schema, fields

from service.common.json_body import as_json


class Item(Schema):
    n = fields.Integer()
    at = fields.DateTime()


@pytest.fixture
def checking():
    app = Flask(__name__)
    app.config["CHECK_JSON_SHAPE"] = True
    with app.app_context():
        yield


def test_writes_what_the_schema_dumps(checking):
    body = {"n": 3, "at": datetime(2026, 12, 2, 13, 5, tzinfo=UTC)}
    response = as_json(body, Item)
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == {"n": 3, "at": "2026-12-02T13:05:00+00:00"}


@pytest.mark.parametrize("body", [{"n": 3.0}, {"n": 3, "extra": 1}, {"n": "3"}])
def test_a_body_off_its_schema_fails(checking, body):
    with pytest.raises(AssertionError, match="differs from Item"):
        as_json(body, Item)
