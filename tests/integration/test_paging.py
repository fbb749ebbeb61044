"""Every list is paged: nearby venues and events in stable pages on a dense grid,
attendees, staff and badges by ``limit`` and ``next_cursor``, capped import answers."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from service.database import db
from tests.conftest import befriend

CENTER = (40.7295, -74.0042)
GRID = (40, 25)  # 1,000 venues ~20 m apart
STEP = 0.0002  # degrees: ~22 m north-south, ~17 m east-west here
T0 = datetime(2026, 9, 10, 18, 0, tzinfo=UTC)


def _grid(app, organiser_id: int | None = None) -> set[int]:
    """Venues on a grid centred on CENTER (and an event at each, for ``organiser_id``)."""
    with app.app_context():
        ids = db.session.scalars(
            text(
                "INSERT INTO venues (name, category, location, radius_m, timezone)"
                " SELECT 'Grid ' || i || ',' || j, 'Bar',"
                "  ST_SetSRID(ST_MakePoint(:lon + (i - :half_i) * :step,"
                "   :lat + (j - :half_j) * :step), 4326), 100, 'America/New_York'"
                " FROM generate_series(0, :ni - 1) AS i, generate_series(0, :nj - 1) AS j"
                " RETURNING id"
            ),
            {
                "lat": CENTER[0],
                "lon": CENTER[1],
                "step": STEP,
                "ni": GRID[0],
                "nj": GRID[1],
                "half_i": GRID[0] // 2,
                "half_j": GRID[1] // 2,
            },
        ).all()
        if organiser_id is not None:
            ids = db.session.scalars(
                text(
                    "INSERT INTO events (venue_id, organiser_id, title, starts_at, ends_at,"
                    " location) SELECT id, :organiser, 'Meetup', :start, :end, location"
                    " FROM venues WHERE id = ANY(:ids) RETURNING id"
                ),
                {
                    "organiser": organiser_id,
                    "start": T0,
                    "end": T0 + timedelta(hours=2),
                    "ids": list(ids),
                },
            ).all()
        if not db.session.scalar(text("SELECT to_regproc('citus_version')")):
            # statistics as a city's (on Citus, ANALYZE cannot follow this transaction's
            # local reads of the reference table; the pages are the same without it)
            db.session.execute(text("ANALYZE venues"))
        db.session.commit()
    return set(ids)


def _walk(client, user, url, **params) -> list[dict]:
    """Every item of every page, following next_cursor."""
    seen, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, headers=user["headers"], query_string=query)
        assert response.status_code == 200, response.json
        page = response.json
        assert len(page["items"]) <= params.get("limit", 20)
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def _in_order(items: list[dict]) -> bool:
    keys = [(item["distance_m"], item["id"]) for item in items]
    return keys == sorted(keys)


@pytest.mark.parametrize("position", [CENTER, (CENTER[0] + 0.00007, CENTER[1] - 0.00013)])
def test_nearby_venues_pages_show_each_venue_once(app, client, actions, position):
    user = actions.register()
    ids = _grid(app)
    lat, lon = position
    items = _walk(client, user, "/api/v1/venues/nearby", lat=lat, lon=lon, radius_m=2000, limit=7)
    assert sorted(item["id"] for item in items) == sorted(ids)
    assert _in_order(items)


def test_nearby_events_pages_show_each_event_once(app, client, actions):
    user = actions.register()
    ids = _grid(app, organiser_id=user["user"]["id"])
    items = _walk(
        client,
        user,
        "/api/v1/events/nearby",
        lat=CENTER[0],
        lon=CENTER[1],
        radius_m=2000,
        limit=7,
        **{"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()},
    )
    assert sorted(item["id"] for item in items) == sorted(ids)
    assert _in_order(items)


def test_attendees_are_paged(client, actions):
    me, organiser = actions.register(), actions.register()
    venue = actions.venue(organiser, *CENTER)
    event = client.post(
        "/api/v1/events",
        headers=organiser["headers"],
        json={
            "title": "Tweetup",
            "venue_id": venue["id"],
            "starts_at": T0.isoformat(),
            "ends_at": (T0 + timedelta(hours=2)).isoformat(),
        },
    ).json
    url = f"/api/v1/events/{event['id']}/attendees"
    contacts = []
    for index in range(23):
        person = actions.register()
        befriend(client, me, person)
        status = "going" if index % 3 else "maybe"
        client.post(
            f"/api/v1/events/{event['id']}/rsvp",
            headers=person["headers"],
            json={"status": status},
        )
        contacts.append((status, person["user"]["handle"]))
    stranger = actions.register()
    client.post(
        f"/api/v1/events/{event['id']}/rsvp", headers=stranger["headers"], json={"status": "going"}
    )
    first = client.get(url, headers=me["headers"]).json
    assert len(first["contacts"]) == 20 and first["next_cursor"]
    assert first["total"] == {"going": 16, "maybe": 8, "not_going": 0}
    assert first["others"] == {"going": 1, "maybe": 0, "not_going": 0}
    pages, cursor = [], None
    while True:
        query = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, headers=me["headers"], query_string=query).json
        assert len(page["contacts"]) <= 7 and page["others"] == first["others"]
        pages.extend((c["status"], c["user"]["handle"]) for c in page["contacts"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == sorted(contacts, key=lambda c: (c[0], c[1].lower()))
    assert client.get(url, headers=me["headers"], query_string={"limit": 101}).status_code == 422
    assert client.get(url, headers=me["headers"], query_string={"cursor": "x"}).status_code == 422


def test_staff_is_paged(app, client, actions):
    from service.models import Venue

    owner = actions.register()
    venue = actions.venue(owner, *CENTER)
    with app.app_context():
        db.session.get(Venue, venue["id"]).owner_id = owner["user"]["id"]
        db.session.commit()
    url = f"/api/v1/venues/{venue['id']}/staff"
    handles = []
    for _ in range(24):
        person = actions.register()
        handle = person["user"]["handle"]
        assert client.put(f"{url}/{handle}", headers=owner["headers"]).status_code == 201
        handles.append(handle)
    first = client.get(url, headers=owner["headers"]).json
    assert len(first["items"]) == 20 and first["next_cursor"]
    items = _walk(client, owner, url, limit=5)
    assert [item["handle"] for item in items] == sorted(handles)


def test_badges_honour_limit(app, client, actions):
    from service.models import UserBadge
    from service.rewards.catalogue import CATALOGUE

    me = actions.register()
    with app.app_context():
        for index, badge in enumerate(CATALOGUE[:5]):
            db.session.add(
                UserBadge(
                    user_id=me["user"]["id"],
                    badge=badge.key,
                    level=1,
                    awarded_at=T0 - timedelta(days=index),
                )
            )
        db.session.commit()
    keys = [badge.key for badge in CATALOGUE[:5]]
    for url in ("/api/v1/me/badges", f"/api/v1/users/{me['user']['handle']}/badges"):
        first = client.get(url, headers=me["headers"], query_string={"limit": 2}).json
        assert len(first["items"]) == 2 and first["next_cursor"]
        assert [item["key"] for item in _walk(client, me, url, limit=2)] == keys
        assert client.get(url, headers=me["headers"], query_string={"limit": 0}).status_code == 422


def test_import_answer_names_at_most_100_matches(app, client, actions):
    me = actions.register()
    with app.app_context():
        db.session.execute(
            text(
                "WITH made AS (INSERT INTO users (handle, email, display_name, password_hash)"
                " SELECT 'bulk' || n, 'bulk' || n || '@example.com', 'Bulk', 'x'"
                " FROM generate_series(1, 105) AS n RETURNING id, handle)"
                " INSERT INTO identities (user_id, network, handle, verified_at)"
                " SELECT id, 'github', handle || '-gh', now() FROM made"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO verified_handles (handle, network, user_id)"
                " SELECT handle, network, user_id FROM identities WHERE handle LIKE 'bulk%'"
            )
        )
        db.session.commit()
    handles = [f"bulk{n}-gh" for n in range(1, 106)]
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=me["headers"],
        json={"network": "github", "handles": handles},
    )
    assert response.status_code == 200, response.json
    assert response.json["matched_count"] == 105
    assert len(response.json["matched"]) == 100
    listed = client.get("/api/v1/me/contacts", headers=me["headers"], query_string={"limit": 100})
    assert len(listed.json["items"]) == 100 and listed.json["next_cursor"]


@pytest.mark.parametrize("body", ["{network: github}", '{"network": "github", ', "\xff"])
def test_malformed_import_json_is_400(client, actions, body):
    me = actions.register()
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=me["headers"],
        data=body.encode("latin-1"),
        content_type="application/json",
    )
    assert response.status_code == 400, response.json
    assert response.json["message"]
