"""The owner dashboard keeps an owner signed in past the access token's life (it renews
the token with the refresh token) and lists every venue they own, not the first 100.
Real headless Chromium against gunicorn whose access tokens live 3 seconds."""

import time

import httpx
import pytest

from tests.conftest import TEST_DATABASE_URL, Actions
from tests.integration.test_dashboard import HERE, JWT_SECRET, browser, sign_in  # noqa: F401
from tests.live import process_env, running_api

pytestmark = [pytest.mark.browser, pytest.mark.gunicorn]

SHORT_MINUTES = "0.05"  # 3 s


@pytest.fixture(scope="module")
def short_server(tmp_path_factory, engine):
    env = process_env(TEST_DATABASE_URL, JWT_SECRET, JWT_ACCESS_MINUTES=SHORT_MINUTES)
    with running_api(env, tmp_path_factory.mktemp("dashboard-short") / "gunicorn.log") as base:
        yield base


@pytest.fixture
def big_owner(live_app):
    """An owner of 120 approved venues."""
    client = live_app.test_client()
    actions = Actions(client)
    person = actions.register()
    runner = live_app.test_cli_runner()
    for index in range(120):
        venue = actions.venue(person, HERE[0] + index * 0.001, HERE[1], name=f"Branch {index:03}")
        claim = client.post(f"/api/v1/venues/{venue['id']}/claim", headers=person["headers"])
        assert runner.invoke(args=["approve-claim", str(claim.json["id"])]).exit_code == 0
    return person


def _until(condition, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_the_board_outlives_the_access_token_and_lists_every_venue(
    short_server,
    big_owner,
    browser,  # noqa: F811
):
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    errors = sign_in(page, short_server, big_owner["user"]["handle"])
    page.wait_for_selector("body[data-rendered]", timeout=15000)
    assert page.locator("#venue option").count() == 120
    first_token = page.evaluate("() => window.irlDashboard.token")

    def expired() -> bool:
        answer = httpx.get(
            f"{short_server}/api/v1/me", headers={"Authorization": f"Bearer {first_token}"}
        )
        return answer.status_code == 401

    _until(expired)
    page.select_option("#venue", index=7)
    page.click("#query button[type=submit]")
    page.wait_for_function(
        "(old) => window.irlDashboard.token && window.irlDashboard.token !== old",
        arg=first_token,
        timeout=15000,
    )
    assert page.locator("#board").is_visible() and page.locator("#signin").is_hidden()
    assert page.locator("#board-error").inner_text() == ""
    # the browser logs the one expired request the renewal answered; nothing else
    assert [e for e in errors if "status of 401" not in e] == []
