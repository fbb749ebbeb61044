"""``flask seed-demo``'s use case: the demo city's venues and named users, then (once)
its history — people, friendships, check-ins judged by the live rules, meetings,
rewards through the set-based recompute, footfall, the owner — in one transaction, so
an interrupted seed leaves nothing half done and the next one starts over."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select, text, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from geo.coords import LatLon
from geo.sql import latitude, longitude
from service import clock
from service.footfall import backfill
from service.models import Checkin, Meeting, User, UserBadge, Venue, VenueMayor
from service.notifications import outbox
from service.rewards.policy import PointsPolicy
from service.rewards.setbased import replay
from service.seed import checkins, demo, history, meetings, owner, people


@dataclass(frozen=True)
class Report:
    """What the seed found or did, for the operator."""

    venue_source: str
    new_venues: int
    history_source: str | None  # None: an earlier seed had loaded it
    owned: list[str]
    users: int
    checkins: int
    eligible: int
    meetings: int
    badges: int
    mayors: int


class Progress:
    """A tqdm bar per stage, or none (``--quiet``)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, items: Iterable, desc: str, total: int | None = None) -> Iterable:
        """``items``, counted on a bar named ``desc``."""
        return tqdm(items, desc=desc, total=total, disable=not self.enabled, mininterval=0.5)

    def step(self, desc: str) -> tqdm:
        """A one-step bar for a stage done in one statement (``update()`` when done)."""
        return tqdm(total=1, desc=desc, disable=not self.enabled)


def demo_users():
    """The demo accounts: the named users, the owner and the history's people."""
    named = [handle for handle, _ in demo.DEMO_USERS] + [owner.HANDLE]
    return select(User.id).where(
        or_(User.email.endswith(f"@{people.EMAIL_DOMAIN}"), func.lower(User.handle).in_(named))
    )


def _figures(db_session: Session) -> dict:
    """The demo users' accounts, check-ins, meetings, badges and mayorships."""
    users = demo_users()
    mine = Checkin.user_id.in_(users)
    count = func.count()
    return {
        "users": db_session.scalar(select(count).select_from(users.subquery())),
        "checkins": db_session.scalar(select(count).where(mine)),
        "eligible": db_session.scalar(select(count).where(mine, Checkin.eligible)),
        "meetings": db_session.scalar(
            select(func.count(Meeting.id.distinct())).where(Meeting.user_id.in_(users))
        ),
        "badges": db_session.scalar(select(count).where(UserBadge.user_id.in_(users))),
        "mayors": db_session.scalar(select(count).where(VenueMayor.user_id.in_(users))),
    }


def _spots(db_session: Session, source: str) -> dict[str, tuple[int, LatLon]]:
    rows = db_session.execute(
        select(
            Venue.source_ref, Venue.id, latitude(Venue.location), longitude(Venue.location)
        ).where(Venue.source == source, Venue.source_ref.is_not(None))
    ).all()
    return {ref: (venue_id, LatLon(lat, lon)) for ref, venue_id, lat, lon in rows}


def _past(spots: dict[str, tuple[int, LatLon]]) -> history.Past:
    now = clock.now()
    found = history.gowalla(demo.data_dir(), set(spots), now)
    if found is not None:
        return found
    return history.generated({ref: position for ref, (_, position) in spots.items()}, now)


