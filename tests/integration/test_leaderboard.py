"""Leaderboards: global or contacts, all time or the rolling last 7 days."""

import pytest
from geographiclib.geodesic import Geodesic

WGS84 = Geodesic.WGS84


@pytest.fixture(autouse=True)
def noon(pinned_clock):
    """Noon in New York: check-ins minutes apart stay on one local day (no streak bonus)."""
    return pinned_clock


def _spot(index):
    point = WGS84.Direct(40.7306, -73.9866, 90, 300 * index)
    return point["lat2"], point["lon2"]


def _board(client, user, **params):
    response = client.get("/api/v1/leaderboard", headers=user["headers"], query_string=params)
    assert response.status_code == 200, response.json
    return [(item["user"]["handle"], item["points"]) for item in response.json["items"]]


def test_scopes_and_periods(client, actions, friends, frozen_clock):
    me, contact = friends(2)
    stranger = actions.register()
    owner = actions.register()
    venues = [actions.venue(owner, *_spot(i)) for i in range(3)]
    actions.check_in(stranger, venues[0])  # 15, eight days ago
    frozen_clock.advance(days=8)
    actions.check_in(me, venues[1])  # 15
    frozen_clock.advance(minutes=5)
    actions.check_in(contact, venues[2])  # 15
    frozen_clock.advance(minutes=5)
    actions.check_in(me, venues[2])  # 15 + meeting 50, contact +50
    handles = {u["user"]["handle"]: u for u in (me, contact, stranger)}
    everyone = _board(client, me, scope="global", period="all")
    assert everyone[:2] == [(me["user"]["handle"], 80), (contact["user"]["handle"], 65)]
    assert (stranger["user"]["handle"], 15) in everyone
    week = _board(client, me, scope="global", period="week")
    assert stranger["user"]["handle"] not in dict(week)
    assert dict(week)[me["user"]["handle"]] == 80
    mine = _board(client, me, scope="contacts", period="all")
    assert [h for h, _ in mine] == [me["user"]["handle"], contact["user"]["handle"]]
    assert set(handles) >= {h for h, _ in mine}


def test_ranks_and_paging(client, actions, friends):
    me = actions.register()
    owner = actions.register()
    venue = actions.venue(owner, *_spot(0))
    players = [actions.register() for _ in range(5)]
    for player in players:
        actions.check_in(player, venue)
    first = client.get("/api/v1/leaderboard", headers=me["headers"], query_string={"limit": 2}).json
    assert [item["rank"] for item in first["items"]] == [1, 2]
    second = client.get(
        "/api/v1/leaderboard",
        headers=me["headers"],
        query_string={"limit": 2, "cursor": first["next_cursor"]},
    ).json
    assert [item["rank"] for item in second["items"]] == [3, 4]


@pytest.mark.parametrize(
    "params", [{"scope": "world"}, {"period": "month"}, {"limit": 0}, {"cursor": "WzEwMDAwMDBd"}]
)
def test_bad_queries(client, actions, params):
    user = actions.register()
    assert (
        client.get("/api/v1/leaderboard", headers=user["headers"], query_string=params).status_code
        == 422
    )
