"""Limits that had no test (issue 17): every list takes ``limit`` ≤ 100 (default 20), an
Idempotency-Key replays for 24 hours and no longer, and every admin action is audited.

The lists and the admin actions are read from the app itself (its OpenAPI document, the
code that writes the audit log), so a new one cannot be left out of these tests."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.database import db
from service.models import AdminAction, Checkin, IdempotencyKey
from tests.conftest import offset_point

ROOT = Path(__file__).resolve().parents[2]
HERE = (40.7306, -73.9866)
# Lists bounded by what they list, so they need no paging (reason given for each).
BOUNDED = {
    "/api/v1/badges": "the badge catalogue: fixed data, 17 badges",
    "/api/v1/me/identities": "one claim per network, six networks",
}


def _resolve(spec: dict, schema: dict | None) -> dict:
    while schema and "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema or {}


def list_operations(client) -> dict[str, dict]:
    """Every GET in the OpenAPI document whose answer is a list (``items``) or which pages
    (takes ``limit``): path → its ``limit`` parameter (None when it has none)."""
    spec = client.get("/api/v1/openapi.json").json
    found = {}
    for path, operations in spec["paths"].items():
        operation = operations.get("get")
        if not operation:
            continue
        params = {p["name"]: p for p in operation.get("parameters", []) if "name" in p}
        answers = [
            _resolve(spec, answer.get("content", {}).get("application/json", {}).get("schema"))
            for code, answer in operation["responses"].items()
            if code.startswith("2")
        ]
        if "limit" in params or any("items" in a.get("properties", {}) for a in answers):
            found[path] = params.get("limit")
    return found


def test_the_openapi_document_lists_every_get_route(app, client):
    """The document the lists are read from misses no route of the app."""
    documented = set(client.get("/api/v1/openapi.json").json["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and "GET" in rule.methods:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            if path != "/api/v1/openapi.json":
                assert path in documented, path


def test_every_list_pages_with_a_limit_of_at_most_100_defaulting_to_20(client):
    lists = list_operations(client)
    assert len(lists) >= 19  # contacts, check-ins, feed, nearby, meetings, badges, ...
    unpaged = sorted(path for path, limit in lists.items() if limit is None)
    assert unpaged == sorted(BOUNDED), f"lists without a limit: {unpaged}"
    for path, limit in lists.items():
        if limit is not None:
            schema = limit["schema"]
            assert (schema["default"], schema["minimum"], schema["maximum"]) == (20, 1, 100), path


@pytest.fixture
def world(client, actions, runner, friends, pinned_clock):
    """An admin who owns a venue with an event, a contact, and check-ins of both."""
    admin, contact = friends(2)
    assert runner.invoke(args=["make-admin", admin["user"]["handle"]]).exit_code == 0
    venue = actions.venue(admin, *HERE, name="Listed")
    claim = client.post(f"/api/v1/venues/{venue['id']}/claim", headers=admin["headers"], json={})
    assert runner.invoke(args=["approve-claim", str(claim.json["id"])]).exit_code == 0
    event = client.post(
        "/api/v1/events",
        headers=admin["headers"],
        json={
            "title": "Meetup",
            "venue_id": venue["id"],
            "starts_at": (pinned_clock.current - timedelta(hours=1)).isoformat(),
            "ends_at": (pinned_clock.current + timedelta(hours=2)).isoformat(),
        },
    )
    assert event.status_code == 201, event.json
    for person in (contact, admin):
        assert actions.check_in(person, venue, event_id=event.json["id"]).status_code == 201
    return {"admin": admin, "venue": venue, "event": event.json, "contact": contact}


def _url(path: str, world: dict) -> str:
    return (
        path.replace("{venue_id}", str(world["venue"]["id"]))
        .replace("{event_id}", str(world["event"]["id"]))
        .replace("{handle}", world["contact"]["user"]["handle"])
    )


def test_every_paged_list_refuses_101_and_returns_at_most_its_limit(client, world):
    near = {"lat": HERE[0], "lon": HERE[1]}
    headers = world["admin"]["headers"]
    checked = []
    for path, limit in list_operations(client).items():
        if limit is None:
            continue
        url, query = _url(path, world), near if "nearby" in path else {}
        refused = client.get(url, headers=headers, query_string={**query, "limit": 101})
        assert refused.status_code == 422, (path, refused.json)
        assert "limit" in str(refused.json["errors"]), path
        for size in (1, 100):
            page = client.get(url, headers=headers, query_string={**query, "limit": size})
            assert page.status_code == 200, (path, page.json)
            listed = [v for v in page.json.values() if isinstance(v, list)]
            assert len(listed) == 1 and len(listed[0]) <= size, path  # items, or contacts
        checked.append(path)
    assert len(checked) >= 19


def test_the_default_page_is_20(client, actions, world, runner):
    """Lists that hold more than 20 here answer exactly 20 without a ``limit``."""
    admin, venue = world["admin"], world["venue"]
    other = actions.register()
    assert runner.invoke(args=["make-admin", other["user"]["handle"]]).exit_code == 0
    for index in range(21):
        actions.venue(admin, *offset_point(HERE, 30 * (index + 1)), name=f"Spot {index}")
        assert actions.check_in(admin, venue).status_code == 201  # stored, even too soon
        # an admin looking at a venue they do not own: one audit row each time
        stats = client.get(f"/api/v1/venues/{venue['id']}/stats", headers=other["headers"])
        assert stats.status_code == 200
    near = {"lat": HERE[0], "lon": HERE[1], "radius_m": 5000}
    for path, query, user in (
        ("/api/v1/me/checkins", {}, admin),
        ("/api/v1/venues/nearby", near, admin),
        ("/api/v1/admin/audit", {}, other),
    ):
        page = client.get(path, headers=user["headers"], query_string=query)
        assert page.status_code == 200, page.json
        assert len(page.json["items"]) == 20 and page.json["next_cursor"], path


# --- Idempotency-Key: kept 24 hours ------------------------------------------------------


def _keyed(actions, user, venue, key="phone-retry"):
    return actions.check_in(user, venue, headers={"Idempotency-Key": key}, shout="once")


def _checkins(user_id) -> int:
    return db.session.scalar(select(func.count()).where(Checkin.user_id == user_id))


def test_a_key_replays_at_23_hours_and_acts_again_after_24_and_the_purge(
    app, actions, runner, pinned_clock
):
    user = actions.register()
    venue = actions.venue(user, *HERE)
    first = _keyed(actions, user, venue)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    pinned_clock.advance(hours=23)
    again = _keyed(actions, user, venue)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    with app.app_context():
        assert _checkins(user["user"]["id"]) == 1
    pinned_clock.advance(hours=1, seconds=1)  # 24 h and a second after the first
    purged = runner.invoke(args=["purge-idempotency-keys"])
    assert purged.exit_code == 0 and "deleted 1 expired keys" in purged.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    later = _keyed(actions, user, venue)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.json["checkin"]["id"] != first.json["checkin"]["id"]
    with app.app_context():
        assert _checkins(user["user"]["id"]) == 2


def test_the_purge_keeps_keys_younger_than_24_hours(app, actions, runner, pinned_clock):
    user = actions.register()
    _keyed(actions, user, actions.venue(user, *HERE))
    pinned_clock.advance(hours=23, minutes=59)
    assert "deleted 0 expired keys" in runner.invoke(args=["purge-idempotency-keys"]).output


# --- every admin action is in the audit log ----------------------------------------------


def audited_actions() -> set[str]:
    """The action names the code writes to the audit log: every ``"noun.verb"`` literal in
    a module that calls ``audit.record``."""
    found = set()
    for module in (ROOT / "service").rglob("*.py"):
        source = module.read_text()
        if "audit.record(" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if literal and re.fullmatch(r"[a-z]+\.[a-z_]+", node.value):
                found.add(node.value)
    return found


def test_every_admin_action_leaves_a_row(app, client, actions, runner, pinned_clock):
    admin = actions.register()
    owner, other = actions.register(), actions.register()
    venue = actions.venue(owner, *HERE, name="Theirs")
    doomed = actions.venue(owner, *offset_point(HERE, 300), name="Doomed")
    claims = [
        client.post(f"/api/v1/venues/{v['id']}/claim", headers=owner["headers"], json={}).json
        for v in (venue, doomed)
    ]
    event = client.post(
        "/api/v1/events",
        headers=owner["headers"],
        json={
            "title": "Theirs",
            "venue_id": venue["id"],
            "starts_at": (pinned_clock.current + timedelta(hours=1)).isoformat(),
            "ends_at": (pinned_clock.current + timedelta(hours=3)).isoformat(),
        },
    ).json
    checkin = actions.check_in(owner, venue).json["checkin"]
    headers = admin["headers"]
    base = f"/api/v1/venues/{venue['id']}"

    def api(method: str, url: str, **body):
        response = client.open(url, method=method, headers=headers, json=body or None)
        assert response.status_code in (200, 201, 204), (url, response.json)

    def cli(*args):
        result = runner.invoke(args=list(args))
        assert result.exit_code == 0, result.output

    scenarios = {
        "user.make_admin": (
            lambda: cli("make-admin", admin["user"]["handle"]),
            "user",
            admin["user"]["id"],
        ),
        "claim.approve": (
            lambda: api("POST", f"/api/v1/admin/claims/{claims[0]['id']}/approve"),
            "claim",
            claims[0]["id"],
        ),
        "claim.reject": (
            lambda: api("POST", f"/api/v1/admin/claims/{claims[1]['id']}/reject", reason="no"),
            "claim",
            claims[1]["id"],
        ),
        "checkin.view": (
            lambda: api("GET", f"/api/v1/checkins/{checkin['id']}"),
            "checkin",
            checkin["id"],
        ),
        "event.update": (
            lambda: api("PATCH", f"/api/v1/events/{event['id']}", title="Renamed"),
            "event",
            event["id"],
        ),
        "event.conversion": (
            lambda: api("GET", f"/api/v1/events/{event['id']}/conversion"),
            "event",
            event["id"],
        ),
        "event.delete": (
            lambda: api("DELETE", f"/api/v1/events/{event['id']}"),
            "event",
            event["id"],
        ),
        "venue.stats": (lambda: api("GET", f"{base}/stats"), "venue", venue["id"]),
        "staff.invite": (
            lambda: api("PUT", f"{base}/staff/{other['user']['handle']}"),
            "venue",
            venue["id"],
        ),
        "staff.remove": (
            lambda: api("DELETE", f"{base}/staff/{other['user']['handle']}"),
            "venue",
            venue["id"],
        ),
        "venue.update": (lambda: api("PATCH", base, name="Renamed"), "venue", venue["id"]),
        "venue.delete": (
            lambda: api("DELETE", f"/api/v1/venues/{doomed['id']}"),
            "venue",
            doomed["id"],
        ),
    }
    assert set(scenarios) == audited_actions()  # a new admin action needs a line here
    for action, (act, target_type, target_id) in scenarios.items():
        with app.app_context():
            before = db.session.scalar(select(func.max(AdminAction.id))) or 0
        act()
        with app.app_context():
            rows = db.session.scalars(select(AdminAction).where(AdminAction.id > before)).all()
        assert [row.action for row in rows] == [action], action
        assert rows[0].target_type == target_type, action
        assert rows[0].target_id == target_id, action
        if action != "user.make_admin":
            assert rows[0].admin_id == admin["user"]["id"], action