def seed(*, db_session: Session, policy: PointsPolicy, progress: bool = True) -> Report:
    """Seed what is missing; the history only when no earlier seed loaded it (its people
    have check-ins: all of it is one transaction), the owner when they own nothing."""
    bars = Progress(progress)
    db_session.execute(text("SET LOCAL work_mem = '256MB'"))  # the bulk steps' sorts
    source, inserted = demo.seed_venues(db_session=db_session, progress=progress)
    handles = demo.seed_users(db_session=db_session)
    done = owner.account(db_session=db_session)
    owned = owner.owned(db_session=db_session, user_id=done.id) if done is not None else []
    loaded = db_session.scalar(select(exists().where(Checkin.user_id.in_(_people()))))
    if loaded and owned:
        return Report(source, inserted, None, owned, **_figures(db_session))
    history_source = None
    if not loaded:
        spots = _spots(db_session, source)
        past = _past(spots)
        _load(db_session, past, spots, handles, bars)
        with outbox.suppressed(db_session):  # as recompute-rewards: the history tells nobody
            replay.recompute(
                db_session=db_session,
                policy=policy,
                progress=progress,
                meanwhile=lambda: _footfall(db_session, bars.step("footfall (beside rewards)")),
            )
        history_source = past.source
    owned = owner.seed(db_session=db_session, password=demo.DEMO_PASSWORD, people=demo_users())
    return Report(source, inserted, history_source, owned, **_figures(db_session))


def _people():
    """The history's people (a query of user ids)."""
    return select(User.id).where(User.email.endswith(f"@{people.EMAIL_DOMAIN}"))


def _load(db_session: Session, past: history.Past, spots: dict, handles: list, bars) -> None:
    """The history's people and friendships, its check-ins judged and stored, and the
    meetings among them."""
    found = dict(
        db_session.execute(select(User.handle, User.id).where(User.handle.in_(handles))).all()
    )
    named = {handle: found[handle] for handle in handles}  # alice first: best-connected
    who = people.create(
        db_session=db_session,
        past=past,
        named=named,
        password=demo.DEMO_PASSWORD,
        progress=bars,
    )
    people.befriend(db_session=db_session, pairs=people.friendships(who, past))
    venues = {ref: venue_id for ref, (venue_id, _) in spots.items()}
    checkins.load(db_session=db_session, past=past, people=who, venues=venues, progress=bars)
    checkins.store(db_session=db_session)
    _count_checkins(db_session)
    db_session.execute(text("ANALYZE checkins, relationships, users"))  # for what reads them
    meetings.detect(db_session=db_session, staged=checkins.STAGED, progress=bars)


def _footfall(db_session: Session, bar: tqdm) -> None:
    """The footfall rollup rebuilt from the whole history (``flask rebuild-footfall``)."""
    backfill.rebuild(db_session=db_session)
    bar.update()
    bar.close()


def _count_checkins(db_session: Session) -> None:
    """The loaded check-ins on their people's counters (as each check-in counts itself)."""
    staged = checkins.STAGED
    loaded = select(staged.c.user_id, func.count().label("n")).group_by(staged.c.user_id).subquery()
    db_session.execute(
        update(User)
        .where(User.id == loaded.c.user_id)
        .values(checkin_count=User.checkin_count + loaded.c.n, last_timezone=people.ZONE)
    )


def describe(report: Report, seconds: float) -> list[str]:
    """The lines the command prints: what was seeded, the figures, the logins."""
    lines = []
    if report.venue_source == demo.GENERATED_SOURCE:
        lines.append(demo.why_generated())
    lines.append(
        f"venues: {report.new_venues} new from {report.venue_source}; "
        f"demo users: {report.users} ({seconds:.1f} s)"
    )
    history_line = (
        f"history: {report.checkins} check-ins ({report.eligible} earn rewards), "
        f"{report.meetings} meetings, {report.badges} badges, {report.mayors} mayorships"
    )
    if report.history_source is None:
        lines.append(f"{history_line}: seeded before, nothing to do")
    else:
        lines.append(f"{history_line}, from {report.history_source}")
    handles = ", ".join(handle for handle, _ in demo.DEMO_USERS)
    lines.append(
        f"demo logins (password '{demo.DEMO_PASSWORD}'): {handles} (all contacts of each "
        f"other); {owner.HANDLE} (owns {', '.join(report.owned) or 'nothing yet'}: see /owner/); "
        f"every person of the history as {people.prefix(report.history_source or 'gowalla')}_<id>"
    )
    return lines
