"""Rule kinds: each measures one number from the history as of ``now``; a badge is
earned when the number reaches its level's threshold.

Every query only counts what existed at ``now`` (check-ins created by then), so
recomputing from the history later reaches the same badges as live awarding.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import (
    Checkin,
    Event,
    MayorshipChange,
    Meeting,
    User,
    UserCity,
    UserVenue,
    Venue,
)
from service.rewards.streaks import streak_run


@dataclass
class Context:
    """What a rule may look at: whose badges, when, and the check-in being rewarded."""

    db_session: Session
    user_id: int
    now: datetime
    checkin: Checkin | None = None
    venue: Venue | None = None


def _bounded_count(ctx: Context, query, cap: int) -> int:
    """``count(*)`` of a query, reading at most ``cap`` rows."""
    return ctx.db_session.scalar(select(func.count()).select_from(query.limit(cap).subquery()))


def _eligible(ctx: Context):
    return (Checkin.user_id == ctx.user_id, Checkin.eligible, Checkin.created_at <= ctx.now)


def checkins(ctx: Context, params: dict, cap: int) -> int:
    """Eligible check-ins (the user's counter, kept under the user lock)."""
    return ctx.db_session.scalar(select(User.eligible_checkins).where(User.id == ctx.user_id))


def distinct_venues(ctx: Context, params: dict, cap: int) -> int:
    """Venues with an eligible check-in."""
    return _bounded_count(
        ctx,
        select(UserVenue.venue_id).where(
            UserVenue.user_id == ctx.user_id, UserVenue.first_at <= ctx.now
        ),
        cap,
    )


def distinct_cities(ctx: Context, params: dict, cap: int) -> int:
    """Cities with an eligible check-in."""
    return _bounded_count(
        ctx,
        select(UserCity.city).where(UserCity.user_id == ctx.user_id, UserCity.first_at <= ctx.now),
        cap,
    )


def same_venue_repeats(ctx: Context, params: dict, cap: int) -> int:
    """Most eligible check-ins at this venue spanning less than the window, this one among
    them."""
    if ctx.checkin is None:
        return 0
    window = timedelta(days=params["window_days"])
    at = ctx.checkin.effective_at
    times = sorted(
        ctx.db_session.scalars(
            select(Checkin.effective_at).where(
                *_eligible(ctx),
                Checkin.venue_id == ctx.checkin.venue_id,
                Checkin.effective_at > at - window,
                Checkin.effective_at < at + window,
            )
        )
    )
    best = 0
    for index, start in enumerate(times):
        if start > at:
            break
        if at - start < window:
            best = max(best, sum(1 for moment in times[index:] if moment - start < window))
    return best


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


Rule = Callable[[Context, dict, int], int]

RULES: dict[str, Rule] = {
    "checkins": checkins,
    "distinct_venues": distinct_venues,
    "distinct_cities": distinct_cities,
    "same_venue_repeats": same_venue_repeats,
    "contacts_met": contacts_met,
    "contacts_met_at_event": contacts_met_at_event,
    "crowd": crowd,
    "events_attended": events_attended,
    "local_hour": local_hour,
    "streak": streak,
    "mayorships": mayorships,
    "hosted_event_checkins": hosted_event_checkins,
}
# Kinds about other people's activity: evaluated for everyone a check-in affects.
SOCIAL_KINDS = frozenset({"contacts_met", "contacts_met_at_event"})
