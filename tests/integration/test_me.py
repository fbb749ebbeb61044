"""My profile and its three settings."""

import pytest


def test_get_me(client, actions):
    user = actions.register("mia")
    response = client.get("/api/v1/me", headers=user["headers"])
    assert response.status_code == 200
    assert response.json["handle"] == "mia"


def test_patch_settings(client, actions):
    user = actions.register("ned")
    response = client.patch(
        "/api/v1/me",
        headers=user["headers"],
        json={"location_sharing": "approximate", "nearby_radius_m": 5000, "notify_nearby": False},
    )
    assert response.status_code == 200
    assert response.json["location_sharing"] == "approximate"
    assert response.json["nearby_radius_m"] == 5000
    assert client.get("/api/v1/me", headers=user["headers"]).json["notify_nearby"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"location_sharing": "everyone"},
        {"nearby_radius_m": 99},
        {"nearby_radius_m": 5001},
        {"nearby_radius_m": "far"},
        {"notify_nearby": "maybe"},
        {"points": 1000},
        {"handle": "renamed"},
        {"display_name": ""},
    ],
)
def test_patch_rejects_bad_values_and_changes_nothing(client, actions, body):
    user = actions.register("olga")
    before = client.get("/api/v1/me", headers=user["headers"]).json
    response = client.patch("/api/v1/me", headers=user["headers"], json=body)
    assert response.status_code == 422
    assert client.get("/api/v1/me", headers=user["headers"]).json == before


def test_patch_edges(client, actions):
    user = actions.register("pam")
    for radius in (100, 5000):
        response = client.patch(
            "/api/v1/me", headers=user["headers"], json={"nearby_radius_m": radius}
        )
        assert response.status_code == 200


def test_malformed_json_is_400(client, actions):
    user = actions.register("quinn")
    response = client.patch(
        "/api/v1/me", headers=user["headers"], data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["message"]


def test_public_profile_has_no_location(client, actions):
    viewer = actions.register("rita")
    actions.register("sam")
    response = client.get("/api/v1/users/SAM", headers=viewer["headers"])
    assert response.status_code == 200
    assert set(response.json) == {
        "handle",
        "display_name",
        "points",
        "checkin_count",
        "badges",
        "created_at",
        "as_of",
    }
    assert client.get("/api/v1/users/nobody", headers=viewer["headers"]).status_code == 404
