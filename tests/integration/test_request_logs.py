"""Request logs: one JSON line per request on stderr (method, route template, status,
duration, user id, request id), the request id echoed on every answer and carried into
the push worker's lines; never a query string, a position, a token or a SQL parameter."""

import json
import logging
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from service import logs
from service.app import create_app
from service.database import db
from service.models import PushDelivery
from service.notifications.push import PushSettings, PushWorker
from service.venues import service as venues
from tests.conftest import TEST_DATABASE_URL, Actions
from tests.fake_push_gateways import FakeServer
from tests.live import ROOT, Receiver, process_env, running_api, wait_until

HERE = (51.50741234, -0.12781234)  # London, to 8 decimals: each must stay out of the logs
SECRET = "push-signing-secret"
HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def json_logs(base_app):
    """JSON lines whatever LOG_FORMAT the run has; the app's own settings again after."""
    logs.configure(level="INFO", kind="json")
    yield
    logs.configure(level=base_app.config["LOG_LEVEL"], kind=base_app.config["LOG_FORMAT"])


def lines(capfd) -> list[dict]:
    """Everything written to stderr since the last call; every line must be JSON."""
    return [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]


def request_lines(capfd) -> list[dict]:
    return [line for line in lines(capfd) if line["logger"] == "irl.request"]


def test_one_line_per_request_with_the_route_template(client, actions, capfd):
    user = actions.register()
    venue = actions.venue(user, *HERE)
    capfd.readouterr()
    response = client.get(f"/api/v1/venues/{venue['id']}", headers=user["headers"])
    (line,) = request_lines(capfd)
    assert line["method"] == "GET" and line["status"] == 200 == response.status_code
    assert line["route"] == "/api/v1/venues/<int:venue_id>"  # not the id, not max=
    assert line["user_id"] == user["user"]["id"]
    assert 0 < line["duration_ms"] < 10_000
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert HEX_ID.fullmatch(line["request_id"])  # none sent: generated
    assert {"time", "level", "message"} <= line.keys() and line["level"] == "INFO"


def test_the_query_string_never_reaches_the_log(client, actions, capfd):
    user = actions.register()
    capfd.readouterr()
    query = {"lat": HERE[0], "lon": HERE[1], "radius_m": 500}
    response = client.get("/api/v1/venues/nearby", query_string=query, headers=user["headers"])
    assert response.status_code == 200
    written = capfd.readouterr().err
    (line,) = [json.loads(text) for text in written.splitlines()]
    assert line["route"] == "/api/v1/venues/nearby"
    for leak in ("51.5074", "0.1278", "radius_m", "?", user["access_token"], "Bearer"):
        assert leak not in written


def test_a_sane_request_id_is_echoed_and_logged(client, capfd):
    capfd.readouterr()
    response = client.get("/healthz", headers={"X-Request-Id": "edge-7f3a:b_c.d"})
    assert response.headers["X-Request-Id"] == "edge-7f3a:b_c.d"
    (line,) = request_lines(capfd)
    assert line["request_id"] == "edge-7f3a:b_c.d" and line["user_id"] is None


@pytest.mark.parametrize(
    "sent",
    [
        'forged\n{"level": "INFO", "message": "admin logged in"}',
        "x" * 10_000,
        "a" * 129,
        "with space",
        "<script>",
        "",
    ],
    ids=["newline", "10KB", "129", "space", "markup", "empty"],
)
def test_an_insane_request_id_is_replaced(client, capfd, sent):
    capfd.readouterr()
    # environ_overrides: the test client's header check would refuse the newline itself
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": sent})
    given = response.headers["X-Request-Id"]
    assert HEX_ID.fullmatch(given) and given != sent
    written = capfd.readouterr().err
    assert len(written.splitlines()) == 1 and "admin logged in" not in written
    assert len(written) < 1000 and json.loads(written)["request_id"] == given


