"""Rule kinds: each measures one number from the history as of ``now``; a badge is
earned when the number reaches its level's threshold.

Each rule declares the facts that move its number (``Rule.moves_on``); a check-in
evaluates only the rules whose facts it changed (``moved_by``), so a new rule that
declares its facts is evaluated wherever they happen, and none is listed twice. Numbers
the check-in already knows (kept as counters on the user, or measured in the check-in's
own round trips) are looked up in ``Context.known`` instead of counted again.

Every query only counts what existed at ``now`` (check-ins created by then), so
recomputing from the history later reaches the same badges as live awarding.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Checkin, Event, MayorshipChange, Meeting, User, Venue
from service.rewards.streaks import repeats, streak_run


class Fact(StrEnum):
    """What a check-in can change for someone; rules move on these."""

    CHECKIN = "checkin"  # an eligible check-in
    FIRST_VISIT = "first_visit"  # the user's first at the venue
    REVISIT = "revisit"  # not the first at the venue
    NEW_CITY = "new_city"
    NEW_DAY = "new_day"  # the first eligible check-in of its local day
    EVENT_CHECKIN = "event_checkin"
    MET = "met"  # a meeting, on either side
    MET_AT_EVENT = "met_at_event"
    NEW_MAYORSHIP = "new_mayorship"
    HOSTED_CHECKIN = "hosted_checkin"  # someone checked in to the user's event
    CROWD = "crowd"  # the user's check-in is now in a crowd


@dataclass(frozen=True)
class Around:
    """The user's eligible check-ins around the one being rewarded, read with its
    measures (before it was stored, so without it): their local days within
    ``days_span`` days and their times at its venue within ``venue_span``."""

    days: frozenset[date]
    venue_times: tuple[datetime, ...]
    days_span: int
    venue_span: timedelta


@dataclass
class Context:
    """What a rule may look at: whose badges, when, the check-in being rewarded, the
    numbers already known (by rule kind) and, live, the check-ins around it."""

    db_session: Session
    user_id: int
    now: datetime
    checkin: Checkin | None = None
    venue: Venue | None = None
    known: dict[str, int] = field(default_factory=dict)
    around: Around | None = None


def _bounded_count(ctx: Context, query, cap: int) -> int:
    """``count(*)`` of a query, reading at most ``cap`` rows."""
    return ctx.db_session.scalar(select(func.count()).select_from(query.limit(cap).subquery()))


def _eligible(ctx: Context):
    return (Checkin.user_id == ctx.user_id, Checkin.eligible, Checkin.created_at <= ctx.now)


def _counter(ctx: Context, column) -> int:
    """One of the user's counters (kept on ``users`` under the user's lock)."""
    return ctx.db_session.scalar(select(column).where(User.id == ctx.user_id))


def checkins(ctx: Context, params: dict, cap: int) -> int:
    """Eligible check-ins."""
    return _counter(ctx, User.eligible_checkins)


def distinct_venues(ctx: Context, params: dict, cap: int) -> int:
    """Venues with an eligible check-in."""
    return _counter(ctx, User.venues_visited)


def distinct_cities(ctx: Context, params: dict, cap: int) -> int:
    """Cities with an eligible check-in."""
    return _counter(ctx, User.cities_visited)


def same_venue_repeats(ctx: Context, params: dict, cap: int) -> int:
    """Most eligible check-ins at this venue spanning less than the window, this one among
    them."""
    if ctx.checkin is None:
        return 0
    window = timedelta(days=params["window_days"])
    at = ctx.checkin.effective_at
    if ctx.around is not None and window <= ctx.around.venue_span:
        times = [*ctx.around.venue_times, at]
    else:
        times = ctx.db_session.scalars(
            select(Checkin.effective_at).where(
                *_eligible(ctx),
                Checkin.venue_id == ctx.checkin.venue_id,
                Checkin.effective_at > at - window,
                Checkin.effective_at < at + window,
            )
        )
    return repeats(sorted(times), at, window)


def contacts_met(ctx: Context, params: dict, cap: int) -> int:
    """Different contacts met in person."""
    return _bounded_count(
        ctx,
        select(Meeting.other_id)
        .distinct()
        .where(Meeting.user_id == ctx.user_id, Meeting.created_at <= ctx.now),
        cap,
    )


def contacts_met_at_event(ctx: Context, params: dict, cap: int) -> int:
    """Most different contacts met at one event."""
    per_event = (
        select(func.count(Meeting.other_id.distinct()).label("met"))
        .where(
            Meeting.user_id == ctx.user_id,
            Meeting.event_id.is_not(None),
            Meeting.created_at <= ctx.now,
        )
        .group_by(Meeting.event_id)
        .subquery()
    )
    return ctx.db_session.scalar(select(func.coalesce(func.max(per_event.c.met), 0)))


def hosted_event_checkins(ctx: Context, params: dict, cap: int) -> int:
    """Most different people (the organiser aside) who checked in to one of my events."""
    per_event = (
        select(func.count(Checkin.user_id.distinct()).label("people"))
        .join(Event, Event.id == Checkin.event_id)
        .where(
            Event.organiser_id == ctx.user_id,
            Checkin.eligible,
            Checkin.user_id != ctx.user_id,
            Checkin.created_at <= ctx.now,
        )
        .group_by(Checkin.event_id)
        .subquery()
    )
    return ctx.db_session.scalar(select(func.coalesce(func.max(per_event.c.people), 0)))


def crowd(ctx: Context, params: dict, cap: int) -> int:
    """People with eligible check-ins at this venue within the window of this check-in."""
    if ctx.checkin is None:
        return 0
    window = timedelta(hours=params["window_hours"])
    at = ctx.checkin.effective_at
    return _bounded_count(
        ctx,
        select(Checkin.user_id)
        .distinct()
        .where(
            Checkin.venue_id == ctx.checkin.venue_id,
            Checkin.eligible,
            Checkin.created_at <= ctx.now,
            Checkin.effective_at >= at - window,
            Checkin.effective_at <= at + window,
        ),
        cap,
    )


def events_attended(ctx: Context, params: dict, cap: int) -> int:
    """Different events checked in to within the window ending at this check-in."""
    if ctx.checkin is None:
        return 0
    at = ctx.checkin.effective_at
    return _bounded_count(
        ctx,
        select(Checkin.event_id)
        .distinct()
        .where(
            *_eligible(ctx),
            Checkin.event_id.is_not(None),
            Checkin.effective_at > at - timedelta(days=params["window_days"]),
            Checkin.effective_at <= at,
        ),
        cap,
    )


def local_hour(ctx: Context, params: dict, cap: int) -> int:
    """1 when this check-in's venue-local hour is in [from_hour, to_hour)."""
    if ctx.checkin is None or ctx.venue is None:
        return 0
    hour = ctx.checkin.effective_at.astimezone(ZoneInfo(ctx.venue.timezone)).hour
    return int(params["from_hour"] <= hour < params["to_hour"])


