"""Global uniqueness through lookup tables (handles, emails, push tokens, calendar tokens,
verified handles): what each holds, and the races it decides."""

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, text

from service.database import db
from service.models import (
    CalendarTokenHash,
    Device,
    DeviceToken,
    Identity,
    UserEmail,
    UserHandle,
    VerifiedHandle,
)


def _race(app, count, make_request):
    barrier = threading.Barrier(count)

    def one(index):
        client = app.test_client()
        barrier.wait()
        return make_request(client, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _body(handle, email):
    return {
        "handle": handle,
        "email": email,
        "password": "long enough pw",
        "display_name": handle,
    }


def _rows(app, statement):
    with app.app_context():
        return db.session.execute(statement).all()


def test_registration_claims_the_lower_cased_names(app, actions):
    user = actions.register("MixedCase_1", email="Mixed.Case@Example.com")["user"]
    assert _rows(app, select(UserHandle.handle, UserHandle.user_id)) == [
        ("mixedcase_1", user["id"])
    ]
    assert _rows(app, select(UserEmail.email, UserEmail.user_id)) == [
        ("mixed.case@example.com", user["id"])
    ]


def test_a_refused_registration_leaves_no_name_claimed(client, actions):
    actions.register("erin")
    taken_email = client.post("/api/v1/auth/register", json=_body("frank", "erin@example.com"))
    assert taken_email.status_code == 409
    assert taken_email.json["message"] == "An account with that email already exists."
    # the handle it claimed before the email clashed went back with it
    assert (
        client.post("/api/v1/auth/register", json=_body("frank", "f@example.com")).status_code
        == 201
    )


def test_the_lookup_tables_alone_refuse_a_taken_name(app, client, actions):
    """As on a distributed schema, where users keeps no unique index of its own."""
    with app.app_context():
        # committed into the test's own transaction, which is rolled back after
        db.session.execute(text("DROP INDEX IF EXISTS uq_users_handle, uq_users_email"))
        db.session.commit()
    actions.register("Grace")
    for handle, email in (("GRACE", "g2@example.com"), ("grace2", "Grace@Example.com")):
        response = client.post("/api/v1/auth/register", json=_body(handle, email))
        assert response.status_code == 409, response.json
    assert len(_rows(app, text("SELECT id FROM users"))) == 1
    assert _rows(app, text("SELECT 1 FROM pg_indexes WHERE indexname = 'uq_users_handle'")) == []


def test_two_registrations_of_one_handle_differing_in_case(live_app):
    """At the same instant, "Racer" and "rACER": one account, the other is a 409."""
    spellings = ["Racer", "rACER"]
    responses = _race(
        live_app,
        2,
        lambda c, i: c.post(
            "/api/v1/auth/register", json=_body(spellings[i], f"racer{i}@example.com")
        ),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json["message"] == "That handle is already taken."
    assert len(_rows(live_app, select(UserHandle.handle))) == 1
    assert len(_rows(live_app, text("SELECT id FROM users"))) == 1


def test_two_registrations_of_one_email_differing_in_case(live_app):
    emails = ["same@example.com", "SAME@Example.COM"]
    responses = _race(
        live_app,
        2,
        lambda c, i: c.post("/api/v1/auth/register", json=_body(f"same{i}", emails[i])),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert _rows(live_app, select(UserEmail.email)) == [("same@example.com",)]
    # the loser's handle is free again
    assert len(_rows(live_app, select(UserHandle.handle))) == 1


def _register(client, handle):
    response = client.post("/api/v1/auth/register", json=_body(handle, f"{handle}@example.com"))
    assert response.status_code == 201
    return response.json["user"]["id"], {"Authorization": f"Bearer {response.json['access_token']}"}


def test_two_people_registering_one_push_token_at_once(live_app):
    """The token ends on exactly one device, of the user its lookup row names."""
    client = live_app.test_client()
    people = [_register(client, f"phone{i}") for i in range(3)]
    for _round in range(3):
        responses = _race(
            live_app,
            3,
            lambda c, i: c.post(
                "/api/v1/me/devices",
                headers=people[i][1],
                json={"platform": "android", "token": "shared-token"},
            ),
        )
        assert all(r.status_code in (200, 201) for r in responses), [r.json for r in responses]
        devices = _rows(live_app, select(Device.user_id).where(Device.token == "shared-token"))
        owner = _rows(live_app, select(DeviceToken.user_id))
        assert len(devices) == 1 and owner == devices


def test_device_tokens_follow_the_devices(app, client, actions):
    a, b = actions.register(), actions.register()

    def register(user, token):
        return client.post(
            "/api/v1/me/devices", headers=user["headers"], json={"platform": "ios", "token": token}
        )

    first = register(a, "tok-1").json
    moved = register(b, "tok-1")
    assert moved.status_code == 201 and moved.json["id"] == first["id"]  # it keeps its id
    assert _rows(app, select(DeviceToken.token, DeviceToken.user_id)) == [
        ("tok-1", b["user"]["id"])
    ]
    client.delete(f"/api/v1/me/devices/{first['id']}", headers=b["headers"])
    assert _rows(app, select(DeviceToken.token)) == []
    # a token let go is anyone's again
    assert register(a, "tok-1").status_code == 201


def test_a_rotated_calendar_token_opens_nothing(app, client, actions):
    user = actions.register()
    feeds = [
        client.post("/api/v1/me/calendar-token", headers=user["headers"]).json for _ in range(2)
    ]
    old, new = (feed["feed_url"] for feed in feeds)
    assert client.get(old).status_code == 404 and client.get(new).status_code == 200
    assert len(_rows(app, select(CalendarTokenHash.token_hash))) == 1
    # a lookup row a raced rotation left behind still opens nothing
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO calendar_token_hashes (token_hash, user_id) "
                "VALUES (sha256(convert_to(:token, 'UTF8')), :user)"
            ),
            {"token": parse_qs(urlsplit(old).query)["token"][0], "user": user["user"]["id"]},
        )
        db.session.commit()
    assert client.get(old).status_code == 404
    client.delete("/api/v1/me/calendar-token", headers=user["headers"])
    assert client.get(new).status_code == 404


def test_verified_handles_follow_verification_replacement_and_unlinking(
    app, client, actions, verified
):
    me = actions.register()
    verified(me, "github", "first-gh")
    assert _rows(app, select(VerifiedHandle.handle, VerifiedHandle.network)) == [
        ("first-gh", "github")
    ]
    # claiming another handle lets the verified one go
    client.put("/api/v1/me/identities/github", headers=me["headers"], json={"handle": "second"})
    assert _rows(app, select(VerifiedHandle.handle)) == []
    other = actions.register()
    verified(other, "github", "first-gh")  # free for its owner again
    verified(me, "mastodon", "me@social.example")
    assert client.delete("/api/v1/me/identities/mastodon", headers=me["headers"]).status_code == 204
    assert _rows(app, select(VerifiedHandle.user_id, VerifiedHandle.handle)) == [
        (other["user"]["id"], "first-gh")
    ]
    verified_identities = select(Identity.handle).where(Identity.verified_at.is_not(None))
    assert _rows(app, verified_identities) == [("first-gh",)]


def test_an_import_racing_the_unlink_of_its_handle_never_follows_through_it(live_app, networks):
    """Whichever commits first, no follow is left through an identity that is gone."""
    client = live_app.test_client()
    for round_ in range(4):
        _, owner = _register(client, f"unlinker{round_}")
        _, importer = _register(client, f"importer{round_}")
        handle = f"gone-handle-{round_}"
        code = client.put(
            "/api/v1/me/identities/github", headers=owner, json={"handle": handle}
        ).json["proof_code"]
        networks.publish("github", handle, code)
        assert client.post("/api/v1/me/identities/github/verify", headers=owner).status_code == 200

        def act(c, i, owner=owner, importer=importer, handle=handle):
            if i == 0:
                return c.delete("/api/v1/me/identities/github", headers=owner)
            return c.post(
                "/api/v1/me/contacts/import",
                headers=importer,
                json={"network": "github", "handles": [handle]},
            )

        responses = _race(live_app, 2, act)
        assert [r.status_code for r in responses] == [204, 200]
        assert client.get("/api/v1/me/contacts", headers=importer).json["items"] == [], round_
        assert _rows(live_app, select(VerifiedHandle.handle)) == []
