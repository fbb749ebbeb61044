"""Push through the servers operators run — Gorush and ntfy — as local stand-ins that
check the requests those projects document (tests/fake_push_gateways.py): platform codes,
topics, priorities, collapse ids; 2xx delivered, 5xx retried then given up, 4xx failed at
once; never a position or a token in a body; the configuration refused when unusable."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from service import clock
from service.app import _check_push, create_app
from service.config import Config
from service.database import db
from service.models import Notification, PushDelivery
from service.notifications.push import PushSettings, PushWorker
from tests.conftest import TEST_DATABASE_URL, Actions, befriend
from tests.fake_push_gateways import FakeGorush, FakeNtfy

HERE = (48.8566, 2.3522)  # Paris
NEARBY = (48.8596, 2.3522)  # about 330 m north
NTFY_TOKEN = "tk_fakentfyaccesstoken0000000"
POSITION_KEYS = {"location", "last_seen", "lat", "lon"}
APP = {"JWT_SECRET_KEY": "k" * 48, "DATABASE_URL": TEST_DATABASE_URL}


@pytest.fixture(autouse=True)
def midday(frozen_clock):
    """Noon yesterday: first check-ins earn Newbie alone, and what they queue is due."""
    frozen_clock.current = (frozen_clock.current - timedelta(days=1)).replace(hour=12, minute=0)
    return frozen_clock


@pytest.fixture
def pushing(live_app):
    """The live app queueing push deliveries; restored afterwards."""
    saved = dict(live_app.config)
    live_app.config.update(PUSH_GATEWAY_URL="http://127.0.0.1:9/unused")
    yield live_app
    live_app.config.clear()
    live_app.config.update(saved)


@pytest.fixture
def servers():
    made = []

    def make(kind, *args, **kwargs):
        made.append(kind(*args, **kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def worker_for(app, kind: str, url: str, token: str = "", **settings) -> PushWorker:
    return PushWorker(
        db.state(app).engine,
        PushSettings(
            gateway_url=url, secret=b"", kind=kind, token=token, timeout_s=1.0, **settings
        ),
    )


def deliver(worker: PushWorker, now=None) -> None:
    try:
        worker.deliver_due(now)
    finally:
        worker.close()


def register_devices(client, user: dict, devices: list[tuple[str, str]]) -> None:
    for platform, token in devices:
        body = {"platform": platform, "token": token}
        response = client.post("/api/v1/me/devices", headers=user["headers"], json=body)
        assert response.status_code == 201, response.json


def three_kinds(app, frozen_clock, devices: list[tuple[str, str]]) -> dict:
    """B (with ``devices``) is pinged that A is nearby, then meets A, then is alerted as
    the safety contact of A's plan with C that A never checked in to: all committed."""
    client = app.test_client()
    actions = Actions(client)
    a, b, c = (actions.register() for _ in range(3))
    for x, y in ((a, b), (a, c), (b, c)):
        befriend(client, x, y)
    register_devices(client, b, devices)
    bar = actions.venue(b, *HERE, name="Bar")
    cafe = actions.venue(a, *NEARBY, name="Cafe")
    assert actions.check_in(b, bar).status_code == 201
    frozen_clock.advance(minutes=5)
    assert actions.check_in(a, cafe).status_code == 201  # B: "A is at Cafe"
    frozen_clock.advance(minutes=10)
    assert actions.check_in(a, bar).status_code == 201  # A and B meet at the Bar
    at = frozen_clock.current + timedelta(minutes=30)
    plan = {
        "with": c["user"]["handle"],
        "venue_id": cafe["id"],
        "at": at.isoformat(),
        "safety_contact": b["user"]["handle"],
        "check_by": (at + timedelta(hours=2)).isoformat(),
    }
    made = client.post("/api/v1/me/plans", headers=a["headers"], json=plan)
    assert made.status_code == 201, made.json
    accepted = client.post(f"/api/v1/me/watching/{made.json['id']}/accept", headers=b["headers"])
    assert accepted.status_code == 200
    frozen_clock.current = at + timedelta(hours=2)
    return {"a": a, "b": b, "plan": made.json}


def alerted(app, frozen_clock) -> None:
    """Let the deadline pass: the worker's plan job writes the urgent alert."""
    worker = PushWorker(db.state(app).engine, PushSettings(gateway_url="", secret=b""))
    try:
        with app.app_context():
            assert worker.keep_plan_deadlines(frozen_clock.current) == 1
    finally:
        worker.close()


