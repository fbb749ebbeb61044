"""Mayorships: most local days in 60 days (at least 2), ties keep, staff excluded."""

from datetime import UTC, datetime, timedelta

import pytest

TOKYO = (35.6595, 139.7005)
NYC = (40.7306, -73.9866)


@pytest.fixture
def place(actions):
    owner = actions.register()
    return actions.venue(owner, *NYC, name="Diner")


def _mayor(client, viewer, venue):
    return client.get(f"/api/v1/venues/{venue['id']}/mayor", headers=viewer["headers"]).json


def _checkin_days(actions, frozen_clock, user, venue, days, start):
    for day in range(days):
        frozen_clock.current = start + timedelta(days=day)
        response = actions.check_in(user, venue)
        assert response.status_code == 201


def test_two_days_make_a_mayor(client, actions, place, frozen_clock):
    user = actions.register()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    _checkin_days(actions, frozen_clock, user, place, 1, start)
    assert _mayor(client, user, place)["has_mayor"] is False
    frozen_clock.current = start + timedelta(days=1)
    response = actions.check_in(user, place)
    assert response.json["rewards"]["mayorship"] == {
        "venue_id": place["id"],
        "status": "new",
        "days": 2,
    }
    assert response.json["rewards"]["points"] == 5 + 2 + 25
    mayor = _mayor(client, user, place)
    assert mayor["mayor"]["handle"] == user["user"]["handle"] and mayor["days"] == 2


def test_ties_keep_the_mayor_and_more_days_win(client, actions, place, frozen_clock):
    first, second = actions.register(), actions.register()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    for day in range(3):
        _checkin_days(actions, frozen_clock, first, place, 1, start + timedelta(days=day))
        _checkin_days(actions, frozen_clock, second, place, 1, start + timedelta(days=day, hours=2))
    assert _mayor(client, first, place)["mayor"]["handle"] == first["user"]["handle"]
    frozen_clock.current = start + timedelta(days=3, hours=2)
    response = actions.check_in(second, place)
    assert response.json["rewards"]["mayorship"]["status"] == "new"
    assert _mayor(client, second, place)["mayor"]["handle"] == second["user"]["handle"]


def test_sixty_day_window(client, actions, place, frozen_clock):
    old, new = actions.register(), actions.register()
    start = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)  # Jan 1-3, noon in New York
    _checkin_days(actions, frozen_clock, old, place, 3, start)
    assert _mayor(client, old, place)["days"] == 3
    # Mar 2 is 60 days after Jan 1: Jan 1 has left the window, old keeps 2 days; a tie
    _checkin_days(actions, frozen_clock, new, place, 2, start + timedelta(days=59))
    assert _mayor(client, old, place)["mayor"]["handle"] == old["user"]["handle"]
    # Mar 3: old has 1 day left in the window, new has 3
    frozen_clock.current = start + timedelta(days=61)
    assert actions.check_in(new, place).json["rewards"]["mayorship"]["status"] == "new"


def test_local_days_in_the_venue_time_zone(client, actions, frozen_clock):
    owner, user = actions.register(), actions.register()
    venue = actions.venue(owner, *TOKYO, name="Shibuya bar")
    # 23:30 and 00:30 in Tokyo: two local days, one UTC day
    frozen_clock.current = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)
    actions.check_in(user, venue)
    frozen_clock.current = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)
    response = actions.check_in(user, venue)
    assert response.json["rewards"]["mayorship"]["days"] == 2


def test_no_more_than_60_days_in_60(client, actions, place, frozen_clock):
    user = actions.register()
    start = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)
    _checkin_days(actions, frozen_clock, user, place, 61, start)
    assert _mayor(client, user, place)["days"] == 60


def _owned_place(client, actions, runner):
    owner = actions.register()
    venue = actions.venue(owner, *NYC, name="Owned diner")
    claim = client.post(f"/api/v1/venues/{venue['id']}/claim", headers=owner["headers"]).json
    assert runner.invoke(args=["approve-claim", str(claim["id"])]).exit_code == 0
    return owner, venue


