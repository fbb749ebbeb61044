"""Badges one below their threshold and just outside their window (issue 17), meetings
where only the second check-in earns nothing, and people who share nothing still
earning badges. The clock is pinned (noon in New York) so no Night Owl joins in."""

from datetime import timedelta

import pytest

from tests.conftest import befriend, offset_point

NYC = (40.7306, -73.9866)


def _keys(response) -> set[str]:
    assert response.status_code == 201, response.json
    return {b["key"] for b in response.json["rewards"]["badges"]}


def _held(client, user) -> set[str]:
    response = client.get("/api/v1/me/badges", headers=user["headers"], query_string={"limit": 100})
    return {b["key"] for b in response.json["items"]}


@pytest.fixture
def place(actions):
    return actions.venue(actions.register(), *NYC, name="Hall")


def test_networker_at_25_contacts_met_not_24(client, actions, place, pinned_clock):
    me = actions.register()
    others = [actions.register() for _ in range(25)]
    for other in others:
        befriend(client, me, other)
    for other in others[:24]:
        assert _keys(actions.check_in(other, place)) >= {"newbie"}
    pinned_clock.advance(minutes=30)
    response = actions.check_in(me, place)
    assert len(response.json["meetings"]) == 24
    assert "networker" not in _keys(response) and "networker" not in _held(client, me)
    assert "social_butterfly" in _held(client, me)  # 10 met: the count did run
    pinned_clock.advance(minutes=30)
    last = actions.check_in(others[24], place)
    assert len(last.json["meetings"]) == 1
    assert "networker" in _held(client, me)  # the 25th, met when they arrived
    assert "networker" not in _held(client, others[24])


def _event(client, user, venue, start, hours=3) -> dict:
    response = client.post(
        "/api/v1/events",
        headers=user["headers"],
        json={
            "title": "Meetup",
            "venue_id": venue["id"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=hours)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def test_host_at_10_people_not_9(client, actions, place, pinned_clock):
    organiser = actions.register()
    event = _event(client, organiser, place, pinned_clock.current)
    guests = [actions.register() for _ in range(10)]
    for guest in guests[:9]:
        assert actions.check_in(guest, place, event_id=event["id"]).status_code == 201
        pinned_clock.advance(minutes=5)
    # the organiser checking in is not one of the people who came
    assert actions.check_in(organiser, place, event_id=event["id"]).status_code == 201
    assert "host" not in _held(client, organiser)
    assert actions.check_in(guests[9], place, event_id=event["id"]).status_code == 201
    assert "host" in _held(client, organiser)
    assert "host" not in _held(client, guests[9])


@pytest.mark.parametrize(("third_after", "earned"), [(timedelta(days=29), True), (31, False)])
def test_conference_hopper_within_30_days_not_31(
    client, actions, place, pinned_clock, third_after, earned
):
    third_after = third_after if isinstance(third_after, timedelta) else timedelta(days=31)
    organiser, hopper = actions.register(), actions.register()
    start = pinned_clock.current
    days = (timedelta(0), timedelta(days=10), third_after)
    events = [_event(client, organiser, place, start + day) for day in days]
    for day, event in zip(days, events, strict=True):
        pinned_clock.current = start + day + timedelta(minutes=30)
        keys = _keys(actions.check_in(hopper, place, event_id=event["id"]))
    assert ("conference_hopper" in keys) is earned
    assert ("conference_hopper" in _held(client, hopper)) is earned


@pytest.mark.parametrize(("gap", "earned"), [(timedelta(hours=2), True), (None, False)])
def test_crowd_only_within_2_hours(client, actions, place, pinned_clock, gap, earned):
    gap = gap or timedelta(hours=2, seconds=1)
    people = [actions.register() for _ in range(10)]
    for person in people[:9]:
        assert "crowd" not in _keys(actions.check_in(person, place))
    pinned_clock.advance(seconds=gap.total_seconds())
    assert ("crowd" in _keys(actions.check_in(people[9], place))) is earned
    assert ("crowd" in _held(client, people[0])) is earned


@pytest.mark.parametrize("second", [{"accuracy_m": 600}, {"at": 400}, {"too_fast": True}], ids=str)
def test_no_meeting_when_only_the_second_checkin_earns_nothing(
    client, actions, place, pinned_clock, second
):
    second = dict(second)
    first, late = actions.register(), actions.register()
    befriend(client, first, late)
    assert actions.check_in(first, place).json["rewards"]["eligible"] is True
    if second.pop("too_fast", False):
        boston = actions.venue(late, 42.3601, -71.0589, name="Boston")
        assert actions.check_in(late, boston).status_code == 201  # 300 km away
    pinned_clock.advance(minutes=10)
    if "at" in second:
        spot = offset_point(NYC, second.pop("at"))
        second.update(lat=spot[0], lon=spot[1])
    response = actions.check_in(late, place, **second)
    assert response.json["rewards"]["eligible"] is False
    assert response.json["meetings"] == []
    for person in (first, late):
        assert client.get("/api/v1/me/meetings", headers=person["headers"]).json["items"] == []
        assert "face_to_face" not in _held(client, person)
    # the same second check-in, eligible, does meet: the setup was a meeting but for that
    pinned_clock.advance(hours=1, minutes=1)
    assert len(actions.check_in(late, place).json["meetings"]) == 1


def test_sharing_off_and_private_checkins_still_earn_badges(client, actions, pinned_clock):
    hidden, private = actions.register(), actions.register()
    patched = client.patch(
        "/api/v1/me", headers=hidden["headers"], json={"location_sharing": "off"}
    )
    assert patched.status_code == 200
    owner = actions.register()
    spots = [actions.venue(owner, *offset_point(NYC, 150 * i), name=f"V{i}") for i in range(10)]
    for index, spot in enumerate(spots):
        for person in (hidden, private):
            response = actions.check_in(person, spot, private=person is private)
            assert response.json["rewards"]["eligible"] is True
            assert response.json["rewards"]["points"] > 0
            if index == 0:
                assert "newbie" in _keys(response)
        pinned_clock.advance(minutes=15)  # at most 4 other places an hour
    for person in (hidden, private):
        assert {"newbie", "explorer", "regular"} <= _held(client, person)
