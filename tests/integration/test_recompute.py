"""Recomputing rewards from the history gives what live awarding gave."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from geographiclib.geodesic import Geodesic
from sqlalchemy import func, select

from service.database import db
from service.models import PointsEntry, User, UserBadge, VenueMayor

WGS84 = Geodesic.WGS84


def _snapshot(app):
    with app.app_context():
        session = db.session
        return {
            "points": dict(session.execute(select(User.id, User.points)).all()),
            "ledger": dict(
                session.execute(
                    select(PointsEntry.user_id, func.sum(PointsEntry.points)).group_by(
                        PointsEntry.user_id
                    )
                ).all()
            ),
            "reasons": dict(
                session.execute(
                    select(PointsEntry.reason, func.count()).group_by(PointsEntry.reason)
                ).all()
            ),
            "badges": set(
                session.execute(select(UserBadge.user_id, UserBadge.badge, UserBadge.level)).all()
            ),
            "mayors": set(session.execute(select(VenueMayor.venue_id, VenueMayor.user_id)).all()),
        }


@pytest.mark.slow
def test_recompute_matches_live_awarding(app, client, actions, friends, frozen_clock, runner):
    rng = random.Random(7)
    people = friends(6) + [actions.register() for _ in range(6)]
    owner = actions.register()
    venues = []
    for index in range(5):
        point = WGS84.Direct(40.7306, -73.9866, 45, 120 * index)
        venues.append(actions.venue(owner, point["lat2"], point["lon2"]))
    frozen_clock.current = datetime(2026, 2, 1, 15, 0, tzinfo=UTC)
    event = client.post(
        "/api/v1/events",
        headers=owner["headers"],
        json={
            "title": "Two-week hackathon",
            "venue_id": venues[0]["id"],
            "starts_at": frozen_clock.current.isoformat(),
            "ends_at": (frozen_clock.current + timedelta(days=15)).isoformat(),
        },
    ).json
    for day in range(14):  # two weeks of visits
        for person in people:
            if rng.random() < 0.7 or day == 13:
                venue = venues[0] if day == 13 else rng.choice(venues)
                extra = {"event_id": event["id"]} if venue["id"] == venues[0]["id"] else {}
                actions.check_in(person, venue, accuracy_m=rng.choice([10, 30, 900]), **extra)
            frozen_clock.advance(minutes=rng.randint(5, 50))
        frozen_clock.advance(hours=rng.randint(14, 20))
    live = _snapshot(app)
    assert live["reasons"].get("first_meeting") and live["reasons"].get("mayorship")
    assert live["reasons"].get("event") and live["reasons"].get("streak")
    assert {badge for _, badge, _ in live["badges"]} >= {"newbie", "face_to_face", "mayor", "host"}
    assert live["ledger"] == {k: v for k, v in live["points"].items() if v}
    for _ in range(2):  # and again: idempotent
        result = runner.invoke(args=["recompute-rewards", "--quiet"])
        assert result.exit_code == 0, result.output
        assert "eligible check-ins" in result.output
        assert _snapshot(app) == live


def test_recompute_matches_replays_and_mayorships_that_aged_out(
    app, client, actions, friends, frozen_clock, runner
):
    """Live: a replay that moves a pair's first meeting (with its correcting ledger lines),
    a replay that fills a streak's gap, a mayorship that aged out and was re-decided by the
    job. Recomputing gives the same points, ledger reasons, badges and mayors."""
    a, b = friends(2)
    owner = actions.register()
    park = actions.venue(owner, 40.7306, -73.9866, name="Park")
    point = WGS84.Direct(40.7306, -73.9866, 90, 1000)
    cafe = actions.venue(owner, point["lat2"], point["lon2"], name="Cafe")
    noon = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)  # noon in New York
    for day in (0, 1, 3):  # a: the park's mayor from Jan 6; b misses Jan 7 (replayed later)
        frozen_clock.current = noon + timedelta(days=day)
        actions.check_in(a, park)
        actions.check_in(b, cafe)
    frozen_clock.current = noon + timedelta(days=3, hours=1)
    replay = (noon + timedelta(days=2, hours=3)).isoformat()
    assert actions.check_in(b, cafe, client_time=replay).status_code == 201
    frozen_clock.current = noon + timedelta(days=4, hours=-3)
    actions.check_in(a, park)  # 09:00 at the park
    frozen_clock.current = noon + timedelta(days=4)
    actions.check_in(a, cafe)
    frozen_clock.current = noon + timedelta(days=4, minutes=30)
    assert actions.check_in(b, cafe).json["meetings"][0]["first_time"] is True
    frozen_clock.current = noon + timedelta(days=4, hours=1)
    replay = (noon + timedelta(days=4, hours=-2, minutes=-30)).isoformat()
    moved = actions.check_in(b, park, client_time=replay).json["meetings"]
    assert moved[0]["first_time"] is True and moved[0]["replaces_first_meeting_id"]
    frozen_clock.current = noon + timedelta(days=70)  # every day has left the window
    assert runner.invoke(args=["expire-mayorships"]).exit_code == 0
    live = _snapshot(app)
    assert live["reasons"]["first_meeting_moved"] == 2 and live["mayors"] == set()
    assert live["ledger"] == {k: v for k, v in live["points"].items() if v}
    assert {(badge, user) for user, badge, _ in live["badges"]} >= {
        ("mayor", a["user"]["id"]),
        ("face_to_face", b["user"]["id"]),
    }
    for _ in range(2):
        result = runner.invoke(args=["recompute-rewards", "--quiet"])
        assert result.exit_code == 0, result.output
        assert _snapshot(app) == live
