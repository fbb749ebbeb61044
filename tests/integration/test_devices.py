"""Push devices: register, re-register, move between accounts, list, remove."""

import pytest

from service.devices.service import MAX_DEVICES


def register(client, user, token, platform="ios"):
    return client.post(
        "/api/v1/me/devices", headers=user["headers"], json={"platform": platform, "token": token}
    )


def mine(client, user) -> list[dict]:
    response = client.get("/api/v1/me/devices", headers=user["headers"])
    assert response.status_code == 200
    return response.json["items"]


def test_register_again_and_move(client, actions):
    a, b = actions.register(), actions.register()
    first = register(client, a, "apns-token-1")
    assert first.status_code == 201
    assert first.json["platform"] == "ios" and first.json["token"] == "apns-token-1"
    again = register(client, a, "apns-token-1", platform="ios")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    moved = register(client, b, "apns-token-1", platform="android")
    assert moved.status_code == 201
    assert mine(client, a) == [] and [d["token"] for d in mine(client, b)] == ["apns-token-1"]


def test_remove_only_my_own(client, actions):
    a, b = actions.register(), actions.register()
    device = register(client, a, "fcm-1").json
    assert (
        client.delete(f"/api/v1/me/devices/{device['id']}", headers=b["headers"]).status_code == 404
    )
    assert mine(client, a) != []
    assert (
        client.delete(f"/api/v1/me/devices/{device['id']}", headers=a["headers"]).status_code == 204
    )
    assert mine(client, a) == []
    assert (
        client.delete(f"/api/v1/me/devices/{device['id']}", headers=a["headers"]).status_code == 404
    )


def test_oldest_devices_go_beyond_the_limit(client, actions):
    user = actions.register()
    for index in range(MAX_DEVICES + 2):
        assert register(client, user, f"token-{index}").status_code == 201
    tokens = {d["token"] for d in mine(client, user)}
    assert len(tokens) == MAX_DEVICES
    assert "token-0" not in tokens and "token-1" not in tokens
    assert f"token-{MAX_DEVICES + 1}" in tokens


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "blackberry", "token": "t"},
        {"platform": "ios"},
        {"platform": "ios", "token": ""},
        {"platform": "ios", "token": "x" * 513},
        {"platform": "ios", "token": "has space"},
        {"platform": "ios", "token": "t", "id": 5},
    ],
)
def test_bad_devices_are_422(client, actions, body):
    user = actions.register()
    response = client.post("/api/v1/me/devices", headers=user["headers"], json=body)
    assert response.status_code == 422
    assert mine(client, user) == []


def test_devices_need_a_token(client):
    assert client.get("/api/v1/me/devices").status_code == 401
    assert (
        client.post("/api/v1/me/devices", json={"platform": "ios", "token": "t"}).status_code == 401
    )