def kinds_of(app, user: dict) -> dict[int, str]:
    with app.app_context():
        rows = db.session.execute(
            select(Notification.id, Notification.kind).where(
                Notification.user_id == user["user"]["id"]
            )
        )
        return {row.id: row.kind for row in rows}


def deliveries(app) -> list[PushDelivery]:
    with app.app_context():
        return db.session.scalars(select(PushDelivery).order_by(PushDelivery.id)).all()


def keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def assert_no_secrets(server, world: dict, *secrets: str) -> None:
    """No position anywhere in a body, no access token (the users' or the gateway's)."""
    for request in server.requests:
        raw = request["body"].decode()
        for secret in (world["a"]["access_token"], world["b"]["access_token"], *secrets):
            assert secret not in raw
    for accepted in server.accepted:
        assert not keys_anywhere(accepted["json"]) & POSITION_KEYS


def test_gorush_gets_each_kind_per_platform_with_priority_and_collapse_ids(
    pushing, servers, frozen_clock
):
    gorush = servers(FakeGorush)
    devices = [("ios", "apns-b1"), ("android", "fcm:b1"), ("ios", "apns-b2"), ("web", "w-b")]
    world = three_kinds(pushing, frozen_clock, devices)
    alerted(pushing, frozen_clock)
    deliver(worker_for(pushing, "gorush", gorush.url + "/"), frozen_clock.current)
    kinds = kinds_of(pushing, world["b"])
    assert {"nearby", "meeting", "plan_missed"} <= set(kinds.values())
    by_kind = {}
    for request in gorush.wait_for(len(kinds)):
        ios, android = request["json"]["notifications"]  # one entry per platform, web left out
        by_kind[ios["data"]["kind"]] = (ios, android)
        assert (ios["platform"], ios["tokens"]) == (1, ["apns-b1", "apns-b2"])
        assert (android["platform"], android["tokens"]) == (2, ["fcm:b1"])
        assert ios["message"] == android["message"] and ios["title"]
        assert kinds[ios["data"]["notification_id"]] == ios["data"]["kind"]
    assert all(r["method"] == "POST" and r["path"] == "/api/push" for r in gorush.requests)

    ios, android = by_kind["nearby"]
    sender = world["a"]["user"]["handle"]
    assert ios["collapse_id"] == f"nearby-{sender.lower()}"
    assert android["collapse_key"] == android["android"]["collapse_key"] == ios["collapse_id"]
    assert ios["priority"] == android["priority"] == android["android"]["priority"] == "normal"
    assert "is at Cafe" in ios["message"] and ios["data"]["handle"] == sender

    ios, android = by_kind["meeting"]
    assert "collapse_id" not in ios and "collapse_key" not in android
    assert ios["data"]["meeting_id"] and ios["priority"] == "normal"

    ios, android = by_kind["plan_missed"]
    assert ios["priority"] == android["priority"] == android["android"]["priority"] == "high"
    assert ios["title"] == "Safety alert" and ios["data"]["plan_id"] == world["plan"]["id"]
    assert_no_secrets(gorush, world)
    sent = deliveries(pushing)
    assert {d.state for d in sent} == {"sent"}
    assert all("skipped 1 web device" in d.last_error for d in sent)  # recorded, not lost


