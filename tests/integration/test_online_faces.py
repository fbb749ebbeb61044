"""The online face (issue 19, part 1): a verified identity keeps the network's public name
and picture, and only contacts see them, wherever a contact is shown."""

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from service.database import db
from service.notifications.push import PushWorker
from tests.fake_networks import user_endpoint

SPOT = (40.7306, -73.9866)


def _contacts(client, user) -> dict:
    items = client.get("/api/v1/me/contacts", headers=user["headers"]).json["items"]
    return {item["handle"]: item for item in items}


def _faces(person: dict) -> dict:
    return {face["network"]: face for face in person["identities"]}


def _follow(client, follower, followee):
    return client.post(
        "/api/v1/me/contacts",
        headers=follower["headers"],
        json={"handle": followee["user"]["handle"]},
    )


@contextmanager
def statements(engine):
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _face_lookups(seen: list[str]) -> list[str]:
    """The statements loading faces (each after one asking ``relationships`` which of
    the people are contacts: on Citus the two live on different shards)."""
    return [s for s in seen if "identities.profile_name" in s]


def test_contacts_see_the_verified_faces(client, friends, verified, networks):
    a, b = friends(2)
    verified(b, "github", "bob-gh")
    verified(b, "mastodon", "bob@social.example")
    client.put("/api/v1/me/identities/bluesky", headers=b["headers"], json={"handle": "b.bsky.app"})
    shown = _contacts(client, a)[b["user"]["handle"]]
    faces = _faces(shown)
    assert sorted(faces) == ["github", "mastodon"]  # the unverified Bluesky claim: nothing
    github = networks.profiles[("github", "bob-gh")]
    assert faces["github"] == {
        "network": "github",
        "handle": "bob-gh",
        "display_name": "Bob-Gh",
        "avatar_url": github["avatar_url"],
    }
    assert faces["mastodon"]["display_name"] == "Bob"
    assert faces["mastodon"]["avatar_url"].startswith("https://files.social.example/")
    # following back answers with the face too, and b sees a (no identity: empty list)
    assert _contacts(client, b)[a["user"]["handle"]]["identities"] == []


def test_one_way_followers_and_strangers_see_no_face(client, actions, friends, verified):
    a, b = friends(2)
    verified(b, "github", "bobby")
    follower, stranger = actions.register(), actions.register()
    answer = _follow(client, follower, b)
    assert answer.status_code == 201 and answer.json["mutual"] is False
    assert answer.json["identities"] == []
    assert _contacts(client, follower)[b["user"]["handle"]]["identities"] == []
    profile = client.get(f"/api/v1/users/{b['user']['handle']}", headers=stranger["headers"])
    assert "bobby" not in profile.get_data(as_text=True)
    # b follows back: now a contact, the face appears; b unfollows: it is gone again
    assert _follow(client, b, follower).json["mutual"] is True
    assert _faces(_contacts(client, follower)[b["user"]["handle"]])["github"]["handle"] == "bobby"
    client.delete(f"/api/v1/me/contacts/{follower['user']['handle']}", headers=b["headers"])
    assert _contacts(client, follower)[b["user"]["handle"]]["identities"] == []
    assert _faces(_contacts(client, a)[b["user"]["handle"]])["github"]["handle"] == "bobby"


def test_an_unverified_claim_never_shows_and_the_owner_takes_it(
    client, app, friends, verified, networks
):
    """Mallory claims Bob's handle and plants a name and picture on her claim; her
    contacts see nothing; when Bob verifies it her claim goes and his face shows."""
    viewer, mallory, bob = friends(3)
    claim = client.put(
        "/api/v1/me/identities/github", headers=mallory["headers"], json={"handle": "real-bob"}
    )
    assert claim.status_code == 201
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE identities SET profile_name = 'Real Bob', "
                "avatar_url = 'https://evil.example/bob.png' WHERE user_id = :id"
            ),
            {"id": mallory["user"]["id"]},
        )
        db.session.commit()
    assert _contacts(client, viewer)[mallory["user"]["handle"]]["identities"] == []
    verified(bob, "github", "real-bob")
    contacts = _contacts(client, viewer)
    assert contacts[mallory["user"]["handle"]]["identities"] == []
    assert _faces(contacts[bob["user"]["handle"]])["github"]["display_name"] == "Real-Bob"
    assert "evil.example" not in str(contacts)
    # unlinking takes the face away
    client.delete("/api/v1/me/identities/github", headers=bob["headers"])
    assert _contacts(client, viewer)[bob["user"]["handle"]]["identities"] == []