def test_text_format_keeps_an_injected_newline_out_too(client, capfd):
    logs.configure(level="INFO", kind="text")
    capfd.readouterr()
    client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": "x\nFORGED LINE"})
    (written,) = capfd.readouterr().err.splitlines()
    assert " INFO irl.request [" in written and "GET /healthz 200" in written
    assert "FORGED" not in written


@pytest.mark.parametrize(
    ("method", "path", "status", "signed_in"),
    [
        ("GET", "/api/v1/no-such-thing?token=cal-secret-123456", 404, False),
        ("DELETE", "/api/v1/venues/nearby?lat=51.50741234", 405, True),
        ("GET", "/api/v1/me", 401, False),
        ("GET", "/api/v1/venues/nearby?lat=91.12345678&lon=0", 422, True),
    ],
)
def test_errors_carry_the_request_id(client, actions, capfd, method, path, status, signed_in):
    headers = {"X-Request-Id": f"err-{status}"}
    if signed_in:
        headers |= actions.register()["headers"]
    capfd.readouterr()
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == status
    assert response.headers["X-Request-Id"] == f"err-{status}"
    (line,) = request_lines(capfd)
    assert line["status"] == status and line["request_id"] == f"err-{status}"
    assert "cal-secret" not in json.dumps(line) and "1.5074" not in json.dumps(line)
    if status in (404, 405):
        assert line["route"] is None  # nothing matched: no template, and never the path


def test_a_500_logs_neither_the_sql_parameters_nor_the_body(client, actions, capfd, monkeypatch):
    user = actions.register()

    def broken(**_kwargs):
        parameters = {"location": "POINT(-0.12781234 51.50741234)", "secret": "hunter2-xyz"}
        raise DBAPIError("INSERT INTO venues (location) VALUES (%(location)s)", parameters, None)

    monkeypatch.setattr(venues, "create", broken)
    capfd.readouterr()
    body = {"name": "Cafe hunter2-xyz", "category": "Coffee"}
    body["location"] = {"lat": HERE[0], "lon": HERE[1]}
    response = client.post(
        "/api/v1/venues", json=body, headers={**user["headers"], "X-Request-Id": "boom-1"}
    )
    assert response.status_code == 500 and response.headers["X-Request-Id"] == "boom-1"
    written = capfd.readouterr().err
    error = next(line for line in map(json.loads, written.splitlines()) if line["level"] == "ERROR")
    assert error["request_id"] == "boom-1" and "INSERT INTO venues" in error["exc_info"]
    assert "hidden due to hide_parameters" in error["exc_info"]
    for leak in ("51.5074", "0.1278", "hunter2", "Bearer", user["access_token"]):
        assert leak not in written
    assert [
        line["status"] for line in map(json.loads, written.splitlines()) if "route" in line
    ] == [500]


@pytest.mark.parametrize(("setting", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
def test_an_unknown_log_setting_refuses_to_start(setting, value):
    with pytest.raises(RuntimeError, match=setting):
        create_app({setting: value, "JWT_SECRET_KEY": "k" * 40})


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("Error handling request %s %s", ("GET", "/api/v1/venues/nearby?lat=51.50741234&lon=0")),
        ("Invalid request from ip=10.0.0.1: Invalid HTTP request line: 'GET /x?token=cal-1'", ()),
    ],
)
def test_gunicorn_error_lines_lose_their_query_strings(message, args):
    record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, message, args, None)
    assert logs.WithoutQueryStrings().filter(record)
    written = logs.formatter("json").format(record)
    assert "?" not in written and "51.5074" not in written and "cal-1" not in written
    assert ("/api/v1/venues/nearby" in written) or ("GET /x'" in written)


# --- the push worker: the request id of the request that queued the notification ---


@pytest.fixture
def midday(frozen_clock):
    """Noon yesterday in London: the check-in earns Newbie alone, due at once."""
    yesterday = frozen_clock.current - timedelta(days=1)
    frozen_clock.current = yesterday.replace(hour=12, minute=0)
    return frozen_clock