def test_ntfy_publishes_each_kind_to_every_topic_with_its_priority(pushing, servers, frozen_clock):
    ntfy = servers(FakeNtfy, token=NTFY_TOKEN)
    devices = [
        ("web", "irl_b_browser"),
        ("android", f"{ntfy.url}/upB0b123?up=1"),  # a UnifiedPush endpoint on this server
        ("android", "fcm:not-a-topic"),
        ("android", "https://other.example/upElsewhere?up=1"),
        ("ios", "apns-b"),
    ]
    world = three_kinds(pushing, frozen_clock, devices)
    alerted(pushing, frozen_clock)
    deliver(worker_for(pushing, "ntfy", ntfy.url, token=NTFY_TOKEN), frozen_clock.current)
    kinds = kinds_of(pushing, world["b"])
    published = ntfy.wait_for(2 * len(kinds))
    assert all(r["method"] == "POST" and r["path"] == "/" for r in ntfy.requests)
    assert all(p["headers"]["Authorization"] == f"Bearer {NTFY_TOKEN}" for p in published)
    by_kind: dict[str, list[dict]] = {}
    for message in (p["json"] for p in published):
        assert set(message) == {"topic", "title", "message", "tags", "priority"}
        by_kind.setdefault(message["tags"][-1], []).append(message)
    for kind, messages in by_kind.items():
        topics = sorted(m["topic"] for m in messages)  # each notification to both topics
        assert topics == sorted(["irl_b_browser", "upB0b123"] * (len(messages) // 2)), kind
    nearby, meeting, urgent = (by_kind[k][0] for k in ("nearby", "meeting", "plan_missed"))
    assert nearby["priority"] == meeting["priority"] == 3
    assert "is at Cafe" in nearby["message"] and nearby["title"] == "A friend is nearby"
    assert urgent["priority"] == 5 and urgent["tags"][0] == "rotating_light"
    assert_no_secrets(ntfy, world, NTFY_TOKEN)
    sent = deliveries(pushing)
    assert {d.state for d in sent} == {"sent"}
    assert all("skipped 3 device(s) with no ntfy topic" in d.last_error for d in sent)


def queue_one(app, devices: list[tuple[str, str]]) -> dict:
    """A user with ``devices`` earns Newbie: one push delivery queued."""
    client = app.test_client()
    actions = Actions(client)
    user = actions.register()
    register_devices(client, user, devices)
    assert actions.check_in(user, actions.venue(user, *HERE)).status_code == 201
    return user


GATEWAYS = {
    "gorush": (FakeGorush, [("android", "fcm:1")]),
    "ntfy": (FakeNtfy, [("web", "irl_topic_1")]),
}


@pytest.mark.parametrize("kind", GATEWAYS)
def test_a_5xx_is_retried_with_backoff_then_delivered(kind, pushing, servers, frozen_clock):
    fake, devices = GATEWAYS[kind]
    server = servers(fake, (503, 502, 200))
    queue_one(pushing, devices)
    worker = worker_for(pushing, kind, server.url, base_delay_s=10.0)
    try:
        assert worker.deliver_due() == 1
        (pending,) = deliveries(pushing)
        assert pending.state == "pending" and "HTTP 503" in pending.last_error
        assert 5.0 <= (pending.next_attempt_at - clock.now()).total_seconds() <= 10.0
        assert worker.deliver_due() == 0  # not due yet
        frozen_clock.advance(seconds=10)
        assert worker.deliver_due() == 1
        frozen_clock.advance(seconds=20)
        assert worker.deliver_due() == 1
    finally:
        worker.close()
    (sent,) = deliveries(pushing)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 3, None)
    assert len(server.accepted) == 3


@pytest.mark.parametrize("kind", GATEWAYS)
def test_gives_up_after_the_last_attempt(kind, pushing, servers, frozen_clock):
    fake, devices = GATEWAYS[kind]
    server = servers(fake, (500,))
    queue_one(pushing, devices)
    worker = worker_for(pushing, kind, server.url, max_attempts=3, base_delay_s=1.0)
    try:
        for _ in range(5):
            worker.deliver_due()
            frozen_clock.advance(seconds=60)
    finally:
        worker.close()
    (failed,) = deliveries(pushing)
    assert failed.state == "failed" and failed.attempts == 3
    assert "gave up after 3 attempts" in failed.last_error and "HTTP 500" in failed.last_error
    assert len(server.accepted) == 3


def test_gorush_a_4xx_fails_at_once(pushing, servers):
    gorush = servers(FakeGorush, (400,))
    queue_one(pushing, [("ios", "apns-1")])
    deliver(worker_for(pushing, "gorush", gorush.url))
    (failed,) = deliveries(pushing)
    assert (failed.state, failed.attempts) == ("failed", 1) and "HTTP 400" in failed.last_error


def test_ntfy_a_wrong_access_token_fails_at_once(pushing, servers):
    ntfy = servers(FakeNtfy, token=NTFY_TOKEN)
    queue_one(pushing, [("web", "irl_topic_1")])
    deliver(worker_for(pushing, "ntfy", ntfy.url, token="tk_wrong"))
    (failed,) = deliveries(pushing)
    assert (failed.state, failed.attempts) == ("failed", 1) and "HTTP 401" in failed.last_error
    assert ntfy.accepted == []


def test_gorush_reports_refused_tokens_in_the_record(pushing, servers):
    gorush = servers(FakeGorush, failed_tokens={"apns-gone"})
    queue_one(pushing, [("ios", "apns-gone"), ("ios", "apns-ok")])
    deliver(worker_for(pushing, "gorush", gorush.url))
    (sent,) = deliveries(pushing)
    assert sent.state == "sent" and "1 failed push(es): ios: Unregistered" in sent.last_error
    assert "apns-gone" not in sent.last_error


@pytest.mark.parametrize(
    ("kind", "devices", "why"),
    [
        ("gorush", [("web", "w-1")], "skipped 1 web device"),
        ("ntfy", [("ios", "apns-1")], "no ntfy topic"),
    ],
)
def test_no_device_the_gateway_reaches_fails_without_a_request(
    kind, devices, why, pushing, servers
):
    server = servers(FakeGorush if kind == "gorush" else FakeNtfy)
    queue_one(pushing, devices)
    deliver(worker_for(pushing, kind, server.url))
    (failed,) = deliveries(pushing)
    assert failed.state == "failed" and why in failed.last_error
    assert server.requests == []


def test_the_fakes_reject_what_the_real_servers_reject(servers):
    gorush, ntfy = servers(FakeGorush), servers(FakeNtfy)
    push = f"{gorush.url}/api/push"
    assert httpx.post(push, content=b"{").json()["message"] == "Missing notifications field."
    assert httpx.post(push, json={"notifications": []}).status_code == 400
    wrong = {"notifications": [{"tokens": ["t"], "platform": "ios", "message": "m"}]}
    assert httpx.post(push, json=wrong).status_code == 400
    assert httpx.post(f"{gorush.url}/push", json={}).status_code == 404
    assert httpx.post(f"{ntfy.url}/", json={"topic": "a/b"}).json()["code"] == 40009
    assert httpx.post(f"{ntfy.url}/", json={"topic": "t", "priority": 9}).json()["code"] == 40007
    assert httpx.post(f"{ntfy.url}/", json={"topic": "t", "priority": "5"}).status_code == 400
    answer = httpx.post(f"{ntfy.url}/", json={"topic": "t", "message": "hi"}).json()
    assert answer["event"] == "message" and answer["topic"] == "t"
    assert gorush.accepted == [] and len(ntfy.accepted) == 1


def test_settings_come_from_the_config(pushing):
    cfg = {**pushing.config, "PUSH_GATEWAY_KIND": "ntfy", "PUSH_GATEWAY_TOKEN": NTFY_TOKEN}
    settings = PushSettings.from_config(cfg)
    assert (settings.kind, settings.token) == ("ntfy", NTFY_TOKEN)
    assert PushSettings.from_config(pushing.config).kind == "webhook"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"PUSH_GATEWAY_KIND": "apns"}, "PUSH_GATEWAY_KIND='apns' is not a push gateway kind"),
        ({"PUSH_GATEWAY_URL": "http://127.0.0.1:9/push"}, "PUSH_SIGNING_SECRET is empty"),
        (
            {"PUSH_GATEWAY_KIND": "ntfy", "PUSH_GATEWAY_URL": "ntfy.sh"},
            "must be the ntfy server's http(s):// base URL",
        ),
    ],
)
def test_an_unusable_gateway_is_refused_at_startup(overrides, message):
    config = {**APP, "PUSH_SIGNING_SECRET": "", **overrides}
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_app(config)


@pytest.mark.parametrize("kind", ["gorush", "ntfy"])
def test_gorush_and_ntfy_need_no_signing_secret(kind):
    settings = Config().update(
        {"PUSH_GATEWAY_KIND": kind, "PUSH_GATEWAY_URL": "http://127.0.0.1:9"}
    )
    settings.PUSH_SIGNING_SECRET = ""
    _check_push(settings)  # the startup check passes (a whole app would rebind extensions)


@pytest.mark.parametrize(("kind", "fake"), [("gorush", FakeGorush), ("ntfy", FakeNtfy)])
def test_the_cli_worker_runs_for_a_gateway_without_a_signing_secret(
    kind, fake, app, runner, servers
):
    """``flask push-worker`` delivers to Gorush or ntfy with no PUSH_SIGNING_SECRET."""
    url = servers(fake).url
    app.config.update(PUSH_GATEWAY_KIND=kind, PUSH_GATEWAY_URL=url, PUSH_SIGNING_SECRET="")
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 0 and "attempted 0 deliveries" in result.output, result.output
