"""Operator commands (``flask --app wsgi COMMAND``)."""

import signal
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select

from service import clock
from service.admin import audit
from service.claims import service as claims
from service.common.schemas import MAX_ID
from service.contacts import pending
from service.database import db, libpq_dsn
from service.errors import DomainError
from service.footfall import backfill
from service.idempotency import KEY_TTL
from service.models import (
    IdempotencyKey,
    NearbyQuota,
    Notification,
    PushDelivery,
    RefreshToken,
    User,
    Venue,
)
from service.notifications.push import PushSettings, PushWorker
from service.rewards import expiry
from service.rewards.policy import PointsPolicy
from service.rewards.recompute import recompute
from service.seed import friend, run
from service.venues import maintenance


class ObjectId(click.ParamType):
    """An object's id (1 .. bigint), with a message that says what was expected."""

    name = "id"

    def __init__(self, what: str):
        self.what = what

    def convert(self, value, param, ctx) -> int:
        """The id as an int, or a usage error naming what an id looks like."""
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID:
            return int(text)
        self.fail(f"{value!r} is not a {self.what} id: give its number, e.g. 42.", param, ctx)


@click.command("seed-demo")
@with_appcontext
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--friend",
    "handle",
    metavar="HANDLE",
    help="Also make the demo users mutual contacts of this existing account.",
)
def seed_demo(quiet: bool, handle: str | None) -> None:
    """Seed the demo city (real NYC venues and history), its users and owner; safe to run
    again."""
    started, cfg = time.perf_counter(), current_app.config
    policy = PointsPolicy.from_config(cfg)
    try:
        if handle is not None:
            friend.find(db_session=db.session, handle=handle)  # fails before any work
        report = run.seed(db_session=db.session, policy=policy, progress=not quiet)
        db.session.commit()
        for line in run.describe(report, time.perf_counter() - started):
            click.echo(line)
        if handle is not None:
            done = friend.befriend(
                db_session=db.session,
                handle=handle,
                policy=policy,
                checkins_per_hour=cfg["CHECKINS_PER_HOUR"],
            )
            db.session.commit()
            click.echo(friend.describe(done))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


@click.command("make-admin")
@with_appcontext
@click.argument("handle")
def make_admin(handle: str) -> None:
    """Give HANDLE the admin role."""
    session = db.session
    user = session.scalars(select(User).where(func.lower(User.handle) == handle.lower())).first()
    if user is None:
        raise click.ClickException(f"no user with handle {handle!r}")
    if user.is_admin:  # nothing changes, so nothing is audited
        click.echo(f"{user.handle} is already an admin")
        return
    user.is_admin = True
    audit.record(
        session, admin_id=None, action="user.make_admin", target_type="user", target_id=user.id
    )
    session.commit()
    click.echo(f"{user.handle} is now an admin")


@click.command("approve-claim")
@with_appcontext
@click.argument("claim_id", type=ObjectId("claim"))
def approve_claim(claim_id: int) -> None:
    """Approve venue claim CLAIM_ID: its claimant owns the venue."""
    try:
        claim = claims.approve(db_session=db.session, claim_id=claim_id, admin_id=None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"claim {claim['id']} approved: {claim['venue_name']} has its owner")


@click.command("reject-claim")
@with_appcontext
@click.argument("claim_id", type=ObjectId("claim"))
@click.option("--reason", default=None, help="Shown to the claimant.")
def reject_claim(claim_id: int, reason: str | None) -> None:
    """Reject venue claim CLAIM_ID."""
    try:
        claims.reject(db_session=db.session, claim_id=claim_id, admin_id=None, reason=reason)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"claim {claim_id} rejected")


@click.command("purge-idempotency-keys")
@with_appcontext
def purge_idempotency_keys() -> None:
    """Delete Idempotency-Key records older than 24 hours."""
    session = db.session
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < clock.now() - KEY_TTL)
    )
    session.commit()
    click.echo(f"deleted {result.rowcount} expired keys")


@click.command("purge-refresh-tokens")
@with_appcontext
def purge_refresh_tokens() -> None:
    """Delete refresh tokens that expired (used, revoked or not)."""
    session = db.session
    result = session.execute(delete(RefreshToken).where(RefreshToken.expires_at < clock.now()))
    session.commit()
    click.echo(f"deleted {result.rowcount} expired refresh tokens")


@click.command("purge-pending-follows")
@with_appcontext
@click.option("--days", type=int, default=None, help="Age limit (default PENDING_FOLLOWS_DAYS).")
def purge_pending_follows(days: int | None) -> None:
    """Delete imported handles that matched nobody and were not re-imported for 180 days."""
    age = timedelta(days=days if days is not None else current_app.config["PENDING_FOLLOWS_DAYS"])
    removed = pending.purge(db.session, older_than=age, now=clock.now())
    db.session.commit()
    click.echo(f"purged {removed} pending follows older than {age.days} days")


