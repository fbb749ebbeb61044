"""Nearby-friends notifications: every fan-out rule of PRODUCT.md at its boundary."""

from datetime import UTC, datetime, timedelta

import pytest
from geographiclib.geodesic import Geodesic

from tests.conftest import offset_point

WGS84 = Geodesic.WGS84
HERE = (40.7306, -73.9866)  # New York


def nearby_notes(client, user) -> list[dict]:
    """The user's nearby notifications, newest first."""
    response = client.get("/api/v1/me/notifications", headers=user["headers"])
    assert response.status_code == 200, response.json
    return [n for n in response.json["items"] if n["kind"] == "nearby"]


def settings(client, user, **changes) -> None:
    response = client.patch("/api/v1/me", headers=user["headers"], json=changes)
    assert response.status_code == 200, response.json


@pytest.fixture
def spots(actions, friends):
    """Two contacts; B's venue at HERE and A's 340 m east."""
    a, b = friends(2)
    return (
        a,
        b,
        actions.venue(b, *HERE, name="B's Bar"),
        actions.venue(a, *offset_point(HERE, 340), name="Joe's Coffee"),
    )


def test_contact_within_radius_is_told_where_and_how_far(client, actions, spots):
    a, b, b_venue, a_venue = spots
    actions.check_in(b, b_venue)
    response = actions.check_in(a, a_venue, shout="come over")
    assert response.status_code == 201
    (note,) = nearby_notes(client, b)
    assert (
        note["message"] == f"{a['user']['display_name']} is at Joe's Coffee, about 300 m from you"
    )
    assert note["data"]["distance_m"] == 300
    assert note["data"]["venue"]["id"] == a_venue["id"]
    assert note["data"]["user"] == {
        "handle": a["user"]["handle"],
        "display_name": a["user"]["display_name"],
        "identities": [],  # no verified network
    }
    assert note["data"]["checkin_id"] == response.json["checkin"]["id"]
    assert note["quiet"] is False and note["read_at"] is None
    assert nearby_notes(client, a) == []  # B checked in before A was anywhere


@pytest.mark.parametrize(
    ("age", "told"), [({"hours": 3}, True), ({"hours": 3, "seconds": 1}, False)]
)
def test_receivers_latest_checkin_at_most_three_hours_old(
    client, actions, friends, frozen_clock, age, told
):
    a, b = friends(2)
    actions.check_in(b, actions.venue(b, *HERE))
    frozen_clock.advance(**age)
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 200)))
    assert len(nearby_notes(client, b)) == (1 if told else 0)


@pytest.mark.parametrize(("metres", "told"), [(499.0, True), (501.0, False)])
def test_receivers_own_radius(client, actions, friends, metres, told):
    a, b = friends(2)
    settings(client, b, nearby_radius_m=500)
    actions.check_in(b, actions.venue(b, *HERE))
    actions.check_in(a, actions.venue(a, *offset_point(HERE, metres)))
    notes = nearby_notes(client, b)
    assert len(notes) == (1 if told else 0)
    if told:
        assert notes[0]["data"]["distance_m"] == 500


def test_one_notification_per_pair_per_six_hours(client, actions, spots, frozen_clock):
    a, b, b_venue, a_venue = spots
    deli = actions.venue(a, *offset_point(HERE, 150, azimuth=0), name="Deli")
    actions.check_in(b, b_venue)
    actions.check_in(a, a_venue)
    frozen_clock.advance(hours=5)
    actions.check_in(b, actions.venue(b, *offset_point(HERE, 20, azimuth=180)))
    frozen_clock.advance(minutes=59, seconds=59)  # 5 h 59 min 59 s after the first
    actions.check_in(a, deli)
    assert len(nearby_notes(client, b)) == 1
    frozen_clock.advance(seconds=1)  # exactly 6 h
    actions.check_in(a, a_venue)
    assert len(nearby_notes(client, b)) == 2


def test_daily_cap_default_ten_then_next_local_day(client, actions, friends, frozen_clock):
    frozen_clock.current = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    b, *senders = friends(12)
    settings(client, b, timezone="UTC")
    actions.check_in(b, actions.venue(b, *HERE))
    for index, sender in enumerate(senders[:11]):
        actions.check_in(sender, actions.venue(sender, *offset_point(HERE, 100 + index)))
    assert len(nearby_notes(client, b)) == 10
    frozen_clock.current = datetime(2026, 3, 11, 0, 0, 30, tzinfo=UTC)  # B's next day
    actions.check_in(b, actions.venue(b, *offset_point(HERE, 10, azimuth=0)))
    actions.check_in(senders[0], actions.venue(senders[0], *offset_point(HERE, 90)))
    assert len(nearby_notes(client, b)) == 11


def test_cap_counts_in_the_receivers_time_zone(client, actions, friends, frozen_clock):
    # 03:00 UTC on the 11th is still the 10th in New York (the zone of B's venue).
    frozen_clock.current = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    b, s1, s2 = friends(3)
    settings(client, b, nearby_daily_cap=1)
    actions.check_in(b, actions.venue(b, *HERE))
    actions.check_in(s1, actions.venue(s1, *offset_point(HERE, 100)))
    frozen_clock.current = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
    actions.check_in(b, actions.venue(b, *offset_point(HERE, 10, azimuth=0)))
    actions.check_in(s2, actions.venue(s2, *offset_point(HERE, 120)))
    assert len(nearby_notes(client, b)) == 1
    settings(client, b, nearby_daily_cap=0)
    assert client.get("/api/v1/me", headers=b["headers"]).json["nearby_daily_cap"] == 0


