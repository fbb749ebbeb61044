"""Events: CRUD by the organiser, RSVPs, attendees, nearby in space and time, event
check-ins and the badges they unlock."""

from datetime import UTC, datetime, timedelta

import pytest
from geographiclib.geodesic import Geodesic

from tests.conftest import offset_point

WGS84 = Geodesic.WGS84
HALL = (40.7484, -73.9857)
T0 = datetime(2026, 9, 10, 18, 0, tzinfo=UTC)


@pytest.fixture
def organiser(actions):
    return actions.register()


@pytest.fixture
def hall(actions, organiser):
    return actions.venue(organiser, *HALL, name="Conference Hall")


def _event(client, user, venue, start=T0, hours=3, **extra):
    response = client.post(
        "/api/v1/events",
        headers=user["headers"],
        json={
            "title": extra.pop("title", "Tweetup"),
            "venue_id": venue["id"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=hours)).isoformat(),
            **extra,
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def test_create_and_read(client, organiser, hall):
    event = _event(
        client, organiser, hall, tags=["Python", "python", "NYC"], description="Bring stickers"
    )
    assert event["organiser"]["handle"] == organiser["user"]["handle"]
    assert event["venue"]["id"] == hall["id"] and event["tags"] == ["nyc", "python"]
    got = client.get(f"/api/v1/events/{event['id']}", headers=organiser["headers"])
    assert got.json == event
    assert client.get("/api/v1/events/99999999", headers=organiser["headers"]).status_code == 404


@pytest.mark.parametrize(
    "times",
    [
        {"starts_at": T0.isoformat(), "ends_at": T0.isoformat()},
        {"starts_at": T0.isoformat(), "ends_at": (T0 - timedelta(hours=1)).isoformat()},
        {"starts_at": "2026-09-10T18:00:00", "ends_at": "2026-09-10T20:00:00"},
        {"starts_at": T0.isoformat(), "ends_at": (T0 + timedelta(days=40)).isoformat()},
        {"starts_at": "soon", "ends_at": T0.isoformat()},
    ],
)
def test_bad_times_are_422(client, organiser, hall, times):
    response = client.post(
        "/api/v1/events",
        headers=organiser["headers"],
        json={"title": "X", "venue_id": hall["id"], **times},
    )
    assert response.status_code == 422


def test_only_the_organiser_edits(client, actions, organiser, hall):
    event = _event(client, organiser, hall)
    other = actions.register()
    url = f"/api/v1/events/{event['id']}"
    assert client.patch(url, headers=other["headers"], json={"title": "Mine"}).status_code == 403
    assert client.delete(url, headers=other["headers"]).status_code == 403
    assert (
        client.patch(
            url,
            headers=organiser["headers"],
            json={"ends_at": (T0 - timedelta(hours=1)).isoformat()},
        ).status_code
        == 422
    )
    response = client.patch(url, headers=organiser["headers"], json={"title": "PyNYC"})
    assert response.status_code == 200 and response.json["title"] == "PyNYC"
    assert client.delete(url, headers=organiser["headers"]).status_code == 204
    assert client.get(url, headers=organiser["headers"]).status_code == 404
    assert (
        client.patch(
            "/api/v1/events/99999999", headers=organiser["headers"], json={"title": "x"}
        ).status_code
        == 404
    )


def test_rsvp_states_and_attendees(client, actions, friends, organiser, hall):
    event = _event(client, organiser, hall)
    me, contact = friends(2)
    strangers = [actions.register() for _ in range(3)]
    url = f"/api/v1/events/{event['id']}"
    for person, status in (
        (contact, "going"),
        (strangers[0], "going"),
        (strangers[1], "maybe"),
        (strangers[2], "not_going"),
    ):
        response = client.post(f"{url}/rsvp", headers=person["headers"], json={"status": status})
        assert response.status_code == 200 and response.json["status"] == status
    assert (
        client.post(f"{url}/rsvp", headers=me["headers"], json={"status": "perhaps"}).status_code
        == 422
    )
    client.post(f"{url}/rsvp", headers=strangers[2]["headers"], json={"status": "maybe"})
    seen = client.get(f"{url}/attendees", headers=me["headers"]).json
    assert seen["contacts"] == [
        {
            "user": {
                "handle": contact["user"]["handle"],
                "display_name": contact["user"]["display_name"],
                "identities": [],  # no verified network
            },
            "status": "going",
        }
    ]
    assert seen["others"] == {"going": 1, "maybe": 2, "not_going": 0}
    assert seen["total"] == {"going": 2, "maybe": 2, "not_going": 0}
    stranger_view = client.get(f"{url}/attendees", headers=strangers[0]["headers"]).json
    assert stranger_view["contacts"] == [] and stranger_view["total"]["going"] == 2
    assert (
        client.post(
            "/api/v1/events/99999999/rsvp", headers=me["headers"], json={"status": "going"}
        ).status_code
        == 404
    )


def _nearby(client, user, **params):
    response = client.get(
        "/api/v1/events/nearby",
        headers=user["headers"],
        query_string={"lat": HALL[0], "lon": HALL[1], **params},
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_nearby_window_edges(client, organiser, hall):
    event = _event(client, organiser, hall)  # 18:00-21:00
    window = {
        "from": (T0 + timedelta(hours=3)).isoformat(),
        "to": (T0 + timedelta(hours=5)).isoformat(),
    }
    assert _nearby(client, organiser, **window) == []  # it ends exactly at from
    window = {"from": (T0 - timedelta(hours=2)).isoformat(), "to": T0.isoformat()}
    assert _nearby(client, organiser, **window) == []  # it starts exactly at to
    window = {
        "from": (T0 + timedelta(hours=2, minutes=59)).isoformat(),
        "to": (T0 + timedelta(hours=5)).isoformat(),
    }
    assert [e["id"] for e in _nearby(client, organiser, **window)] == [event["id"]]


def test_nearby_radius_order_and_contacts_going(client, actions, friends, organiser, hall):
    near = _event(client, organiser, hall, title="Near")
    far_venue = actions.venue(organiser, *offset_point(HALL, 2500), name="Far")
    far = _event(client, organiser, far_venue, title="Far")
    me, contact = friends(2)
    client.post(
        f"/api/v1/events/{far['id']}/rsvp", headers=contact["headers"], json={"status": "going"}
    )
    window = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
    items = _nearby(client, me, radius_m=3000, **window)
    assert [e["id"] for e in items] == [near["id"], far["id"]]
    assert [e["contacts_going"] for e in items] == [0, 1]
    assert items[1]["distance_m"] == pytest.approx(2500, rel=0.005)
    assert [e["id"] for e in _nearby(client, me, radius_m=2400, **window)] == [near["id"]]
    geo = client.get(
        "/api/v1/events/nearby",
        headers=me["headers"],
        query_string={"lat": HALL[0], "lon": HALL[1], "format": "geojson", **window},
    ).get_json(force=True)
    assert geo["features"][0]["geometry"]["coordinates"] == [
        near["location"]["lon"],
        near["location"]["lat"],
    ]


def test_default_window_is_the_next_7_days(client, organiser, hall, frozen_clock):
    frozen_clock.current = T0 - timedelta(days=6)
    event = _event(client, organiser, hall)
    assert [e["id"] for e in _nearby(client, organiser)] == [event["id"]]
    frozen_clock.current = T0 - timedelta(days=8)
    assert _nearby(client, organiser) == []


@pytest.mark.parametrize(
    "params",
    [
        {"from": T0.isoformat(), "to": (T0 - timedelta(seconds=1)).isoformat()},
        {"from": T0.isoformat(), "to": (T0 + timedelta(days=91)).isoformat()},
        {"from": "2026-09-10T18:00:00"},
        {"radius_m": 50001},
        {"lat": 95},
    ],
)
def test_bad_nearby_queries(client, organiser, params):
    response = client.get(
        "/api/v1/events/nearby",
        headers=organiser["headers"],
        query_string={"lat": HALL[0], "lon": HALL[1], **params},
    )
    assert response.status_code == 422


def _event_checkin(actions, user, venue, event_id):
    response = actions.check_in(user, venue, event_id=event_id)
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize(
    ("offset", "metres", "accepted"),
    [
        (timedelta(hours=-1), 0, True),
        (timedelta(hours=-1, seconds=-1), 0, False),
        (timedelta(hours=4), 0, True),
        (timedelta(hours=4, seconds=1), 0, False),
        (timedelta(hours=1), 74, True),
        (timedelta(hours=1), 80, False),
    ],
)
def test_event_checkin_accepted_or_ignored(
    client, actions, organiser, hall, frozen_clock, offset, metres, accepted
):
    event = _event(client, organiser, hall)
    user = actions.register()
    venue = hall if metres == 0 else actions.venue(user, *offset_point(HALL, metres))
    frozen_clock.current = T0 + offset
    body = _event_checkin(actions, user, venue, event["id"])
    assert body["rewards"]["event"]["accepted"] is accepted
    assert body["rewards"]["points"] == (25 if accepted else 15)
    if not accepted:
        assert body["rewards"]["event"]["reason"]


def test_unknown_event_is_ignored_not_refused(actions, hall):
    user = actions.register()
    body = _event_checkin(actions, user, hall, 99999999)
    assert body["rewards"]["event"] == {
        "event_id": 99999999,
        "accepted": False,
        "reason": "No such event; the check-in stands without it.",
    }


def test_contacts_at_one_event_meet_across_venues(
    client, actions, friends, organiser, hall, frozen_clock
):
    event = _event(client, organiser, hall)
    a, b = friends(2)
    west = actions.venue(a, *offset_point(HALL, 70, azimuth=270), name="West wing")
    east = actions.venue(a, *offset_point(HALL, 70, azimuth=90), name="East wing")  # 140 m apart
    frozen_clock.current = T0 + timedelta(minutes=30)
    _event_checkin(actions, a, west, event["id"])
    body = _event_checkin(actions, b, east, event["id"])
    assert len(body["meetings"]) == 1
    c, d = friends(2)
    actions.check_in(c, west)
    assert actions.check_in(d, east).json["meetings"] == []  # no event: 140 m


@pytest.mark.parametrize(("contacts", "tweetup"), [(2, False), (3, True)])
def test_tweetup_with_exactly_three_contacts(
    client, actions, organiser, hall, frozen_clock, contacts, tweetup
):
    from tests.conftest import befriend

    event = _event(client, organiser, hall)
    me = actions.register()
    others = [actions.register() for _ in range(contacts)]
    for other in others:  # contacts of mine, not of each other
        befriend(client, me, other)
    frozen_clock.current = T0 + timedelta(minutes=10)
    for other in others:
        _event_checkin(actions, other, hall, event["id"])
        frozen_clock.advance(minutes=1)
    body = _event_checkin(actions, me, hall, event["id"])
    assert len(body["meetings"]) == contacts
    keys = {b["key"] for b in body["rewards"]["badges"]}
    assert ("tweetup" in keys) is tweetup


def test_conference_hopper_and_host(client, actions, organiser, hall, frozen_clock):
    hopper = actions.register()
    events = [_event(client, organiser, hall, start=T0 + timedelta(days=10 * i)) for i in range(3)]
    for index, event in enumerate(events):
        frozen_clock.current = T0 + timedelta(days=10 * index, minutes=5)
        keys = {
            b["key"]
            for b in _event_checkin(actions, hopper, hall, event["id"])["rewards"]["badges"]
        }
        assert ("conference_hopper" in keys) is (index == 2)
    people = [actions.register() for _ in range(9)]
    frozen_clock.current = T0 + timedelta(days=20, minutes=30)
    for person in people:
        _event_checkin(actions, person, hall, events[2]["id"])
        frozen_clock.advance(minutes=1)
    held = {
        b["key"]
        for b in client.get("/api/v1/me/badges", headers=organiser["headers"]).json["items"]
    }
    assert "host" in held  # the hopper and nine others: ten people


def test_organiser_conversion_view(client, actions, friends, organiser, hall, frozen_clock):
    """A small event: every figure describes fewer than five people, so none is shown."""
    event = _event(client, organiser, hall)
    url = f"/api/v1/events/{event['id']}"
    a, b = friends(2)
    walk_in = actions.register()
    absent = actions.register()
    for person in (a, b, absent):
        client.post(f"{url}/rsvp", headers=person["headers"], json={"status": "going"})
    frozen_clock.current = T0 + timedelta(minutes=20)
    for person in (a, b, walk_in):
        _event_checkin(actions, person, hall, event["id"])
    view = client.get(f"{url}/conversion", headers=organiser["headers"])
    assert view.status_code == 200
    figures = ["checked_in", "going_and_came", "going_but_absent", "came_without_rsvp"]
    assert view.json == {
        "rsvps": {"going": None, "maybe": 0, "not_going": 0},
        **dict.fromkeys(figures, None),
        "meetings": None,
        "new_pairs": None,
        "suppressed": True,
        "suppressed_figures": ["rsvps.going", *figures, "meetings", "new_pairs"],
        "suppression_threshold": 5,
    }
    assert client.get(f"{url}/conversion", headers=a["headers"]).status_code == 403


def conversion_differences(view: dict) -> list:
    """The attack: each figure, and each difference of figures that add up."""
    going = view["rsvps"]["going"]
    found = [*view["rsvps"].values()]
    found += [view[k] for k in view if k not in ("rsvps", "suppressed", "suppressed_figures")]
    pairs = [
        (going, view["going_and_came"]),
        (going, view["going_but_absent"]),
        (view["checked_in"], view["going_and_came"]),
        (view["checked_in"], view["came_without_rsvp"]),
        (view["meetings"], view["new_pairs"]),
    ]
    found += [whole - part for whole, part in pairs if None not in (whole, part)]
    if None not in (view["checked_in"], view["going_and_came"], view["came_without_rsvp"]):
        found.append(view["checked_in"] - view["going_and_came"] - view["came_without_rsvp"])
    return [n for n in found if isinstance(n, int) and 0 < n < 5]


def test_conversion_never_gives_away_fewer_than_five_people(
    client, actions, friends, organiser, hall, frozen_clock
):
    """The attack: 1 person RSVP'd going and stayed away, 1 came after answering maybe.
    going - going_and_came or checked_in - the shown parts would name those few."""
    event = _event(client, organiser, hall)
    url = f"/api/v1/events/{event['id']}"
    going = [actions.register() for _ in range(7)]
    maybe = [actions.register() for _ in range(2)]
    walk_ins = friends(5)  # they meet each other: 10 new pairs among 5 people
    for people, status in ((going, "going"), (maybe, "maybe")):
        for person in people:
            client.post(f"{url}/rsvp", headers=person["headers"], json={"status": status})
    frozen_clock.current = T0 + timedelta(minutes=20)
    for person in (*going[:6], *walk_ins, maybe[0]):
        _event_checkin(actions, person, hall, event["id"])
    view = client.get(f"{url}/conversion", headers=organiser["headers"]).json
    assert conversion_differences(view) == []
    assert view["rsvps"] == {"going": 7, "maybe": None, "not_going": 0}
    assert view["checked_in"] == 12 and view["going_but_absent"] is None
    # the second figure hidden so that the first cannot be worked out from going
    assert view["going_and_came"] is None and view["came_without_rsvp"] == 5
    assert (view["meetings"], view["new_pairs"]) == (10, 10)
    # the normal case: everyone who said so came, numbers shown
    for person in (going[6], maybe[1]):
        _event_checkin(actions, person, hall, event["id"])
    client.post(f"{url}/rsvp", headers=maybe[0]["headers"], json={"status": "going"})
    client.post(f"{url}/rsvp", headers=maybe[1]["headers"], json={"status": "going"})
    view = client.get(f"{url}/conversion", headers=organiser["headers"]).json
    assert conversion_differences(view) == []
    assert (view["rsvps"]["going"], view["going_and_came"], view["came_without_rsvp"]) == (9, 9, 5)
    assert view["going_but_absent"] == 0 and view["checked_in"] == 14
    assert view["suppressed"] is False and view["suppressed_figures"] == []
