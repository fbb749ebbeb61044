"""The reward-eligibility rules and client_time limits, end to end on PostGIS."""

from datetime import timedelta

import pytest
from geographiclib.geodesic import Geodesic

from tests.conftest import offset_point

WGS84 = Geodesic.WGS84
HOME = (40.758, -73.9855)


def _offset(origin, metres, azimuth=90.0):
    point = WGS84.Direct(origin[0], origin[1], azimuth, metres)
    return point["lat2"], point["lon2"]


@pytest.fixture(autouse=True)
def noon(pinned_clock):
    """Every rule here is judged at noon in New York: a check-in an hour later must not land
    on a new local day (streak and mayorship points) because the test ran at 23:30."""
    return pinned_clock


@pytest.fixture
def user(actions):
    return actions.register()


@pytest.fixture
def venue(actions, user):
    return actions.venue(user, *HOME, radius_m=100)


def _codes(response):
    assert response.status_code == 201, response.json
    return [reason["code"] for reason in response.json["rewards"]["reasons"]]


def test_eligible_checkin_earns_checkin_and_first_visit_points(actions, user, venue, client):
    response = actions.check_in(user, venue, accuracy_m=10, shout="hello")
    assert _codes(response) == []
    body = response.json
    assert body["rewards"]["eligible"] is True
    assert body["rewards"]["points"] == 15
    assert body["checkin"]["points"] == 15
    assert body["checkin"]["shout"] == "hello"
    assert body["checkin"]["venue"]["id"] == venue["id"]
    assert body["meetings"] == []
    assert client.get("/api/v1/me", headers=user["headers"]).json["points"] == 15


@pytest.mark.parametrize(
    ("accuracy", "extra_m", "eligible"),
    [
        (50, -0.05, True),
        (50, 0.05, False),  # radius 100 + accuracy 50
        (None, -0.05, True),
        (None, 0.05, False),  # no accuracy: radius only
        (400, -0.05, True),
        (400, 0.05, False),  # allowance capped at 150
    ],
)
def test_too_far_at_radius_plus_accuracy(actions, user, venue, accuracy, extra_m, eligible):
    allowed = 100 + min(accuracy or 0, 150)
    lat, lon = _offset(HOME, allowed + extra_m)
    response = actions.check_in(user, venue, lat=lat, lon=lon, accuracy_m=accuracy)
    assert ("too_far" in _codes(response)) is (not eligible)
    if not eligible:
        reason = response.json["rewards"]["reasons"][0]
        assert reason["details"]["allowed_m"] == allowed
        assert reason["details"]["distance_m"] == pytest.approx(allowed + extra_m, abs=0.1)
        assert "m from the venue" in reason["message"]


def test_imprecise_above_500(actions, user, venue):
    assert _codes(actions.check_in(user, venue, accuracy_m=500)) == []
    other = actions.venue(user, *_offset(HOME, 300))
    codes = _codes(actions.check_in(user, other, accuracy_m=500.5))
    assert codes == ["imprecise"]


def test_ineligible_checkin_is_stored_and_earns_nothing(client, actions, user, venue):
    far = _offset(HOME, 5000)
    response = actions.check_in(user, venue, lat=far[0], lon=far[1], accuracy_m=900)
    assert _codes(response) == ["imprecise", "too_far"]
    assert response.json["rewards"]["eligible"] is False
    assert response.json["rewards"]["points"] == 0
    me = client.get("/api/v1/me", headers=user["headers"]).json
    assert me["points"] == 0 and me["checkin_count"] == 1
    stored = client.get(
        f"/api/v1/checkins/{response.json['checkin']['id']}", headers=user["headers"]
    )
    assert stored.status_code == 200 and stored.json["eligible"] is False


def test_speed_exemption_under_1_km(actions, user, venue, frozen_clock):
    near = actions.venue(user, *_offset(HOME, 999.0))
    far = actions.venue(user, *_offset(HOME, 1001.0, azimuth=270))
    assert _codes(actions.check_in(user, venue)) == []
    frozen_clock.advance(seconds=1)
    assert _codes(actions.check_in(user, near)) == []  # 999 m in 1 s: exempt
    frozen_clock.advance(seconds=1)
    codes = _codes(actions.check_in(user, far))  # 2000 m in 1 s
    assert codes == ["too_fast"]


def test_speed_limit_300_mps(actions, user, venue, frozen_clock):
    plane_ok = actions.venue(user, *_offset(HOME, 2990.0))
    assert _codes(actions.check_in(user, venue)) == []
    frozen_clock.advance(seconds=10)
    assert _codes(actions.check_in(user, plane_ok)) == []  # 299 m/s
    too_quick = actions.venue(user, *_offset(_offset(HOME, 2990.0), 3020.0))
    frozen_clock.advance(seconds=10)
    response = actions.check_in(user, too_quick)
    assert _codes(response) == ["too_fast"]
    details = response.json["rewards"]["reasons"][0]["details"]
    assert details["speed_mps"] == pytest.approx(302.0, abs=0.5)
    assert details["seconds"] == 10


