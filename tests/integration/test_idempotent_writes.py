"""``Idempotency-Key`` on every write a phone may retry, driven the way a phone on a bad
network (or someone replaying its requests) would: retries with the same key, the key
reused on another body or endpoint, over-long keys, uploads re-encoded, retries racing."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service.database import db
from service.models import Device, Event, Follow, PendingFollow, Plan, Rsvp, Venue, VenueClaim
from tests.conftest import Actions, befriend
from tests.integration.test_concurrency import _race

HERE = (48.8584, 2.2945)


@dataclass
class Write:
    """One retryable write: where it goes, its body, another body, and what it creates."""

    path: str
    body: dict
    other_body: dict
    creates: type
    made: int = 1  # rows one request creates
    extra: dict = field(default_factory=dict)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _when(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def _venue_body(name: str) -> dict:
    return {"name": name, "category": "Coffee", "location": {"lat": HERE[0], "lon": HERE[1]}}


def _setup(name: str, actions: Actions, user: dict, other: dict) -> Write:
    """The write called ``name``, with whatever it needs already in place."""
    if name == "venue":
        return Write("/api/v1/venues", _venue_body("Corner"), _venue_body("Other"), Venue)
    venue = actions.venue(other, *HERE)
    if name == "event":
        event = {"venue_id": venue["id"], "starts_at": _when(24), "ends_at": _when(26)}
        return Write(
            "/api/v1/events", {**event, "title": "Tweetup"}, {**event, "title": "Other"}, Event
        )
    if name == "rsvp":
        event = actions.client.post(
            "/api/v1/events",
            headers=other["headers"],
            json={
                "venue_id": venue["id"],
                "title": "Meetup",
                "starts_at": _when(24),
                "ends_at": _when(26),
            },
        ).json
        path = f"/api/v1/events/{event['id']}/rsvp"
        return Write(path, {"status": "going"}, {"status": "not_going"}, Rsvp)
    if name == "follow":
        third = actions.register()
        return Write(
            "/api/v1/me/contacts",
            {"handle": other["user"]["handle"]},
            {"handle": third["user"]["handle"]},
            Follow,
        )
    if name == "import":
        body = {"network": "github", "handles": ["nobody-one", "nobody-two"]}
        return Write(
            "/api/v1/me/contacts/import",
            body,
            {**body, "handles": ["nobody-three"]},
            PendingFollow,
            made=2,
        )
    if name == "claim":
        path = f"/api/v1/venues/{venue['id']}/claim"
        return Write(path, {"note": "on the lease"}, {"note": "I am the owner"}, VenueClaim)
    if name == "device":
        return Write(
            "/api/v1/me/devices",
            {"platform": "ios", "token": "apns-token-1"},
            {"platform": "ios", "token": "apns-token-2"},
            Device,
        )
    if name == "plan":  # I meet ``other``; a third contact watches
        watcher = actions.register()
        for person in (other, watcher):
            befriend(actions.client, user, person)
        plan = {
            "with": other["user"]["handle"],
            "venue_id": venue["id"],
            "at": _when(2),
            "safety_contact": watcher["user"]["handle"],
        }
        return Write(
            "/api/v1/me/plans",
            {**plan, "check_by": _when(4)},
            {**plan, "check_by": _when(5)},
            Plan,
        )
    raise AssertionError(name)


WRITES = ("venue", "event", "rsvp", "follow", "import", "claim", "device", "plan")


@pytest.fixture
def people(actions):
    return actions.register(), actions.register()


def _post(client, user, write_path, body, key):
    headers = {**user["headers"], "Idempotency-Key": key}
    return client.post(write_path, headers=headers, json=body)


@pytest.mark.parametrize("name", WRITES)
def test_a_retry_replays_the_first_answer_and_acts_once(app, client, actions, people, name):
    user, other = people
    write = _setup(name, actions, user, other)
    before = _count(app, write.creates)
    first = _post(client, user, write.path, write.body, f"tap-{name}")
    assert first.status_code in (200, 201), first.json
    assert "Idempotent-Replayed" not in first.headers
    assert _count(app, write.creates) == before + write.made
    for _ in range(2):
        again = _post(client, user, write.path, write.body, f"tap-{name}")
        assert again.status_code == first.status_code
        assert again.get_data() == first.get_data()
        assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, write.creates) == before + write.made


@pytest.mark.parametrize("name", WRITES)
def test_the_same_key_with_another_body_is_422_and_does_nothing(app, client, actions, people, name):
    user, other = people
    write = _setup(name, actions, user, other)
    assert _post(client, user, write.path, write.body, "reused").status_code in (200, 201)
    after_first = _count(app, write.creates)
    response = _post(client, user, write.path, write.other_body, "reused")
    assert response.status_code == 422
    assert "different request" in response.json["message"]
    assert _count(app, write.creates) == after_first
    if name == "rsvp":  # nor did it change the answer
        with app.app_context():
            assert db.session.scalars(select(Rsvp.status)).all() == ["going"]


@pytest.mark.parametrize("name", WRITES)
def test_a_key_over_255_characters_is_422_and_does_nothing(app, client, actions, people, name):
    user, other = people
    write = _setup(name, actions, user, other)
    before = _count(app, write.creates)
    response = _post(client, user, write.path, write.body, "k" * 256)
    assert response.status_code == 422 and "Idempotency-Key" in response.json["message"]
    assert _count(app, write.creates) == before
    assert _post(client, user, write.path, write.body, "k" * 255).status_code in (200, 201)


def test_a_key_used_on_one_endpoint_is_no_replay_on_another(app, client, people):
    user, _other = people
    assert _post(client, user, "/api/v1/venues", _venue_body("A"), "one-key").status_code == 201
    devices = _count(app, Device)
    response = _post(
        client, user, "/api/v1/me/devices", {"platform": "ios", "token": "t"}, "one-key"
    )
    assert response.status_code == 422 and "Idempotent-Replayed" not in response.headers
    assert _count(app, Device) == devices


def test_keys_are_scoped_to_the_user(app, client, people):
    user, other = people
    before = _count(app, Venue)
    for person in (user, other):
        response = _post(client, person, "/api/v1/venues", _venue_body("Same"), "shared")
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert _count(app, Venue) == before + 2


def _multipart(boundary: str, network: str, content: bytes) -> tuple[bytes, str]:
    """A contact upload encoded by hand, with the boundary a given phone picked."""
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="network"\r\n\r\n{network}\r\n'
            f"--{boundary}\r\nContent-Disposition: form-data; "
            'name="file"; filename="following_accounts.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


EXPORT = b"Account address,Show boosts\nghost1@mastodon.social,true\nghost2@mastodon.social,true\n"


def _upload(client, user, key, boundary, content=EXPORT, network="mastodon"):
    body, content_type = _multipart(boundary, network, content)
    return client.post(
        "/api/v1/me/contacts/import",
        headers={**user["headers"], "Idempotency-Key": key},
        data=body,
        content_type=content_type,
    )


def test_an_upload_retried_with_a_new_boundary_replays(app, client, people):
    user, _other = people
    before = _count(app, PendingFollow)
    first = _upload(client, user, "upload-1", "boundaryAAAA")
    assert first.status_code == 200, first.json
    assert _count(app, PendingFollow) == before + 2
    again = _upload(client, user, "upload-1", "boundaryBBBB-reencoded")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert _count(app, PendingFollow) == before + 2


def test_an_upload_with_another_file_or_as_json_under_the_same_key_is_422(app, client, people):
    user, _other = people
    assert _upload(client, user, "upload-2", "b1").status_code == 200
    after = _count(app, PendingFollow)
    other_file = EXPORT + b"ghost3@mastodon.social,true\n"
    assert _upload(client, user, "upload-2", "b1", content=other_file).status_code == 422
    assert _upload(client, user, "upload-2", "b1", network="github").status_code == 422
    as_json = {"network": "mastodon", "handles": ["ghost1@mastodon.social"]}
    assert _post(client, user, "/api/v1/me/contacts/import", as_json, "upload-2").status_code == 422
    assert _count(app, PendingFollow) == after


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"network=mastodon", "multipart/form-data"),  # no boundary
        (b"--b\r\nContent-Disposition: form-data; name=", "multipart/form-data; boundary=b"),
        (b"network=%ff%00&file=x", "application/x-www-form-urlencoded"),
    ],
)
def test_a_mangled_upload_with_a_key_is_a_4xx(client, people, body, content_type):
    user, _other = people
    response = client.post(
        "/api/v1/me/contacts/import",
        headers={**user["headers"], "Idempotency-Key": "mangled"},
        data=body,
        content_type=content_type,
    )
    assert 400 <= response.status_code < 500 and response.json["message"]


@pytest.mark.parametrize("name", ("venue", "upload"))
def test_retries_racing_with_one_key_create_one_object(live_app, name):
    client = live_app.test_client()
    actions = Actions(client)
    user = actions.register()
    headers = {**user["headers"], "Idempotency-Key": f"race-{name}"}
    if name == "venue":
        model, made = Venue, 1

        def send(c, _i):
            return c.post("/api/v1/venues", headers=headers, json=_venue_body("Race Cafe"))
    else:
        model, made = PendingFollow, 2
        body, content_type = _multipart("race", "mastodon", EXPORT)

        def send(c, _i):
            return c.post(
                "/api/v1/me/contacts/import", headers=headers, data=body, content_type=content_type
            )

    responses = _race(live_app, 8, send)

    assert len({r.status_code for r in responses}) == 1, [r.status_code for r in responses]
    assert len({r.get_data() for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert _count(live_app, model) == made
