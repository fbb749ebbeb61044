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
    # Mar 3: old has 1 day left in the window, new has 2: new is mayor from midnight on,
    # before anyone checks in (the mayorship aged out), so new's check-in keeps it
    frozen_clock.current = start + timedelta(days=61)
    assert _mayor(client, new, place)["mayor"]["handle"] == new["user"]["handle"]
    assert actions.check_in(new, place).json["rewards"]["mayorship"] == {
        "venue_id": place["id"],
        "status": "kept",
        "days": 3,
    }


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
    # staff cannot be mayor: the crown goes at once (their past days stay theirs)
    assert _mayor(client, owner, place)["has_mayor"] is False
    _checkin_days(actions, frozen_clock, staff, place, 5, start + timedelta(days=3))
    _checkin_days(actions, frozen_clock, regular, place, 4, start + timedelta(days=3))
    assert _mayor(client, regular, place)["mayor"]["handle"] == regular["user"]["handle"]


def test_leaving_the_staff_changes_no_past_standing(client, actions, runner, frozen_clock):
    """Before: removing (or un-accepting) staff re-counted their days as staff, so the
    mayor moved and an owner learnt when they had been there. Leaving now keeps them out
    from their acceptance on."""
    owner, place = _owned_place(client, actions, runner)
    staff, regular, other = actions.register(), actions.register(), actions.register()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    frozen_clock.current = start - timedelta(days=1)
    for person in (staff, other):
        invitation = _invite(client, owner, place, person)
        accepted = client.post(
            f"/api/v1/me/staff-invitations/{invitation['id']}/accept", headers=person["headers"]
        )
        assert accepted.json["status"] == "accepted"
    _checkin_days(actions, frozen_clock, staff, place, 5, start)
    _checkin_days(actions, frozen_clock, other, place, 5, start)
    _checkin_days(actions, frozen_clock, regular, place, 2, start + timedelta(days=5))
    assert _mayor(client, regular, place)["mayor"]["handle"] == regular["user"]["handle"]
    staff_list = client.get(f"/api/v1/venues/{place['id']}/staff", headers=owner["headers"])
    before = {p["handle"]: p["status"] for p in staff_list.json["items"]}
    # the staff member leaves; the owner removes the other one
    mine = client.get("/api/v1/me/staff-invitations", headers=staff["headers"]).json["items"]
    left = client.post(
        f"/api/v1/me/staff-invitations/{mine[0]['id']}/decline", headers=staff["headers"]
    )
    assert left.json["status"] == "ended" and left.json["accepted_at"]
    path = f"/api/v1/venues/{place['id']}/staff/{other['user']['handle']}"
    assert client.delete(path, headers=owner["headers"]).status_code == 204
    assert client.delete(path, headers=owner["headers"]).status_code == 404
    staff_list = client.get(f"/api/v1/venues/{place['id']}/staff", headers=owner["headers"])
    after = {p["handle"]: p["status"] for p in staff_list.json["items"]}
    assert set(before.values()) == {"accepted"} and set(after.values()) == {"ended"}
    # nothing moved: their 5 days as staff still do not count
    assert _mayor(client, regular, place)["mayor"]["handle"] == regular["user"]["handle"]
    assert _mayor(client, regular, place)["days"] == 2
    again = client.put(
        f"/api/v1/venues/{place['id']}/staff/{staff['user']['handle']}", headers=owner["headers"]
    )
    assert again.status_code == 409  # who left is not invited again by the owner


def test_who_declined_is_not_asked_again(client, actions, runner, frozen_clock):
    owner, place = _owned_place(client, actions, runner)
    person = actions.register()
    invitation = _invite(client, owner, place, person)
    declined = client.post(
        f"/api/v1/me/staff-invitations/{invitation['id']}/decline", headers=person["headers"]
    )
    assert declined.json["status"] == "declined" and declined.json["accepted_at"] is None
    again = client.put(
        f"/api/v1/venues/{place['id']}/staff/{person['user']['handle']}", headers=owner["headers"]
    )
    assert again.status_code == 409


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


# --- a mayorship ages out (issue 17, "Rules over time") ---------------------------------


def _inbox_kinds(client, user) -> list[str]:
    items = client.get(
        "/api/v1/me/notifications", headers=user["headers"], query_string={"limit": 100}
    ).json["items"]
    return [n["kind"] for n in items]


def _ledger(app, user) -> list[tuple]:
    from sqlalchemy import select

    from service.database import db
    from service.models import PointsEntry

    with app.app_context():
        return db.session.execute(
            select(PointsEntry.reason, PointsEntry.points, PointsEntry.created_at)
            .where(PointsEntry.user_id == user["user"]["id"])
            .order_by(PointsEntry.id)
        ).all()


