"""Meeting safely (PRODUCT.md): a plan's whole life, the safety contact's consent, what
nobody else may learn, and the worker keeping the deadline exactly once.

People: A (the author) meets B (``with``); C is A's safety contact; D is a contact of A
who is in none of it; E is a stranger."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.database import db
from service.models import Notification, Plan
from service.plans import deadlines
from tests.conftest import befriend, offset_point

HERE = (40.7306, -73.9866)  # New York


@pytest.fixture
def people(friends, actions):
    a, b, c, d = friends(4)
    return {"a": a, "b": b, "c": c, "d": d, "e": actions.register()}


@pytest.fixture
def venue(actions, people):
    return actions.venue(people["d"], *HERE, name="Cafe Meet")


def plan_body(people, venue, at, **changes) -> dict:
    return {
        "with": people["b"]["user"]["handle"],
        "venue_id": venue["id"],
        "at": at.isoformat(),
        "safety_contact": people["c"]["user"]["handle"],
        "check_by": (at + timedelta(hours=3)).isoformat(),
        **changes,
    }


def make_plan(client, people, venue, at, **changes) -> dict:
    response = client.post(
        "/api/v1/me/plans",
        headers=people["a"]["headers"],
        json=plan_body(people, venue, at, **changes),
    )
    assert response.status_code == 201, response.json
    return response.json


def notes(client, user, kind: str) -> list[dict]:
    response = client.get("/api/v1/me/notifications", headers=user["headers"])
    assert response.status_code == 200, response.json
    return [n for n in response.json["items"] if n["kind"] == kind]


def every_note(client, user) -> list[dict]:
    return client.get("/api/v1/me/notifications", headers=user["headers"]).json["items"]


def accept(client, people, plan) -> dict:
    response = client.post(
        f"/api/v1/me/watching/{plan['id']}/accept", headers=people["c"]["headers"]
    )
    assert response.status_code == 200, response.json
    return response.json


def worker_runs(app, now) -> int:
    """What the worker does every second: act on the plans that fell due."""
    with app.app_context():
        return deadlines.run_due(db.session, now)


def mine(client, user) -> list[dict]:
    return client.get("/api/v1/me/plans", headers=user["headers"]).json["items"]


def test_arrived_then_all_good(client, actions, people, venue, frozen_clock):
    at = frozen_clock.current + timedelta(hours=1)
    plan = make_plan(client, people, venue, at)
    assert plan["with"]["handle"] == people["b"]["user"]["handle"]
    assert plan["watched"] is False and plan["open"] is True
    (asked,) = notes(client, people["c"], "plan_watch")  # who, where, when
    assert asked["data"]["plan_id"] == plan["id"]
    assert asked["data"]["with"]["handle"] == people["b"]["user"]["handle"]
    assert asked["data"]["venue"]["name"] == "Cafe Meet"
    (told,) = notes(client, people["b"], "plan_safety")  # that there is one, never who
    assert people["c"]["user"]["handle"] not in str(told)
    assert people["c"]["user"]["display_name"] not in str(told)
    watched = accept(client, people, plan)
    assert watched["user"]["handle"] == people["a"]["user"]["handle"] and watched["watched"]
    assert len(notes(client, people["a"], "plan_watching")) == 1
    frozen_clock.advance(minutes=40)  # 20 minutes early: in the window
    next_door = actions.venue(people["d"], *offset_point(HERE, 60), name="Next door")
    assert actions.check_in(people["a"], next_door).status_code == 201  # ≤ 75 m counts
    (arrived,) = notes(client, people["c"], "plan_arrived")
    assert arrived["data"]["plan_id"] == plan["id"]
    response = client.post(f"/api/v1/me/plans/{plan['id']}/ok", headers=people["a"]["headers"])
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "ok" and response.json["open"] is False
    assert len(notes(client, people["c"], "plan_ok")) == 1
    again = client.post(f"/api/v1/me/plans/{plan['id']}/ok", headers=people["a"]["headers"])
    assert again.status_code == 409


def test_missed_alerts_twice_then_closes(app, client, people, venue, frozen_clock):
    at = frozen_clock.current + timedelta(hours=1)
    plan = make_plan(client, people, venue, at)
    accept(client, people, plan)
    check_by = at + timedelta(hours=3)
    assert worker_runs(app, check_by - timedelta(seconds=1)) == 0  # not yet due
    frozen_clock.current = check_by
    assert worker_runs(app, check_by) == 1
    (alert,) = notes(client, people["c"], "plan_missed")
    assert alert["quiet"] is False and alert["data"]["alert"] == 1
    assert alert["data"]["venue"]["name"] == "Cafe Meet"
    assert alert["data"]["with"]["handle"] == people["b"]["user"]["handle"]
    assert worker_runs(app, check_by + timedelta(minutes=29)) == 0
    frozen_clock.current = check_by + timedelta(minutes=30)
    assert worker_runs(app, frozen_clock.current) == 1
    alerts = notes(client, people["c"], "plan_missed")
    assert [n["data"]["alert"] for n in alerts] == [2, 1]
    (closed,) = mine(client, people["a"])
    assert closed["outcome"] == "missed" and closed["alerts"] == 2
    frozen_clock.current += timedelta(days=7)  # deleted a week after it closed
    assert worker_runs(app, frozen_clock.current) == 1
    assert mine(client, people["a"]) == []


def test_the_alert_says_where_i_was_last_seen(app, client, actions, people, venue, frozen_clock):
    elsewhere = actions.venue(people["d"], *offset_point(HERE, 3000), name="Bar far away")
    assert actions.check_in(people["a"], elsewhere).status_code == 201
    at = frozen_clock.current + timedelta(hours=1)
    plan = make_plan(client, people, venue, at, check_by=(at + timedelta(hours=1)).isoformat())
    accept(client, people, plan)
    frozen_clock.current = at + timedelta(hours=1)
    worker_runs(app, frozen_clock.current)
    (alert,) = notes(client, people["c"], "plan_missed")
    assert alert["data"]["last_seen"]["venue"]["name"] == "Bar far away"


def test_an_answer_after_the_first_alert_stops_the_second(app, client, people, venue, frozen_clock):
    at = frozen_clock.current + timedelta(hours=1)
    plan = make_plan(client, people, venue, at)
    accept(client, people, plan)
    frozen_clock.current = at + timedelta(hours=3)
    worker_runs(app, frozen_clock.current)
    ok = client.post(f"/api/v1/me/plans/{plan['id']}/ok", headers=people["a"]["headers"])
    assert ok.status_code == 200
    frozen_clock.current += timedelta(minutes=30)
    worker_runs(app, frozen_clock.current)
    assert len(notes(client, people["c"], "plan_missed")) == 1
    assert len(notes(client, people["c"], "plan_ok")) == 1


def test_an_arrived_plan_is_not_alerted(app, client, actions, people, venue, frozen_clock):
    at = frozen_clock.current + timedelta(hours=1)
    plan = make_plan(client, people, venue, at)
    accept(client, people, plan)
    frozen_clock.current = at
    assert actions.check_in(people["a"], venue).status_code == 201
    frozen_clock.current = at + timedelta(hours=3)
    worker_runs(app, frozen_clock.current)
    assert notes(client, people["c"], "plan_missed") == []
    assert mine(client, people["a"])[0]["outcome"] == "arrived"


def test_checkins_that_do_not_arrive(client, actions, people, venue, frozen_clock):
    """Too early, too far (another venue 200 m away), or not really there (too_far from
    the venue itself): the watcher hears nothing."""
    at = frozen_clock.current + timedelta(hours=2)
    plan = make_plan(client, people, venue, at)
    accept(client, people, plan)
    assert actions.check_in(people["a"], venue).status_code == 201  # 2 h early
    frozen_clock.current = at
    farther = actions.venue(people["d"], *offset_point(HERE, 200), name="Across the square")
    assert actions.check_in(people["a"], farther).status_code == 201
    frozen_clock.advance(minutes=61)
    away = offset_point(HERE, 900)
    assert actions.check_in(people["a"], venue, lat=away[0], lon=away[1]).status_code == 201
    assert notes(client, people["c"], "plan_arrived") == []
    assert mine(client, people["a"])[0]["arrived_at"] is None


def test_consent_nothing_but_the_request_before_accepting(
    app, client, actions, people, venue, frozen_clock
):
    at = frozen_clock.current + timedelta(hours=1)
    plan = make_plan(client, people, venue, at)
    elsewhere = actions.venue(people["d"], *offset_point(HERE, 2000), name="Elsewhere")
    unmet = make_plan(client, people, elsewhere, at)  # nobody arrives at this one
    frozen_clock.current = at
    assert actions.check_in(people["a"], venue).status_code == 201
    frozen_clock.current = at + timedelta(hours=3)
    worker_runs(app, frozen_clock.current)
    assert [n["kind"] for n in every_note(client, people["c"])] == ["plan_watch"] * 2
    outcomes = {p["id"]: (p["outcome"], p["watched"]) for p in mine(client, people["a"])}
    assert outcomes == {plan["id"]: ("arrived", False), unmet["id"]: ("unwatched", False)}
    late = client.post(f"/api/v1/me/watching/{plan['id']}/accept", headers=people["c"]["headers"])
    assert late.status_code == 409


def test_cancel_tells_the_watcher_and_a_closed_plan_can_be_deleted(
    client, people, venue, frozen_clock
):
    plan = make_plan(client, people, venue, frozen_clock.current + timedelta(hours=1))
    accept(client, people, plan)
    url = f"/api/v1/me/plans/{plan['id']}"
    assert client.delete(url, headers=people["a"]["headers"]).status_code == 204
    assert len(notes(client, people["c"], "plan_cancelled")) == 1
    assert mine(client, people["a"])[0]["outcome"] == "cancelled"
    assert client.delete(url, headers=people["a"]["headers"]).status_code == 204
    assert mine(client, people["a"]) == []
    assert client.delete(url, headers=people["a"]["headers"]).status_code == 404


def test_nobody_else_can_read_or_touch_a_plan(app, client, actions, people, venue, frozen_clock):
    """The attack: D (A's contact, in none of it), E (a stranger) and B (the person met)
    try every plan endpoint with the plan's id, and look everywhere A shows up."""
    plan = make_plan(client, people, venue, frozen_clock.current + timedelta(hours=1))
    for who in ("b", "d", "e"):
        headers = people[who]["headers"]
        assert mine(client, people[who]) == []
        assert client.get("/api/v1/me/watching", headers=headers).json["items"] == []
        for method, path in (
            ("post", f"/api/v1/me/watching/{plan['id']}/accept"),
            ("post", f"/api/v1/me/plans/{plan['id']}/ok"),
            ("delete", f"/api/v1/me/plans/{plan['id']}"),
        ):
            assert getattr(client, method)(path, headers=headers).status_code == 404, (who, path)
        assert not [n for n in every_note(client, people[who]) if n["kind"] != "plan_safety"]
    # A's sharing, feed and "here" are as they were: a plan shows nowhere else
    me = client.get("/api/v1/me", headers=people["a"]["headers"]).json
    assert me["location_sharing"] == "exact"
    for who in ("b", "d"):
        feed = client.get("/api/v1/feed", headers=people[who]["headers"]).json
        assert feed["items"] == []
        here = client.get(f"/api/v1/venues/{venue['id']}/here", headers=people[who]["headers"])
        assert here.json["items"] == []
    assert mine(client, people["a"])[0]["id"] == plan["id"]  # untouched


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"with": "E"}, "with"),  # a stranger
        ({"safety_contact": "E"}, "safety_contact"),
        ({"safety_contact": "B"}, "safety_contact"),  # the person met watching themself
        ({"with": "A"}, "with"),  # myself
        ({"check_by": "PAST"}, "check_by"),
        ({"check_by": "TOO_LATE"}, "check_by"),
        ({"check_by": "BEFORE_AT"}, "check_by"),
        ({"check_by": "2026-13-01T00:00:00Z"}, "check_by"),
        ({"at": "2026-06-10T12:00:00"}, "at"),  # no offset
        ({"venue_id": 0}, "venue_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_plans_are_refused_and_nothing_is_stored(
    app, client, people, venue, frozen_clock, changes, field
):
    at = frozen_clock.current + timedelta(hours=1)
    names = {k: people[k.lower()]["user"]["handle"] for k in "ABE"}
    times = {
        "PAST": frozen_clock.current - timedelta(minutes=1),
        "TOO_LATE": at + timedelta(hours=12, seconds=1),
        "BEFORE_AT": at - timedelta(minutes=1),
    }
    resolved = {
        key: names.get(value, times[value].isoformat() if value in times else value)
        if isinstance(value, str)
        else value
        for key, value in changes.items()
    }
    body = {**plan_body(people, venue, at), **resolved}
    response = client.post("/api/v1/me/plans", headers=people["a"]["headers"], json=body)
    assert response.status_code == 422, response.json
    assert field in str(response.json.get("errors", {})), response.json
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 0
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_deleted_venue_is_refused(client, people, venue, frozen_clock):
    assert (
        client.delete(f"/api/v1/venues/{venue['id']}", headers=people["d"]["headers"]).status_code
        == 204
    )
    body = plan_body(people, venue, frozen_clock.current + timedelta(hours=1))
    response = client.post("/api/v1/me/plans", headers=people["a"]["headers"], json=body)
    assert response.status_code == 404 and "venue" in response.json["message"].lower()
    assert mine(client, people["a"]) == []