def streak(ctx: Context, params: dict, cap: int) -> int:
    """Consecutive local days with an eligible check-in through this check-in's day: the
    whole run it belongs to, so an offline replay that fills yesterday's gap extends the
    streak through today at once (days after it count only if they existed at ``now``)."""
    if ctx.checkin is None:
        return 0
    day = ctx.checkin.local_day
    if ctx.around is not None and cap < ctx.around.days_span:
        return streak_run(ctx.around.days | {day}, day)
    days = set(
        ctx.db_session.scalars(
            select(Checkin.local_day)
            .distinct()
            .where(
                *_eligible(ctx),
                Checkin.local_day > day - timedelta(days=cap + 1),
                Checkin.local_day < day + timedelta(days=cap + 1),
            )
        )
    )
    return streak_run(days, day)


def mayorships(ctx: Context, params: dict, cap: int) -> int:
    """Times this user became a mayor."""
    return _bounded_count(
        ctx,
        select(MayorshipChange.id).where(
            MayorshipChange.user_id == ctx.user_id, MayorshipChange.at <= ctx.now
        ),
        cap,
    )


@dataclass(frozen=True)
class Rule:
    """A rule kind: how to measure its number, and the facts that can move it."""

    measure: Callable[[Context, dict, int], int]
    moves_on: frozenset[Fact]


RULES: dict[str, Rule] = {
    "checkins": Rule(checkins, frozenset({Fact.CHECKIN})),
    "distinct_venues": Rule(distinct_venues, frozenset({Fact.FIRST_VISIT})),
    "distinct_cities": Rule(distinct_cities, frozenset({Fact.NEW_CITY})),
    "same_venue_repeats": Rule(same_venue_repeats, frozenset({Fact.REVISIT})),
    "contacts_met": Rule(contacts_met, frozenset({Fact.MET})),
    "contacts_met_at_event": Rule(contacts_met_at_event, frozenset({Fact.MET_AT_EVENT})),
    "crowd": Rule(crowd, frozenset({Fact.CROWD})),
    "events_attended": Rule(events_attended, frozenset({Fact.EVENT_CHECKIN})),
    "local_hour": Rule(local_hour, frozenset({Fact.CHECKIN})),
    "streak": Rule(streak, frozenset({Fact.NEW_DAY})),
    "mayorships": Rule(mayorships, frozenset({Fact.NEW_MAYORSHIP})),
    "hosted_event_checkins": Rule(hosted_event_checkins, frozenset({Fact.HOSTED_CHECKIN})),
}


def moved_by(facts: frozenset[Fact] | set[Fact]) -> frozenset[str]:
    """The rule kinds whose number these facts can have moved."""
    return frozenset(kind for kind, rule in RULES.items() if rule.moves_on & facts)
