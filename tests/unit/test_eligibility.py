"""Measured facts judged by the five rules (service/checkins/eligibility.py), no database."""

from datetime import UTC, datetime, timedelta

from service.checkins.eligibility import reasons
from service.checkins.measure import Measures

AT = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)


def measured(**facts) -> Measures:
    base = {
        "venue_distance_m": 20.0,
        "previous_distance_m": None,
        "previous_at": None,
        "nearest_same_venue_at": None,
        "other_venues_in_window": 0,
    }
    return Measures(**base | facts)


def codes(measures: Measures, accuracy_m: float | None = 10.0, radius_m: float = 100.0):
    return [
        r.code for r in reasons(measures=measures, radius_m=radius_m, accuracy_m=accuracy_m, at=AT)
    ]


def test_a_first_checkin_on_the_spot_is_eligible():
    assert codes(measured()) == []


def test_every_broken_rule_is_listed_in_the_products_order():
    broken = measured(
        venue_distance_m=5_000.0,
        previous_distance_m=900_000.0,
        previous_at=AT - timedelta(minutes=10),
        nearest_same_venue_at=AT - timedelta(minutes=30),
        other_venues_in_window=5,
    )
    assert codes(broken, accuracy_m=800.0) == [
        "imprecise",
        "too_far",
        "too_fast",
        "too_soon",
        "too_many_places",
    ]


def test_speed_is_judged_from_the_effective_time_of_the_previous_checkin():
    """900 km in 10 minutes is an airliner and more; in 2 hours it is 125 m/s."""
    quick = measured(previous_distance_m=900_000.0, previous_at=AT - timedelta(minutes=10))
    slow = measured(previous_distance_m=900_000.0, previous_at=AT - timedelta(hours=2))
    assert codes(quick) == ["too_fast"] and codes(slow) == []


def test_a_missing_accuracy_gives_no_slack_and_is_not_imprecise():
    assert codes(measured(venue_distance_m=120.0), accuracy_m=None) == ["too_far"]
    assert codes(measured(venue_distance_m=120.0), accuracy_m=30.0) == []
