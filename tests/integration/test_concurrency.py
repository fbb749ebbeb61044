"""Races between real connections: phones retrying at the same instant."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from service.database import db
from service.models import Checkin, PointsEntry, User


def _register(client, handle):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "handle": handle,
            "email": f"{handle}@example.com",
            "password": "long enough pw",
            "display_name": handle,
        },
    )
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def _race(app, count, make_request):
    barrier = threading.Barrier(count)

    def one(index):
        client = app.test_client()
        barrier.wait()
        return make_request(client, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_twenty_concurrent_retries_make_one_checkin(live_app):
    client = live_app.test_client()
    headers = _register(client, "racer")
    venue = client.post(
        "/api/v1/venues",
        headers=headers,
        json={
            "name": "Race Cafe",
            "category": "Coffee Shop",
            "location": {"lat": 40.7, "lon": -73.9},
        },
    ).json
    body = {"venue_id": venue["id"], "location": {"lat": 40.7, "lon": -73.9}, "shout": "go"}

    responses = _race(
        live_app,
        20,
        lambda c, _i: c.post(
            "/api/v1/checkins", json=body, headers={**headers, "Idempotency-Key": "same-tap"}
        ),
    )

    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.get_data() for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    with live_app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Checkin)) == 1
        assert session.scalar(select(func.sum(PointsEntry.points))) == 15
        assert session.scalar(select(User.points).where(User.handle == "racer")) == 15


def test_concurrent_distinct_checkins_respect_rate_limit(live_app):
    client = live_app.test_client()
    headers = _register(client, "burst")
    venue = client.post(
        "/api/v1/venues",
        headers=headers,
        json={"name": "Burst Bar", "category": "Bar", "location": {"lat": 1.0, "lon": 1.0}},
    ).json
    body = {"venue_id": venue["id"], "location": {"lat": 1.0, "lon": 1.0}}

    responses = _race(
        live_app,
        40,
        lambda c, i: c.post(
            "/api/v1/checkins", json=body, headers={**headers, "Idempotency-Key": f"k{i}"}
        ),
    )

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 30 and codes.count(429) == 10
    with live_app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Checkin)) == 30
        eligible = session.scalar(select(func.count()).where(Checkin.eligible))
        assert eligible == 1  # the other 29 are too soon
        assert session.scalar(select(User.checkin_count).where(User.handle == "burst")) == 30


def _befriend(client, a_headers, b_handle, b_headers, a_handle):
    assert (
        client.post("/api/v1/me/contacts", headers=a_headers, json={"handle": b_handle}).status_code
        == 201
    )
    assert (
        client.post("/api/v1/me/contacts", headers=b_headers, json={"handle": a_handle}).status_code
        == 201
    )


def test_friends_checking_in_at_the_same_instant_meet_exactly_once(live_app):
    from service.models import Meeting, Relationship

    client = live_app.test_client()
    rounds = 8
    for index in range(rounds):
        a = _register(client, f"racer_a{index}")
        b = _register(client, f"racer_b{index}")
        _befriend(client, a, f"racer_b{index}", b, f"racer_a{index}")
        venue = client.post(
            "/api/v1/venues",
            headers=a,
            json={
                "name": f"Race Hall {index}",
                "category": "Bar",
                "location": {"lat": 10.0 + index, "lon": 10.0},
            },
        ).json
        body = {"venue_id": venue["id"], "location": {"lat": 10.0 + index, "lon": 10.0}}
        responses = _race(
            live_app,
            2,
            lambda c, i, a=a, b=b, body=body: c.post(
                "/api/v1/checkins", json=body, headers=(a, b)[i]
            ),
        )
        assert [r.status_code for r in responses] == [201, 201]
        reported = sum(len(r.json["meetings"]) for r in responses)
        assert reported == 1, [r.json["meetings"] for r in responses]
    with live_app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Meeting)) == 2 * rounds
        assert (
            session.scalar(
                select(func.count()).where(Relationship.met_in_person, Relationship.meetings == 1)
            )
            == 2 * rounds
        )
        assert session.scalar(select(func.count()).where(Checkin.eligible)) == 2 * rounds


def test_racing_checkins_award_each_badge_once(live_app, frozen_clock):
    from service.models import UserBadge

    # Midday at the venues (UTC+1): at night the race would also earn Night Owl.
    frozen_clock.current = frozen_clock.current.replace(hour=11, minute=0, second=0)
    client = live_app.test_client()
    headers = _register(client, "badge_racer")
    venues = [
        client.post(
            "/api/v1/venues",
            headers=headers,
            json={
                "name": f"Stop {i}",
                "category": "Bar",
                "location": {"lat": 20.0 + i * 0.0005, "lon": 20.0},
            },
        ).json
        for i in range(12)
    ]

    # a pub crawl replayed from the phone: 25 min apart, so no hour holds six places
    times = [(frozen_clock.current - timedelta(minutes=25 * i)).isoformat() for i in range(12)]
    responses = _race(
        live_app,
        12,
        lambda c, i: c.post(
            "/api/v1/checkins",
            headers=headers,
            json={
                "venue_id": venues[i]["id"],
                "location": venues[i]["location"],
                "client_time": times[i],
            },
        ),
    )

    assert [r.status_code for r in responses] == [201] * 12
    assert all(r.json["rewards"]["eligible"] for r in responses)
    reported = [(b["key"], b["level"]) for r in responses for b in r.json["rewards"]["badges"]]
    assert sorted(reported) == [("explorer", 1), ("newbie", 1), ("regular", 1)]
    with live_app.app_context():
        rows = db.session.execute(select(UserBadge.badge, UserBadge.level)).all()
    assert sorted(rows) == [("explorer", 1), ("newbie", 1), ("regular", 1)]


def test_racing_senders_never_exceed_a_receivers_daily_cap(live_app):
    """Two contacts check in near B at the same instant when B's cap has one left: the
    conditional upsert on B's quota row lets exactly one notification through."""
    from service.models import NearbyQuota, Notification
    from tests.conftest import Actions, befriend

    client = live_app.test_client()
    actions = Actions(client)
    for round_ in range(4):
        b, s1, s2 = (actions.register(f"cap{round_}_{n}") for n in "bxy")
        for sender in (s1, s2):
            befriend(client, b, sender)
        client.patch("/api/v1/me", headers=b["headers"], json={"nearby_daily_cap": 1})
        spot = (10.0 + round_, 10.0)
        actions.check_in(b, actions.venue(b, *spot))
        bodies = [
            (s["headers"], {"venue_id": v["id"], "location": v["location"]})
            for s in (s1, s2)
            for v in [actions.venue(s, spot[0] + 0.001, spot[1])]
        ]
        responses = _race(
            live_app,
            2,
            lambda c, i, bodies=bodies: c.post(
                "/api/v1/checkins", headers=bodies[i][0], json=bodies[i][1]
            ),
        )
        assert [r.status_code for r in responses] == [201, 201]
        with live_app.app_context():
            session = db.session
            told = session.scalar(
                select(func.count()).where(
                    Notification.user_id == b["user"]["id"], Notification.kind == "nearby"
                )
            )
            sent = session.scalar(
                select(NearbyQuota.sent).where(NearbyQuota.user_id == b["user"]["id"])
            )
        assert (told, sent) == (1, 1)


