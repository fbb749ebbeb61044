"""One push attempt: its claim, its backoff, what it came to, how it is logged and
recorded."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.models import PushDelivery

log = logging.getLogger("service.notifications.push")  # one logger for the worker's lines
RETRYABLE_STATUS = frozenset({408, 425, 429})


def claim(session: Session, now: datetime, batch: int, lease_s: float) -> list:
    """Lease up to ``batch`` due deliveries to this worker, counting their attempt: none
    is due again until its lease ends (the claims of a worker that died come back).

    The due keys are read without a lock, then each is claimed by its own UPDATE that
    still wants it due: one claimed by another worker meanwhile has its lease as next
    attempt and is skipped, so no delivery is attempted twice. Each UPDATE names its
    recipient, so on Citus it runs on one shard, where FOR UPDATE across shards is
    refused; keys are claimed in one order, so two workers never wait in a cycle."""
    due = session.execute(
        select(PushDelivery.user_id, PushDelivery.id)
        .where(PushDelivery.state == "pending", PushDelivery.next_attempt_at <= now)
        .order_by(PushDelivery.next_attempt_at)
        .limit(batch)
    ).all()
    claimed = []
    for user_id, delivery_id in sorted(due):
        row = session.execute(
            update(PushDelivery)
            .where(
                PushDelivery.user_id == user_id,
                PushDelivery.id == delivery_id,
                PushDelivery.state == "pending",
                PushDelivery.next_attempt_at <= now,
            )
            .values(
                attempts=PushDelivery.attempts + 1,
                next_attempt_at=now + timedelta(seconds=lease_s),
            )
            .returning(
                PushDelivery.user_id,
                PushDelivery.id,
                PushDelivery.notification_id,
                PushDelivery.attempts,
                PushDelivery.request_id,
            )
        ).first()
        if row is not None:
            claimed.append(row)
    return claimed


def backoff_s(attempt: int, base_s: float, max_s: float, jitter: float) -> float:
    """Delay before the retry after ``attempt`` (1-based): doubling from ``base_s``, capped
    at ``max_s``, scaled by ``jitter`` in [0.5, 1] so retries of many spread out."""
    return min(max_s, base_s * 2 ** (attempt - 1)) * jitter


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: ``sent``, ``retry`` (after ``delay_s``) or ``failed``;
    ``error`` says why, or for ``sent`` what was skipped or refused on the way."""

    state: str
    error: str | None = None
    delay_s: float = 0.0
    gave_up: bool = False  # failed because the last attempt was used up


@dataclass(frozen=True)
class Answer:
    """What one request came to: ``sent`` (``detail``: what the gateway reported, if
    anything), ``retry`` or ``failed`` (``detail``: the error)."""

    state: str
    detail: str | None = None
    retry_after: str | None = None


def log_attempt(claimed, outcome: Outcome, secrets: list[str]) -> None:
    """One line per attempt: its outcome (sent, retry, failed, gave_up), the ids to follow
    it by (the request that queued it, the delivery, the notification) and the error with
    any device token the gateway echoed cut out."""
    event = "gave_up" if outcome.gave_up else outcome.state
    error = outcome.error
    for secret in filter(None, secrets):
        error = error and error.replace(secret, "[redacted]")
    log.log(
        logging.INFO if outcome.state == "sent" else logging.WARNING,
        "push delivery %s of notification %s, attempt %s: %s",
        claimed.id,
        claimed.notification_id,
        claimed.attempts,
        event,
        extra={
            "request_id": claimed.request_id,
            "delivery_id": claimed.id,
            "notification_id": claimed.notification_id,
            "recipient_id": claimed.user_id,
            "attempt": claimed.attempts,
            "outcome": event,
            "retry_in_s": round(outcome.delay_s, 1) if outcome.state == "retry" else None,
            "error": error,
        },
    )


def record(outcome: Outcome, now: datetime) -> dict:
    """The delivery row's new values after an attempt."""
    if outcome.state == "sent":
        return {"state": "sent", "finished_at": now, "last_error": outcome.error}
    if outcome.state == "failed":
        return {"state": "failed", "finished_at": now, "last_error": outcome.error}
    return {
        "next_attempt_at": now + timedelta(seconds=outcome.delay_s),
        "last_error": outcome.error,
    }
