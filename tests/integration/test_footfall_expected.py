"""Footfall figures against values worked out by hand from a small scripted history, not
against the code's own second path (rollup vs raw): new and returning visitors (people
who came before the range are returning, not new), meetings hosted, weekly buckets and
the peak hour; and each reason a check-in is left out of footfall, one at a time."""

from datetime import timedelta

import pytest

from tests.conftest import PINNED_AT, befriend, offset_point

NEW_YORK = (40.7306, -73.9866)
WEEK = {"from": "2026-06-08", "to": "2026-06-21", "granularity": "week"}  # Mon 8 - Sun 21


@pytest.fixture
def owned(client, actions, runner, pinned_clock):
    """An owner with an approved claim on a New York venue (clock: Wed 10 June, noon)."""
    owner = actions.register()
    venue = actions.venue(owner, *NEW_YORK, name="Counted Bar")
    claim = client.post(f"/api/v1/venues/{venue['id']}/claim", headers=owner["headers"], json={})
    assert runner.invoke(args=["approve-claim", str(claim.json["id"])]).exit_code == 0
    return owner, venue


def stats(client, owner, venue, **params) -> dict:
    response = client.get(
        f"/api/v1/venues/{venue['id']}/stats", headers=owner["headers"], query_string=params
    )
    assert response.status_code == 200, response.json
    return response.json


def at(actions, clock, when, people, venue, **extra) -> list[dict]:
    clock.current = when
    answers = [actions.check_in(person, venue, **extra) for person in people]
    assert all(a.status_code == 201 for a in answers), [a.json for a in answers]
    return [a.json for a in answers]


def test_new_returning_meetings_weeks_and_peak_by_hand(client, actions, owned, pinned_clock):
    owner, venue = owned
    old = [actions.register() for _ in range(5)]  # P1..P5: came before the range
    new = [actions.register() for _ in range(5)]  # N1..N5: first visit in the range
    for a, b in ((new[0], new[1]), (new[2], new[3]), (old[0], old[1])):
        befriend(client, a, b)
    # Mon 1 June, 12:00 New York (before the range): P1..P5; P1 and P2 meet (not counted)
    at(actions, pinned_clock, PINNED_AT - timedelta(days=9), old, venue)
    # Wed 10 June, 12:00: all ten; three pairs meet (N1-N2, N3-N4, P1-P2)
    answers = at(actions, pinned_clock, PINNED_AT, old + new, venue)
    assert sum(len(a["meetings"]) for a in answers) == 3
    # Thu 18 June, 18:00: N1, N3, N5, P3, P4, P5 (no two of them contacts: no meeting)
    week_two = [new[0], new[2], new[4], *old[2:]]
    at(actions, pinned_clock, PINNED_AT + timedelta(days=8, hours=6), week_two, venue)
    pinned_clock.current = PINNED_AT + timedelta(days=12)

    body = stats(client, owner, venue, **WEEK)
    # 10 people came; N1..N5 for the first time ever (N1 and N3 twice: still new), the
    # other five had come on 1 June: returning. Meetings: the three of 10 June only.
    assert body["suppressed"] is False
    assert (body["total_checkins"], body["unique_visitors"]) == (16, 10)
    assert (body["new_visitors"], body["returning_visitors"], body["meetings"]) == (5, 5, 3)
    assert body["series"] == [
        {
            "start": "2026-06-08T00:00:00-04:00",
            "checkins": 10,
            "visitors": 10,
            "new_visitors": 5,
            "returning_visitors": 5,
            "meetings": 3,
            "suppressed": False,
        },
        {
            "start": "2026-06-15T00:00:00-04:00",
            "checkins": 6,
            "visitors": 6,
            "new_visitors": 0,  # N1, N3 and N5 were new the week before
            "returning_visitors": 6,
            "meetings": 0,
            "suppressed": False,
        },
    ]
    shown = {
        (weekday, hour): cell["checkins"]
        for weekday, row in enumerate(body["weekday_hour"])
        for hour, cell in enumerate(row)
        if not cell["suppressed"]
    }
    assert shown == {(2, 12): 10, (3, 18): 6}  # Wednesday noon, Thursday 18:00
    assert body["peak_hour"] == {
        "weekday": 2,
        "weekday_name": body["peak_hour"]["weekday_name"],
        "hour": 12,
        "checkins": 10,
    }
    assert body["peak_hour"]["weekday_name"].lower().startswith("wed")

    # the range starting on 10 June: P1..P5 still came before it, nobody else did
    later = stats(client, owner, venue, **{**WEEK, "from": "2026-06-10"})
    assert (later["new_visitors"], later["returning_visitors"]) == (5, 5)
    # the second week alone: all six had come before it
    second = stats(client, owner, venue, **{**WEEK, "from": "2026-06-15"})
    assert (second["unique_visitors"], second["new_visitors"]) == (6, 0)
    assert (second["returning_visitors"], second["meetings"]) == (6, 0)
    # Chicago's clock (computed from the raw check-ins): the same people, an hour earlier
    chicago = stats(client, owner, venue, **WEEK, tz="America/Chicago")
    assert (chicago["total_checkins"], chicago["new_visitors"]) == (16, 5)
    assert (chicago["peak_hour"]["weekday"], chicago["peak_hour"]["hour"]) == (2, 11)


def _five_regulars(actions, venue) -> list[dict]:
    regulars = [actions.register() for _ in range(5)]
    for person in regulars:
        assert actions.check_in(person, venue).status_code == 201
    return regulars


def _flagged(actions, person, venue, clock, reason: str):
    """One check-in by ``person`` at ``venue`` that breaks exactly ``reason``."""
    if reason == "too_far":
        far = offset_point(NEW_YORK, 400)  # radius 100, no accuracy: 300 m too far
        return actions.check_in(person, venue, lat=far[0], lon=far[1])
    if reason == "imprecise":
        return actions.check_in(person, venue, accuracy_m=600)  # at the venue, but ±600 m
    if reason == "too_fast":
        boston = actions.venue(person, 42.3601, -71.0589, name="Boston")
        assert actions.check_in(person, boston).status_code == 201
        clock.advance(minutes=10)  # 300 km in 10 minutes
        return actions.check_in(person, venue)
    if reason == "too_soon":
        assert actions.check_in(person, venue).status_code == 201
        clock.advance(minutes=10)
        return actions.check_in(person, venue)
    return actions.check_in(person, venue)


@pytest.mark.parametrize(
    ("reason", "counted"),
    [
        ("too_far", 0),
        ("imprecise", 0),
        ("too_fast", 0),
        ("too_soon", 2),  # earns nothing, but the person was there: footfall
        (None, 1),
    ],
)
def test_each_reason_to_leave_a_checkin_out(client, actions, owned, pinned_clock, reason, counted):
    owner, venue = owned
    _five_regulars(actions, venue)
    pinned_clock.advance(hours=2)
    sixth = actions.register()
    response = _flagged(actions, sixth, venue, pinned_clock, reason)
    assert response.status_code == 201
    codes = [r["code"] for r in response.json["rewards"]["reasons"]]
    assert codes == ([reason] if reason else [])
    day = {"from": "2026-06-10", "to": "2026-06-10"}
    body = stats(client, owner, venue, **day)
    assert body["total_checkins"] == 5 + counted
    assert body["unique_visitors"] == 5 + (1 if counted else 0)
