"""Run a request's unit of work again when PostgreSQL aborts it for a serialization
failure or a deadlock: the transaction is rolled back whole, so a second attempt is
safe, and the client never sees the collision (after three attempts it gets a 409)."""

import logging
import random
import time
from functools import wraps

from flask import Flask, g
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError

from service.database import db

ATTEMPTS = 3
RETRY_ON = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
log = logging.getLogger(__name__)


def on_collision(view):
    """Wrap a view so a deadlock or serialization failure reruns it (up to 3 times)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return view(*args, **kwargs)
            except DBAPIError as exc:
                if attempt == ATTEMPTS or not isinstance(exc.orig, RETRY_ON):
                    raise
                log.info("retrying after %s (attempt %d)", type(exc.orig).__name__, attempt)
                db.session.rollback()
                g.pop("user", None)
                time.sleep(random.uniform(0, 0.01 * attempt))  # let the other one finish
        raise AssertionError("unreachable")

    return wrapper


def init_app(app: Flask, blueprints) -> None:
    """Wrap every view of the given blueprints."""
    names = {blueprint.name for blueprint in blueprints}
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.split(".", 1)[0] in names:
            app.view_functions[endpoint] = on_collision(view)