def _invite(client, owner, venue, person):
    response = client.put(
        f"/api/v1/venues/{venue['id']}/staff/{person['user']['handle']}", headers=owner["headers"]
    )
    assert response.status_code in (200, 201), response.json
    mine = client.get("/api/v1/me/staff-invitations", headers=person["headers"]).json["items"]
    return next(i for i in mine if i["venue"]["id"] == venue["id"])


def test_staff_are_excluded_from_acceptance_on(client, actions, runner, frozen_clock):
    owner, place = _owned_place(client, actions, runner)
    staff, regular = actions.register(), actions.register()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    _checkin_days(actions, frozen_clock, staff, place, 3, start)
    assert _mayor(client, owner, place)["has_mayor"] is True
    invitation = _invite(client, owner, place, staff)
    assert invitation["status"] == "invited"
    assert _mayor(client, owner, place)["has_mayor"] is True  # an invitation changes nothing
    accepted = client.post(
        f"/api/v1/me/staff-invitations/{invitation['id']}/accept", headers=staff["headers"]
    )
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    # the 3 days before accepting still count: still the mayor
    assert _mayor(client, owner, place)["has_mayor"] is True
    _checkin_days(actions, frozen_clock, staff, place, 5, start + timedelta(days=3))
    _checkin_days(actions, frozen_clock, regular, place, 4, start + timedelta(days=3))
    assert _mayor(client, regular, place)["mayor"]["handle"] == regular["user"]["handle"]


def test_declining_or_leaving_staff_redecides_the_mayor(client, actions, runner, frozen_clock):
    owner, place = _owned_place(client, actions, runner)
    staff, regular = actions.register(), actions.register()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    frozen_clock.current = start - timedelta(days=1)
    invitation = _invite(client, owner, place, staff)
    client.post(f"/api/v1/me/staff-invitations/{invitation['id']}/accept", headers=staff["headers"])
    _checkin_days(actions, frozen_clock, staff, place, 5, start)
    _checkin_days(actions, frozen_clock, regular, place, 2, start + timedelta(days=5))
    assert _mayor(client, regular, place)["mayor"]["handle"] == regular["user"]["handle"]
    declined = client.post(
        f"/api/v1/me/staff-invitations/{invitation['id']}/decline", headers=staff["headers"]
    )
    assert declined.json["status"] == "declined"
    # no longer staff: the 5 days count, and the mayorship moves at once
    assert _mayor(client, staff, place)["mayor"]["handle"] == staff["user"]["handle"]
    assert _mayor(client, staff, place)["days"] == 5
    again = client.put(
        f"/api/v1/venues/{place['id']}/staff/{staff['user']['handle']}", headers=owner["headers"]
    )
    assert again.status_code == 409  # who declined is not asked again


def test_private_and_sharing_off_checkins_earn_no_mayorship_days(
    client, actions, place, frozen_clock
):
    """Mayorship days come only from check-ins contacts could see: otherwise two private
    visits would show up as a mayor's name and day count."""
    hidden, off = actions.register(), actions.register()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    for day in range(3):
        frozen_clock.current = start + timedelta(days=day)
        response = actions.check_in(hidden, place, private=True)
        assert response.status_code == 201 and response.json["rewards"]["points"] > 0
    assert _mayor(client, hidden, place)["has_mayor"] is False
    client.patch("/api/v1/me", headers=off["headers"], json={"location_sharing": "off"})
    _checkin_days(actions, frozen_clock, off, place, 3, start + timedelta(days=3))
    assert _mayor(client, off, place)["has_mayor"] is False


def test_strangers_do_not_learn_who_the_mayor_is(client, actions, friends, place, frozen_clock):
    mayor, contact = friends(2)
    stranger = actions.register()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    _checkin_days(actions, frozen_clock, mayor, place, 2, start)
    assert _mayor(client, contact, place)["mayor"]["handle"] == mayor["user"]["handle"]
    hidden = _mayor(client, stranger, place)
    assert hidden["has_mayor"] is True and hidden["mayor"] is None and hidden["days"] is None
    client.patch("/api/v1/me", headers=mayor["headers"], json={"location_sharing": "approximate"})
    assert _mayor(client, contact, place)["mayor"] is None
    assert (
        client.get("/api/v1/venues/999999999/mayor", headers=stranger["headers"]).status_code == 404
    )
