"""GeoJSON (RFC 7946) answers for nearby endpoints."""

import json

from flask import Response, request
from marshmallow import Schema

from service.common.json_body import as_json

GEOJSON_MIME = "application/geo+json"


FEATURE_COLLECTION = {
    "type": "object",
    "description": "RFC 7946 FeatureCollection ([lon, lat]); ask with Accept: "
    "application/geo+json or format=geojson",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}},
        "next_cursor": {"type": "string", "nullable": True},
    },
    "required": ["type", "features"],
}


def documented(page_schema: str) -> dict:
    """The 200 answer of a nearby endpoint in OpenAPI: its JSON page, or GeoJSON."""
    return {
        "200": {
            "description": "Nearest first, as a JSON page or a GeoJSON FeatureCollection",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{page_schema}"}},
                GEOJSON_MIME: {"schema": FEATURE_COLLECTION},
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