def test_two_people_verifying_one_handle_at_once_leaves_one_owner(live_app, networks):
    """Even if both codes stood in the profile, the handle ends with exactly one owner."""
    client = live_app.test_client()
    people = [_register(client, f"claimant{i}") for i in range(2)]
    codes = [
        client.put("/api/v1/me/identities/github", headers=h, json={"handle": "contested"}).json[
            "proof_code"
        ]
        for h in people
    ]
    networks.publish("github", "contested", " ".join(codes))
    responses = _race(
        live_app,
        2,
        lambda c, i: c.post("/api/v1/me/identities/github/verify", headers=people[i]),
    )
    # the loser either collides (409) or finds its claim already dropped (404)
    assert sorted(r.status_code for r in responses) in ([200, 404], [200, 409])
    claims = [client.get("/api/v1/me/identities", headers=h).json["items"] for h in people]
    assert sorted(len(c) for c in claims) == [0, 1]
    assert [c[0]["verified"] for c in claims if c] == [True]


def test_unlinking_while_the_follower_follows_in_the_app_keeps_the_app_follow(live_app, networks):
    """The withdrawal of import follows and an app follow of the same pair, at once: the
    app follow and its flag survive, whichever commits first."""
    client = live_app.test_client()
    owner = _register(client, "racedowner")
    codes = client.put(
        "/api/v1/me/identities/github", headers=owner, json={"handle": "raced-owner"}
    ).json["proof_code"]
    networks.publish("github", "raced-owner", codes)
    assert client.post("/api/v1/me/identities/github/verify", headers=owner).status_code == 200
    followers = [_register(client, f"racefan{i}") for i in range(6)]
    for headers in followers:
        client.post(
            "/api/v1/me/contacts/import",
            headers=headers,
            json={"network": "github", "handles": ["raced-owner"]},
        )

    def act(c, i):
        if i == 0:
            return c.delete("/api/v1/me/identities/github", headers=owner)
        return c.post(
            "/api/v1/me/contacts", headers=followers[i - 1], json={"handle": "racedowner"}
        )

    responses = _race(live_app, 6, act)
    assert all(r.status_code in (201, 204) for r in responses), [r.json for r in responses]
    for headers in followers[:5]:
        contacts = client.get("/api/v1/me/contacts", headers=headers).json["items"]
        assert [c["handle"] for c in contacts] == ["racedowner"]
    assert client.get("/api/v1/me/contacts", headers=followers[5]).json["items"] == []


def test_an_import_racing_the_verification_it_waits_for_still_follows(live_app, networks):
    """An import of a handle and the verification of that handle at the same instant:
    whichever commits first, the importer ends up following the owner (matched now, or
    adopted from the pending import), never a pending follow nobody will adopt."""
    client = live_app.test_client()
    for round_ in range(6):
        owner = _register(client, f"raceowner{round_}")
        importer = _register(client, f"raceimporter{round_}")
        handle = f"race-handle-{round_}"
        code = client.put(
            "/api/v1/me/identities/github", headers=owner, json={"handle": handle}
        ).json["proof_code"]
        networks.publish("github", handle, code)

        def act(c, i, owner=owner, importer=importer, handle=handle):
            if i == 0:
                return c.post("/api/v1/me/identities/github/verify", headers=owner)
            return c.post(
                "/api/v1/me/contacts/import",
                headers=importer,
                json={"network": "github", "handles": [handle]},
            )

        responses = _race(live_app, 2, act)
        assert [r.status_code for r in responses] == [200, 200]
        contacts = client.get("/api/v1/me/contacts", headers=importer).json["items"]
        assert [c["handle"] for c in contacts] == [f"raceowner{round_}"], round_
