"""What must hold after phones checked in through a broken or reshaped cluster: the
answers they got, and the rows of their users."""

from sqlalchemy import create_engine, func, select, text

from service.footfall.rollup import counts_sql
from service.models import Checkin, IdempotencyKey, PointsEntry, User, VenueVisit
from tests.citus.load import GIVE_UP_S, RETRY_LATER, Phone


def answers_problems(phones: list[Phone]) -> list[str]:
    """Answers a phone must never get, as sentences: a 500 (or any status but 201 and a
    "retry later" with Retry-After), and check-ins never answered 201."""
    problems = []
    for phone in phones:
        wrong = {s: n for s, n in phone.statuses.items() if s != 201 and s not in RETRY_LATER}
        if wrong:
            samples = {status: phone.samples.get(status) for status in wrong}
            problems.append(f"user {phone.user_id}: {wrong} {samples}")
        if phone.without_retry_after:
            problems.append(f"user {phone.user_id}: {phone.without_retry_after} w/o Retry-After")
        if phone.unacknowledged_keys:
            problems.append(
                f"user {phone.user_id}: {len(phone.unacknowledged_keys)} check-ins never "
                f"answered 201 in {GIVE_UP_S:.0f} s"
            )
    return problems


def lost_or_half_written(url: str, phones: list[Phone]) -> list[str]:
    """What is wrong with the phones' users' rows, as sentences (none: nothing)."""
    users = [phone.user_id for phone in phones]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # a 2PC whose coordinator committed while a worker was down: finish it now, as
            # Citus's maintenance daemon does every citus.recover_2pc_interval
            conn.execute(text("SELECT recover_prepared_transactions()"))
            conn.commit()
            return (
                _lost(conn, phones, users)
                + _counters(conn, users)
                + _footfall(conn, users)
                + _unanswered_keys(conn, users)
            )
    finally:
        engine.dispose()


def _lost(conn, phones: list[Phone], users: list[int]) -> list[str]:
    """An acknowledged check-in missing, or one stored that nobody was told about (half
    of a request that failed)."""
    stored = sorted(conn.scalars(select(Checkin.id).where(Checkin.user_id.in_(users))))
    acknowledged = sorted(i for phone in phones for i in phone.acknowledged)
    if stored == acknowledged:
        return []
    missing = sorted(set(acknowledged) - set(stored))
    extra = sorted(set(stored) - set(acknowledged))
    twice = len(acknowledged) - len(set(acknowledged))
    return [
        f"acknowledged ≠ stored: {len(missing)} acknowledged missing {missing[:10]}, "
        f"{len(extra)} stored unacknowledged {extra[:10]}, {twice} acknowledged twice"
    ]


def _counters(conn, users: list[int]) -> list[str]:
    """A user whose check-in count or points disagree with their check-ins and ledger."""
    counted = dict(
        conn.execute(
            select(Checkin.user_id, func.count())
            .where(Checkin.user_id.in_(users))
            .group_by(Checkin.user_id)
        ).all()
    )
    points = dict(
        conn.execute(
            select(PointsEntry.user_id, func.sum(PointsEntry.points))
            .where(PointsEntry.user_id.in_(users))
            .group_by(PointsEntry.user_id)
        ).all()
    )
    problems = []
    for user_id, checkin_count, user_points in conn.execute(
        select(User.id, User.checkin_count, User.points).where(User.id.in_(users))
    ):
        if checkin_count != counted.get(user_id, 0):
            problems.append(f"user {user_id}: checkin_count {checkin_count}, {counted}")
        if user_points != (points.get(user_id) or 0):
            problems.append(f"user {user_id}: points {user_points}, ledger {points}")
    return problems


def _footfall(conn, users: list[int]) -> list[str]:
    """A venue's footfall (venue-keyed: another shard, often another node) that disagrees
    with the check-ins that count (user-keyed)."""
    checkins = dict(
        ((row.venue_id, row.user_id), row.n)
        for row in conn.execute(
            select(Checkin.venue_id, Checkin.user_id, func.count().label("n"))
            .where(counts_sql(Checkin.reasons), Checkin.user_id.in_(users))
            .group_by(Checkin.venue_id, Checkin.user_id)
        )
    )
    visits = dict(
        ((row.venue_id, row.user_id), row.n)
        for row in conn.execute(
            select(
                VenueVisit.venue_id, VenueVisit.user_id, func.sum(VenueVisit.checkins).label("n")
            )
            .where(VenueVisit.user_id.in_(users))
            .group_by(VenueVisit.venue_id, VenueVisit.user_id)
        )
    )
    if checkins == visits:
        return []
    return [f"footfall (venue, user) → check-ins {visits} ≠ check-ins that count {checkins}"]


def _unanswered_keys(conn, users: list[int]) -> list[str]:
    """An idempotency key kept without its answer (a retry would get 409 for ever)."""
    pending = conn.scalar(
        select(func.count()).where(
            IdempotencyKey.user_id.in_(users), IdempotencyKey.status_code.is_(None)
        )
    )
    return [f"{pending} idempotency keys kept without their answer"] if pending else []
