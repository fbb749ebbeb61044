"""Who sees whose check-ins: feed, one check-in, who is here."""

import pytest

pytestmark = pytest.mark.usefixtures("no_positions_or_tokens_in_logs")

SPOT = (40.7306, -73.9866)


@pytest.fixture
def trio(friends, actions):
    """a and b are contacts; s is a stranger who follows a one way."""
    a, b = friends(2)
    stranger = actions.register()
    return a, b, stranger


def _feed(client, user, **params):
    return client.get("/api/v1/feed", headers=user["headers"], query_string=params).json


def _follow(client, follower, followee):
    client.post(
        "/api/v1/me/contacts",
        headers=follower["headers"],
        json={"handle": followee["user"]["handle"]},
    )


def test_feed_shows_contacts_only(client, actions, trio):
    a, b, stranger = trio
    _follow(client, stranger, a)
    venue = actions.venue(a, *SPOT)
    checkin = actions.check_in(a, venue, shout="coffee?").json["checkin"]
    items = _feed(client, b)["items"]
    assert [i["id"] for i in items] == [checkin["id"]]
    assert items[0]["venue"]["id"] == venue["id"]
    assert items[0]["shout"] == "coffee?"
    assert items[0]["user"]["handle"] == a["user"]["handle"]
    assert _feed(client, stranger)["items"] == []
    assert _feed(client, a)["items"] == []  # not my own check-ins


def test_private_and_off_are_absent_everywhere(client, actions, trio):
    a, b, _ = trio
    venue = actions.venue(a, *SPOT)
    private = actions.check_in(a, venue, private=True).json["checkin"]
    assert _feed(client, b)["items"] == []
    assert client.get(f"/api/v1/checkins/{private['id']}", headers=b["headers"]).status_code == 404
    here = client.get(f"/api/v1/venues/{venue['id']}/here", headers=b["headers"]).json
    assert here["items"] == []
    client.patch("/api/v1/me", headers=a["headers"], json={"location_sharing": "off"})
    other = actions.venue(a, SPOT[0] + 0.01, SPOT[1])
    public = actions.check_in(a, other).json["checkin"]
    assert _feed(client, b)["items"] == []
    assert client.get(f"/api/v1/checkins/{public['id']}", headers=b["headers"]).status_code == 404
    assert (
        client.get(f"/api/v1/venues/{other['id']}/here", headers=b["headers"]).json["items"] == []
    )


def test_approximate_contacts_show_no_venue(client, actions, trio):
    a, b, _ = trio
    client.patch("/api/v1/me", headers=a["headers"], json={"location_sharing": "approximate"})
    venue = actions.venue(a, *SPOT)
    checkin = actions.check_in(a, venue).json["checkin"]
    item = _feed(client, b)["items"][0]
    assert item["venue"] is None and item["sharing"] == "approximate"
    assert item["location"] != {"lat": SPOT[0], "lon": SPOT[1]}
    single = client.get(f"/api/v1/checkins/{checkin['id']}", headers=b["headers"]).json
    assert single["venue"] is None and single["location"] == item["location"]
    assert "accuracy_m" not in single and "points" not in single
    assert (
        client.get(f"/api/v1/venues/{venue['id']}/here", headers=b["headers"]).json["items"] == []
    )


def test_contact_sees_one_checkin_stranger_gets_404(client, actions, trio):
    a, b, stranger = trio
    _follow(client, stranger, a)
    venue = actions.venue(a, *SPOT)
    checkin = actions.check_in(a, venue).json["checkin"]
    seen = client.get(f"/api/v1/checkins/{checkin['id']}", headers=b["headers"])
    assert seen.status_code == 200
    assert seen.json["venue"]["id"] == venue["id"] and seen.json["sharing"] == "exact"
    hidden = client.get(f"/api/v1/checkins/{checkin['id']}", headers=stranger["headers"])
    assert hidden.status_code == 404
    missing = client.get("/api/v1/checkins/987654321", headers=stranger["headers"])
    assert hidden.json == missing.json


def test_here_lists_contacts_in_the_last_3_hours(client, actions, trio, frozen_clock):
    a, b, stranger = trio
    venue = actions.venue(a, *SPOT)
    actions.check_in(a, venue)
    actions.check_in(stranger, venue)
    url = f"/api/v1/venues/{venue['id']}/here"
    items = client.get(url, headers=b["headers"]).json["items"]
    assert [i["user"]["handle"] for i in items] == [a["user"]["handle"]]
    frozen_clock.advance(hours=3, seconds=1)
    assert client.get(url, headers=b["headers"]).json["items"] == []
    assert client.get("/api/v1/venues/987654321/here", headers=b["headers"]).status_code == 404


def test_unfollowing_hides_everything(client, actions, trio):
    a, b, _ = trio
    venue = actions.venue(a, *SPOT)
    checkin = actions.check_in(a, venue).json["checkin"]
    client.delete(f"/api/v1/me/contacts/{a['user']['handle']}", headers=b["headers"])
    assert _feed(client, b)["items"] == []
    assert client.get(f"/api/v1/checkins/{checkin['id']}", headers=b["headers"]).status_code == 404


def test_feed_paginates(client, actions, friends, frozen_clock):
    a, b = friends(2)
    venues = [actions.venue(a, SPOT[0] + i * 0.001, SPOT[1]) for i in range(5)]
    for venue in venues:
        actions.check_in(a, venue)
        frozen_clock.advance(minutes=10)
    first = _feed(client, b, limit=3)
    rest = _feed(client, b, limit=3, cursor=first["next_cursor"])
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert len(ids) == 5 == len(set(ids)) and rest["next_cursor"] is None
    assert (
        client.get(
            "/api/v1/feed", headers=b["headers"], query_string={"cursor": "WyJub3QgYSB0aW1lIiwxXQ"}
        ).status_code
        == 422
    )
