"""The outbox: notifications are written inside the transaction that caused them.

Code anywhere in a unit of work ``queue``s drafts; just before the session commits they
are written in one go (inbox rows, push deliveries) and announced with ``pg_notify``,
which PostgreSQL delivers only if that transaction commits. So a notification exists if
and only if its check-in does, and streams and the push worker act only after commit.
"""

import json
from collections import Counter
from contextlib import contextmanager
from functools import lru_cache

from flask import current_app, has_app_context
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Text,
    any_,
    bindparam,
    cast,
    event,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from service import clock, logs
from service.models import Device, Notification, PushDelivery, User
from service.notifications.inbox import view
from service.notifications.messages import Draft
from service.notifications.quiet import in_quiet_hours
from service.ops import metrics

STREAM_CHANNEL = "irl_notifications"
PUSH_CHANNEL = "irl_push"
# NOTIFY payloads are limited to 8000 bytes; a larger notification is announced by id
# and the stream reads it from the table.
MAX_PAYLOAD = 7900
_PENDING = "irl_outbox_pending"
_WRITTEN = "irl_outbox_written"
_SUPPRESSED = "irl_outbox_suppressed"


def queue(db_session: Session, draft: Draft) -> None:
    """Write ``draft`` when this session's transaction commits (never if it rolls back)."""
    if not db_session.info.get(_SUPPRESSED):
        db_session.info.setdefault(_PENDING, []).append(draft)


@contextmanager
def suppressed(db_session: Session):
    """Queue nothing inside the block (rebuilding history must not notify anyone)."""
    db_session.info[_SUPPRESSED] = True
    try:
        yield
    finally:
        db_session.info.pop(_SUPPRESSED, None)


@lru_cache(maxsize=1)
def _recipients_statement():
    # the ids filter both tables: Citus prunes a correlated EXISTS to the recipients'
    # shards only when it is stated there too
    user_ids = bindparam("user_ids", type_=ARRAY(BigInteger))
    return select(
        User.id,
        func.coalesce(User.timezone, User.last_timezone, "UTC"),
        User.quiet_hours_start,
        User.quiet_hours_end,
        exists().where(Device.user_id == User.id, Device.user_id == any_(user_ids)),
    ).where(User.id == any_(user_ids))


def _recipients(db_session: Session, user_ids: set[int]) -> dict[int, tuple]:
    """Per recipient: (time zone, quiet start, quiet end, has a device)."""
    rows = db_session.connection().execute(_recipients_statement(), {"user_ids": sorted(user_ids)})
    return {row[0]: tuple(row[1:]) for row in rows}


@lru_cache(maxsize=1)
def _announce_statement():
    """One NOTIFY per payload on the stream channel; built once."""
    payloads = bindparam("payloads", type_=ARRAY(Text))
    return select(func.pg_notify(STREAM_CHANNEL, func.unnest(payloads)))


def _iso(value) -> str:
    return value.isoformat()


def _payload(user_id: int, shown: dict) -> str:
    text = json.dumps({"user_id": user_id, "notification": shown}, default=_iso)
    if len(text.encode()) > MAX_PAYLOAD:
        text = json.dumps({"user_id": user_id, "id": shown["id"]})
    return text


@lru_cache(maxsize=1)
def _insert_statement():
    """One INSERT of all drafts from parallel arrays (cheaper to send than thousands of
    parameters); built once. Rows come back in any order, each naming its recipient."""
    given = (
        func.unnest(
            bindparam("user_ids", type_=ARRAY(BigInteger)),
            bindparam("kinds", type_=ARRAY(Text)),
            bindparam("actor_ids", type_=ARRAY(BigInteger)),
            bindparam("messages", type_=ARRAY(Text)),
            bindparam("datas", type_=ARRAY(Text)),
            bindparam("quiet", type_=ARRAY(Boolean)),
        )
        .table_valued("user_id", "kind", "actor_id", "message", "data", "quiet")
        .render_derived()
    )
    table = Notification.__table__
    return (
        insert(table)
        .from_select(
            ["user_id", "kind", "actor_id", "message", "data", "quiet", "created_at"],
            select(
                given.c.user_id,
                given.c.kind,
                given.c.actor_id,
                given.c.message,
                cast(given.c.data, JSONB),
                given.c.quiet,
                bindparam("now", type_=DateTime(timezone=True)),
            ),
        )
        .returning(*table.c)
    )


def write_pending(db_session: Session) -> list[dict]:
    """Write the queued drafts and announce them; returns what was written."""
    drafts: list[Draft] = db_session.info.pop(_PENDING, None)
    if not drafts:
        return []
    now = clock.now()
    db_session.flush()  # the statements below run on the connection: no autoflush
    recipients = _recipients(db_session, {d.user_id for d in drafts})
    drafts = [d for d in drafts if d.user_id in recipients]  # an account deleted meanwhile
    quiet = [not d.urgent and in_quiet_hours(now, *recipients[d.user_id][:3]) for d in drafts]
    rows = db_session.execute(
        _insert_statement(),
        {
            "user_ids": [d.user_id for d in drafts],
            "kinds": [d.kind for d in drafts],
            "actor_ids": [d.actor_id for d in drafts],
            "messages": [d.message for d in drafts],
            "datas": [json.dumps(d.data, default=_iso) for d in drafts],
            "quiet": quiet,
            "now": now,
        },
    )
    written = sorted(((row.user_id, view(row)) for row in rows), key=lambda w: w[1]["id"])
    request_id = logs.current_request_id()  # the worker logs its deliveries with it
    pushed = [
        {
            "user_id": user_id,
            "notification_id": shown["id"],
            "next_attempt_at": now,
            "request_id": request_id,
        }
        for user_id, shown in written
        if recipients[user_id][3] and not shown["quiet"]
    ]
    if pushed and _push_enabled():
        db_session.execute(insert(PushDelivery), pushed)
        db_session.execute(select(func.pg_notify(PUSH_CHANNEL, "")))
    payloads = [_payload(user_id, shown) for user_id, shown in written]
    db_session.connection().execute(_announce_statement(), {"payloads": payloads})
    db_session.info[_WRITTEN] = Counter(shown["kind"] for _, shown in written)
    return [shown for _, shown in written]


def _push_enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("PUSH_GATEWAY_URL"))


def _before_commit(session: Session) -> None:
    write_pending(session)


def _after_commit(session: Session) -> None:
    for kind, count in session.info.pop(_WRITTEN, Counter()).items():
        metrics.NOTIFICATIONS.labels(kind).inc(count)


def _after_rollback(session: Session, _previous_transaction=None) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITTEN, None)


def init_app(_app) -> None:
    """Hook the outbox into every session's commit and rollback (once per process)."""
    for name, listener in (
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
        ("after_soft_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
