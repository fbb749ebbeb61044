"""The worker folds the footfall changes check-ins log (migration 0016): committed data,
real connections, folds racing each other."""

import threading
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.database import db
from service.footfall import fold
from service.models import VenueHour, VenueVisitChange
from service.notifications.push import PushSettings, PushWorker
from tests.conftest import Actions, offset_point
from tests.integration.test_footfall import rebuilt_summaries, summaries

HERE = (40.7484, -73.9857)  # New York


def check_ins(app, frozen_clock, people: int, venues: int = 2) -> int:
    """``people`` users each checking in at every one of ``venues`` nearby venues, an hour
    apart, committed; returns how many check-ins."""
    client = app.test_client()
    actions = Actions(client)
    owner = actions.register()
    places = [actions.venue(owner, *offset_point(HERE, 40 * i)) for i in range(venues)]
    made = 0
    for person in [actions.register() for _ in range(people)]:
        for place in places:
            frozen_clock.advance(minutes=61)
            assert actions.check_in(person, place).status_code == 201
            made += 1
    return made


def pending(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(VenueVisitChange))


def test_the_worker_folds_what_checkins_logged(live_app, frozen_clock):
    frozen_clock.current -= timedelta(days=1)
    made = check_ins(live_app, frozen_clock, people=4)
    engine = db.state(live_app).engine
    assert pending(engine) == made
    worker = PushWorker(engine, PushSettings(gateway_url="", secret=b""))
    try:
        assert worker.fold_footfall() == made
    finally:
        worker.close()
    assert pending(engine) == 0
    with Session(engine) as session:
        assert session.scalar(select(func.sum(VenueHour.checkins))) == made
        assert summaries(session) == rebuilt_summaries(session)
        session.rollback()


def test_two_folds_at_once_fold_every_change_exactly_once(live_app, frozen_clock):
    """Two workers (or a worker and a stats read) folding small batches at the same time:
    the advisory lock makes each change count once, none twice, none lost."""
    frozen_clock.current -= timedelta(days=2)
    made = check_ins(live_app, frozen_clock, people=10, venues=3)
    engine = db.state(live_app).engine
    start = threading.Barrier(2)
    folded = []

    def folder():
        with Session(engine) as session:
            start.wait()
            folded.append(fold.catch_up(session, batch=2))

    threads = [threading.Thread(target=folder) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(folded) == made and pending(engine) == 0
    with Session(engine) as session:
        assert session.scalar(select(func.sum(VenueHour.checkins))) == made
        assert summaries(session) == rebuilt_summaries(session)
        session.rollback()
