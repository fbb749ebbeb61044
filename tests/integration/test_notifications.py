"""Meeting, badge and mayorship notifications; the inbox; the outbox's atomicity."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from service.database import db
from service.models import Checkin, Notification
from tests.conftest import offset_point

HERE = (48.8566, 2.3522)  # Paris


@pytest.fixture(autouse=True)
def midday(frozen_clock):
    """Paris at noon: no Night Owl badges sneaking into the counts."""
    frozen_clock.current = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    return frozen_clock


def inbox(client, user, **params) -> dict:
    response = client.get("/api/v1/me/notifications", headers=user["headers"], query_string=params)
    assert response.status_code == 200, response.json
    return response.json


def kinds(client, user) -> list[str]:
    return [n["kind"] for n in inbox(client, user, limit=100)["items"]]


def test_a_meeting_tells_both_people(client, actions, friends, frozen_clock):
    a, b = friends(2)
    cafe = actions.venue(a, *HERE, name="Le Cafe")
    actions.check_in(a, cafe)
    frozen_clock.advance(minutes=20)
    actions.check_in(b, cafe)
    for me, other in ((a, b), (b, a)):
        (note,) = [n for n in inbox(client, me)["items"] if n["kind"] == "meeting"]
        assert note["data"]["user"]["handle"] == other["user"]["handle"]
        assert note["data"]["venue"] == {"id": cafe["id"], "name": "Le Cafe"}
        assert note["data"]["first_time"] is True
        assert note["message"].endswith("your first time in person!")
    # the meeting says it all: A is not also told that B is nearby
    assert [n["kind"] for n in inbox(client, a)["items"]].count("nearby") == 0


def test_each_new_badge_is_notified_once(client, actions, friends, frozen_clock):
    (a,) = friends(1)
    actions.check_in(a, actions.venue(a, *HERE))
    badges = [n for n in inbox(client, a)["items"] if n["kind"] == "badge"]
    assert [n["data"]["badge"]["key"] for n in badges] == ["newbie"]
    assert badges[0]["message"] == "You earned the Newbie badge"
    frozen_clock.advance(hours=2)
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 300)))
    keys = [n["data"]["badge"]["key"] for n in inbox(client, a)["items"] if n["kind"] == "badge"]
    assert keys.count("newbie") == 1
    held = client.get("/api/v1/me/badges", headers=a["headers"]).json["items"]
    assert len(keys) == len(held)


def test_mayorship_gained_and_lost(client, actions, friends, frozen_clock):
    a, b = friends(2)
    bar = actions.venue(a, *HERE, name="Le Bar")
    for _day in range(2):
        actions.check_in(a, bar)
        frozen_clock.advance(days=1)
    gained = [n for n in inbox(client, a)["items"] if n["kind"] == "mayorship_gained"]
    assert [n["message"] for n in gained] == ["You are now the mayor of Le Bar"]
    for _day in range(3):
        actions.check_in(b, bar)
        frozen_clock.advance(days=1)
    lost = [n for n in inbox(client, a)["items"] if n["kind"] == "mayorship_lost"]
    assert [n["message"] for n in lost] == ["You are no longer the mayor of Le Bar"]
    assert b["user"]["handle"] not in str(lost[0])  # never who took it
    assert "mayorship_gained" in kinds(client, b)


def test_inbox_pages_newest_first_and_counts_unread(client, actions, friends):
    a, *others = friends(4)
    actions.check_in(a, actions.venue(a, *HERE))
    for index, other in enumerate(others):
        actions.check_in(other, actions.venue(other, *offset_point(HERE, 100 * (index + 1))))
    everything = inbox(client, a, limit=100)["items"]
    ids = [n["id"] for n in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) == 4  # Newbie, then 3 nearby
    first = inbox(client, a, limit=1)
    assert first["items"][0]["id"] == ids[0] and first["unread_count"] == len(ids)
    second = inbox(client, a, limit=1, cursor=first["next_cursor"])
    assert second["items"][0]["id"] == ids[1]
    last = inbox(client, a, limit=100, cursor=first["next_cursor"])
    assert last["next_cursor"] is None and len(last["items"]) == len(ids) - 1


def test_mark_read_by_ids_and_up_to_only_my_own(client, actions, friends):
    a, b = friends(2)
    actions.check_in(a, actions.venue(a, *HERE))
    actions.check_in(b, actions.venue(b, *offset_point(HERE, 5000)))
    mine = [n["id"] for n in inbox(client, a)["items"]]
    theirs = [n["id"] for n in inbox(client, b)["items"]]
    response = client.post(
        "/api/v1/me/notifications/read", headers=a["headers"], json={"ids": theirs + mine[:1]}
    )
    assert response.status_code == 200
    assert response.json == {"marked": 1, "unread_count": len(mine) - 1}
    assert inbox(client, b)["unread_count"] == len(theirs)  # untouched
    assert [n["id"] for n in inbox(client, a, unread_only="true")["items"]] == mine[1:]
    response = client.post(
        "/api/v1/me/notifications/read", headers=b["headers"], json={"up_to": max(theirs)}
    )
    assert response.json == {"marked": len(theirs), "unread_count": 0}
    assert inbox(client, b)["items"][0]["read_at"] is not None
    assert inbox(client, a)["unread_count"] == len(mine) - 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [1], "up_to": 5},
        {"ids": []},
        {"ids": [0]},
        {"ids": ["x"]},
        {"up_to": 2**63},
        {"ids": list(range(1, 1002))},
        {"up_to": 1, "other": True},
    ],
)
def test_mark_read_rejects_bad_bodies(client, actions, body):
    user = actions.register()
    response = client.post("/api/v1/me/notifications/read", headers=user["headers"], json=body)
    assert response.status_code == 422
    assert response.json["message"]


def test_inbox_needs_a_token_and_a_valid_cursor(client, actions):
    assert client.get("/api/v1/me/notifications").status_code == 401
    assert client.post("/api/v1/me/notifications/read", json={"up_to": 1}).status_code == 401
    user = actions.register()
    for cursor in ("garbage", "WyJ4Il0", "WzBd"):
        response = client.get(
            "/api/v1/me/notifications", headers=user["headers"], query_string={"cursor": cursor}
        )
        assert response.status_code == 422
    response = client.get(
        "/api/v1/me/notifications", headers=user["headers"], query_string={"limit": 101}
    )
    assert response.status_code == 422


def test_a_failed_checkin_leaves_no_notification(live_app, engine, monkeypatch):
    """The outbox rows are written, then the commit fails: nothing of it survives and no
    NOTIFY reaches a listener."""
    from service.notifications import outbox
    from tests.conftest import Actions, befriend

    client = live_app.test_client()
    actions = Actions(client)
    a, b = actions.register(), actions.register()
    befriend(client, a, b)
    actions.check_in(b, actions.venue(b, *HERE))
    before = _count(engine, Notification)
    checkins_before = _count(engine, Checkin)
    real = outbox.write_pending

    def write_then_fail(session):
        written = real(session)
        if written:
            raise RuntimeError("the commit failed after the outbox was written")
        return written

    listener = _listen(engine)
    monkeypatch.setattr(outbox, "write_pending", write_then_fail)
    with pytest.raises(RuntimeError):
        actions.check_in(a, actions.venue(a, *offset_point(HERE, 100)))
    monkeypatch.setattr(outbox, "write_pending", real)
    assert _count(engine, Notification) == before
    assert _count(engine, Checkin) == checkins_before
    assert list(listener.notifies(timeout=0.5)) == []
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 120)))
    assert _count(engine, Notification) > before
    assert list(listener.notifies(timeout=2, stop_after=1))
    listener.close()


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def _listen(engine):
    import psycopg

    from service.database import libpq_dsn

    conn = psycopg.connect(libpq_dsn(engine.url.render_as_string(False)), autocommit=True)
    conn.execute("LISTEN irl_notifications")
    return conn


def test_recompute_tells_nobody(runner, client, actions, friends, app):
    (a,) = friends(1)
    actions.check_in(a, actions.venue(a, *HERE))
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Notification))
    assert runner.invoke(args=["recompute-rewards", "--quiet"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == count
        assert db.session.scalar(sa.text("SELECT count(*) FROM user_badges")) >= 1
