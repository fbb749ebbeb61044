"""Where a contact was last seen is kept on their row (``presence.seen``, migration 0018):
the nearby fan-out reads it, so each way it could go wrong is an attack or a mistake
written down here, over HTTP, with the rule it would break."""

import random
from datetime import timedelta

from sqlalchemy import select

from service.database import db
from service.models import User
from service.presence import seen
from tests.conftest import offset_point

HERE = (40.7306, -73.9866)  # New York
COLUMNS = (User.id, User.seen_checkin_id, User.seen_at, User.seen_venue_id, User.seen_location)


def nearby_notes(client, user) -> list[dict]:
    response = client.get("/api/v1/me/notifications", headers=user["headers"])
    assert response.status_code == 200, response.json
    return [n for n in response.json["items"] if n["kind"] == "nearby"]


def test_an_older_offline_replay_does_not_move_where_i_was_last_seen(
    client, actions, friends, frozen_clock
):
    """B is at B's venue now, then replays a check-in made an hour ago 3 km away: B's
    latest visible check-in is still here, so A checking in next door tells B."""
    a, b = friends(2)
    actions.check_in(b, actions.venue(b, *HERE))
    far = actions.venue(b, *offset_point(HERE, 3000))
    earlier = (frozen_clock.current - timedelta(hours=1)).isoformat()
    assert actions.check_in(b, far, client_time=earlier).status_code == 201
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 200)))
    assert len(nearby_notes(client, b)) == 1


def test_a_private_checkin_never_becomes_where_i_was_last_seen(client, actions, friends):
    """The attack: A checks in next to where B privately is, to learn from being told (or
    not) that B is near. B's private check-in must not count; B's public one, 3 km
    away, is where B was last seen."""
    a, b = friends(2)
    actions.check_in(b, actions.venue(b, *offset_point(HERE, 3000)))
    actions.check_in(b, actions.venue(b, *HERE), private=True)
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 100)))
    assert nearby_notes(client, b) == []


def test_a_venue_move_carries_where_people_were_last_seen(client, actions, friends, frozen_clock):
    """B was last seen at a venue its owner then moves 2 km (a mistake fixed): B is seen
    at its new point, as the venue's own check-ins are."""
    a, b = friends(2)
    venue = actions.venue(b, *HERE)
    actions.check_in(b, venue)
    moved = offset_point(HERE, 2000, azimuth=0)
    response = client.patch(
        f"/api/v1/venues/{venue['id']}",
        headers=b["headers"],
        json={"location": {"lat": moved[0], "lon": moved[1]}},
    )
    assert response.status_code == 200, response.json
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 150)))
    assert nearby_notes(client, b) == []  # no longer near A
    frozen_clock.advance(minutes=30)  # A walks there (not too_fast)
    actions.check_in(a, actions.venue(a, *offset_point(moved, 150)))
    assert len(nearby_notes(client, b)) == 1


def test_kept_equals_rebuilt_from_history(client, actions, friends, frozen_clock, app):
    """Random check-ins (private, offline replays, sharing off and on): the kept rows are
    what the history says, as ``recompute-rewards`` rebuilds them."""
    rng = random.Random(5)
    people = friends(5)
    venues = [actions.venue(people[0], *offset_point(HERE, 90 * i)) for i in range(8)]
    for _ in range(70):
        frozen_clock.advance(minutes=rng.randint(1, 90))
        person = rng.choice(people)
        if rng.random() < 0.1:
            sharing = rng.choice(["off", "approximate", "exact"])
            client.patch(
                "/api/v1/me", headers=person["headers"], json={"location_sharing": sharing}
            )
        extra = {"private": True} if rng.random() < 0.2 else {}
        if rng.random() < 0.25:
            late = frozen_clock.current - timedelta(minutes=rng.randint(1, 600))
            extra["client_time"] = late.isoformat()
        assert actions.check_in(person, rng.choice(venues), **extra).status_code == 201
    with app.app_context():
        session = db.session
        kept = session.execute(select(*COLUMNS).order_by(User.id)).all()
        assert sum(row.seen_at is not None for row in kept) >= 4
        seen.rebuild(session)
        assert session.execute(select(*COLUMNS).order_by(User.id)).all() == kept
