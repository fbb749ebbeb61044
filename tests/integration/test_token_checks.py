"""The token check of a read costs one decode and one single-column query: no user entity,
and the revocation it enforces (a password change, signing out everywhere) is the same."""

from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token, get_jwt
from jwt.api_jws import PyJWS
from sqlalchemy import event

from service.auth import tokens

HERE = {"lat": 45.4642, "lon": 9.19}
NEARBY = ("/api/v1/venues/nearby", "/api/v1/nearby/contacts", "/api/v1/events/nearby")


@pytest.fixture
def statements(engine):
    """The SQL each request sends (the test's connection comes from ``engine``)."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def test_a_nearby_search_checks_the_token_version_and_loads_no_user(client, actions, statements):
    user = actions.register()
    for path in NEARBY:
        statements.clear()
        answer = client.get(path, headers=user["headers"], query_string=HERE)
        assert answer.status_code == 200, path
        on_users = [s.split(" = ")[0] for s in statements if " FROM users" in s.split(" WHERE ")[0]]
        assert on_users == ["SELECT users.token_version FROM users WHERE users.id"], path


def test_a_write_loads_the_user_once_for_the_check_and_the_view(client, actions, statements):
    user = actions.register()
    answer = client.patch("/api/v1/me", headers=user["headers"], json={"display_name": "Ada"})
    assert answer.status_code == 200
    loads = [s for s in statements if s.startswith("SELECT users.id,")]
    assert len(loads) == 1 and not any("users.token_version FROM" in s for s in statements)


def test_the_access_token_is_decoded_once_per_request(client, actions, monkeypatch):
    """The rate limiter's key and the login check share one decode (PyJWT parses every
    character of it; flask-jwt-extended's own check parses it four times)."""
    user = actions.register()
    parsed = []
    real = PyJWS._load
    monkeypatch.setattr(PyJWS, "_load", lambda self, jwt: parsed.append(1) or real(self, jwt))
    for path in (*NEARBY, "/api/v1/me"):
        parsed.clear()
        assert client.get(path, headers=user["headers"], query_string=HERE).status_code == 200
        assert len(parsed) == 1, path


@pytest.mark.parametrize("path", NEARBY)
def test_signed_out_tokens_are_refused_by_the_nearby_searches(client, actions, path):
    user = actions.register()
    assert client.get(path, headers=user["headers"], query_string=HERE).status_code == 200
    out = client.post(
        "/api/v1/auth/logout", json={"refresh_token": user["refresh_token"], "everywhere": True}
    )
    assert out.status_code == 204
    refused = client.get(path, headers=user["headers"], query_string=HERE)
    assert refused.status_code == 401 and "sign in again" in refused.json["message"]
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_of_no_account_is_refused_on_reads_and_writes(app, client):
    with app.app_context():
        token = create_access_token(identity="987654321")
    headers = {"Authorization": f"Bearer {token}"}
    read = client.get(NEARBY[0], headers=headers, query_string=HERE)
    write = client.patch("/api/v1/me", headers=headers, json={"display_name": "Ghost"})
    for answer in (read, write):
        assert answer.status_code == 401 and answer.json["message"] == "Unknown user."


def test_what_flask_jwt_extended_refuses_is_refused_with_its_reason(app, client, actions):
    user = actions.register()
    with app.app_context():
        expired = create_access_token(
            identity=str(user["user"]["id"]), expires_delta=timedelta(seconds=-5)
        )
    cases = {
        expired: "Token has expired.",
        user["refresh_token"]: "Invalid token.",
        user["access_token"][:-4] + "AAAA": "Invalid token.",
    }
    for token, message in cases.items():
        answer = client.get(
            NEARBY[0], headers={"Authorization": f"Bearer {token}"}, query_string=HERE
        )
        assert answer.status_code == 401 and message in answer.json["message"], message


def test_a_header_written_differently_still_signs_in(client, actions):
    """What the one-decode check does not read (here two spaces) goes to flask-jwt-extended,
    which accepts what it always accepted."""
    user = actions.register()
    headers = {"Authorization": f"Bearer  {user['access_token']}"}
    assert client.get(NEARBY[0], headers=headers, query_string=HERE).status_code == 200


def test_views_still_read_the_claims_through_flask_jwt_extended(app, actions):
    """``get_jwt()`` (the notification stream's lease reads ``exp``) sees the claims."""
    user = actions.register()
    with app.test_request_context(headers=user["headers"]):
        claims = tokens.access_claims()
        assert claims["sub"] == str(user["user"]["id"]) and get_jwt() is claims
