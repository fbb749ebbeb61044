"""Register, login, refresh and token failures."""

from datetime import timedelta

import jwt as pyjwt
from flask_jwt_extended import create_access_token


def test_register_returns_user_and_tokens(client):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "handle": "Alice_1",
            "email": "Alice@Example.com",
            "password": "long enough pw",
            "display_name": "Alice",
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body["user"]["handle"] == "Alice_1"
    assert body["user"]["email"] == "alice@example.com"
    assert body["user"]["location_sharing"] == "exact"
    assert body["user"]["nearby_radius_m"] == 1000
    assert body["user"]["notify_nearby"] is True
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    assert body["access_token"] and body["refresh_token"]


def test_password_is_stored_as_argon2id(app, actions):
    from service.database import db
    from service.models import User

    actions.register("hashme")
    with app.app_context():
        stored = db.session.query(User).filter_by(handle="hashme").one().password_hash
    assert stored.startswith("$argon2id$")


def test_duplicate_handle_is_409_case_insensitive(client, actions):
    actions.register("bob")
    response = client.post(
        "/api/v1/auth/register",
        json={
            "handle": "BOB",
            "email": "other@example.com",
            "password": "long enough pw",
            "display_name": "Bob",
        },
    )
    assert response.status_code == 409
    assert response.json["message"] == "That handle is already taken."


def test_duplicate_email_is_409(client, actions):
    actions.register("carol")
    response = client.post(
        "/api/v1/auth/register",
        json={
            "handle": "carol2",
            "email": "CAROL@example.com",
            "password": "long enough pw",
            "display_name": "Carol",
        },
    )
    assert response.status_code == 409


def test_register_validation(client):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "handle": "a b",
            "email": "nope",
            "password": "short",
            "display_name": "",
            "extra": 1,
        },
    )
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors) == {"handle", "email", "password", "display_name", "extra"}


def test_login_by_handle_or_email(client, actions):
    actions.register("dave")
    for login in ("dave", "DAVE", "dave@example.com"):
        response = client.post(
            "/api/v1/auth/login", json={"login": login, "password": "correct horse battery"}
        )
        assert response.status_code == 200, login
        assert response.json["access_token"]


def test_wrong_password_and_unknown_user_are_401(client, actions):
    actions.register("erin")
    for login in ("erin", "nobody"):
        response = client.post("/api/v1/auth/login", json={"login": login, "password": "wrong"})
        assert response.status_code == 401
        assert response.json["message"] == "Wrong login or password."


def test_more_than_10_failures_in_15_minutes_is_429(client, actions):
    actions.register("frank")
    for _ in range(10):
        response = client.post("/api/v1/auth/login", json={"login": "frank", "password": "x"})
        assert response.status_code == 401
    response = client.post(
        "/api/v1/auth/login", json={"login": "frank", "password": "correct horse battery"}
    )
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    # by email too: it is the same account
    response = client.post(
        "/api/v1/auth/login", json={"login": "frank@example.com", "password": "x"}
    )
    assert response.status_code == 429


def test_refresh_gives_new_tokens(client, actions):
    user = actions.register("gina")
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": user["refresh_token"]})
    assert response.status_code == 200
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"}
    )
    assert me.json["handle"] == "gina"


def test_access_token_is_not_a_refresh_token(client, actions):
    user = actions.register("hank")
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": user["access_token"]})
    assert response.status_code == 401


def test_refresh_token_is_not_an_access_token(client, actions):
    user = actions.register("ivy")
    response = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {user['refresh_token']}"}
    )
    assert response.status_code == 401


def _get_me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_token_failures_are_401_in_error_shape(app, client, actions):
    user = actions.register("jack")
    with app.app_context():
        expired = create_access_token(
            identity=str(user["user"]["id"]), expires_delta=timedelta(seconds=-5)
        )
    claims = pyjwt.decode(user["access_token"], options={"verify_signature": False})
    unsigned = pyjwt.encode(claims, key=None, algorithm="none")
    forged = pyjwt.encode(claims, key="not-the-secret-" + "y" * 40, algorithm="HS256")
    header, payload, signature = user["access_token"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    for token in (expired, unsigned, forged, tampered, "garbage", ""):
        response = _get_me(client, token)
        assert response.status_code == 401, token
        assert response.json["code"] == 401 and response.json["message"]
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_token_of_deleted_user_is_401(app, client, actions):
    from service.database import db
    from service.models import User

    user = actions.register("kim")
    with app.app_context():
        db.session.query(User).filter_by(handle="kim").delete()
        db.session.commit()
    assert _get_me(client, user["access_token"]).status_code == 401