def test_a_mayor_whose_days_left_the_window_is_no_mayor(
    client, actions, place, runner, frozen_clock
):
    """Nobody checks in there again: the mayor still ages out, on read at once and in the
    table (with a notification) when the job runs."""
    mayor = actions.register()
    start = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)  # Jan 1-2, noon in New York
    _checkin_days(actions, frozen_clock, mayor, place, 2, start)
    assert _mayor(client, mayor, place)["mayor"]["handle"] == mayor["user"]["handle"]
    frozen_clock.current = datetime(2026, 3, 2, 4, 59, tzinfo=UTC)  # Mar 1, 23:59 in NY
    assert _mayor(client, mayor, place)["days"] == 2
    assert runner.invoke(args=["expire-mayorships"]).output == (
        "re-decided 0 mayorships that aged out\n"
    )
    frozen_clock.current = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # Mar 2: Jan 1 is out
    assert _mayor(client, mayor, place)["has_mayor"] is False
    assert "mayorship_lost" not in _inbox_kinds(client, mayor)
    result = runner.invoke(args=["expire-mayorships"])
    assert result.exit_code == 0, result.output
    assert result.output == "re-decided 1 mayorships that aged out\n"
    assert _mayor(client, mayor, place)["has_mayor"] is False
    assert _inbox_kinds(client, mayor).count("mayorship_lost") == 1
    again = runner.invoke(args=["expire-mayorships"])
    assert again.output == "re-decided 0 mayorships that aged out\n"


def test_the_runner_up_takes_over_when_the_mayors_days_age_out(
    app, client, actions, place, runner, frozen_clock
):
    old, runner_up = actions.register(), actions.register()
    start = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)
    _checkin_days(actions, frozen_clock, old, place, 3, start)  # Jan 1, 2, 3
    _checkin_days(actions, frozen_clock, runner_up, place, 2, start + timedelta(days=20))
    # Mar 2: old has Jan 2-3 left, a tie: old stays mayor
    frozen_clock.current = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert _mayor(client, old, place)["mayor"]["handle"] == old["user"]["handle"]
    assert _mayor(client, old, place)["days"] == 2
    # Mar 3: old has 1 day, the runner-up 2: the runner-up is mayor since midnight
    frozen_clock.current = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    before_job = _mayor(client, runner_up, place)
    assert before_job == {
        "venue_id": place["id"],
        "has_mayor": True,
        "mayor": {
            "handle": runner_up["user"]["handle"],
            "display_name": runner_up["user"]["display_name"],
        },
        "days": 2,
        "since": "2026-03-03T05:00:00+00:00",  # midnight in New York
    }
    assert "mayor" not in [b["key"] for b in _badges(client, runner_up)]
    assert runner.invoke(args=["expire-mayorships"]).exit_code == 0
    assert _mayor(client, runner_up, place) == before_job  # the job records what was shown
    assert "mayorship_lost" in _inbox_kinds(client, old)
    assert "mayorship_gained" in _inbox_kinds(client, runner_up)
    assert "mayor" in [b["key"] for b in _badges(client, runner_up)]
    # the new mayor's +25, dated when the mayorship changed hands
    midnight = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    assert ("mayorship", 25, midnight) in _ledger(app, runner_up)
    me = client.get("/api/v1/me", headers=runner_up["headers"]).json
    assert me["points"] == sum(points for _, points, _ in _ledger(app, runner_up))


def _badges(client, user) -> list[dict]:
    return client.get("/api/v1/me/badges", headers=user["headers"]).json["items"]


def test_a_checkin_after_the_expiry_sees_the_decision_of_that_day(
    client, actions, place, frozen_clock
):
    """Whether the job ran or not, a check-in first settles what fell due before it: the
    runner-up became mayor at midnight, before the rival's check-in could tie."""
    old, runner_up, rival = actions.register(), actions.register(), actions.register()
    start = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)
    _checkin_days(actions, frozen_clock, old, place, 3, start)
    _checkin_days(actions, frozen_clock, runner_up, place, 2, start + timedelta(days=20))
    _checkin_days(actions, frozen_clock, rival, place, 1, start + timedelta(days=30))
    frozen_clock.current = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    response = actions.check_in(rival, place)  # rival: 2 days, a tie with the runner-up
    assert response.json["rewards"]["mayorship"] is None
    assert _mayor(client, runner_up, place)["mayor"]["handle"] == runner_up["user"]["handle"]


def test_the_job_finds_due_mayorships_by_index(app, frozen_clock):
    """Only venues whose mayorship fell due are read, through ix_venue_mayors_expires."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from service.database import db
    from service.rewards import expiry

    query = expiry.due_query(datetime(2026, 3, 3, tzinfo=UTC)).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    with app.app_context():
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {query}")))
    assert "ix_venue_mayors_expires" in plan, plan


def test_the_push_worker_runs_the_job_every_few_minutes(live_app, frozen_clock):
    """``make run``'s push worker settles aged-out mayorships in its loop (committed, with
    the notification), at most once per ``chores_every_s``."""
    from service.database import db
    from service.notifications.push import PushSettings, PushWorker
    from tests.conftest import Actions

    client = live_app.test_client()
    actions = Actions(client)
    mayor = actions.register()
    venue = actions.venue(mayor, *NYC, name="Worker diner")
    _checkin_days(actions, frozen_clock, mayor, venue, 2, datetime(2026, 1, 1, 17, 0, tzinfo=UTC))
    frozen_clock.current = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    worker = PushWorker(
        db.state(live_app).engine, PushSettings(gateway_url="", secret=b"", chores_every_s=300)
    )
    calls = []
    try:
        with live_app.app_context():
            assert worker.run_chores() == 1
            assert worker.run_chores() == 0
        original = worker.run_chores
        worker.run_chores = lambda: calls.append(original()) or calls[-1]
        worker._chores_if_due()
        worker._chores_if_due()  # not due again for 300 s
    finally:
        worker.close()
    assert calls == [0]
    assert _inbox_kinds(client, mayor).count("mayorship_lost") == 1
    assert _mayor(client, mayor, venue)["has_mayor"] is False
