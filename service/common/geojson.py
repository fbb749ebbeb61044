"""GeoJSON (RFC 7946) answers for nearby endpoints."""

import json

from flask import Response, request

GEOJSON_MIME = "application/geo+json"


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