@pytest.fixture
def pushing(live_app, midday):
    saved = dict(live_app.config)
    live_app.config.update(PUSH_GATEWAY_URL="http://127.0.0.1:9/unused", PUSH_SIGNING_SECRET=SECRET)
    yield live_app
    live_app.config.clear()
    live_app.config.update(saved)


def check_in_with_a_phone(app, request_id: str, device_token: str = "apns-log-device-1") -> dict:
    """Register, add an iPhone, check in (as request ``request_id``): one push queued."""
    client = app.test_client()
    actions = Actions(client)
    user = actions.register()
    device = {"platform": "ios", "token": device_token}
    assert client.post("/api/v1/me/devices", headers=user["headers"], json=device).status_code
    response = actions.check_in(
        user, actions.venue(user, *HERE), headers={"X-Request-Id": request_id}
    )
    assert response.status_code == 201 and response.headers["X-Request-Id"] == request_id
    return user


def deliver(app, url: str, times: int = 1, clock=None, **settings) -> None:
    worker = PushWorker(
        db.state(app).engine,
        PushSettings(gateway_url=url, secret=SECRET.encode(), timeout_s=1.0, **settings),
    )
    try:
        for _ in range(times):
            worker.deliver_due()
            if clock:
                clock.advance(seconds=60)
    finally:
        worker.close()


def worker_lines(capfd) -> list[dict]:
    return [line for line in lines(capfd) if line["logger"] == "service.notifications.push"]


def the_delivery(app) -> PushDelivery:
    with app.app_context():
        (row,) = db.session.scalars(select(PushDelivery)).all()
        return row


def test_a_delivery_is_logged_with_the_request_id_that_queued_it(pushing, capfd):
    gateway = Receiver((200,))
    check_in_with_a_phone(pushing, "checkin-7f3a")
    checkin_line = next(
        line
        for line in request_lines(capfd)
        if line["method"] == "POST" and line["route"] == "/api/v1/checkins"
    )
    assert checkin_line["request_id"] == "checkin-7f3a"
    row = the_delivery(pushing)
    assert row.request_id == "checkin-7f3a"
    try:
        deliver(pushing, gateway.url)
    finally:
        gateway.close()
    (line,) = worker_lines(capfd)
    assert line["request_id"] == "checkin-7f3a" and line["outcome"] == "sent"
    assert line["delivery_id"] == row.id and line["notification_id"] == row.notification_id
    assert line["attempt"] == 1 and line["level"] == "INFO" and line["error"] is None


def test_retries_and_the_give_up_are_logged_with_it(pushing, capfd, midday):
    gateway = Receiver((503,))
    check_in_with_a_phone(pushing, "checkin-retry")
    try:
        deliver(pushing, gateway.url, times=2, clock=midday, max_attempts=2, base_delay_s=1.0)
    finally:
        gateway.close()
    retry, gave_up = worker_lines(capfd)
    assert retry["outcome"] == "retry" and 0.5 <= retry["retry_in_s"] <= 1.0
    assert gave_up["outcome"] == "gave_up" and gave_up["level"] == "WARNING"
    assert [retry["attempt"], gave_up["attempt"]] == [1, 2]
    assert {retry["request_id"], gave_up["request_id"]} == {"checkin-retry"}
    assert "HTTP 503" in gave_up["error"] and gave_up["delivery_id"] == retry["delivery_id"]


class EchoingGateway(FakeServer):
    """Refuses every push naming the device token in its error, as a gateway might."""

    def answer(self, method, path, headers, body):
        tokens = [device["token"] for device in json.loads(body)["devices"]]
        return 400, {"error": f"unknown device token {tokens[0]}"}


