"""Each badge at its threshold and one below; exactly-once awarding."""

from datetime import UTC, datetime, timedelta

import pytest
from geographiclib.geodesic import Geodesic

from tests.conftest import offset_point

WGS84 = Geodesic.WGS84
NYC = (40.7306, -73.9866)


def _keys(response):
    assert response.status_code == 201, response.json
    return {(b["key"], b["level"]) for b in response.json["rewards"]["badges"]}


def _held(client, user):
    items = client.get("/api/v1/me/badges", headers=user["headers"]).json["items"]
    return {(b["key"], b["level"]) for b in items}


@pytest.fixture
def venues(actions):
    owner = actions.register()

    def make(count, origin=NYC, spacing=60.0):
        return [
            actions.venue(owner, *offset_point(origin, spacing * i), name=f"V{i}")
            for i in range(count)
        ]

    return make


def test_newbie_on_the_first_eligible_checkin(client, actions, venues, frozen_clock):
    user = actions.register()
    venue = venues(1)[0]
    assert _keys(actions.check_in(user, venue, accuracy_m=900)) == set()
    frozen_clock.advance(minutes=61)
    assert ("newbie", 1) in _keys(actions.check_in(user, venue))
    frozen_clock.advance(minutes=61)
    assert ("newbie", 1) not in _keys(actions.check_in(user, venue))
    held = client.get("/api/v1/me/badges", headers=user["headers"]).json["items"]
    (badge,) = [b for b in held if b["key"] == "newbie"]  # near midnight a Mayor joins it
    assert badge["checkin_id"]


def test_explorer_at_10_venues_and_regular_level_1(client, actions, venues, frozen_clock):
    user = actions.register()
    places = venues(10)
    for venue in places[:9]:
        keys = _keys(actions.check_in(user, venue))
        frozen_clock.advance(minutes=15)  # 5 places an hour at most (too_many_places)
    assert ("explorer", 1) not in _held(client, user)
    keys = _keys(actions.check_in(user, places[9]))
    assert {("explorer", 1), ("regular", 1)} <= keys


def test_superstar_at_50_venues(client, actions, venues, frozen_clock):
    user = actions.register()
    places = venues(50, spacing=30.0)
    for venue in places[:49]:
        actions.check_in(user, venue)
        frozen_clock.advance(minutes=15)
    assert ("superstar", 1) not in _held(client, user)
    assert ("superstar", 1) in _keys(actions.check_in(user, places[49]))


def test_local_three_times_within_7_days(client, actions, venues, frozen_clock):
    user, other = actions.register(), actions.register()
    venue = venues(1)[0]
    for person in (user, other):
        actions.check_in(person, venue)
    frozen_clock.advance(days=3)
    assert ("local", 1) not in _keys(actions.check_in(user, venue))
    frozen_clock.advance(days=3, hours=23)
    assert ("local", 1) in _keys(actions.check_in(user, venue))  # 6 d 23 h span
    frozen_clock.advance(days=7)
    actions.check_in(other, venue)
    frozen_clock.advance(days=7)
    assert ("local", 1) not in _keys(actions.check_in(other, venue))  # spans 14 days


def test_night_owl_and_early_bird_in_venue_local_time(actions, venues, frozen_clock):
    night, day = actions.register(), actions.register()
    venue = venues(1)[0]
    frozen_clock.current = datetime(2026, 1, 15, 5, 30, tzinfo=UTC)  # 00:30 in New York
    assert ("night_owl", 1) in _keys(actions.check_in(night, venue))
    frozen_clock.current = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)  # 05:00 in New York
    keys = _keys(actions.check_in(day, venue))
    assert ("night_owl", 1) not in keys and ("early_bird", 1) in keys


def test_streak_7_and_its_bonus(client, actions, venues, frozen_clock):
    user = actions.register()
    venue = venues(1)[0]
    frozen_clock.current = datetime(2026, 2, 1, 17, 0, tzinfo=UTC)
    bonuses = []
    for day in range(7):
        response = actions.check_in(user, venue)
        keys = _keys(response)
        bonuses.append(response.json["rewards"]["points"])
        if day < 6:
            assert ("streak_7", 1) not in keys
            frozen_clock.advance(days=1)
    assert ("streak_7", 1) in keys
    # 15 the first day, then 5 + streak bonus 2, 4, ... 12 (+25 on day 2: mayor)
    assert bonuses == [15, 7 + 25, 9, 11, 13, 15, 17]


