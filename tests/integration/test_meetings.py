"""Meeting detection at every boundary of PRODUCT.md's definition."""

from datetime import UTC, datetime, timedelta

import pytest
from geographiclib.geodesic import Geodesic

from tests.conftest import offset_point

WGS84 = Geodesic.WGS84
SPOT = (40.7306, -73.9866)


@pytest.fixture
def pair(friends):
    return friends(2)


@pytest.fixture
def cafe(actions, pair):
    return actions.venue(pair[0], *SPOT, name="Cafe")


def _meetings(response):
    assert response.status_code == 201, response.json
    return response.json["meetings"]


def _my_meetings(client, user):
    return client.get("/api/v1/me/meetings", headers=user["headers"]).json["items"]


def test_first_meeting_rewards_both(client, actions, pair, cafe, frozen_clock):
    a, b = pair
    assert _meetings(actions.check_in(a, cafe)) == []
    frozen_clock.advance(minutes=30)
    response = actions.check_in(b, cafe)
    meetings = _meetings(response)
    assert len(meetings) == 1
    assert meetings[0]["user"]["handle"] == a["user"]["handle"]
    assert meetings[0]["first_time"] is True
    assert response.json["rewards"]["points"] == 5 + 10 + 50
    me_a = client.get("/api/v1/me", headers=a["headers"]).json
    assert me_a["points"] == 15 + 50
    for user, other in ((a, b), (b, a)):
        mine = _my_meetings(client, user)
        assert len(mine) == 1
        assert mine[0]["user"]["handle"] == other["user"]["handle"]
        assert mine[0]["first_time"] is True
        assert mine[0]["venue"]["id"] == cafe["id"]
        contact = client.get("/api/v1/me/contacts", headers=user["headers"]).json["items"][0]
        assert contact["met_in_person"] is True and contact["meetings"] == 1
        assert contact["first_met_at"] is not None


def test_later_meetings_earn_10(client, actions, pair, cafe, frozen_clock):
    a, b = pair
    actions.check_in(a, cafe)
    actions.check_in(b, cafe)
    frozen_clock.advance(days=1)
    actions.check_in(a, cafe)
    meetings = _meetings(actions.check_in(b, cafe))
    assert meetings[0]["first_time"] is False and meetings[0]["points"] == 10
    contact = client.get("/api/v1/me/contacts", headers=a["headers"]).json["items"][0]
    assert contact["meetings"] == 2


@pytest.mark.parametrize(
    ("gap", "meets"), [(timedelta(hours=2), True), (timedelta(hours=2, seconds=1), False)]
)
def test_two_hours_apart(actions, pair, cafe, frozen_clock, gap, meets):
    a, b = pair
    other = actions.venue(a, *offset_point(SPOT, 40), name="Next door")
    actions.check_in(a, cafe)
    frozen_clock.advance(seconds=gap.total_seconds())
    assert bool(_meetings(actions.check_in(b, other))) is meets


@pytest.mark.parametrize(("metres", "meets"), [(74.9, True), (75.1, False)])
def test_venues_75_m_apart(actions, pair, cafe, metres, meets):
    a, b = pair
    neighbour = actions.venue(a, *offset_point(SPOT, metres), name="Neighbour")
    actions.check_in(a, cafe)
    assert bool(_meetings(actions.check_in(b, neighbour))) is meets


def test_once_per_venue_per_local_day(actions, pair, cafe, frozen_clock):
    a, b = pair
    frozen_clock.current = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York
    actions.check_in(a, cafe)
    assert _meetings(actions.check_in(b, cafe))
    frozen_clock.advance(minutes=61)
    actions.check_in(a, cafe)
    assert _meetings(actions.check_in(b, cafe)) == []  # same day, same venue
    bar = actions.venue(a, *offset_point(SPOT, 30), name="Bar next door")
    frozen_clock.advance(minutes=1)
    assert _meetings(actions.check_in(a, bar)) == []  # B is still at the cafe: met there
    frozen_clock.advance(minutes=1)
    assert _meetings(actions.check_in(b, bar))  # both at the bar: a new venue


def test_local_day_is_the_venues(client, actions, pair, cafe, frozen_clock):
    a, b = pair
    # 23:30 and 00:40 New York time are two local days (04:30 / 05:40 UTC are one UTC day)
    frozen_clock.current = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
    actions.check_in(a, cafe)
    assert _meetings(actions.check_in(b, cafe))
    frozen_clock.advance(minutes=70)
    assert _meetings(actions.check_in(a, cafe))  # B's 23:30 check-in, met at 00:40
    days = sorted(m["local_day"] for m in _my_meetings(client, a))
    assert days == ["2026-03-10", "2026-03-11"]