def test_a_device_token_the_gateway_echoes_is_cut_out(pushing, capfd):
    gateway = EchoingGateway()
    check_in_with_a_phone(pushing, "checkin-echo", device_token="apns-secret-token-42")
    try:
        deliver(pushing, gateway.url)
    finally:
        gateway.close()
    written = capfd.readouterr().err
    (line,) = [json.loads(text) for text in written.splitlines() if "notifications.push" in text]
    assert line["outcome"] == "failed" and "unknown device token [redacted]" in line["error"]
    assert "apns-secret-token-42" not in written
    assert "apns-secret-token-42" in the_delivery(pushing).last_error  # the record keeps it


# --- the real processes: gunicorn and the CLI worker, as `make run` starts them ---


@pytest.mark.gunicorn
def test_gunicorn_and_the_worker_write_json_lines_a_request_can_be_followed_by(
    live_app, tmp_path: Path
):
    gateway = Receiver((200,))
    env = process_env(
        TEST_DATABASE_URL,
        "e2e-secret-" + "y" * 40,
        PUSH_GATEWAY_URL=gateway.url,
        PUSH_SIGNING_SECRET=SECRET,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    flask = Path(sys.executable).with_name("flask")
    worker_log = tmp_path / "worker.log"
    with worker_log.open("w") as err:
        worker = subprocess.Popen(
            [str(flask), "--app", "wsgi", "push-worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,  # the command's own messages (click.echo)
            stderr=err,
        )
    try:
        with running_api(env, tmp_path / "gunicorn.log") as base:
            token = _check_in_over_http(base)
            gateway.wait_for(1, timeout_s=15)
            wait_until(lambda: "e2e-checkin-1" in worker_log.read_text(), "the worker's line")
    finally:
        worker.terminate()
        worker.wait(20)
        gateway.close()
    server_lines = [
        json.loads(text) for text in (tmp_path / "gunicorn.log").read_text().splitlines()
    ]
    assert any(line["logger"] == "gunicorn.error" for line in server_lines)  # JSON as well
    assert not any(line["logger"] == "gunicorn.access" for line in server_lines)
    (checkin,) = [line for line in server_lines if line.get("route") == "/api/v1/checkins"]
    assert checkin["request_id"] == "e2e-checkin-1" and checkin["status"] == 201
    assert isinstance(checkin["user_id"], int)
    everything = (tmp_path / "gunicorn.log").read_text() + worker_log.read_text()
    for leak in ("51.5074", "0.1278", token, "Bearer", "e2e-feed-secret"):
        assert leak not in everything
    pushed = [json.loads(t) for t in worker_log.read_text().splitlines() if t.startswith("{")]
    (sent,) = [line for line in pushed if line.get("request_id") == "e2e-checkin-1"]
    assert sent["outcome"] == "sent" and sent["logger"] == "service.notifications.push"


def _check_in_over_http(base: str) -> str:
    """Register, add a phone, create a venue, check in, search nearby; the access token."""
    with httpx.Client(base_url=base, timeout=10) as http:
        registered = http.post(
            "/api/v1/auth/register",
            json={
                "handle": "e2elogs",
                "email": "e2elogs@example.com",
                "password": "correct horse battery",
                "display_name": "E2E",
            },
        ).json()
        token = registered["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        http.post("/api/v1/me/devices", headers=headers, json={"platform": "ios", "token": "e2e-1"})
        where = {"lat": HERE[0], "lon": HERE[1]}
        venue = http.post(
            "/api/v1/venues",
            headers=headers,
            json={"name": "Cafe", "category": "Coffee", "location": where},
        ).json()
        checked_in = http.post(
            "/api/v1/checkins",
            headers={**headers, "X-Request-Id": "e2e-checkin-1"},
            json={"venue_id": venue["id"], "location": where},
        )
        assert checked_in.status_code == 201, checked_in.text
        assert checked_in.headers["X-Request-Id"] == "e2e-checkin-1"
        assert http.get("/api/v1/venues/nearby", headers=headers, params=where).status_code == 200
        assert http.get("/api/v1/me/events.ics?token=e2e-feed-secret").status_code == 404
    return token