def test_a_replay_that_fills_yesterdays_gap_extends_the_streak_through_today(
    client, actions, venues, frozen_clock
):
    """Days 1-5 and 7 live, day 6 replayed on day 7: the streak is 7 days at once."""
    user = actions.register()
    venue = venues(1)[0]
    start = datetime(2026, 2, 1, 17, 0, tzinfo=UTC)  # noon in New York
    for day in (0, 1, 2, 3, 4, 6):
        frozen_clock.current = start + timedelta(days=day)
        assert ("streak_7", 1) not in _keys(actions.check_in(user, venue))
    frozen_clock.current = start + timedelta(days=6, hours=1)
    replay = (start + timedelta(days=5, hours=2)).isoformat()
    response = actions.check_in(user, venue, client_time=replay)
    assert ("streak_7", 1) in _keys(response)
    assert ("streak_7", 1) in _held(client, user)
    # the replay earns the bonus of the streak it completes (7 days: +12), once
    assert response.json["rewards"]["points"] == 5 + 12


def test_face_to_face_and_social_butterfly(client, actions, friends, venues, frozen_clock):
    people = friends(11)
    me, others = people[0], people[1:]
    places = venues(10, spacing=200.0)
    for index, (other, venue) in enumerate(zip(others, places, strict=True)):
        actions.check_in(other, venue)
        keys = _keys(actions.check_in(me, venue))
        if index == 0:
            assert ("face_to_face", 1) in keys
        if index == 8:
            assert ("social_butterfly", 1) not in _held(client, me)
        frozen_clock.advance(minutes=15)
    assert ("social_butterfly", 1) in _held(client, me)
    # the people met earned Face to Face too
    assert ("face_to_face", 1) in _held(client, others[0])


def test_crowd_at_ten_people_including_earlier_ones(client, actions, venues, frozen_clock):
    venue = venues(1)[0]
    people = [actions.register() for _ in range(10)]
    for person in people[:9]:
        assert ("crowd", 1) not in _keys(actions.check_in(person, venue))
        frozen_clock.advance(minutes=10)
    assert ("crowd", 1) in _keys(actions.check_in(people[9], venue))
    assert ("crowd", 1) in _held(client, people[0])  # 90 min earlier: same crowd


def test_jetsetter_in_five_cities(client, actions, frozen_clock):
    owner, user = actions.register(), actions.register()
    cities = [
        (40.7306, -73.9866),
        (51.5072, -0.1276),
        (48.8566, 2.3522),
        (35.6762, 139.6503),
        (-33.8688, 151.2093),
    ]
    for index, spot in enumerate(cities):
        venue = actions.venue(owner, *spot)
        keys = _keys(actions.check_in(user, venue))
        assert (("jetsetter", 1) in keys) is (index == 4)
        frozen_clock.advance(days=2)  # no faster than an airliner


def test_mayor_badge(client, actions, venues, frozen_clock):
    user = actions.register()
    venue = venues(1)[0]
    frozen_clock.current = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)
    assert ("mayor", 1) not in _keys(actions.check_in(user, venue))
    frozen_clock.advance(days=1)
    response = actions.check_in(user, venue)
    assert ("mayor", 1) in _keys(response)
    assert response.json["rewards"]["mayorship"]["status"] == "new"


def test_catalogue_endpoint(client, actions):
    user = actions.register()
    items = client.get("/api/v1/badges", headers=user["headers"]).json["items"]
    by_key = {item["key"]: item for item in items}
    assert len(items) >= 16
    assert by_key["explorer"]["description"] == "Check in at 10 different venues."
    assert by_key["explorer"]["kind"] == "distinct_venues"
    assert by_key["regular"]["levels"] == [10, 50, 250]
    assert all(item["earnable"] for item in items)


def test_someone_elses_badges(client, actions, venues, frozen_clock):
    user, viewer = actions.register(), actions.register()
    frozen_clock.current = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)  # noon in New York
    actions.check_in(user, venues(1)[0])
    path = f"/api/v1/users/{user['user']['handle']}/badges"
    # a stranger sees them as of the start of the UTC day: not the moment they are won
    assert client.get(path, headers=viewer["headers"]).json["items"] == []
    frozen_clock.advance(days=1)
    response = client.get(path, headers=viewer["headers"])
    assert [b["key"] for b in response.json["items"]] == ["newbie"]
    assert client.get("/api/v1/users/nobody/badges", headers=viewer["headers"]).status_code == 404
