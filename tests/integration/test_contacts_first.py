"""Contacts first (issue 22): my contacts are read on my side, then their rows by id —
the pair lock still serialises a pair, and the counts read that way keep their rules."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service import clock
from service.contacts.pairs import lock_contact_pairs, pair_key
from service.database import db
from service.models import Identity
from tests.conftest import Actions, befriend, offset_point

SPOT = (40.7306, -73.9866)


def test_the_pair_lock_is_one_lock_for_both_sides(live_app):
    """A's check-in holds the lock of the pair (A, B): B's check-in waits for it, a
    stranger's does not. The keys are computed in the app and locked by a statement
    with no table, so on Citus both sides meet on the coordinator."""
    client = live_app.test_client()
    actions = Actions(client)
    a, b, c, stranger = (actions.register() for _ in range(4))
    befriend(client, a, b)
    befriend(client, b, c)
    ids = {
        name: person["user"]["id"] for name, person in zip("abcs", (a, b, c, stranger), strict=True)
    }
    with live_app.app_context():
        engine = db.engine
    with Session(engine) as first, Session(engine) as second:
        assert lock_contact_pairs(first, ids["a"]) == [ids["b"]]
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        assert lock_contact_pairs(second, ids["s"]) == []  # no contacts, no lock
        assert lock_contact_pairs(second, ids["c"]) == [ids["b"]]  # another pair: free
        second.rollback()
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            lock_contact_pairs(second, ids["b"])  # (b, a) is a's pair too
        second.rollback()
        first.commit()
        assert sorted(lock_contact_pairs(second, ids["b"])) == sorted([ids["a"], ids["c"]])
        held = second.execute(
            text(
                "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks"
                " WHERE locktype = 'advisory' AND objsubid = 1 AND pid = pg_backend_pid()"
            )
        ).scalars()
        assert set(held) == {pair_key(ids["b"], ids["a"]), pair_key(ids["c"], ids["b"])}
        second.rollback()


def test_contacts_going_counts_only_contacts_who_go_and_share(client, actions, friends):
    """Of the people going, only my mutual contacts who share a location count."""
    stranger = actions.register()
    hall = actions.venue(stranger, *SPOT, name="Hall")
    start = clock.now() + timedelta(days=1)
    event = client.post(
        "/api/v1/events",
        headers=stranger["headers"],
        json={
            "title": "Tweetup",
            "venue_id": hall["id"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        },
    ).json
    me, going, off, maybe = friends(4)
    one_way = actions.register()
    follow = {"handle": one_way["user"]["handle"]}
    assert client.post("/api/v1/me/contacts", headers=me["headers"], json=follow).status_code == 201
    client.patch("/api/v1/me", headers=off["headers"], json={"location_sharing": "off"})
    for person, status in (
        (going, "going"),
        (off, "going"),
        (maybe, "maybe"),
        (one_way, "going"),
        (stranger, "going"),
    ):
        answer = client.post(
            f"/api/v1/events/{event['id']}/rsvp", headers=person["headers"], json={"status": status}
        )
        assert answer.status_code == 200
    window = {"from": start.isoformat(), "to": (start + timedelta(hours=1)).isoformat()}
    query = {"lat": SPOT[0], "lon": SPOT[1], **window}
    items = client.get("/api/v1/events/nearby", headers=me["headers"], query_string=query).json
    assert [(e["id"], e["contacts_going"]) for e in items["items"]] == [(event["id"], 1)]
    nobody = client.get("/api/v1/events/nearby", headers=one_way["headers"], query_string=query)
    assert [e["contacts_going"] for e in nobody.json["items"]] == [0]


def test_every_contacts_first_path_request_by_request(live_app, frozen_clock):
    """Each request in its own transaction, as in production (on Citus the ``app``
    fixture's one transaction per test refuses sequences no request makes): a meeting, a
    nearby notification, the feed, "here", nearby contacts, one check-in, meetings, the
    met list and file, contacts with their faces, the contacts leaderboard, contacts
    going and attending, a crowd. Each reads my contacts first, then their rows."""
    client = live_app.test_client()
    actions = Actions(client)
    me, a, b, stranger = (actions.register() for _ in range(4))
    befriend(client, me, a)
    befriend(client, me, b)
    follow = {"handle": me["user"]["handle"]}  # one way: a follower, not a contact
    assert (
        client.post("/api/v1/me/contacts", headers=stranger["headers"], json=follow).status_code
        == 201
    )
    cafe = actions.venue(me, *SPOT, name="Cafe")
    near = actions.venue(me, *offset_point(SPOT, 50), name="Near")
    first = actions.check_in(a, cafe)
    assert first.status_code == 201, first.json
    frozen_clock.advance(minutes=65)
    mine = actions.check_in(me, near)
    assert mine.status_code == 201, mine.json
    assert [m["user"]["handle"] for m in mine.json["meetings"]] == [a["user"]["handle"]]
    corner = actions.venue(me, *offset_point(SPOT, 400), name="Corner")
    assert actions.check_in(b, corner).status_code == 201  # not met; b hears I am near

    def get(path, user=me, **query):
        response = client.get(path, headers=user["headers"], query_string=query)
        assert response.status_code == 200, (path, response.json)
        return response.json

    feed = get("/api/v1/feed")["items"]
    assert {i["user"]["handle"] for i in feed} == {a["user"]["handle"], b["user"]["handle"]}
    assert get("/api/v1/feed", user=stranger)["items"] == []
    here = get(f"/api/v1/venues/{cafe['id']}/here")["items"]
    assert {i["user"]["handle"] for i in here} == {a["user"]["handle"]}
    nearby = get("/api/v1/nearby/contacts", lat=SPOT[0], lon=SPOT[1], radius_m=1000)["items"]
    assert {i["user"]["handle"] for i in nearby} == {a["user"]["handle"], b["user"]["handle"]}
    checkin_id = first.json["checkin"]["id"]
    assert get(f"/api/v1/checkins/{checkin_id}")["id"] == checkin_id
    assert (
        client.get(f"/api/v1/checkins/{checkin_id}", headers=stranger["headers"]).status_code == 404
    )
    meetings = get("/api/v1/me/meetings")["items"]
    assert [m["user"]["handle"] for m in meetings] == [a["user"]["handle"]]
    met = get("/api/v1/me/met")["items"]
    assert [m["handle"] for m in met] == [a["user"]["handle"]]
    assert get("/api/v1/me/met", network="github")["items"] == []
    export = client.get("/api/v1/me/met.csv?network=github", headers=me["headers"])
    assert export.status_code == 200 and export.get_data(as_text=True) == ""
    with live_app.app_context():  # a verifies a GitHub handle
        db.session.add(
            Identity(
                user_id=a["user"]["id"],
                network="github",
                handle="a-gh",
                verified_at=frozen_clock.current,
                profile_name="A on GitHub",
            )
        )
        db.session.commit()
    assert [m["identities"][0]["handle"] for m in get("/api/v1/me/met")["items"]] == ["a-gh"]
    export = client.get("/api/v1/me/met.csv?network=github", headers=me["headers"])
    assert export.get_data(as_text=True).splitlines() == ["a-gh"]
    assert get("/api/v1/me/met", network="github")["items"][0]["handle"] == a["user"]["handle"]
    assert get("/api/v1/me/contacts", user=stranger)["items"][0]["identities"] == []
    contacts = get("/api/v1/me/contacts")["items"]
    assert [c["handle"] for c in contacts] == sorted(
        [a["user"]["handle"], b["user"]["handle"]], key=str.lower
    )
    assert {c["handle"]: c["met_in_person"] for c in contacts}[a["user"]["handle"]] is True
    faces = {c["handle"]: [f["handle"] for f in c["identities"]] for c in contacts}
    assert faces == {a["user"]["handle"]: ["a-gh"], b["user"]["handle"]: []}
    inbox = get("/api/v1/me/notifications")["items"]
    assert "nearby" in {n["kind"] for n in inbox}, inbox
    board = get("/api/v1/leaderboard", scope="contacts")["items"]
    assert {r["user"]["handle"] for r in board} >= {me["user"]["handle"], a["user"]["handle"]}

    start = frozen_clock.current + timedelta(hours=1)
    event = client.post(
        "/api/v1/events",
        headers=b["headers"],
        json={
            "title": "Tweetup",
            "venue_id": cafe["id"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        },
    )
    assert event.status_code == 201, event.json
    event_id = event.json["id"]
    for person in (a, stranger):
        answer = client.post(
            f"/api/v1/events/{event_id}/rsvp", headers=person["headers"], json={"status": "going"}
        )
        assert answer.status_code == 200, answer.json
    window = {"from": start.isoformat(), "to": (start + timedelta(hours=1)).isoformat()}
    events = get("/api/v1/events/nearby", lat=SPOT[0], lon=SPOT[1], **window)["items"]
    assert [(e["id"], e["contacts_going"]) for e in events] == [(event_id, 1)]
    seen = get(f"/api/v1/events/{event_id}/attendees")
    assert [c["user"]["handle"] for c in seen["contacts"]] == [a["user"]["handle"]]
    assert seen["others"]["going"] == 1

    crowd_venue = actions.venue(me, *offset_point(SPOT, 5000), name="Hall")
    people = [actions.register() for _ in range(10)]
    frozen_clock.advance(hours=3)
    badges = []
    for person in people:
        answer = actions.check_in(person, crowd_venue)
        assert answer.status_code == 201, answer.json
        badges.append({badge["key"] for badge in answer.json["rewards"]["badges"]})
        frozen_clock.advance(minutes=10)
    assert "crowd" in badges[-1] and not any("crowd" in got for got in badges[:-1])
    held = get("/api/v1/me/badges", user=people[0])["items"]
    assert "crowd" in {badge["key"] for badge in held}
