"""GeoJSON (RFC 7946) answers for nearby endpoints."""

import json

from flask import Response, request
from marshmallow import Schema, fields, validate

from service.common.json_body import as_json

GEOJSON_MIME = "application/geo+json"


class PointSchema(Schema):
    """An RFC 7946 Point."""

    type = fields.String(required=True, validate=validate.OneOf(["Point"]))
    coordinates = fields.List(
        fields.Float(),
        required=True,
        validate=validate.Length(equal=2),
        metadata={"description": "[lon, lat] in WGS 84 degrees"},
    )


def collection_schema(page_schema: type[Schema], item_schema: type[Schema]) -> type[Schema]:
    """The FeatureCollection a nearby page is as GeoJSON: each item a Feature with its
    ``location`` as the Point and its other fields as properties (for OpenAPI)."""
    item = item_schema.__name__.removesuffix("Schema")
    meta = type("Meta", (getattr(item_schema, "Meta", object),), {"exclude": ("location",)})
    properties = type(f"{item}PropertiesSchema", (item_schema,), {"Meta": meta})
    feature = Schema.from_dict(
        {
            "type": fields.String(required=True, validate=validate.OneOf(["Feature"])),
            "id": fields.Integer(required=True),
            "geometry": fields.Nested(PointSchema, required=True),
            "properties": fields.Nested(properties, required=True),
        },
        name=f"{item}FeatureSchema",
    )
    page = page_schema.__name__.removesuffix("PageSchema")
    return Schema.from_dict(
        {
            "type": fields.String(required=True, validate=validate.OneOf(["FeatureCollection"])),
            "features": fields.List(fields.Nested(feature), required=True),
            "next_cursor": fields.String(required=True, allow_none=True),
        },
        name=f"{page}FeatureCollectionSchema",
    )


def documented(page_schema: type[Schema], item_schema: type[Schema]) -> dict:
    """The 200 answer of a nearby endpoint in OpenAPI: its JSON page, or GeoJSON.

    Asked for GeoJSON (``format=geojson`` or ``Accept: application/geo+json``) it is a
    FeatureCollection; ``application/json`` lists both as ``oneOf`` because generated
    clients read one media type per answer (openapi-python-client reads the first)."""
    collection = collection_schema(page_schema, item_schema)
    return {
        "200": {
            "description": "Nearest first, as a JSON page or (asked for GeoJSON) a "
            "FeatureCollection",
            "content": {
                "application/json": {"schema": {"oneOf": [page_schema, collection]}},
                GEOJSON_MIME: {"schema": collection},
            },
        }
    }


def wants_geojson() -> bool:
    """True when the client asked with ``format=geojson`` or ``Accept: application/geo+json``."""
    if request.args.get("format") == "geojson":
        return True
    return request.accept_mimetypes.best_match(["application/json", GEOJSON_MIME]) == GEOJSON_MIME


def feature_collection(schema, items: list[dict], next_cursor: str | None) -> Response:
    """Dump items with ``schema`` and wrap them (each has ``id`` and ``location``) as a
    FeatureCollection."""
    features = []
    for item in schema.dump(items, many=True):
        properties = {key: value for key, value in item.items() if key != "location"}
        location = item["location"]
        features.append(
            {
                "type": "Feature",
                "id": item["id"],
                "geometry": {"type": "Point", "coordinates": [location["lon"], location["lat"]]},
                "properties": properties,
            }
        )
    body = {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}
    return Response(json.dumps(body), mimetype=GEOJSON_MIME)


def page_answer(page: dict, item_schema: type[Schema], page_schema: type[Schema]) -> Response:
    """A nearby page (``items``, ``next_cursor``): GeoJSON when asked for, else JSON."""
    if wants_geojson():
        return feature_collection(item_schema(), page["items"], page["next_cursor"])
    return as_json(page, page_schema)
