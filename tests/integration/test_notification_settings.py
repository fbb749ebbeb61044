"""My notification settings: daily cap, quiet hours, time zone."""

import pytest


def me(client, user) -> dict:
    return client.get("/api/v1/me", headers=user["headers"]).json


def test_defaults(client, actions):
    user = actions.register()
    shown = me(client, user)
    assert shown["nearby_daily_cap"] == 10
    assert shown["quiet_hours"] is None
    assert shown["timezone"] is None
    assert shown["notify_nearby"] is True


def test_set_and_clear(client, actions):
    user = actions.register()
    response = client.patch(
        "/api/v1/me",
        headers=user["headers"],
        json={
            "quiet_hours": {"start": "22:30", "end": "07:00"},
            "timezone": "Europe/Paris",
            "nearby_daily_cap": 3,
        },
    )
    assert response.status_code == 200
    assert response.json["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    assert response.json["timezone"] == "Europe/Paris"
    assert me(client, user)["nearby_daily_cap"] == 3
    response = client.patch(
        "/api/v1/me", headers=user["headers"], json={"quiet_hours": None, "timezone": None}
    )
    assert response.json["quiet_hours"] is None and response.json["timezone"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"nearby_daily_cap": -1},
        {"nearby_daily_cap": 101},
        {"nearby_daily_cap": "ten"},
        {"timezone": "Mars/Olympus"},
        {"timezone": ""},
        {"timezone": "../../etc/passwd"},
        {"quiet_hours": {"start": "22:00"}},
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"quiet_hours": {"start": "24:00", "end": "07:00"}},
        {"quiet_hours": {"start": "7:00", "end": "08:00"}},
        {"quiet_hours": {"start": "22:00", "end": "07:00", "days": 5}},
        {"quiet_hours": "22-07"},
    ],
)
def test_bad_settings_are_422_and_change_nothing(client, actions, change):
    user = actions.register()
    before = me(client, user)
    response = client.patch("/api/v1/me", headers=user["headers"], json=change)
    assert response.status_code == 422
    assert response.json["message"]
    assert me(client, user) == before
