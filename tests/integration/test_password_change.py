"""POST /me/password changes the password and signs out every session: refresh tokens
revoked, access tokens issued before refused at once (users.token_version, carried in
every token). Signing out everywhere does the same."""

from datetime import timedelta

from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from service import clock
from service.auth import sessions
from service.database import db
from service.models import RefreshToken, User

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much better passphrase"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def change(client, access_token: str, current: str, new: str = NEW_PASSWORD):
    return client.post(
        "/api/v1/me/password",
        headers=bearer(access_token),
        json={"current_password": current, "new_password": new},
    )


def login(client, handle: str, password: str):
    return client.post("/api/v1/auth/login", json={"login": handle, "password": password})


def refresh(client, token: str):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_a_thief_with_stolen_tokens_is_out_once_the_victim_changes_the_password(client, actions):
    victim = actions.register()
    handle = victim["user"]["handle"]
    # the thief copies both tokens off the victim's phone (or a proxy log), and the
    # secret URL of the victim's calendar feed...
    stolen_access, stolen_refresh = victim["access_token"], victim["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(stolen_access)).status_code == 200
    feed = client.post("/api/v1/me/calendar-token", headers=bearer(stolen_access)).json
    stolen_feed = feed["feed_url"].removeprefix("http://localhost")
    assert client.get(stolen_feed).status_code == 200
    # ...and the victim, on another device, notices and changes the password
    laptop = login(client, handle, PASSWORD).json
    changed = change(client, laptop["access_token"], PASSWORD)
    assert changed.status_code == 200 and changed.json["access_token"]

    # the stolen access token is refused at once, on every kind of endpoint
    for path in ("/api/v1/me", "/api/v1/me/notifications", "/api/v1/me/meetings"):
        answer = client.get(path, headers=bearer(stolen_access))
        assert answer.status_code == 401, path
        assert answer.json["code"] == 401 and "sign in again" in answer.json["message"]
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    patched = client.patch(
        "/api/v1/me", headers=bearer(stolen_access), json={"display_name": "Pwned"}
    )
    assert patched.status_code == 401
    # the stolen refresh token buys nothing, nor does the other device's old pair
    assert refresh(client, stolen_refresh).status_code == 401
    assert refresh(client, laptop["refresh_token"]).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(laptop["access_token"])).status_code == 401
    # the old password is dead, the new one works, and so does the pair the change answered
    assert login(client, handle, PASSWORD).status_code == 401
    assert login(client, handle, NEW_PASSWORD).status_code == 200
    me = client.get("/api/v1/me", headers=bearer(changed.json["access_token"]))
    assert me.status_code == 200 and me.json["display_name"] != "Pwned"
    assert refresh(client, changed.json["refresh_token"]).status_code == 200
    # and the calendar feed's URL is dead too (a new one is the victim's to ask for)
    assert client.get(stolen_feed).status_code == 404


def test_a_thief_cannot_guess_the_password_through_the_change(client, actions):
    """A wrong current password is 403 and counts as a failed login of the account: a
    stolen access token is no way around the lockout (>10 failures / 15 min → 429)."""
    victim = actions.register()
    stolen = victim["access_token"]
    first = change(client, stolen, "guess-0")
    assert first.status_code == 403
    assert first.json["message"] == "The current password is wrong."
    for attempt in range(1, 10):
        assert change(client, stolen, f"guess-{attempt}").status_code == 403
    locked = change(client, stolen, PASSWORD)  # even the right one, now
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    # the same lockout as the login's: it is one account
    assert login(client, victim["user"]["handle"], PASSWORD).status_code == 429
    # nothing changed: the victim's tokens still work
    assert client.get("/api/v1/me", headers=bearer(stolen)).status_code == 200


def test_failed_logins_count_against_the_change_too(client, actions):
    user = actions.register()
    for _ in range(10):
        assert login(client, user["user"]["handle"], "nope").status_code == 401
    assert change(client, user["access_token"], PASSWORD).status_code == 429


def test_the_new_password_follows_the_registration_rules(client, actions):
    user = actions.register()
    for body in (
        {"current_password": PASSWORD, "new_password": "short"},
        {"current_password": PASSWORD, "new_password": "x" * 257},
        {"current_password": PASSWORD},
        {"current_password": "", "new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "extra": 1},
    ):
        answer = client.post("/api/v1/me/password", headers=user["headers"], json=body)
        assert answer.status_code == 422, body
        assert answer.json["errors"]["json"]
    assert client.post("/api/v1/me/password", json={}).status_code == 401
    # nothing was changed by those
    assert login(client, user["user"]["handle"], PASSWORD).status_code == 200


def test_the_new_password_is_stored_as_argon2id(app, client, actions):
    user = actions.register()
    assert change(client, user["access_token"], PASSWORD).status_code == 200
    with app.app_context():
        stored = db.session.get(User, user["user"]["id"])
        assert stored.password_hash.startswith("$argon2id$")
        assert stored.token_version == 1


def test_signing_out_everywhere_refuses_access_tokens_at_once(client, actions):
    user = actions.register()
    phone = login(client, user["user"]["handle"], PASSWORD).json
    answer = client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": phone["refresh_token"], "everywhere": True},
    )
    assert answer.status_code == 204
    for access in (user["access_token"], phone["access_token"]):
        assert client.get("/api/v1/me", headers=bearer(access)).status_code == 401
    for token in (user["refresh_token"], phone["refresh_token"]):
        assert refresh(client, token).status_code == 401
    # signing in again works, with the new version
    again = login(client, user["user"]["handle"], PASSWORD).json
    assert client.get("/api/v1/me", headers=bearer(again["access_token"])).status_code == 200
    # signing out one sign-in leaves the other access tokens alone (they expire by time)
    other = login(client, user["user"]["handle"], PASSWORD).json
    client.post("/api/v1/auth/logout", json={"refresh_token": other["refresh_token"]})
    assert client.get("/api/v1/me", headers=bearer(again["access_token"])).status_code == 200


def test_a_refresh_racing_the_change_mints_nothing_that_survives_it(app, client, actions):
    """A refresh that read the user before the change committed issues a pair its
    revocation missed; both carry the old version, so both are refused."""
    user = actions.register()
    user_id = user["user"]["id"]
    with app.app_context():
        # what the racing refresh minted: a stored, unrevoked token of the old version
        late = create_refresh_token(
            identity=str(user_id), additional_claims={"ver": 0, "fam": "raced"}
        )
        late_access = create_access_token(identity=str(user_id), additional_claims={"ver": 0})
        sessions.sign_out_everywhere(db.session, user_id)
        now = clock.now()
        db.session.add(
            RefreshToken(
                jti=decode_token(late)["jti"],
                user_id=user_id,
                family="raced",
                issued_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
        db.session.commit()
    assert refresh(client, late).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(late_access)).status_code == 401


def test_tokens_issued_before_versions_existed_work_until_the_first_change(app, client, actions):
    """Tokens minted before this release carry no ``ver``: they count as version 0, so
    nobody is signed out by the upgrade, and a change still ends them."""
    user = actions.register()
    with app.app_context():
        legacy = create_access_token(identity=str(user["user"]["id"]))
    assert client.get("/api/v1/me", headers=bearer(legacy)).status_code == 200
    assert change(client, user["access_token"], PASSWORD).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(legacy)).status_code == 401
