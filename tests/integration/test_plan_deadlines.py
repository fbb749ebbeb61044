"""The worker keeps meeting plans' deadlines for real: committed data, several workers
at once, a worker that dies mid-way, and the urgent push (quiet hours or not)."""

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.database import db
from service.models import Notification, Plan
from service.notifications.push import PushSettings, PushWorker
from service.plans import deadlines
from tests.conftest import Actions, befriend
from tests.live import Receiver

HERE = (40.7306, -73.9866)  # New York
SECRET = "push-signing-secret"


def planned(app, frozen_clock) -> tuple[dict, dict, dict]:
    """A meets B at noon yesterday, C accepted to watch, check-by 15:00: all committed.
    Returns (A, C, the plan)."""
    client = app.test_client()
    actions = Actions(client)
    a, b, c = (actions.register() for _ in range(3))
    for x, y in ((a, b), (a, c), (b, c)):
        befriend(client, x, y)
    venue = actions.venue(b, *HERE)
    frozen_clock.current = (frozen_clock.current - timedelta(days=1)).replace(hour=16, minute=0)
    at = frozen_clock.current + timedelta(minutes=30)
    body = {
        "with": b["user"]["handle"],
        "venue_id": venue["id"],
        "at": at.isoformat(),
        "safety_contact": c["user"]["handle"],
        "check_by": (at + timedelta(hours=2)).isoformat(),
    }
    plan = client.post("/api/v1/me/plans", headers=a["headers"], json=body)
    assert plan.status_code == 201, plan.json
    accepted = client.post(f"/api/v1/me/watching/{plan.json['id']}/accept", headers=c["headers"])
    assert accepted.status_code == 200
    frozen_clock.current = at + timedelta(hours=2)  # check_by: due
    return a, c, plan.json


def alerts(app, user: dict) -> list[Notification]:
    with app.app_context():
        return db.session.scalars(
            select(Notification).where(
                Notification.user_id == user["user"]["id"], Notification.kind == "plan_missed"
            )
        ).all()


def test_two_workers_racing_on_a_due_plan_alert_once(live_app, frozen_clock):
    _a, c, _plan = planned(live_app, frozen_clock)
    engine = db.state(live_app).engine
    start = threading.Barrier(2)
    acted = []

    def worker():
        with live_app.app_context(), Session(engine) as session:
            start.wait()
            acted.append(deadlines.run_due(session, frozen_clock.current))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(acted) == [0, 1]
    assert len(alerts(live_app, c)) == 1


def test_a_worker_whose_due_list_went_stale_skips_what_another_did(
    live_app, frozen_clock, monkeypatch
):
    """The first worker reads the due plan, then the second acts on it and commits before
    the first claims it: the claim finds it no longer due."""
    _a, c, _plan = planned(live_app, frozen_clock)
    engine = db.state(live_app).engine
    read_due = deadlines._due
    acted = []

    def due_then_another_worker(db_session, now, batch):
        keys = read_due(db_session, now, batch)
        monkeypatch.setattr(deadlines, "_due", read_due)  # the other worker reads as usual
        with Session(engine) as other:
            acted.append(deadlines.run_due(other, now))
        return keys

    monkeypatch.setattr(deadlines, "_due", due_then_another_worker)
    with live_app.app_context(), Session(engine) as session:
        late = deadlines.run_due(session, frozen_clock.current)
    assert acted == [1] and late == 0
    assert len(alerts(live_app, c)) == 1


def test_a_worker_that_dies_before_committing_leaves_the_alert_to_the_next(live_app, frozen_clock):
    _a, c, plan = planned(live_app, frozen_clock)
    engine = db.state(live_app).engine
    with live_app.app_context():
        dying = Session(engine)
        claimed = dying.scalars(
            select(Plan)
            .where(Plan.user_id == _a["user"]["id"], Plan.id == plan["id"])
            .with_for_update(skip_locked=True)
        ).all()
        assert [p.id for p in claimed] == [plan["id"]]
        with Session(engine) as other:  # meanwhile, another worker skips the claimed plan
            assert deadlines.run_due(other, frozen_clock.current) == 0
        dying.close()  # the process died: its transaction rolls back, nothing was sent
    assert alerts(live_app, c) == []
    worker = PushWorker(engine, PushSettings(gateway_url="", secret=b""))  # a restart
    try:
        with live_app.app_context():
            assert worker.keep_plan_deadlines(frozen_clock.current) == 1
            assert worker.keep_plan_deadlines(frozen_clock.current) == 0  # not twice
    finally:
        worker.close()
    assert len(alerts(live_app, c)) == 1


@pytest.fixture
def gateway():
    server = Receiver((200,))
    yield server
    server.close()


def test_the_alert_is_pushed_at_high_priority_even_in_quiet_hours(live_app, frozen_clock, gateway):
    saved = dict(live_app.config)
    live_app.config.update(PUSH_GATEWAY_URL=gateway.url, PUSH_SIGNING_SECRET=SECRET)
    try:
        _a, c, _plan = planned(live_app, frozen_clock)
        client = live_app.test_client()
        quiet = {"quiet_hours": {"start": "00:00", "end": "23:59"}, "timezone": "UTC"}
        assert client.patch("/api/v1/me", headers=c["headers"], json=quiet).status_code == 200
        device = {"platform": "ios", "token": "apns-c"}
        assert (
            client.post("/api/v1/me/devices", headers=c["headers"], json=device).status_code == 201
        )
        engine = db.state(live_app).engine
        worker = PushWorker(engine, PushSettings(gateway_url=gateway.url, secret=SECRET.encode()))
        try:
            with live_app.app_context():
                assert worker.keep_plan_deadlines(frozen_clock.current) == 1
                assert worker.deliver_due(frozen_clock.current + timedelta(seconds=1)) >= 1
        finally:
            worker.close()
        bodies = [json.loads(r["body"]) for r in gateway.requests]
        (urgent,) = [b for b in bodies if b["notification"]["kind"] == "plan_missed"]
        assert urgent["priority"] == "high" and urgent["notification"]["quiet"] is False
        assert {b["priority"] for b in bodies if b is not urgent} <= {"normal"}
    finally:
        live_app.config.clear()
        live_app.config.update(saved)
    with live_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 1