def test_met_in_new_york_just_after_midnight_utc_is_one_local_day(
    client, actions, pair, cafe, frozen_clock
):
    a, b = pair
    frozen_clock.current = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)  # 20:30 in New York
    actions.check_in(a, cafe)
    assert _meetings(actions.check_in(b, cafe))
    frozen_clock.advance(minutes=70)  # 21:40, same day
    assert _meetings(actions.check_in(a, cafe)) == []


def test_one_way_follow_never_meets(client, actions, cafe):
    a, b = actions.register(), actions.register()
    client.post("/api/v1/me/contacts", headers=a["headers"], json={"handle": b["user"]["handle"]})
    actions.check_in(a, cafe)
    assert _meetings(actions.check_in(b, cafe)) == []
    assert _my_meetings(client, a) == []


def test_private_checkins_never_meet(actions, pair, cafe):
    a, b = pair
    actions.check_in(a, cafe, private=True)
    assert _meetings(actions.check_in(b, cafe)) == []
    assert _meetings(actions.check_in(a, cafe, lat=SPOT[0] + 0.0001)) == []


@pytest.mark.parametrize("who", [0, 1])
def test_sharing_off_never_meets(client, actions, pair, cafe, who):
    client.patch("/api/v1/me", headers=pair[who]["headers"], json={"location_sharing": "off"})
    actions.check_in(pair[0], cafe)
    response = actions.check_in(pair[1], cafe)
    assert _meetings(response) == []
    assert response.json["rewards"]["points"] == 15  # still earns points


def test_approximate_users_meet(client, actions, pair, cafe):
    client.patch("/api/v1/me", headers=pair[0]["headers"], json={"location_sharing": "approximate"})
    actions.check_in(pair[0], cafe)
    assert _meetings(actions.check_in(pair[1], cafe))


def test_ineligible_checkins_never_meet(actions, pair, cafe):
    a, b = pair
    actions.check_in(a, cafe, accuracy_m=900)
    assert _meetings(actions.check_in(b, cafe)) == []


def test_offline_replay_finds_the_meeting(client, actions, pair, cafe, frozen_clock):
    a, b = pair
    actions.check_in(a, cafe)
    frozen_clock.advance(hours=5)
    replay = (frozen_clock.current - timedelta(hours=4, minutes=30)).isoformat()
    meetings = _meetings(actions.check_in(b, cafe, client_time=replay))
    assert len(meetings) == 1 and meetings[0]["first_time"] is True
    assert len(_my_meetings(client, a)) == 1


def test_meets_several_contacts_at_once(actions, friends, frozen_clock):
    people = friends(4)
    venue = actions.venue(people[0], *SPOT)
    for person in people[:3]:
        actions.check_in(person, venue)
    meetings = _meetings(actions.check_in(people[3], venue))
    assert len(meetings) == 3


def test_meetings_paginate(client, actions, friends, frozen_clock):
    a, *others = friends(4)
    venue = actions.venue(a, *SPOT)
    for other in others:
        actions.check_in(other, venue)
    actions.check_in(a, venue)
    page = client.get("/api/v1/me/meetings", headers=a["headers"], query_string={"limit": 2}).json
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(
        "/api/v1/me/meetings",
        headers=a["headers"],
        query_string={"limit": 2, "cursor": page["next_cursor"]},
    ).json
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


# --- rules over time (issue 17) ----------------------------------------------------------

NOON_NY = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)  # 12:00 in New York


