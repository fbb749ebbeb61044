"""Footfall's writers log their own changes (migration 0023, no triggers): what each
check-in, rebuild or forgotten visitor appends to ``venue_visit_changes`` is exactly its
diff of ``venue_visits``, and folding the log gives the summaries a rebuild from the raw
check-ins gives, also when check-ins at one venue race."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.database import db
from service.footfall import backfill, rollup
from service.footfall.changes import COLUMNS
from service.models import User, VenueHour, VenueVisit, VenueVisitChange, VenueVisitor
from tests.conftest import Actions, offset_point
from tests.integration.test_footfall import rebuilt_summaries, summaries

NEW_YORK = (40.7306, -73.9866)
VISITS = VenueVisit.__table__
CHANGES = VenueVisitChange.__table__


def visit_rows(session) -> Counter:
    return Counter(session.execute(select(*[VISITS.c[n] for n in COLUMNS])).all())


def changes_after(session, last_id: int) -> list:
    query = (
        select(CHANGES.c.id, CHANGES.c.sign, CHANGES.c.gone, *[CHANGES.c[n] for n in COLUMNS])
        .where(CHANGES.c.id > last_id)
        .order_by(CHANGES.c.id)
    )
    return session.execute(query).all()


def assert_logged_diff(before: Counter, after: Counter, logged: list) -> None:
    """Rows before + rows added = rows after + rows removed, as multisets."""
    added = Counter(tuple(row[3:]) for row in logged if row.sign == 1)
    removed = Counter(tuple(row[3:]) for row in logged if row.sign == -1)
    assert before + added == after + removed, (before, after, logged)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_each_checkin_logs_exactly_its_diff_of_the_rollup(app, actions, frozen_clock):
    """Inserts, repeats in one hour (an update: the row as it was, then as it is) and
    offline replays landing before later rows (their marks fixed, each fix logged)."""
    owner = actions.register()
    venue = actions.venue(owner, *NEW_YORK, name="Logged Bar")
    annex = actions.venue(owner, *offset_point(NEW_YORK, 300), name="Logged annex")
    people = [actions.register() for _ in range(6)]
    # New York: EDT (UTC-4) until 06:00 UTC on Sunday Nov 1, then EST (UTC-5)
    script = [  # (UTC time, who, where, client_time)
        (utc(10, 30, 14), people[:5], venue, None),
        (utc(10, 30, 14, 20), people[:2], venue, None),  # the same hour again
        (utc(10, 31, 18), people[:3], venue, None),
        (utc(11, 1, 4, 40), people[:2], venue, None),  # 00:40 EDT
        (utc(11, 1, 5), people[:1], annex, None),
        (utc(11, 1, 6, 40), people[3:5], venue, None),  # 01:40 EST
        # a replay of 01:30 EDT: the same weekday and local hour an hour earlier, now the
        # day's first (the 01:40 row no longer is, and follows it in its cell)
        (utc(11, 1, 6, 50), people[3:5], venue, utc(11, 1, 5, 30)),
        # a replay of Saturday 19:30 EDT: a day of its own, before Sunday's first row
        (utc(11, 1, 7), people[3:5], venue, utc(10, 31, 23, 30)),
        (utc(11, 2, 15), people, venue, None),
    ]
    fixed, last_id = 0, 0
    for at, who, where, client_time in script:
        frozen_clock.current = at
        for person in who:
            with app.app_context():  # read between requests, never around one (its g)
                before = visit_rows(db.session)
            extra = {"client_time": client_time.isoformat()} if client_time else {}
            assert actions.check_in(person, where, **extra).status_code == 201
            with app.app_context():
                logged = changes_after(db.session, last_id)
                assert logged and {row.venue_id for row in logged} == {where["id"]}
                assert {row.user_id for row in logged} == {person["user"]["id"]}
                assert not any(row.gone for row in logged)
                assert_logged_diff(before, visit_rows(db.session), logged)
            inserted = any(row.sign == 1 and row.checkins == 1 for row in logged)
            fixed += inserted and any(row.sign == -1 for row in logged)
            last_id = logged[-1].id
    assert fixed == 4  # the two replays' fixes of later rows, for two people, logged
    with app.app_context():
        assert summaries(db.session) == rebuilt_summaries(db.session)


def test_a_venue_rebuilt_and_a_visitor_forgotten_log_their_changes(app, actions, frozen_clock):
    owner = actions.register()
    venue = actions.venue(owner, *NEW_YORK, name="Rebuilt Bar")
    other = actions.venue(owner, *offset_point(NEW_YORK, 500), name="Other Bar")
    people = [actions.register() for _ in range(5)]
    frozen_clock.current = datetime(2026, 6, 1, 16, tzinfo=UTC)
    for day in range(4):
        for person in people[day % 2 :]:
            assert actions.check_in(person, venue).status_code == 201
            assert actions.check_in(person, other).status_code == 201
        frozen_clock.advance(days=1, hours=1)
    with app.app_context():
        session = db.session
        expected = rebuilt_summaries(session)
        last_id = session.scalar(select(func.coalesce(func.max(CHANGES.c.id), 0)))
        before = visit_rows(session)
        assert backfill.rebuild(db_session=session, venue_id=venue["id"]) > 0
        # what the rebuild logged was folded by it; the rows are the same ones
        assert visit_rows(session) == before and summaries(session) == expected
        assert changes_after(session, last_id) == []

        gone = people[0]["user"]["id"]
        before = visit_rows(session)
        rollup.forget_visitor(db_session=session, user_id=gone)
        logged = changes_after(session, last_id)
        assert logged and all(row.gone and row.sign == -1 for row in logged)
        assert {row.venue_id for row in logged} == {venue["id"], other["id"]}
        assert_logged_diff(before, visit_rows(session), logged)
        session.execute(delete(User).where(User.id == gone))  # the account, check-ins too
        assert summaries(session) == rebuilt_summaries(session)
        kept = select(func.count()).select_from(VenueVisitor).where(VenueVisitor.user_id == gone)
        assert session.scalar(kept) == 0


def test_checkins_racing_at_one_venue_log_every_visit_once(live_app, frozen_clock):
    """Twelve people at one venue in the same hour at once, and one of them twice: every
    row and change once (each person's rows are written under their own lock)."""
    frozen_clock.current = datetime(2026, 6, 10, 16, 5, tzinfo=UTC)
    actions = Actions(live_app.test_client())
    owner = actions.register()
    venue = actions.venue(owner, *NEW_YORK, name="Race Bar")
    people = [actions.register() for _ in range(12)]
    start = threading.Barrier(13)

    def one(person):
        client_actions = Actions(live_app.test_client())
        start.wait()
        return client_actions.check_in(person, venue).status_code

    with ThreadPoolExecutor(max_workers=13) as pool:
        codes = list(pool.map(one, [*people, people[0]]))
    assert codes == [201] * 13
    engine = db.state(live_app).engine
    with Session(engine) as session:
        rows = session.execute(select(VenueVisit.user_id, VenueVisit.checkins)).all()
        assert sorted(checkins for _, checkins in rows) == [1] * 11 + [2]
        logged = session.scalar(select(func.count()).select_from(VenueVisitChange))
        assert logged == 12 + 2  # the second check-in: the row as it was, and as it is
        assert summaries(session) == rebuilt_summaries(session)
        hour = session.execute(select(VenueHour.visits, VenueHour.checkins)).one()
        assert tuple(hour) == (12, 13)
        session.rollback()
