"""The OpenAPI document is valid and exact enough for client generators: valid against
the OpenAPI 3.0 schema, every reference resolves, every operation has a unique camelCase
operationId that reads as a method name, nullable references and enums are in shapes
generators read, answers list the fields they always carry, every error answer has the
error body, and the nearby searches declare their GeoJSON alternative. The generators
themselves run in tests/clients/."""

import json
import re

import jsonschema_rs
import pytest
from schemathesis.specs.openapi import definitions
from schemathesis.specs.openapi.converter import to_json_schema

from service.api import ACTIONS, VERBS, operation_id
from service.common.openapi import NO_NUL, name_enum_values, nullable_enum, nullable_reference

METHODS = ("get", "put", "post", "patch", "delete")
SCHEMAS = "#/components/schemas/"
ERROR = {"$ref": SCHEMAS + "Error"}
# verbs of the operationIds views set themselves (@blp.doc(operationId=...))
NAMED_BY_VIEWS = {"start", "finish", "import", "mark"}


@pytest.fixture
def document(client) -> dict:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.json


def operations(document: dict):
    """(method, path, operation) for every operation of the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].removeprefix("#/components/").split("/")
        node = document["components"][section][name]
    return node


def test_the_document_is_valid_openapi_3_0(document):
    assert document["openapi"] == "3.0.3"
    errors = [
        f"{e.instance_path}: {e.message[:200]}"
        for e in definitions.OPENAPI_30_VALIDATOR.iter_errors(document)
    ]
    assert errors == []


def test_the_validator_rejects_a_broken_document(document):
    """The check above can fail: an answer without its description is not OpenAPI."""
    del document["paths"]["/api/v1/checkins"]["post"]["responses"]["201"]["description"]
    assert list(definitions.OPENAPI_30_VALIDATOR.iter_errors(document))


def test_every_reference_resolves(document):
    text = str(document)
    for target in set(re.findall(r"'\$ref': '#/components/(\w+)/(\w+)'", text)):
        section, name = target
        assert name in document["components"][section], target


def test_every_path_parameter_is_declared(document):
    for method, path, operation in operations(document):
        declared = {
            parameter["name"]
            for parameter in document["paths"][path].get("parameters", [])
            + operation.get("parameters", [])
            if parameter["in"] == "path"
        }
        assert set(re.findall(r"{(\w+)}", path)) == declared, (method, path)


def test_operation_ids_are_unique_camel_case_method_names(document):
    ids = [operation.get("operationId") for _, _, operation in operations(document)]
    assert len(ids) >= 76 and None not in ids
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    verbs = {*VERBS.values(), "list", *(action.lower() for action in ACTIONS), *NAMED_BY_VIEWS}
    for name in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", name), name
        assert re.match(r"[a-z]+", name).group() in verbs, name
    named = {(method, path): op["operationId"] for method, path, op in operations(document)}
    assert named["post", "/api/v1/checkins"] == "createCheckin"
    assert named["get", "/api/v1/venues/nearby"] == "listNearbyVenues"
    assert named["get", "/api/v1/venues/{venue_id}"] == "getVenue"
    assert named["post", "/api/v1/admin/claims/{claim_id}/approve"] == "approveClaim"


@pytest.mark.parametrize(
    ("view", "method", "lists", "expected"),
    [
        ("Checkins", "post", False, "createCheckin"),
        ("NearbyVenues", "get", True, "listNearbyVenues"),
        ("VenueById", "patch", False, "updateVenue"),
        ("IdentityByNetwork", "put", False, "putIdentity"),
        ("ContactByHandle", "delete", False, "deleteContact"),
        ("Identities", "get", True, "listIdentities"),
        ("MyDevices", "post", False, "createMyDevice"),
        ("Me", "get", False, "getMe"),
        ("ApproveClaim", "post", False, "approveClaim"),
        ("Register", "post", False, "register"),
    ],
)
def test_an_operation_is_named_after_its_view_and_method(view, method, lists, expected):
    assert operation_id(view, method, lists=lists) == expected


def test_nullable_references_are_in_a_shape_generators_read(document):
    """apispec writes ``anyOf: [{type: object, nullable}, $ref]``; openapi-python-client
    then parses every venue of a check-in as that empty object. None is left."""
    shapes = re.findall(r"\{'type': 'object', 'nullable': True\}", str(document))
    assert shapes == []
    venue = document["components"]["schemas"]["Checkin"]["properties"]["venue"]
    assert venue == {"oneOf": [{"$ref": "#/components/schemas/Venue"}], "nullable": True}
    apispec_wrote = {"anyOf": [{"type": "object", "nullable": True}, {"$ref": "#/x"}]}
    nullable_reference(apispec_wrote)
    assert apispec_wrote == {"oneOf": [{"$ref": "#/x"}], "nullable": True}


def test_nullable_enums_are_in_a_shape_generators_read(document):
    """apispec writes ``type, enum: [..., null], nullable``, of which openapi-python-client
    makes three enum classes; None is left."""
    outcome = document["components"]["schemas"]["Plan"]["properties"]["outcome"]
    values = ["ok", "cancelled", "arrived", "missed", "unwatched"]
    assert outcome == {"oneOf": [{"type": "string", "enum": values}], "nullable": True}
    assert re.findall(r"'enum': \[[^\]]*None", str(document)) == []
    apispec_wrote = {"type": "string", "enum": ["a", None], "nullable": True, "default": None}
    nullable_enum(apispec_wrote)
    assert apispec_wrote == {
        "oneOf": [{"type": "string", "enum": ["a"]}],
        "nullable": True,
        "default": None,
    }


def test_enum_values_generators_would_give_one_name_are_named(document):
    (zone,) = document["components"]["schemas"]["MePatch"]["properties"]["timezone"]["oneOf"]
    names = dict(zip(zone["enum"], zone["x-enum-varnames"], strict=False))
    assert names["Etc/GMT+1"] == "ETC_GMT_PLUS_1" and names["Etc/GMT-1"] == "ETC_GMT_MINUS_1"
    assert len(set(zone["x-enum-varnames"])) == len(zone["x-enum-varnames"])
    plain = {"type": "string", "enum": ["exact", "approximate", "off"]}
    name_enum_values(plain)
    assert "x-enum-varnames" not in plain


def test_answers_declare_their_enums(document):
    schemas = document["components"]["schemas"]
    assert "meeting" in schemas["Notification"]["properties"]["kind"]["enum"]
    assert schemas["Claim"]["properties"]["status"]["enum"] == ["pending", "approved", "rejected"]
    assert schemas["Registered"]["properties"]["token_type"]["enum"] == ["Bearer"]


def test_answers_list_the_fields_they_always_carry(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["Venue"]["required"]) == set(schemas["Venue"]["properties"])
    checkin = schemas["Checkin"]
    assert {"id", "venue", "location", "effective_at"} <= set(checkin["required"])
    assert "points" not in checkin["required"] and "user" not in checkin["required"]
    assert "Left out from a contact's check-in" in checkin["properties"]["points"]["description"]
    assert set(schemas["Error"]["required"]) == {"code", "status", "message"}
    # a request's schema keeps its own: only what must be sent
    assert schemas["VenueCreate"]["required"] == ["category", "location", "name"]


def test_every_error_answer_carries_the_error_body(document):
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status[0] in "45" and status != "414":  # 414 is gunicorn's own page
                content = resolve(document, answer)["content"]
                assert content == {"application/json": {"schema": ERROR}}, (method, path, status)
        for status in ("429", "503"):
            headers = resolve(document, operation["responses"][status])["headers"]
            assert headers["Retry-After"]["required"], (method, path, status)


@pytest.mark.parametrize(
    ("path", "page", "collection"),
    [
        ("/api/v1/venues/nearby", "NearbyVenuesPage", "NearbyVenuesFeatureCollection"),
        ("/api/v1/events/nearby", "NearbyEventsPage", "NearbyEventsFeatureCollection"),
        ("/api/v1/nearby/contacts", "NearbyContactsPage", "NearbyContactsFeatureCollection"),
    ],
)
def test_nearby_searches_declare_their_geojson_answer(document, path, page, collection):
    content = document["paths"][path]["get"]["responses"]["200"]["content"]
    ref = "#/components/schemas/"
    assert content["application/json"]["schema"] == {
        "oneOf": [{"$ref": ref + page}, {"$ref": ref + collection}]
    }
    assert content["application/geo+json"]["schema"] == {"$ref": ref + collection}
    features = document["components"]["schemas"][collection]["properties"]["features"]
    feature = resolve(document, features["items"])
    assert resolve(document, feature["properties"]["geometry"])["required"] == [
        "coordinates",
        "type",
    ]
    properties = resolve(document, feature["properties"]["properties"])
    assert "location" not in properties["properties"]  # it is the geometry


def validator(document: dict, schema: dict):
    """A JSON Schema validator of ``schema`` as Schemathesis reads the document (OpenAPI
    3.0's ``nullable`` turned into null, references into definitions)."""
    text = json.dumps(
        {
            **to_json_schema(schema, nullable_keyword="nullable"),
            "definitions": {
                name: to_json_schema(definition, nullable_keyword="nullable")
                for name, definition in document["components"]["schemas"].items()
            },
        }
    )
    return jsonschema_rs.Draft4Validator(json.loads(text.replace(SCHEMAS, "#/definitions/")))


def test_values_are_valid_exactly_when_the_server_takes_them(document):
    schemas = document["components"]["schemas"]
    quiet_hours = validator(document, schemas["MePatch"]["properties"]["quiet_hours"])
    assert quiet_hours.is_valid(None) and quiet_hours.is_valid({"start": "22:00", "end": "07:00"})
    assert not quiet_hours.is_valid({"end": "07:00"})
    apispecs = {"anyOf": [{"type": "object", "nullable": True}, {"$ref": SCHEMAS + "QuietHours"}]}
    assert validator(document, apispecs).is_valid({"end": "07:00"})  # what it let through
    mark_read = validator(document, {"$ref": SCHEMAS + "MarkRead"})
    assert mark_read.is_valid({"ids": [1]}) and mark_read.is_valid({"up_to": 3})
    assert not mark_read.is_valid({}) and not mark_read.is_valid({"ids": [1], "up_to": 3})
    outcome = validator(document, schemas["Plan"]["properties"]["outcome"])
    assert outcome.is_valid(None) and outcome.is_valid("ok") and not outcome.is_valid("fine")


def test_every_string_a_request_sends_refuses_nul(document):
    """StrictSchema answers 422 to U+0000 in any string sent: declared where it is sent,
    in bodies and parameters, and not on answers."""
    schemas = document["components"]["schemas"]
    name = validator(document, schemas["VenueCreate"]["properties"]["name"])
    assert name.is_valid("Café") and not name.is_valid("Caf\u0000")
    (handle,) = document["paths"]["/api/v1/users/{handle}"]["parameters"]
    assert handle["schema"]["pattern"] == NO_NUL
    nearby = document["paths"]["/api/v1/venues/nearby"]["get"]["parameters"]
    category = next(p for p in nearby if p["name"] == "category")
    assert category["schema"]["pattern"] == NO_NUL
    assert "pattern" not in schemas["Venue"]["properties"]["name"]  # an answer's


def test_every_answer_names_its_request_id(document):
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status != "414":  # gunicorn's own page
                headers = resolve(document, answer).get("headers", {})
                assert "X-Request-Id" in headers, (method, path, status)