def test_verifying_again_refreshes_the_face(client, friends, verified, networks):
    a, b = friends(2)
    verified(b, "github", "renamer")
    networks.profiles[("github", "renamer")] |= {
        "name": "New Name",
        "avatar_url": "https://avatars.githubusercontent.com/u/42?v=5",
        "bio": "code long gone",
    }
    again = client.post("/api/v1/me/identities/github/verify", headers=b["headers"])
    assert again.status_code == 200 and again.json["verified"] is True
    assert again.json["display_name"] == "New Name"
    face = _faces(_contacts(client, a)[b["user"]["handle"]])["github"]
    assert face["display_name"] == "New Name"
    assert face["avatar_url"] == "https://avatars.githubusercontent.com/u/42?v=5"
    # the network cannot be read: nothing changes, no verification is lost
    networks.misbehave("github", "renamer", "redirect")
    assert client.post("/api/v1/me/identities/github/verify", headers=b["headers"]).status_code == (
        503
    )
    assert _faces(_contacts(client, a)[b["user"]["handle"]])["github"]["display_name"] == (
        "New Name"
    )


def test_signing_in_again_refreshes_the_face(client, friends, verified, networks):
    a, b = friends(2)
    verified(b, "twitter", "tw_bob")
    first = _faces(_contacts(client, a)[b["user"]["handle"]])["twitter"]
    assert first["display_name"] == "Tw_Bob"
    assert first["avatar_url"] == "https://pbs.twimg.com/profile_images/1/tw_bob.jpg"
    body = user_endpoint("twitter", "tw_bob")
    body["data"] |= {"name": "Bob T.", "profile_image_url": "https://pbs.twimg.com/2/b.jpg"}
    networks.signed_in_as[("twitter", "tw_bob")] = body
    verified(b, "twitter", "tw_bob")
    face = _faces(_contacts(client, a)[b["user"]["handle"]])["twitter"]
    assert (face["display_name"], face["avatar_url"]) == ("Bob T.", "https://pbs.twimg.com/2/b.jpg")


@pytest.mark.parametrize(
    "avatar",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "//evil.example/a.png",
        "https://evil.example/a.png\n<script>",
        "https://evil.example/a b.png",
        "https://" + "a" * 1200 + ".example/a.png",
        ["https://evil.example/a.png"],
        {"url": "https://evil.example/a.png"},
    ],
)
def test_a_hostile_profile_is_stored_safely(client, friends, networks, avatar):
    a, b = friends(2)
    code = client.put(
        "/api/v1/me/identities/github", headers=b["headers"], json={"handle": "hostile"}
    ).json["proof_code"]
    networks.publish("github", "hostile", f"hi {code}")
    networks.profiles[("github", "hostile")] |= {
        "name": "\u202eevil\u202c " + "A" * 5000 + "\x00\n",
        "avatar_url": avatar,
    }
    done = client.post("/api/v1/me/identities/github/verify", headers=b["headers"])
    assert done.status_code == 200 and done.json["verified"] is True
    face = _faces(_contacts(client, a)[b["user"]["handle"]])["github"]
    assert face["avatar_url"] is None
    assert len(face["display_name"]) == 200
    assert face["display_name"].startswith("evil AAA")
    assert not any(c in face["display_name"] for c in "\u202e\u202c\x00\n")


def test_the_database_refuses_a_picture_that_is_not_http(app, friends, verified):
    _, b = friends(2)
    verified(b, "github", "dbcheck")
    with (
        app.app_context(),
        pytest.raises(IntegrityError, match="ck_identities_avatar_url_http"),
        db.session.begin_nested(),
    ):
        db.session.execute(
            text("UPDATE identities SET avatar_url = 'javascript:alert(1)' WHERE user_id = :id"),
            {"id": b["user"]["id"]},
        )


