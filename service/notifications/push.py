"""The push worker: hand each queued notification to the push gateway.

It claims due deliveries one by one (``attempts.claim``: several workers may run, and
each delivery goes to one) and leases them, so the claims of a worker that died come
back; hands each to the configured gateway's adapter (``gateways/``: IRL's signed
webhook, Gorush or ntfy), which builds the request(s); retries with exponential backoff
and jitter; after the last attempt, or when the gateway refuses the request outright,
records the delivery as failed with its error. It wakes on the outbox's NOTIFY and
otherwise sleeps until the next retry is due. Check-ins never wait for it: they only
insert rows.
"""

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import httpx
import psycopg
from sqlalchemy import Engine, func, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service import clock
from service.footfall import fold as footfall
from service.models import Device, Notification, PushDelivery
from service.notifications import gateways
from service.notifications.attempts import (
    RETRYABLE_STATUS,
    Answer,
    Outcome,
    backoff_s,
    claim,
    log_attempt,
    record,
)
from service.notifications.inbox import with_faces
from service.notifications.kinds import URGENT_KINDS
from service.notifications.outbox import PUSH_CHANNEL
from service.ops import metrics
from service.plans import deadlines
from service.rewards import expiry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushSettings:
    """Where and how to deliver; times in seconds."""

    gateway_url: str
    secret: bytes
    kind: str = "webhook"  # one of gateways.KINDS
    token: str = ""  # gorush / ntfy: sent as Authorization: Bearer
    timeout_s: float = 5.0
    max_attempts: int = 8
    base_delay_s: float = 2.0
    max_delay_s: float = 900.0
    batch: int = 50
    lease_s: float = 60.0
    concurrency: int = 8
    idle_s: float = 30.0
    # periodic chores (mayorships that aged out), seconds apart; mayorship points
    chores_every_s: float = 300.0
    mayorship_points: int = 25
    # this often: fold the footfall changes check-ins logged into the summaries, and act
    # on the meeting plans that fell due (a safety alert waits at most this long)
    tick_every_s: float = 1.0

    @classmethod
    def from_config(cls, cfg) -> "PushSettings":
        """Read the PUSH_* settings of an app's config."""
        return cls(
            gateway_url=cfg["PUSH_GATEWAY_URL"],
            secret=cfg["PUSH_SIGNING_SECRET"].encode(),
            kind=cfg["PUSH_GATEWAY_KIND"],
            token=cfg["PUSH_GATEWAY_TOKEN"],
            timeout_s=cfg["PUSH_TIMEOUT_S"],
            max_attempts=cfg["PUSH_MAX_ATTEMPTS"],
            base_delay_s=cfg["PUSH_RETRY_BASE_S"],
            max_delay_s=cfg["PUSH_RETRY_MAX_S"],
            mayorship_points=cfg["POINTS_MAYORSHIP"],
        )


