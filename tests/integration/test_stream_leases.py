"""Stream leases without a server: a row and its lock, the eviction that tells live rows
from dead ones, and a lease connection that is lost and taken again."""

import pytest
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from service.models import NotificationStream
from service.notifications.stream_leases import STREAM_LOCKS, Leases, evict_beyond_limit
from tests.conftest import TEST_DATABASE_URL, Actions


@pytest.fixture
def user_id(live_app) -> int:
    return Actions(live_app.test_client()).register()["user"]["id"]


@pytest.fixture
def leases():
    gone: set[int] = set()
    held = Leases(TEST_DATABASE_URL, on_gone=gone.update)
    held.gone = gone
    yield held
    held.dispose()


def _leased(engine) -> set[int]:
    """The stream ids whose lease lock some connection holds."""
    with engine.connect() as conn:
        return set(
            conn.scalars(
                text(
                    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid = :space AND objsubid = 2 AND granted AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"space": STREAM_LOCKS},
            )
        )


def _rows(engine, user_id: int) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.scalars(select(NotificationStream.id).where(NotificationStream.user_id == user_id))
        )


def test_an_opened_stream_has_its_row_and_its_lock(engine, user_id, leases):
    stream_id = leases.open(user_id)
    assert _rows(engine, user_id) == {stream_id}
    assert stream_id in _leased(engine)
    leases.close(stream_id)
    assert _rows(engine, user_id) == set() and stream_id not in _leased(engine)


def test_eviction_keeps_the_newest_live_and_deletes_the_dead(engine, user_id, leases):
    older, newer = leases.open(user_id), leases.open(user_id)
    with engine.begin() as conn:  # a process that died holding a still newer one
        dead = conn.scalar(
            insert(NotificationStream).values(user_id=user_id).returning(NotificationStream.id)
        )
    with Session(engine) as session:
        eviction = evict_beyond_limit(db_session=session, user_id=user_id, limit=1)
        session.commit()
    assert eviction.kept == [newer] and eviction.evicted == [older]
    assert _rows(engine, user_id) == {newer} and dead not in _rows(engine, user_id)


def test_a_lost_lease_connection_takes_its_locks_again(engine, user_id, leases):
    kept, evicted = leases.open(user_id), leases.open(user_id)
    with engine.begin() as conn:  # the lease connection dies; meanwhile one row goes
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'irl-stream-leases' AND datname = current_database()"
            )
        )
        conn.execute(delete(NotificationStream).where(NotificationStream.id == evicted))
    leases.check()
    assert leases.gone == {evicted}
    assert kept in _leased(engine) and evicted not in _leased(engine)
    assert _rows(engine, user_id) == {kept}