def test_the_watcher_never_gets_the_face_of_someone_who_is_not_their_contact(
    client, actions, verified, frozen_clock
):
    """A's contacts B and C do not know each other; B has a verified GitHub identity. The
    plan tells C whom A meets, by name: never B's networks and picture."""
    a, b, c = (actions.register() for _ in range(3))
    befriend(client, a, b)
    befriend(client, a, c)
    verified(b, "github", f"gh{b['user']['handle']}")
    venue = actions.venue(a, *HERE)
    at = frozen_clock.current + timedelta(hours=1)
    body = {
        "with": b["user"]["handle"],
        "venue_id": venue["id"],
        "at": at.isoformat(),
        "safety_contact": c["user"]["handle"],
        "check_by": (at + timedelta(hours=1)).isoformat(),
    }
    created = client.post("/api/v1/me/plans", headers=a["headers"], json=body)
    assert created.status_code == 201, created.json
    assert created.json["with"]["identities"]  # A, B's contact, sees B's face
    (asked,) = notes(client, c, "plan_watch")
    assert "identities" not in asked["data"]["with"] and "gh" not in str(asked["data"]["with"])
    accepted = client.post(f"/api/v1/me/watching/{created.json['id']}/accept", headers=c["headers"])
    assert accepted.json["with"]["identities"] == []
    (listed,) = client.get("/api/v1/me/watching", headers=c["headers"]).json["items"]
    assert listed["with"]["identities"] == []
