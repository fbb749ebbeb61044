"""Pure reward rules: streaks, the mayor decision, the catalogue."""

from datetime import date

import pytest

from service.rewards.catalogue import CATALOGUE
from service.rewards.mayorship import decide
from service.rewards.rules import RULES, Fact, moved_by
from service.rewards.streaks import streak_bonus, streak_length

D = date(2026, 3, 10)


def test_streak_length_counts_back_from_today():
    days = {date(2026, 3, d) for d in (4, 6, 7, 8, 9, 10)}
    assert streak_length(days, D) == 5
    assert streak_length(days, date(2026, 3, 5)) == 0
    assert streak_length(set(), D) == 0


@pytest.mark.parametrize(("length", "bonus"), [(0, 0), (1, 0), (2, 2), (7, 12), (11, 20), (40, 20)])
def test_streak_bonus(length, bonus):
    assert streak_bonus(length) == bonus


@pytest.mark.parametrize(
    ("counts", "current", "arriving", "mayor"),
    [
        ({}, None, 1, None),
        ({1: 1}, None, 1, None),  # at least 2 days
        ({1: 2}, None, 1, 1),
        ({1: 3, 2: 3}, 2, 1, 2),  # a tie keeps the mayor
        ({1: 4, 2: 3}, 2, 1, 1),
        ({1: 3, 2: 3, 3: 1}, 3, 1, 1),  # the mayor fell behind: the arrival leads
        ({2: 3, 4: 3}, None, 1, 2),  # someone else leads: lowest id
        ({1: 1, 2: 1}, 2, 1, None),  # nobody has 2 days any more
    ],
)
def test_decide(counts, current, arriving, mayor):
    assert decide(counts, current, arriving) == mayor


def test_catalogue_has_the_required_badges_as_data():
    keys = {badge.key for badge in CATALOGUE}
    required = {
        "newbie",
        "explorer",
        "superstar",
        "local",
        "face_to_face",
        "social_butterfly",
        "networker",
        "tweetup",
        "crowd",
        "conference_hopper",
        "night_owl",
        "streak_7",
        "mayor",
        "host",
        "jetsetter",
    }
    assert required <= keys and len(CATALOGUE) >= 16
    assert len(keys) == len(CATALOGUE)
    for badge in CATALOGUE:
        assert badge.description and badge.levels == tuple(sorted(badge.levels))
    kinds = {badge.kind for badge in CATALOGUE}
    assert kinds <= set(RULES)  # every badge is earnable


@pytest.mark.parametrize("badge", CATALOGUE, ids=lambda badge: badge.key)
def test_every_catalogue_badge_has_a_rule_that_can_fire(badge):
    """A badge fires only when a fact its rule declares is one the rewards pipeline
    reports: no rule waits on a fact nobody emits, and none needs listing twice."""
    from service.rewards.pipeline import EMITTED

    rule = RULES[badge.kind]
    assert rule.moves_on, badge.key
    assert rule.moves_on <= EMITTED, (badge.key, rule.moves_on - EMITTED)
    assert badge.kind in moved_by(rule.moves_on)


def test_facts_move_exactly_the_rules_that_declare_them():
    assert moved_by(frozenset()) == frozenset()
    assert moved_by({Fact.CHECKIN}) == {"checkins", "local_hour"}
    assert moved_by({Fact.MET}) == {"contacts_met"}
    assert moved_by({Fact.FIRST_VISIT, Fact.NEW_DAY}) == {"distinct_venues", "streak"}