@pytest.mark.parametrize(
    ("utc_hour", "quiet"),
    # Tokyo 21:00, 22:00 (start, inclusive), 06:00, 07:00 (end, exclusive)
    [(12, False), (13, True), (21, True), (22, False)],
)
def test_quiet_hours_in_the_receivers_own_time_zone(
    client, actions, spots, frozen_clock, app, utc_hour, quiet
):
    from service.models import PushDelivery

    app.config["PUSH_GATEWAY_URL"] = "http://127.0.0.1:9/push"
    a, b, b_venue, a_venue = spots
    frozen_clock.current = datetime(2026, 6, 1, utc_hour, 0, tzinfo=UTC)
    settings(client, b, timezone="Asia/Tokyo", quiet_hours={"start": "22:00", "end": "07:00"})
    assert client.post(
        "/api/v1/me/devices", headers=b["headers"], json={"platform": "ios", "token": "tok-b"}
    ).status_code in (200, 201)
    actions.check_in(b, b_venue)  # New York morning or evening: Tokyo's clock decides
    actions.check_in(a, a_venue)
    (note,) = nearby_notes(client, b)
    assert note["quiet"] is quiet
    with app.app_context():
        from service.database import db

        pushes = db.session.query(PushDelivery).filter_by(notification_id=note["id"]).count()
    assert pushes == (0 if quiet else 1)


def test_opted_out_strangers_and_one_way_follows_hear_nothing(client, actions, friends):
    a, b = friends(2)
    settings(client, b, notify_nearby=False)
    stranger = actions.register()
    follower = actions.register()
    client.post(
        "/api/v1/me/contacts", headers=a["headers"], json={"handle": follower["user"]["handle"]}
    )  # A follows them, they do not follow A: one-way
    for person in (b, stranger, follower):
        actions.check_in(person, actions.venue(person, *HERE))
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 100)))
    for person in (b, stranger, follower):
        assert nearby_notes(client, person) == []


def test_private_checkins_and_sharing_off(client, actions, friends):
    a, b, c, d = friends(4)
    settings(client, c, location_sharing="off")
    actions.check_in(b, actions.venue(b, *HERE))
    actions.check_in(c, actions.venue(c, *HERE))
    actions.check_in(d, actions.venue(d, *HERE), private=True)  # D's only check-in: private
    a_venue = actions.venue(a, *offset_point(HERE, 100))
    actions.check_in(a, a_venue, private=True)
    assert nearby_notes(client, b) == []  # A's private check-in tells nobody
    # (at another venue: the same one again within the hour would be too_soon, and a
    # check-in that earns nothing tells nobody either)
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 120)))
    assert len(nearby_notes(client, b)) == 1
    assert nearby_notes(client, c) == []  # off: no visible check-in to be near
    assert nearby_notes(client, d) == []  # only a private check-in
    settings(client, a, location_sharing="off")
    actions.check_in(b, actions.venue(b, *offset_point(HERE, 30, azimuth=0)))
    assert nearby_notes(client, a) == []  # an `off` receiver has no visible check-in
    e, f = friends(2)
    settings(client, e, location_sharing="off")
    actions.check_in(f, actions.venue(f, *HERE))
    actions.check_in(e, actions.venue(e, *offset_point(HERE, 50)))
    assert nearby_notes(client, f) == []  # an `off` sender tells nobody


def test_approximate_sender_shows_no_venue_and_a_500_m_distance(client, actions, spots):
    a, b, b_venue, a_venue = spots
    settings(client, a, location_sharing="approximate")
    settings(client, b, nearby_radius_m=5000)
    actions.check_in(b, b_venue)
    actions.check_in(a, a_venue)
    (note,) = nearby_notes(client, b)
    assert note["data"]["venue"] is None
    assert "Joe's Coffee" not in note["message"] and " is nearby, " in note["message"]
    assert note["data"]["distance_m"] % 500 == 0
    shown = note["data"]["location"]
    cell_gap = WGS84.Inverse(shown["lat"], shown["lon"], *offset_point(HERE, 340))["s12"]
    assert 0 < cell_gap < 1500  # the cell centre, never the venue
    nearby = client.get(
        "/api/v1/nearby/contacts",
        headers=b["headers"],
        query_string={"lat": HERE[0], "lon": HERE[1], "radius_m": 5000},
    ).json["items"]
    assert nearby[0]["location"] == shown  # the same place the nearby list shows


def test_an_offline_replay_older_than_three_hours_tells_nobody(
    client, actions, spots, frozen_clock
):
    a, b, b_venue, a_venue = spots
    actions.check_in(b, b_venue)
    frozen_clock.advance(hours=1)
    then = frozen_clock.current - timedelta(hours=3, seconds=1)
    assert actions.check_in(a, a_venue, client_time=then.isoformat()).status_code == 201
    assert nearby_notes(client, b) == []
    a_again = actions.venue(a, *offset_point(HERE, 300, azimuth=0))
    then = frozen_clock.current - timedelta(hours=3)
    assert actions.check_in(a, a_again, client_time=then.isoformat()).status_code == 201
    assert len(nearby_notes(client, b)) == 1


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"accuracy_m": 900}, "imprecise"),
        ({"lat": 40.0, "lon": -70.0}, "too_far"),
    ],
)
def test_checkins_that_earn_nothing_tell_nobody(client, actions, friends, extra, reason):
    """A spoofed or implausible check-in must not announce "A is at V" to contacts."""
    a, b = friends(2)
    actions.check_in(b, actions.venue(b, *HERE))
    response = actions.check_in(a, actions.venue(a, *offset_point(HERE, 100)), **extra)
    assert [r["code"] for r in response.json["rewards"]["reasons"]] == [reason]
    assert nearby_notes(client, b) == []