def test_every_place_a_contact_is_shown_has_their_face(
    client, actions, friends, verified, frozen_clock
):
    a, b = friends(2)
    stranger = actions.register()
    _follow(client, stranger, b)  # one way
    verified(b, "mastodon", "bee@social.example")
    cafe = actions.venue(a, *SPOT, name="Cafe")
    assert actions.check_in(b, cafe).status_code == 201
    frozen_clock.advance(minutes=20)
    answer = actions.check_in(a, cafe)
    assert answer.status_code == 201
    (met,) = answer.json["meetings"]
    assert _faces(met["user"])["mastodon"]["display_name"] == "Bee"

    here = client.get(f"/api/v1/venues/{cafe['id']}/here", headers=a["headers"]).json["items"]
    assert _faces(here[0]["user"])["mastodon"]["handle"] == "bee@social.example"
    feed = client.get("/api/v1/feed", headers=a["headers"]).json["items"]
    assert _faces(feed[0]["user"])["mastodon"]["display_name"] == "Bee"
    meetings = client.get("/api/v1/me/meetings", headers=a["headers"]).json["items"]
    assert _faces(meetings[0]["user"])["mastodon"]["display_name"] == "Bee"
    near = client.get(
        "/api/v1/nearby/contacts",
        headers=a["headers"],
        query_string={"lat": SPOT[0], "lon": SPOT[1]},
    ).json["items"]
    assert _faces(near[0]["user"])["mastodon"]["display_name"] == "Bee"
    theirs_id = feed[0]["id"]
    one = client.get(f"/api/v1/checkins/{theirs_id}", headers=a["headers"]).json
    assert _faces(one["user"])["mastodon"]["handle"] == "bee@social.example"
    notes = client.get("/api/v1/me/notifications", headers=a["headers"]).json["items"]
    (meeting_note,) = [n for n in notes if n["kind"] == "meeting"]
    assert _faces(meeting_note["data"]["user"])["mastodon"]["display_name"] == "Bee"

    event = client.post(
        "/api/v1/events",
        headers=a["headers"],
        json={
            "title": "Tweetup",
            "venue_id": cafe["id"],
            "starts_at": frozen_clock.advance(days=1).isoformat(),
            "ends_at": frozen_clock.advance(hours=2).isoformat(),
        },
    ).json
    for person in (b, stranger):
        client.post(
            f"/api/v1/events/{event['id']}/rsvp",
            headers=person["headers"],
            json={"status": "going"},
        )
    attendees = client.get(f"/api/v1/events/{event['id']}/attendees", headers=a["headers"]).json
    (contact,) = attendees["contacts"]
    assert _faces(contact["user"])["mastodon"]["avatar_url"].startswith("https://")
    # the one-way follower: not a contact, so no name, no face anywhere
    theirs = client.get(f"/api/v1/events/{event['id']}/attendees", headers=stranger["headers"]).json
    assert theirs["contacts"] == []
    assert "bee@social.example" not in str(
        client.get("/api/v1/me/notifications", headers=stranger["headers"]).json
    )
    mine = client.get("/api/v1/me/identities", headers=b["headers"]).json["items"]
    assert mine[0]["display_name"] == "Bee" and mine[0]["avatar_url"]


def test_nearby_notification_carries_the_face(client, actions, friends, verified, frozen_clock):
    a, b = friends(2)
    verified(a, "github", "near-a")
    cafe = actions.venue(a, *SPOT, name="Cafe")
    bar = actions.venue(a, SPOT[0] + 0.003, SPOT[1], name="Bar")  # ~330 m away
    actions.check_in(b, bar)
    frozen_clock.advance(minutes=5)
    actions.check_in(a, cafe)
    notes = client.get("/api/v1/me/notifications", headers=b["headers"]).json["items"]
    (nearby,) = [n for n in notes if n["kind"] == "nearby"]
    assert _faces(nearby["data"]["user"])["github"]["display_name"] == "Near-A"


def test_pushed_notifications_carry_the_face(client, app, actions, friends, verified, frozen_clock):
    a, b = friends(2)
    verified(a, "github", "push-a")
    device = {"platform": "ios", "token": "t" * 64}
    assert client.post("/api/v1/me/devices", headers=b["headers"], json=device).status_code in (
        200,
        201,
    )
    cafe = actions.venue(a, *SPOT, name="Cafe")
    actions.check_in(b, actions.venue(a, SPOT[0] + 0.003, SPOT[1], name="Bar"))
    frozen_clock.advance(minutes=5)
    actions.check_in(a, cafe)
    notes = client.get("/api/v1/me/notifications", headers=b["headers"]).json["items"]
    (nearby,) = [n for n in notes if n["kind"] == "nearby"]
    claimed = SimpleNamespace(
        user_id=b["user"]["id"], notification_id=nearby["id"], id=1, attempts=1
    )
    with app.app_context():
        body = PushWorker._bodies(db.session, [claimed])[(b["user"]["id"], 1)]
    (face,) = body["notification"]["data"]["user"]["identities"]
    assert (face["network"], face["handle"]) == ("github", "push-a")


def test_a_checkin_looks_faces_up_only_when_it_meets_someone(
    client, actions, friends, verified, engine, frozen_clock
):
    """No meeting: no statement for faces; meetings: one statement for all of them."""
    me, *others = friends(3)
    for index, other in enumerate(others):
        verified(other, "github", f"met-{index}")
    lone = actions.venue(me, SPOT[0] + 0.2, SPOT[1], name="Far away")
    cafe = actions.venue(me, *SPOT, name="Cafe")
    with statements(engine) as seen:
        assert actions.check_in(me, lone).json["meetings"] == []
    assert _face_lookups(seen) == []
    for other in others:
        actions.check_in(other, cafe)
    frozen_clock.advance(hours=1, minutes=5)  # not too soon, not too fast: 22 km in 65 min
    with statements(engine) as seen:
        answer = actions.check_in(me, cafe)
    assert len(answer.json["meetings"]) == 2
    assert all(m["user"]["identities"] for m in answer.json["meetings"])
    assert len(_face_lookups(seen)) == 1


def test_lists_look_faces_up_once_per_page(client, friends, verified, engine):
    me, *others = friends(4)
    for index, other in enumerate(others):
        verified(other, "bluesky", f"p{index}.bsky.social")
    with statements(engine) as seen:
        items = client.get("/api/v1/me/contacts", headers=me["headers"]).json["items"]
    assert all(len(item["identities"]) == 1 for item in items)
    assert len(_face_lookups(seen)) == 1
