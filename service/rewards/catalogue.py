"""The badge catalogue, as data: each badge is a rule kind plus parameters.

A badge with ``levels`` is awarded once per level reached; others have one level. Kinds
are evaluated by ``service.rewards.rules``; a kind without an evaluator yet (events
arrive with the events issue) is listed but cannot be earned.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Badge:
    """A badge: what it is called, what earns it, in words and as a rule."""

    key: str
    name: str
    description: str
    kind: str
    params: dict = field(default_factory=dict)
    levels: tuple[int, ...] = (1,)


CATALOGUE: tuple[Badge, ...] = (
    Badge("newbie", "Newbie", "Your first check-in.", "checkins", {}, (1,)),
    Badge(
        "regular",
        "Regular",
        "Check in 10, 50 and 250 times (one badge per level).",
        "checkins",
        {},
        (10, 50, 250),
    ),
    Badge("explorer", "Explorer", "Check in at 10 different venues.", "distinct_venues", {}, (10,)),
    Badge(
        "superstar", "Superstar", "Check in at 50 different venues.", "distinct_venues", {}, (50,)
    ),
    Badge(
        "local",
        "Local",
        "Check in at the same venue 3 times within 7 days.",
        "same_venue_repeats",
        {"window_days": 7},
        (3,),
    ),
    Badge(
        "face_to_face",
        "Face to Face",
        "Meet one of your online contacts in person.",
        "contacts_met",
        {},
        (1,),
    ),
    Badge(
        "social_butterfly",
        "Social Butterfly",
        "Meet 10 different contacts in person.",
        "contacts_met",
        {},
        (10,),
    ),
    Badge(
        "networker", "Networker", "Meet 25 different contacts in person.", "contacts_met", {}, (25,)
    ),
    Badge(
        "tweetup",
        "Tweetup",
        "Meet 3 different contacts at one event.",
        "contacts_met_at_event",
        {},
        (3,),
    ),
    Badge(
        "crowd",
        "Crowd",
        "Check in where at least 10 people (you included) checked in within 2 hours.",
        "crowd",
        {"window_hours": 2},
        (10,),
    ),
    Badge(
        "conference_hopper",
        "Conference Hopper",
        "Check in at 3 events within 30 days.",
        "events_attended",
        {"window_days": 30},
        (3,),
    ),
    Badge(
        "night_owl",
        "Night Owl",
        "Check in between midnight and 5 am, venue local time.",
        "local_hour",
        {"from_hour": 0, "to_hour": 5},
        (1,),
    ),
    Badge(
        "early_bird",
        "Early Bird",
        "Check in between 5 am and 7 am, venue local time.",
        "local_hour",
        {"from_hour": 5, "to_hour": 7},
        (1,),
    ),
    Badge("streak_7", "Streak 7", "Check in on 7 consecutive days.", "streak", {}, (7,)),
    Badge("mayor", "Mayor", "Become the mayor of a venue.", "mayorships", {}, (1,)),
    Badge(
        "host",
        "Host",
        "Organise an event that 10 or more people check in to.",
        "hosted_event_checkins",
        {},
        (10,),
    ),
    Badge("jetsetter", "Jetsetter", "Check in in 5 different cities.", "distinct_cities", {}, (5,)),
)

BY_KEY = {badge.key: badge for badge in CATALOGUE}
