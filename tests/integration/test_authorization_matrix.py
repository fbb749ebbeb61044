"""Who may touch whose objects, for every endpoint of the API (PRODUCT.md).

The endpoint list comes from the app's own routes: an endpoint that is neither in
``MATRIX`` (it touches an object: each role's answer is fixed there) nor in
``NO_FOREIGN_OBJECT`` (it only reads or writes the caller's own things, or public
lists) fails the test, so a new endpoint cannot be forgotten. The roles: ``stranger``,
``contact`` (mutual with the owner), ``other_owner`` (owns another venue), ``admin``;
and ``owner`` itself for reads, to prove each answer is not just an error.
"""

import re
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from tests.conftest import Actions, befriend, rolled_back, verify_identity

ROLES = ("stranger", "contact", "other_owner", "admin")

# (method, rule) -> expected status per role; "owner" only where it does not change state
MATRIX = {
    ("GET", "/api/v1/venues/{venue_id}"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    ("PATCH", "/api/v1/venues/{venue_id}"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
    },
    ("DELETE", "/api/v1/venues/{venue_id}"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 204,
    },
    ("POST", "/api/v1/venues/{venue_id}/claim"): dict.fromkeys(ROLES, 409),
    ("GET", "/api/v1/venues/{venue_id}/here"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    ("GET", "/api/v1/venues/{venue_id}/mayor"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    ("GET", "/api/v1/venues/{venue_id}/staff"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
        "owner": 200,
    },
    ("PUT", "/api/v1/venues/{venue_id}/staff/{handle}"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
    },
    ("DELETE", "/api/v1/venues/{venue_id}/staff/{handle}"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 204,
    },
    # the owner invited the contact as staff: only the invitee answers the invitation
    ("POST", "/api/v1/me/staff-invitations/{invitation_id}/accept"): {
        "stranger": 404,
        "contact": 200,
        "other_owner": 404,
        "admin": 404,
    },
    ("POST", "/api/v1/me/staff-invitations/{invitation_id}/decline"): {
        "stranger": 404,
        "contact": 200,
        "other_owner": 404,
        "admin": 404,
    },
    ("GET", "/api/v1/venues/{venue_id}/stats"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
        "owner": 200,
    },
    ("GET", "/api/v1/venues/{venue_id}/stats.csv"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
        "owner": 200,
    },
    ("GET", "/api/v1/checkins/{checkin_id}"): {
        "stranger": 404,
        "contact": 200,
        "other_owner": 404,
        "admin": 200,
        "owner": 200,
    },
    ("GET", "/api/v1/events/{event_id}"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    ("GET", "/api/v1/events/{event_id}.ics"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    ("PATCH", "/api/v1/events/{event_id}"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
    },
    ("DELETE", "/api/v1/events/{event_id}"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 204,
    },
    ("POST", "/api/v1/events/{event_id}/rsvp"): dict.fromkeys(ROLES, 200),
    ("GET", "/api/v1/events/{event_id}/attendees"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    ("GET", "/api/v1/events/{event_id}/conversion"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
        "owner": 200,
    },
    ("GET", "/api/v1/users/{handle}"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    ("GET", "/api/v1/users/{handle}/badges"): dict.fromkeys(ROLES, 200) | {"owner": 200},
    # my follow of the owner: only the contact has one to remove
    ("DELETE", "/api/v1/me/contacts/{handle}"): {
        "stranger": 404,
        "contact": 204,
        "other_owner": 404,
        "admin": 404,
    },
    # the owner's device: nobody else can remove it
    ("DELETE", "/api/v1/me/devices/{device_id}"): dict.fromkeys(ROLES, 404),
    # the owner's verified Twitter handle: nobody else can claim it; nobody else has one
    # to unlink or verify
    ("PUT", "/api/v1/me/identities/{network}"): dict.fromkeys(ROLES, 409),
    ("DELETE", "/api/v1/me/identities/{network}"): dict.fromkeys(ROLES, 404),
    ("POST", "/api/v1/me/identities/{network}/verify"): dict.fromkeys(ROLES, 404),
    # the owner's notifications: marking them read as someone else marks nothing
    ("POST", "/api/v1/me/notifications/read"): dict.fromkeys(ROLES, 200),
    # the owner's meeting plan (meeting the contact, watched by someone in no role):
    # nobody else can close, cancel or watch it, the person met included
    ("POST", "/api/v1/me/plans/{plan_id}/ok"): dict.fromkeys(ROLES, 404),
    ("DELETE", "/api/v1/me/plans/{plan_id}"): dict.fromkeys(ROLES, 404),
    ("POST", "/api/v1/me/watching/{plan_id}/accept"): dict.fromkeys(ROLES, 404),
    ("POST", "/api/v1/admin/claims/{claim_id}/approve"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
    },
    ("POST", "/api/v1/admin/claims/{claim_id}/reject"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
    },
    ("GET", "/api/v1/admin/claims"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
    },
    ("GET", "/api/v1/admin/audit"): {
        "stranger": 403,
        "contact": 403,
        "other_owner": 403,
        "admin": 200,
    },
}

# Endpoints with no object of someone else's in them (own things, public lists, auth);
# what they show of others is held by the privacy suite and the visibility tests.
NO_FOREIGN_OBJECT = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/me/password"),  # one's own password (test_password_change.py)
    # one's own feed URL; the feed's token is attacked in test_calendars.py
    ("POST", "/api/v1/me/calendar-token"),
    ("DELETE", "/api/v1/me/calendar-token"),
    ("GET", "/api/v1/me/events.ics"),
    ("GET", "/api/v1/me"),
    ("PATCH", "/api/v1/me"),
    ("GET", "/api/v1/me/badges"),
    ("GET", "/api/v1/me/checkins"),
    ("GET", "/api/v1/me/claims"),
    ("GET", "/api/v1/me/contacts"),
    ("POST", "/api/v1/me/contacts"),
    ("POST", "/api/v1/me/contacts/import"),
    ("GET", "/api/v1/me/devices"),
    ("POST", "/api/v1/me/devices"),
    ("GET", "/api/v1/me/identities"),
    ("GET", "/api/v1/me/staff-invitations"),
    # a sign-in of one's own; the callback's state is bound to its starter
    # (test_identity_oauth.py attacks it)
    ("GET", "/api/v1/me/identities/{network}/authorize"),
    ("GET", "/api/v1/identities/{network}/callback"),
    ("GET", "/api/v1/me/meetings"),
    ("GET", "/api/v1/me/met"),
    ("GET", "/api/v1/me/plans"),
    ("POST", "/api/v1/me/plans"),
    ("GET", "/api/v1/me/watching"),
    ("GET", "/api/v1/me/met.csv"),
    ("GET", "/api/v1/me/notifications"),
    ("GET", "/api/v1/me/notifications/stream"),
    ("GET", "/api/v1/me/venues"),
    ("GET", "/api/v1/badges"),
    ("POST", "/api/v1/checkins"),
    ("POST", "/api/v1/events"),
    ("GET", "/api/v1/events/nearby"),
    ("GET", "/api/v1/feed"),
    ("GET", "/api/v1/leaderboard"),
    ("GET", "/api/v1/nearby/contacts"),
    ("POST", "/api/v1/venues"),
    ("GET", "/api/v1/venues/nearby"),
    ("GET", "/api/v1/openapi.json"),
}

BODIES = {
    ("PATCH", "/api/v1/venues/{venue_id}"): {"name": "Renamed"},
    ("POST", "/api/v1/venues/{venue_id}/claim"): {},
    ("PATCH", "/api/v1/events/{event_id}"): {"title": "Renamed"},
    ("POST", "/api/v1/events/{event_id}/rsvp"): {"status": "going"},
    ("PUT", "/api/v1/me/identities/{network}"): {"handle": "ownertw"},
    ("POST", "/api/v1/admin/claims/{claim_id}/reject"): {"reason": "no"},
}


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        # <int(max=...):venue_id> -> {venue_id}, as in the OpenAPI document
        path = re.sub(r"<[^<>]*>", lambda m: "{" + m.group(0)[1:-1].split(":")[-1] + "}", rule.rule)
        found |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_endpoint_is_in_the_matrix(app):
    routes = _routes(app)
    unclassified = routes - set(MATRIX) - NO_FOREIGN_OBJECT
    assert not unclassified, f"classify these in the authorization matrix: {sorted(unclassified)}"
    assert not (set(MATRIX) | NO_FOREIGN_OBJECT) - routes  # nothing stale either


@pytest.fixture(scope="module")
def shared_world(base_app, engine, networks):
    """The world, built once per module (and xdist worker) inside a transaction rolled
    back at the end: every test of the matrix reads the same objects."""
    with rolled_back(base_app, engine) as connection:
        client = base_app.test_client()
        verified = partial(verify_identity, client, networks)
        yield _build(client, Actions(client), base_app.test_cli_runner(), verified), connection


@pytest.fixture
def client(base_app):
    """Requests inside the shared world's transaction (not a test transaction of its own)."""
    return base_app.test_client()


@pytest.fixture
def world(shared_world):
    """The shared world, each test's changes rolled back to it by a savepoint."""
    built, connection = shared_world
    savepoint = connection.begin_nested()
    try:
        yield built
    finally:
        savepoint.rollback()


def _build(client, actions, runner, verified) -> dict:
    """The owner and their objects, and the four other roles."""
    people = {name: actions.register() for name in ("owner", *ROLES)}
    owner = people["owner"]
    befriend(client, owner, people["contact"])
    runner.invoke(args=["make-admin", people["admin"]["user"]["handle"]])
    venue = actions.venue(owner, 40.75, -73.99, name="Owned")
    elsewhere = actions.venue(people["other_owner"], 40.76, -73.98, name="Theirs")
    for person, place in ((owner, venue), (people["other_owner"], elsewhere)):
        made = client.post(f"/api/v1/venues/{place['id']}/claim", headers=person["headers"])
        assert runner.invoke(args=["approve-claim", str(made.json["id"])]).exit_code == 0
    pending = client.post(
        f"/api/v1/venues/{actions.venue(owner, 40.77, -73.97)['id']}/claim",
        headers=owner["headers"],
    ).json
    client.put(
        f"/api/v1/venues/{venue['id']}/staff/{people['contact']['user']['handle']}",
        headers=owner["headers"],
    )
    invitation = client.get(
        "/api/v1/me/staff-invitations", headers=people["contact"]["headers"]
    ).json["items"][0]
    checkin = actions.check_in(owner, venue).json["checkin"]
    event = client.post(
        "/api/v1/events",
        headers=owner["headers"],
        json={
            "title": "Owner's meetup",
            "venue_id": venue["id"],
            "starts_at": "2031-05-01T18:00:00+00:00",
            "ends_at": "2031-05-01T20:00:00+00:00",
        },
    ).json
    device = client.post(
        "/api/v1/me/devices", headers=owner["headers"], json={"platform": "ios", "token": "own"}
    ).json
    verified(owner, "twitter", "ownertw")
    watcher = actions.register()
    befriend(client, owner, watcher)
    plan = client.post(
        "/api/v1/me/plans",
        headers=owner["headers"],
        json={
            "with": people["contact"]["user"]["handle"],
            "venue_id": venue["id"],
            "at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "safety_contact": watcher["user"]["handle"],
            "check_by": (datetime.now(UTC) + timedelta(days=1, hours=3)).isoformat(),
        },
    )
    assert plan.status_code == 201, plan.json
    notes = client.get("/api/v1/me/notifications", headers=owner["headers"]).json["items"]
    assert notes
    return {
        "people": people,
        "params": {
            "venue_id": venue["id"],
            "checkin_id": checkin["id"],
            "event_id": event["id"],
            "claim_id": pending["id"],
            "invitation_id": invitation["id"],
            "device_id": device["id"],
            "plan_id": plan.json["id"],
            "network": "twitter",
            # staff routes name the listed staff member; the others name the owner
            "handle": owner["user"]["handle"],
            "staff_handle": people["contact"]["user"]["handle"],
        },
        "owner_notes": [n["id"] for n in notes],
    }


@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX))
def test_each_role_gets_what_product_allows(client, world, method, rule):
    params = dict(world["params"])
    if "/staff/" in rule:
        params["handle"] = params["staff_handle"]
    path = rule.format(**params)
    body = BODIES.get((method, rule))
    if rule.endswith("/notifications/read"):
        body = {"ids": world["owner_notes"]}
    expected = MATRIX[(method, rule)]
    order = ["owner", *ROLES] if "owner" in expected else list(ROLES)
    got = {}
    for role in order:
        headers = world["people"][role]["headers"]
        response = client.open(path, method=method, headers=headers, json=body)
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.json["message"], (role, path)
    assert got == {role: expected[role] for role in order}, path
    if rule.endswith("/notifications/read"):
        owner = world["people"]["owner"]["headers"]
        unread = client.get("/api/v1/me/notifications", headers=owner).json["unread_count"]
        assert unread == len(world["owner_notes"])  # nobody else marked them
