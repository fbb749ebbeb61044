"""Who a check-in's crowd gives the Crowd badge to, from the venue's check-ins around it
(``badges.crowd_candidates`` and ``badges.in_crowd``: the rule without the database)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from service.rewards.badges import crowd_candidates, in_crowd

AT = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
WINDOW = timedelta(hours=2)


def _rows(*spec):
    """Check-ins ``(user, id, minutes from AT)``."""
    return [
        SimpleNamespace(user_id=u, id=i, effective_at=AT + timedelta(minutes=m)) for u, i, m in spec
    ]


def _crowd(rows, user_id, checkin_id, holders=()):
    candidates = crowd_candidates(rows, user_id=user_id, checkin_id=checkin_id, at=AT)
    lacking = {row.user_id for row in candidates} - set(holders)
    return [(row.user_id, row.id, row.people) for row in in_crowd(rows, candidates, lacking)]


def test_nine_people_are_no_crowd_and_cost_nothing_more():
    rows = _rows(*[(u, u, 0) for u in range(1, 10)], (1, 20, 10))  # 10 check-ins, 9 people
    assert crowd_candidates(rows, user_id=1, checkin_id=1, at=AT) == []


def test_ten_people_within_two_hours_make_a_crowd_for_each():
    rows = _rows(*[(u, u, 10 * u) for u in range(1, 11)])
    assert _crowd(rows, 10, 10) == [(u, u, 10) for u in range(1, 11)]


def test_the_window_is_two_hours_either_side_inclusive():
    inside = _rows(*[(u, u, 0) for u in range(1, 10)], (10, 10, 120))
    assert [row[0] for row in _crowd(inside, 1, 1)] == list(range(1, 11))
    outside = _rows(*[(u, u, 0) for u in range(1, 10)], (10, 10, 121))
    assert _crowd(outside, 1, 1) == []


def test_my_other_checkins_never_stand_for_me():
    """My own crowd is this check-in's: an earlier one of mine at the venue (in the
    window, but its own crowd differs) is not the one rewarded."""
    rows = _rows(*[(u, u, 60) for u in range(2, 11)], (1, 1, -60), (1, 11, 0))
    assert (1, 11, 10) in _crowd(rows, 1, 11)
    assert all(row[:2] != (1, 1) for row in _crowd(rows, 1, 11))


def test_holders_are_counted_but_not_rewarded():
    rows = _rows(*[(u, u, 0) for u in range(1, 11)])
    assert [row[0] for row in _crowd(rows, 1, 1, holders={2, 3})] == [1, *range(4, 11)]


def test_each_person_is_rewarded_for_their_first_checkin_in_a_crowd():
    """Someone with two check-ins here gets the badge for the earliest (by id) that has
    a crowd around it, with that crowd's size."""
    rows = _rows(*[(u, u, 100) for u in range(3, 12)], (2, 30, -110), (2, 40, 90))
    crowd = {row[0]: row[1:] for row in _crowd(rows, 11, 11)}
    assert crowd[2] == (40, 10)  # 30 is 3 h 30 before the others: no crowd around it
