"""The four reward-eligibility rules at their boundaries (pure, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from geo import rules

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("accuracy", "broken"), [(None, False), (0, False), (500, False), (500.01, True), (5000, True)]
)
def test_imprecise_above_500_m(accuracy, broken):
    assert (rules.imprecise(accuracy) is not None) is broken


def test_imprecise_reason_carries_numbers():
    reason = rules.imprecise(812)
    assert reason.code == "imprecise"
    assert reason.details == {"accuracy_m": 812, "max_accuracy_m": 500.0}


@pytest.mark.parametrize(
    ("distance", "radius", "accuracy", "broken"),
    [
        (100, 100, None, False),  # exactly at the radius
        (100.01, 100, None, True),
        (150, 100, 50, False),  # exactly radius + accuracy
        (150.01, 100, 50, True),
        (250, 100, 150, False),  # allowance capped at 150
        (250, 100, 400, False),
        (250.01, 100, 400, True),
    ],
)
def test_too_far_radius_plus_capped_accuracy(distance, radius, accuracy, broken):
    assert (rules.too_far(distance, radius, accuracy) is not None) is broken


def test_too_far_reason_numbers():
    reason = rules.too_far(400, 100, 200)
    assert reason.details["allowed_m"] == 250
    assert reason.details["distance_m"] == 400


@pytest.mark.parametrize(
    ("distance", "seconds", "broken"),
    [
        (999.99, 0.0, False),  # under 1 km is exempt, even instantly
        (1000, 1, True),  # 1000 m/s
        (3000, 10, False),  # exactly 300 m/s is allowed
        (3000.5, 10, True),
        (1_000_000, 3600, False),  # 278 m/s: a plane
        (5_000_000, 3600, True),
    ],
)
def test_too_fast_over_300_mps_unless_under_1_km(distance, seconds, broken):
    assert (rules.too_fast(distance, seconds) is not None) is broken


def test_too_fast_reports_speed():
    reason = rules.too_fast(10_000, 10)
    assert reason.details["speed_mps"] == 1000.0
    assert reason.details["max_speed_mps"] == 300.0


@pytest.mark.parametrize(
    ("gap", "broken"),
    [
        (timedelta(minutes=59, seconds=59), True),
        (timedelta(minutes=60), False),
        (timedelta(minutes=-30), True),  # a replayed check-in 30 min before another
        (timedelta(hours=5), False),
    ],
)
def test_too_soon_within_60_minutes(gap, broken):
    assert (rules.too_soon(T0 + gap, T0) is not None) is broken


def test_too_soon_without_other_checkin():
    assert rules.too_soon(T0, None) is None


@pytest.mark.parametrize(("others", "broken"), [(0, False), (4, False), (5, True), (9, True)])
def test_too_many_places_at_five_other_venues(others, broken):
    reason = rules.too_many_places(others)
    assert (reason is not None) is broken
    if reason:
        assert reason.code == "too_many_places" and reason.details["other_venues"] == others