def test_a_candidate_that_collides_leaves_the_next_one_to_meet(
    client, actions, pair, cafe, frozen_clock
):
    """The contact's check-in nearest in time falls on a (venue, day) the pair already met
    at; another of theirs, 50 m away, still makes this check-in a meeting."""
    u, c = pair
    annex = actions.venue(u, *offset_point(SPOT, 50), name="Annex")
    frozen_clock.current = NOON_NY
    assert _meetings(actions.check_in(u, cafe)) == []  # u1: cafe 12:00
    frozen_clock.current = NOON_NY + timedelta(minutes=10)
    assert len(_meetings(actions.check_in(c, cafe))) == 1  # c1: cafe 12:10, met at cafe
    frozen_clock.current = NOON_NY + timedelta(minutes=100)
    assert _meetings(actions.check_in(c, cafe)) == []  # c2: cafe 13:40, cafe's day is taken
    # u2, replayed at 14:00: at the annex at 12:50. Nearest in time is c1 (40 min, and
    # earlier: the meeting would be at the cafe, taken); c2 (50 min, later: the meeting is
    # at the annex) is tried next.
    frozen_clock.current = NOON_NY + timedelta(hours=2)
    replay = (NOON_NY + timedelta(minutes=50)).isoformat()
    meetings = _meetings(actions.check_in(u, annex, client_time=replay))
    assert [(m["user"]["handle"], m["first_time"]) for m in meetings] == [
        (c["user"]["handle"], False)
    ]
    venues = sorted(m["venue"]["name"] for m in _my_meetings(client, u))
    assert venues == ["Annex", "Cafe"]


def _contact(client, user) -> dict:
    return client.get("/api/v1/me/contacts", headers=user["headers"]).json["items"][0]


def _ledger(app, user) -> list[tuple]:
    from sqlalchemy import select

    from service.database import db
    from service.models import PointsEntry

    with app.app_context():
        return db.session.execute(
            select(PointsEntry.reason, PointsEntry.points)
            .where(PointsEntry.user_id == user["user"]["id"])
            .order_by(PointsEntry.id)
        ).all()


def test_a_replayed_earlier_meeting_becomes_the_first(app, client, actions, pair, frozen_clock):
    """An offline replay finds a meeting earlier than the pair's first: it is the first now
    (flags, first_met_at), and the +50 moves to it with a correcting ledger line."""
    a, b = pair
    park = actions.venue(a, *offset_point(SPOT, 1000), name="Park")
    cafe = actions.venue(a, *SPOT, name="Cafe")
    frozen_clock.current = NOON_NY - timedelta(hours=3)
    actions.check_in(a, park)  # 09:00 at the park
    frozen_clock.current = NOON_NY
    actions.check_in(a, cafe)  # 12:00 at the cafe
    frozen_clock.current = NOON_NY + timedelta(minutes=30)
    (later,) = _meetings(actions.check_in(b, cafe))  # 12:30: their first meeting, so far
    assert later["first_time"] is True and later.get("replaces_first_meeting_id") is None
    # b's phone was offline at the park at 09:30; it replays at 13:00
    frozen_clock.current = NOON_NY + timedelta(hours=1)
    replay = (NOON_NY - timedelta(hours=2, minutes=30)).isoformat()
    response = actions.check_in(b, park, client_time=replay)
    (earlier,) = _meetings(response)
    assert earlier["first_time"] is True and earlier["points"] == 50
    assert earlier.get("replaces_first_meeting_id") == later["meeting_id"]
    assert response.json["rewards"]["points"] == 5 + 10 + 50
    for user in (a, b):
        mine = {m["id"]: m["first_time"] for m in _my_meetings(client, user)}
        assert mine == {earlier["meeting_id"]: True, later["meeting_id"]: False}
        contact = _contact(client, user)
        assert contact["first_met_at"] == (NOON_NY - timedelta(hours=2, minutes=30)).isoformat()
        assert contact["meetings"] == 2
        ledger = _ledger(app, user)
        assert [r for r in ledger if "meeting" in r[0]] == [
            ("first_meeting", 50),
            ("first_meeting_moved", -40),
            ("first_meeting", 50),
        ]
        me = client.get("/api/v1/me", headers=user["headers"]).json
        # 2 check-ins with a first visit each (15 + 15), one first meeting and one later
        assert me["points"] == sum(points for _, points in ledger) == 30 + 50 + 10


def test_one_encounter_is_one_meeting(actions, pair, cafe, frozen_clock):
    """The contact checked in at two venues of one building (≤ 75 m apart); my check-in
    there meets them once, not once per venue."""
    a, b = pair
    next_door = actions.venue(b, *offset_point(SPOT, 40), name="Bookshop upstairs")
    actions.check_in(b, cafe)
    frozen_clock.advance(minutes=20)
    actions.check_in(b, next_door)
    frozen_clock.advance(minutes=5)
    answer = actions.check_in(a, cafe).json
    assert [m["user"]["handle"] for m in answer["meetings"]] == [b["user"]["handle"]]
