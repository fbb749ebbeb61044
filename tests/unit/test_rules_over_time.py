"""Rules over time, pure: a mayorship's re-decisions at its expiries, a streak's run."""

from datetime import UTC, date, datetime, timedelta

from service.rewards.mayorship import expiry, settle
from service.rewards.streaks import streak_run

ZONE = "America/New_York"


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def test_a_mayorship_holds_until_its_oldest_day_leaves_the_window():
    days = {1: _days(date(2026, 1, 1), 3)}
    due = expiry(date(2026, 1, 1), ZONE)
    assert due == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # Mar 2, midnight in New York
    assert settle(days, 1, due, ZONE, due - timedelta(seconds=1)) == []
    steps = settle(days, 1, due, ZONE, due + timedelta(days=3))
    # kept with 2 days on Mar 2, with 1 on Mar 3 (nobody has 2), then nobody
    assert [(s.day, s.mayor, s.days) for s in steps] == [
        (date(2026, 3, 2), 1, 2),
        (date(2026, 3, 3), None, 0),
    ]
    assert steps[0].expires_at == expiry(date(2026, 1, 2), ZONE) == steps[1].at


def test_the_runner_up_takes_over_at_the_expiry_ties_keep_the_mayor():
    days = {1: _days(date(2026, 1, 1), 3), 2: _days(date(2026, 1, 21), 2)}
    steps = settle(days, 1, expiry(date(2026, 1, 1), ZONE), ZONE, datetime(2026, 4, 1, tzinfo=UTC))
    assert [(s.day, s.previous, s.mayor, s.days) for s in steps] == [
        (date(2026, 3, 2), 1, 1, 2),  # a tie keeps the mayor
        (date(2026, 3, 3), 1, 2, 2),
        (date(2026, 3, 22), 2, None, 0),
    ]


def test_a_streak_is_the_run_through_the_day():
    days = {date(2026, 2, d) for d in (1, 2, 3, 5, 6, 7)}
    assert streak_run(days, date(2026, 2, 2)) == 3
    assert streak_run(days | {date(2026, 2, 4)}, date(2026, 2, 4)) == 7
    assert streak_run(days, date(2026, 2, 4)) == 0
