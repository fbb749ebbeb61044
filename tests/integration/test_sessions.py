"""Refresh tokens rotate on every use; reuse revokes the sign-in; logout revokes."""

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Actions


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def login(client, handle):
    response = client.post(
        "/api/v1/auth/login", json={"login": handle, "password": "correct horse battery"}
    )
    assert response.status_code == 200
    return response.json


def test_each_refresh_token_works_once_and_reuse_revokes_the_sign_in(client, actions):
    user = actions.register()
    first = refresh(client, user["refresh_token"])
    assert first.status_code == 200
    second = refresh(client, first.json["refresh_token"])
    assert second.status_code == 200
    replayed = refresh(client, user["refresh_token"])  # stolen and replayed
    assert replayed.status_code == 401 and "revoked" in replayed.json["message"]
    # the thief's replay revoked the whole sign-in: the legitimate newest token too
    assert refresh(client, second.json["refresh_token"]).status_code == 401
    # other sign-ins of the same person are untouched
    other = login(client, user["user"]["handle"])
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_logout_ends_one_sign_in_or_all_of_them(client, actions):
    user = actions.register()
    handle = user["user"]["handle"]
    phone, laptop = login(client, handle), login(client, handle)
    response = client.post("/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})
    assert response.status_code == 204
    assert refresh(client, phone["refresh_token"]).status_code == 401
    assert refresh(client, laptop["refresh_token"]).status_code == 200
    tablet = login(client, handle)
    response = client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": tablet["refresh_token"], "everywhere": True},
    )
    assert response.status_code == 204
    for session in (tablet, user):
        assert refresh(client, session["refresh_token"]).status_code == 401


def test_logout_needs_a_real_refresh_token(client, actions):
    user = actions.register()
    for token in (user["access_token"], "garbage", user["refresh_token"][:-3] + "abc"):
        response = client.post("/api/v1/auth/logout", json={"refresh_token": token})
        assert response.status_code == 401 and response.json["message"]
    assert client.post("/api/v1/auth/logout", json={}).status_code == 422


def test_two_refreshes_racing_with_one_token_give_one_new_pair(live_app):
    client = live_app.test_client()
    user = Actions(client).register()
    barrier = threading.Barrier(2)

    def one(_):
        barrier.wait()
        return refresh(live_app.test_client(), user["refresh_token"]).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(one, range(2)))
    assert statuses == [200, 401]
