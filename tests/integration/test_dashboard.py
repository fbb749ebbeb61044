"""The owner dashboard end to end in real headless Chromium (Debian's, driven by
Playwright): sign in, see the charts and the heat map drawn, no console errors, download
the CSV. A screenshot is kept in ``test-artifacts/``."""

import os
import shutil
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import TEST_DATABASE_URL, Actions, befriend, offset_point
from tests.live import IN_CI, ROOT, process_env, running_api

pytestmark = [pytest.mark.browser, pytest.mark.gunicorn]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
JWT_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"
HERE = (40.7484, -73.9857)
# What this machine's Chromium needs headless and offline (see the env notes).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

REQUIRED = IN_CI or bool(os.environ.get("IRL_REQUIRE_BROWSER"))
if not os.path.exists(CHROMIUM):
    if REQUIRED:
        raise RuntimeError(f"Chromium is required for the dashboard test ({CHROMIUM} missing)")
    pytest.skip(
        "Debian's chromium is not installed (make test installs it as root)",
        allow_module_level=True,
    )

if REQUIRED:
    import playwright.sync_api as playwright  # missing under CI: an error, not a skip
else:
    playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory, engine):
    env = process_env(TEST_DATABASE_URL, JWT_SECRET)
    with running_api(env, tmp_path_factory.mktemp("dashboard") / "gunicorn.log") as base:
        yield base


@pytest.fixture
def owner(live_app, frozen_clock):
    """An owner whose approved venue had 8 visitors yesterday at noon New York time, six of
    whom met there in pairs (meetings of fewer than five people would be hidden). Noon, so
    the visits never straddle a local hour or day whenever the test runs; a fixed date is
    not possible: the server's default range is the last 30 days on the real clock."""
    new_york = ZoneInfo("America/New_York")
    yesterday = frozen_clock.current.astimezone(new_york).date() - timedelta(days=1)
    frozen_clock.current = datetime.combine(yesterday, time(12), new_york).astimezone(UTC)
    client = live_app.test_client()
    actions = Actions(client)
    person = actions.register()
    venue = actions.venue(person, *HERE, name="Empire Cafe")
    claim = client.post(f"/api/v1/venues/{venue['id']}/claim", headers=person["headers"], json={})
    runner = live_app.test_cli_runner()
    assert runner.invoke(args=["approve-claim", str(claim.json["id"])]).exit_code == 0
    visitors = [actions.register() for _ in range(8)]
    for first in (0, 2, 4):
        befriend(client, visitors[first], visitors[first + 1])
    for index, visitor in enumerate(visitors):
        spot = offset_point(HERE, 5 + index)
        assert actions.check_in(visitor, venue, lat=spot[0], lon=spot[1]).status_code == 201
    return person, venue


@pytest.fixture
def browser():
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


def sign_in(page, server: str, handle: str) -> list[str]:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/owner/")
    page.fill("input[name=login]", handle)
    page.fill("input[name=password]", PASSWORD)
    page.click("#signin-form button[type=submit]")
    return errors


def test_an_owner_sees_the_charts_and_downloads_the_csv(server, owner, browser):
    person, venue = owner
    page = browser.new_page(viewport={"width": 1280, "height": 1100}, accept_downloads=True)
    errors = sign_in(page, server, person["user"]["handle"])
    page.wait_for_selector("body[data-rendered]", timeout=15000)
    assert page.locator("#venue option").all_inner_texts() == [f"Empire Cafe (#{venue['id']})"]
    drawn = page.evaluate(
        """() => Object.entries(window.irlDashboard.charts).map(([id, chart]) => [
            id, Chart.getChart(document.getElementById(id)) === chart,
            chart.data.datasets.map(d => d.data.filter(v => v !== null && v > 0).length)])"""
    )
    assert {row[0] for row in drawn} == {"chart-checkins", "chart-visitors", "chart-meetings"}
    for chart_id, attached, shown in drawn:
        assert attached, chart_id
        assert sum(shown) >= 1, (chart_id, shown)  # yesterday: 8 people, 3 meetings
    painted = page.evaluate(
        """() => { const c = document.getElementById('chart-checkins');
                   const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let ink = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
                   return ink; }"""
    )
    assert painted > 500
    assert page.locator("#heatmap td").count() == 168
    assert page.locator("#heatmap td:not(.suppressed)").count() == 1
    assert "8" in page.locator("#totals").inner_text()
    with page.expect_download() as download:
        page.click("#csv")
    csv_text = download.value.path().read_text()
    assert csv_text.startswith("section,start,weekday,hour,checkins")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "owner-dashboard.png"), full_page=True)
    assert errors == []


def test_someone_without_a_venue_is_told_how_to_get_one(server, live_app, browser):
    person = Actions(live_app.test_client()).register()
    page = browser.new_page()
    errors = sign_in(page, server, person["user"]["handle"])
    page.wait_for_selector("#no-venues:not([hidden])", timeout=15000)
    assert "claim yours" in page.locator("#no-venues").inner_text()
    assert errors == []


def test_a_wrong_password_is_said_plainly(server, owner, browser):
    person, _venue = owner
    page = browser.new_page()
    page.goto(f"{server}/owner/")
    page.fill("input[name=login]", person["user"]["handle"])
    page.fill("input[name=password]", "not the password")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin-error:not(:empty)", timeout=15000)
    assert page.locator("#board").is_hidden()