class PushWorker:
    """Delivers due push notifications in batches; ``run`` loops until stopped."""

    def __init__(self, engine: Engine, settings: PushSettings, listen_dsn: str | None = None):
        self.engine = engine
        self.settings = settings
        self.gateway = gateways.adapter(settings)
        self.listen_dsn = listen_dsn
        self.client = httpx.Client(timeout=settings.timeout_s)
        self.pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="irl-push")
        self._chores_at = 0.0  # monotonic time the periodic chores are next due
        self._tick_at = 0.0  # and the every-second jobs

    def close(self) -> None:
        """Release the HTTP client and threads."""
        self.pool.shutdown(wait=True)
        self.client.close()

    def _claim(self, session: Session, now: datetime) -> list:
        """Lease a batch of due deliveries to this worker."""
        return claim(session, now, self.settings.batch, self.settings.lease_s)

    @staticmethod
    def _bodies(session: Session, claimed: list) -> dict[tuple[int, int], dict]:
        """The gateway body of each claimed delivery (None: nobody to push to)."""
        notes = session.scalars(
            select(Notification).where(
                tuple_(Notification.user_id, Notification.id).in_(
                    [(c.user_id, c.notification_id) for c in claimed]
                )
            )
        ).all()
        views = with_faces(session, notes)  # whoever each names, with their face
        by_key = {(n.user_id, n.id): item for n, item in zip(notes, views, strict=True)}
        devices: dict[int, list[dict]] = {}
        for row in session.execute(
            select(Device.user_id, Device.platform, Device.token)
            .where(Device.user_id.in_({c.user_id for c in claimed}))
            .order_by(Device.id)
        ):
            devices.setdefault(row.user_id, []).append(
                {"platform": row.platform, "token": row.token}
            )
        bodies = {}
        for c in claimed:
            shown = by_key.get((c.user_id, c.notification_id))
            targets = devices.get(c.user_id)
            bodies[(c.user_id, c.id)] = (
                {
                    "delivery_id": c.id,
                    "attempt": c.attempts,
                    "priority": "high" if shown["kind"] in URGENT_KINDS else "normal",
                    "devices": targets,
                    "notification": shown,
                }
                if shown is not None and targets
                else None
            )
        return bodies

    def _attempt(self, body: dict | None, attempt: int) -> Outcome:
        if body is None:
            return Outcome("failed", "no registered devices")
        prepared = self.gateway.prepare(body)
        if not prepared.requests:
            return Outcome("failed", f"no device this gateway can reach: {prepared.skipped}")
        answers = [self._post(request) for request in prepared.requests]
        if len(answers) > 1:  # say which request each error is about
            answers = [
                Answer(a.state, f"{label}: {a.detail}" if a.detail else None, a.retry_after)
                for a, label in zip(answers, prepared.labels, strict=True)
            ]
        return self._judge(answers, prepared.skipped, attempt)

    def _post(self, request: gateways.Request) -> Answer:
        try:
            response = self.client.post(
                request.url, content=request.content, headers=request.headers
            )
        except httpx.HTTPError as exc:
            return Answer("retry", f"{type(exc).__name__}: {exc}")
        if 200 <= response.status_code < 300:
            return Answer("sent", self.gateway.note(response))
        error = f"HTTP {response.status_code}: {response.text[:200]}"
        if 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_STATUS:
            return Answer("failed", error)
        return Answer("retry", error, response.headers.get("Retry-After"))

    def _judge(self, answers: list[Answer], skipped: str | None, attempt: int) -> Outcome:
        """One outcome for a delivery's requests: any retryable failure retries it all (the
        gateways have no idempotency key: a topic that took it may show it twice); all
        refused fails it; otherwise sent, recording what was skipped or refused."""
        retry = [a for a in answers if a.state == "retry"]
        if retry:
            waits = [a.retry_after for a in retry if a.retry_after and a.retry_after.isdigit()]
            after = max(waits, key=int) if waits else None
            return self._retry_or_fail(attempt, "; ".join(a.detail for a in retry), after)
        details = [a.detail for a in answers if a.detail]
        if all(a.state == "failed" for a in answers):
            return Outcome("failed", "; ".join(details))
        return Outcome("sent", "; ".join(filter(None, [skipped, *details])) or None)

    def _retry_or_fail(self, attempt: int, error: str, retry_after: str | None) -> Outcome:
        s = self.settings
        if attempt >= s.max_attempts:
            return Outcome(
                "failed", f"gave up after {attempt} attempts; last: {error}", gave_up=True
            )
        delay = backoff_s(attempt, s.base_delay_s, s.max_delay_s, random.uniform(0.5, 1.0))
        if retry_after is not None and retry_after.isdigit():
            delay = min(s.max_delay_s, max(delay, float(retry_after)))
        return Outcome("retry", error, delay)

    def deliver_due(self, now: datetime | None = None) -> int:
        """Claim and attempt one batch of due deliveries; returns how many were tried."""
        now = now or clock.now()
        with Session(self.engine) as session, session.begin():
            claimed = self._claim(session, now)
            bodies = self._bodies(session, claimed) if claimed else {}
        if not claimed:
            return 0
        outcomes = list(
            self.pool.map(lambda c: self._attempt(bodies[(c.user_id, c.id)], c.attempts), claimed)
        )
        finished = clock.now()
        with Session(self.engine) as session, session.begin():
            for c, outcome in zip(claimed, outcomes, strict=True):
                session.execute(
                    update(PushDelivery)
                    .where(PushDelivery.user_id == c.user_id, PushDelivery.id == c.id)
                    .values(**record(outcome, finished))
                )
                metrics.PUSH_DELIVERIES.labels(outcome.state).inc()
        for c, outcome in zip(claimed, outcomes, strict=True):
            log_attempt(c, outcome, self._secrets(bodies[(c.user_id, c.id)]))
        return len(claimed)

    def _secrets(self, body: dict | None) -> list[str]:
        """What must never reach a log line: the devices' tokens, the gateway's keys."""
        devices = (body or {}).get("devices") or []
        return [d["token"] for d in devices] + [self.settings.token, self.settings.secret.decode()]

    def next_due_in_s(self, now: datetime | None = None) -> float:
        """Seconds until the earliest pending delivery is due (``idle_s`` if none)."""
        with Session(self.engine) as session:
            due = session.scalar(
                select(func.min(PushDelivery.next_attempt_at)).where(
                    PushDelivery.state == "pending"
                )
            )
        if due is None:
            return self.settings.idle_s
        wait = (due - (now or clock.now())).total_seconds()
        return max(0.0, min(self.settings.idle_s, wait))

    def run_chores(self, now: datetime | None = None) -> int:
        """The periodic jobs: re-decide the mayorships that aged out (their gained/lost
        notifications go through the outbox); returns how many venues."""
        with Session(self.engine) as session:
            return expiry.run(session, now or clock.now(), self.settings.mayorship_points)

    def fold_footfall(self) -> int:
        """Fold the footfall changes the check-ins logged into the summaries; how many."""
        with Session(self.engine) as session:
            return footfall.catch_up(session)

    def keep_plan_deadlines(self, now: datetime | None = None) -> int:
        """Act on the meeting plans that fell due (alerts, closing, deleting); how many."""
        with Session(self.engine) as session:
            return deadlines.run(session, now or clock.now())

    def _every_second_if_due(self) -> None:
        if time.monotonic() < self._tick_at:
            return
        self._tick_at = time.monotonic() + self.settings.tick_every_s
        for job in (self.fold_footfall, self.keep_plan_deadlines):
            try:
                job()
            except SQLAlchemyError as exc:  # a lost connection, a deadlock: next time
                log.warning("%s failed: %s", job.__name__, exc)

    def _chores_if_due(self) -> None:
        if time.monotonic() < self._chores_at:
            return
        self._chores_at = time.monotonic() + self.settings.chores_every_s
        try:
            settled = self.run_chores()
        except SQLAlchemyError as exc:  # a deadlock or a lost connection: next time
            log.warning("periodic chores failed: %s", exc)
            return
        if settled:
            log.info("re-decided %d mayorships that aged out", settled)

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set, waking on NOTIFY or when a retry falls due;
        every ``tick_every_s`` fold the footfall changes and keep the plans' deadlines,
        every ``chores_every_s`` run the periodic chores."""
        while not stop.is_set():
            try:
                with psycopg.connect(self.listen_dsn, autocommit=True) as listener:
                    listener.execute(f"LISTEN {PUSH_CHANNEL}")
                    while not stop.is_set():
                        self._chores_if_due()
                        self._every_second_if_due()
                        if self.deliver_due() >= self.settings.batch:
                            continue
                        # wake on NOTIFY, when a retry falls due, for the every-second
                        # jobs, or to look at ``stop``
                        wait = min(self.next_due_in_s(), self.settings.tick_every_s, 5.0)
                        for _ in listener.notifies(timeout=wait, stop_after=1):
                            pass
            except (psycopg.Error, SQLAlchemyError, OSError) as exc:
                log.warning("push worker lost the database: %s; retrying", exc)
                stop.wait(2.0)