@pytest.mark.parametrize(
    ("gap", "too_soon"), [(timedelta(minutes=59, seconds=59), True), (timedelta(minutes=60), False)]
)
def test_too_soon_at_the_same_venue(actions, user, venue, frozen_clock, gap, too_soon):
    assert actions.check_in(user, venue).json["rewards"]["points"] == 15
    frozen_clock.advance(seconds=gap.total_seconds())
    response = actions.check_in(user, venue)
    assert _codes(response) == (["too_soon"] if too_soon else [])
    # no second first-visit bonus
    assert response.json["rewards"]["points"] == (0 if too_soon else 5)


def test_any_earlier_checkin_counts_for_too_soon(actions, user, venue, frozen_clock):
    actions.check_in(user, venue)
    frozen_clock.advance(minutes=40)
    assert _codes(actions.check_in(user, venue)) == ["too_soon"]
    frozen_clock.advance(minutes=40)  # 80 min after the first, 40 after the second
    assert _codes(actions.check_in(user, venue)) == ["too_soon"]


def test_other_venues_do_not_count_for_too_soon(actions, user, venue, frozen_clock):
    other = actions.venue(user, *_offset(HOME, 50))
    actions.check_in(user, venue)
    frozen_clock.advance(minutes=1)
    assert _codes(actions.check_in(user, other)) == []


def test_rules_use_client_time(actions, user, venue, frozen_clock):
    now = frozen_clock.current
    first = actions.check_in(user, venue, client_time=(now - timedelta(hours=2)).isoformat())
    assert first.json["checkin"]["effective_at"].startswith(
        (now - timedelta(hours=2)).isoformat()[:19]
    )
    # a live check-in 2 h after the replayed one is not too soon
    assert _codes(actions.check_in(user, venue)) == []


def test_replay_just_before_a_later_checkin_is_too_soon(actions, user, venue, frozen_clock):
    assert _codes(actions.check_in(user, venue)) == []
    replay = (frozen_clock.current - timedelta(minutes=30)).isoformat()
    assert _codes(actions.check_in(user, venue, client_time=replay)) == ["too_soon"]


@pytest.mark.parametrize(
    ("delta", "accepted"),
    [
        (timedelta(hours=-24), True),
        (timedelta(hours=-24, seconds=-1), False),
        (timedelta(minutes=5), True),
        (timedelta(minutes=5, seconds=1), False),
    ],
)
def test_client_time_window(client, actions, user, venue, frozen_clock, delta, accepted):
    client_time = (frozen_clock.current + delta).isoformat()
    response = actions.check_in(user, venue, client_time=client_time)
    assert response.status_code == (201 if accepted else 422), response.json
    if not accepted:
        assert "client_time" in response.json["message"]
        mine = client.get("/api/v1/me/checkins", headers=user["headers"]).json["items"]
        assert mine == []


def test_client_time_needs_an_offset(actions, user, venue):
    response = actions.check_in(user, venue, client_time="2026-01-01T10:00:00")
    assert response.status_code == 422


def _crawl(actions, user, count, spacing_m=120.0):
    """``count`` venues along a street, ``spacing_m`` apart (all within 1 km)."""
    return [
        actions.venue(user, *offset_point(HOME, spacing_m * (i + 1)), name=f"Stop {i}")
        for i in range(count)
    ]


def test_bar_hopping_at_four_places_an_hour_keeps_its_rewards(actions, user, frozen_clock):
    for stop in _crawl(actions, user, 5):
        response = actions.check_in(user, stop)
        assert _codes(response) == [] and response.json["rewards"]["points"] > 0
        frozen_clock.advance(minutes=12)


def test_a_sixth_place_within_the_hour_earns_nothing(actions, user, frozen_clock):
    stops = _crawl(actions, user, 6)
    for stop in stops[:5]:
        assert _codes(actions.check_in(user, stop)) == []
        frozen_clock.advance(minutes=5)
    sixth = actions.check_in(user, stops[5])
    assert _codes(sixth) == ["too_many_places"]
    reason = sixth.json["rewards"]["reasons"][0]
    assert reason["details"] == {"other_venues": 5, "max_other_venues": 4, "window_minutes": 60.0}
    assert "5 other places" in reason["message"] and sixth.json["rewards"]["points"] == 0
    # an hour later the same street is fine again
    frozen_clock.advance(minutes=61)
    assert _codes(actions.check_in(user, stops[0])) == []


def test_places_count_on_both_sides_in_effective_time(actions, user, frozen_clock):
    """A replay backdated into a busy hour is judged by the check-ins around it, later
    ones included (like too_soon), so probes cannot hide behind client_time."""
    stops = _crawl(actions, user, 6)
    for stop in stops[:5]:
        assert _codes(actions.check_in(user, stop)) == []
        frozen_clock.advance(minutes=5)
    replay = (frozen_clock.current - timedelta(minutes=40)).isoformat()
    assert _codes(actions.check_in(user, stops[5], client_time=replay)) == ["too_many_places"]


def test_the_same_place_again_is_not_another_place(actions, user, venue, frozen_clock):
    stops = _crawl(actions, user, 4)
    for stop in stops:
        assert _codes(actions.check_in(user, stop)) == []
        frozen_clock.advance(minutes=5)
    assert _codes(actions.check_in(user, venue)) == []  # 4 others: still fine
    frozen_clock.advance(minutes=5)
    assert _codes(actions.check_in(user, stops[0])) == ["too_soon"]  # not a 6th place
