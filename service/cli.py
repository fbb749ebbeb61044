"""Operator commands (``flask --app wsgi COMMAND``)."""

import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select

from service import clock
from service.database import db
from service.idempotency import KEY_TTL
from service.models import IdempotencyKey, User
from service.rewards.recompute import recompute
from service.seed import demo


@click.command("seed-demo")
@with_appcontext
@click.option("--quiet", is_flag=True, help="No progress bar.")
def seed_demo(quiet: bool) -> None:
    """Seed the demo city (real NYC venues) and demo users; safe to run again."""
    started = time.perf_counter()
    session = db.session
    source, inserted = demo.seed_venues(db_session=session, progress=not quiet)
    handles = demo.seed_users(db_session=session)
    session.commit()
    total = session.scalar(select(func.count(User.id)))
    click.echo(
        f"venues: {inserted} new from {source} "
        f"({time.perf_counter() - started:.1f} s); users: {total}"
    )
    click.echo(
        f"demo logins (password '{demo.DEMO_PASSWORD}'): {', '.join(handles)}"
        " (all contacts of each other)"
    )


@click.command("make-admin")
@with_appcontext
@click.argument("handle")
def make_admin(handle: str) -> None:
    """Give HANDLE the admin role."""
    session = db.session
    user = session.scalars(select(User).where(func.lower(User.handle) == handle.lower())).first()
    if user is None:
        raise click.ClickException(f"no user with handle {handle!r}")
    user.is_admin = True
    session.commit()
    click.echo(f"{user.handle} is now an admin")


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


@click.command("recompute-rewards")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
def recompute_rewards(quiet: bool) -> None:
    """Rebuild points, badges and mayorships from the check-in history (idempotent)."""
    started = time.perf_counter()
    figures = recompute(db_session=db.session, cfg=current_app.config, progress=not quiet)
    db.session.commit()
    click.echo(
        f"replayed {figures['checkins']} eligible check-ins in "
        f"{time.perf_counter() - started:.1f} s; {figures['points']} points in total"
    )


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (seed_demo, make_admin, purge_idempotency_keys, recompute_rewards):
        app.cli.add_command(command)
