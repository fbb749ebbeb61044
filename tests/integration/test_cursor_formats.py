"""Every list declares the kind of cursor it takes (``<kind>-cursor``), and every
well-formed cursor of that kind is a page: past the end it is an empty one, never a 422.
A cursor of another kind, or a tampered one, is a 422 (test_hostile_input.py)."""

from datetime import UTC, datetime

import pytest

from service.common import cursor

# the extremes of what each kind may pack: all of them must be pages
WELL_FORMED = {
    "offset": [(0,), (cursor.MAX_OFFSET,)],
    "id": [(1,), (cursor.MAX_ID,)],
    "name": [("",), ("zzzz",)],
    "key": [("", 1), ("\uffff", cursor.MAX_ID)],
    "time": [("1970-01-01T00:00:00+00:00", 1), (datetime(2100, 1, 1, tzinfo=UTC).isoformat(), 5)],
    "triple": [("going", "", 1), ("not_going", "zz", cursor.MAX_ID)],
}
NEEDS = {"venue_id": "venue", "event_id": "event"}


@pytest.fixture
def lists(client):
    """``(path, kind, required query)`` of every operation that takes a cursor."""
    document = client.get("/api/v1/openapi.json").json
    found = []
    for path, operations in document["paths"].items():
        parameters = operations.get("get", {}).get("parameters", [])
        by_name = {p["name"]: p for p in parameters}
        if "cursor" in by_name:
            required = [p["name"] for p in parameters if p.get("required") and p["in"] == "query"]
            found.append((path, by_name["cursor"]["schema"]["format"], required))
    return found


def test_every_cursor_declares_a_kind_that_exists(lists):
    assert len(lists) >= 20
    kinds = {fmt.removesuffix("-cursor") for _, fmt, _ in lists}
    assert kinds <= set(cursor.KINDS), kinds - set(cursor.KINDS)
    assert kinds == set(WELL_FORMED)


def test_every_well_formed_cursor_is_a_page(app, client, actions, lists):
    from service.database import db
    from service.models import User, Venue

    owner = actions.register()
    venue = actions.venue(owner, 40.7, -74.0)
    with app.app_context():
        db.session.get(Venue, venue["id"]).owner_id = owner["user"]["id"]
        db.session.get(User, owner["user"]["id"]).is_admin = True  # the admin lists too
        db.session.commit()
    event = client.post(
        "/api/v1/events",
        headers=owner["headers"],
        json={
            "title": "Meetup",
            "venue_id": venue["id"],
            "starts_at": "2030-01-01T18:00:00+00:00",
            "ends_at": "2030-01-01T20:00:00+00:00",
        },
    ).json
    ids = {"venue_id": venue["id"], "event_id": event["id"], "handle": owner["user"]["handle"]}
    query = {"lat": 40.7, "lon": -74.0}
    for path, fmt, required in lists:
        url = "/api/v1" + path.removeprefix("/api/v1").format(**ids)
        for values in WELL_FORMED[fmt.removesuffix("-cursor")]:
            args = {name: query[name] for name in required} | {"cursor": cursor.encode(*values)}
            response = client.get(url, headers=owner["headers"], query_string=args)
            assert response.status_code == 200, (path, values, response.json)
            if "next_cursor" in response.json:
                body = response.json
                items = next(v for k, v in body.items() if isinstance(v, list))
                assert body["next_cursor"] is None or items, (path, values)


def test_a_cursor_of_another_kind_is_422(client, actions):
    user = actions.register()
    key_cursor = cursor.encode("not a time", 5)  # a contacts cursor
    for path in ("/api/v1/me/notifications", "/api/v1/leaderboard", "/api/v1/feed"):
        response = client.get(path, headers=user["headers"], query_string={"cursor": key_cursor})
        assert response.status_code == 422, path
        assert response.json["errors"]["query"]["cursor"]