@click.command("recompute-rewards")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--one-by-one",
    is_flag=True,
    help="Replay one check-in at a time through the database (the reference; slow), "
    "not the whole history in memory.",
)
@with_appcontext
def recompute_rewards(quiet: bool, one_by_one: bool) -> None:
    """Rebuild points, badges and mayorships from the check-in history (idempotent)."""
    started = time.perf_counter()
    figures = recompute(
        db_session=db.session,
        policy=PointsPolicy.from_config(current_app.config),
        progress=not quiet,
        set_based=not one_by_one,
    )
    db.session.commit()
    click.echo(
        f"replayed {figures['checkins']} eligible check-ins in "
        f"{time.perf_counter() - started:.1f} s; {figures['points']} points in total"
    )


@click.command("expire-mayorships")
@with_appcontext
def expire_mayorships() -> None:
    """Re-decide the mayorships whose mayor's oldest counted day left the 60-day window
    (the push worker also runs this every few minutes); notifies who gained or lost."""
    settled = expiry.run(db.session, clock.now(), current_app.config["POINTS_MAYORSHIP"])
    db.session.commit()
    click.echo(f"re-decided {settled} mayorships that aged out")


@click.command("rebuild-footfall")
@click.option("--venue", "venue_id", type=ObjectId("venue"), help="Only this venue.")
@with_appcontext
def rebuild_footfall(venue_id: int | None) -> None:
    """Recompute the footfall rollup from the check-in history (idempotent)."""
    if venue_id is not None and db.session.get(Venue, venue_id) is None:
        raise click.ClickException(f"no venue with id {venue_id}")
    started = time.perf_counter()
    rows = backfill.rebuild(db_session=db.session, venue_id=venue_id)
    db.session.commit()
    click.echo(f"{rows} visit rows from the history in {time.perf_counter() - started:.1f} s")


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: never the credentials or a token in its path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


@click.command("push-worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@with_appcontext
def push_worker(once: bool) -> None:
    """Deliver notifications to PUSH_GATEWAY_URL until stopped (SIGTERM/SIGINT)."""
    cfg = current_app.config
    if not cfg["PUSH_GATEWAY_URL"]:
        # nothing is queued for push then; the worker still runs the periodic chores
        click.echo("PUSH_GATEWAY_URL is not set: notifications stay in the inbox.")
    # a webhook without its signing key never gets here: create_app refuses it
    worker = PushWorker(
        db.engine, PushSettings.from_config(cfg), listen_dsn=libpq_dsn(cfg["DATABASE_URL"])
    )
    try:
        if once:
            click.echo(f"attempted {worker.deliver_due()} deliveries")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(
            f"push worker delivering to {_origin(cfg['PUSH_GATEWAY_URL'])} "
            f"({cfg['PUSH_GATEWAY_KIND']})"
            if cfg["PUSH_GATEWAY_URL"]
            else "push worker running its periodic jobs"
            " (footfall fold, plan deadlines, aged-out mayorships)"
        )
        worker.run(stop)
    finally:
        worker.close()


@click.command("purge-notifications")
@click.option("--days", default=90, show_default=True, help="Keep this many days.")
@with_appcontext
def purge_notifications(days: int) -> None:
    """Delete notifications (and their deliveries) older than --days, and old quotas."""
    session = db.session
    cutoff = clock.now() - timedelta(days=days)
    finished = session.execute(
        delete(PushDelivery).where(
            PushDelivery.state != "pending", PushDelivery.created_at < cutoff
        )
    )
    removed = session.execute(delete(Notification).where(Notification.created_at < cutoff))
    session.execute(delete(NearbyQuota).where(NearbyQuota.local_day < cutoff.date()))
    session.commit()
    click.echo(f"deleted {removed.rowcount} notifications and {finished.rowcount} deliveries")


@click.command("cluster-venues")
@with_appcontext
def cluster_venues() -> None:
    """Rewrite the venues in place order and rebuild their indexes (nearby searches visit
    ~6x fewer pages at 10 M venues); locks the table while it runs."""
    started = time.perf_counter()
    maintenance.cluster_by_place(db_session=db.session)
    db.session.commit()
    click.echo(f"venues clustered by place in {time.perf_counter() - started:.1f} s")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (
        seed_demo,
        make_admin,
        approve_claim,
        reject_claim,
        purge_idempotency_keys,
        purge_refresh_tokens,
        purge_pending_follows,
        recompute_rewards,
        expire_mayorships,
        rebuild_footfall,
        push_worker,
        purge_notifications,
        cluster_venues,
    ):
        app.cli.add_command(command)
