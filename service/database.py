"""Engine and per-request session.

Service functions receive the session keyword-only and only add and flush; the request
boundary (a view, or the ``idempotent`` wrapper) commits. Tests swap the session factory
for one bound to a connection whose outer transaction is rolled back.
"""

from flask import Flask, g
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """Holds the engine and hands out one session per app context."""

    def __init__(self):
        self.engine: Engine | None = None
        self.session_factory: sessionmaker | None = None

    def init_app(self, app: Flask) -> None:
        """Create the engine from the app's config and register teardown."""
        cfg = app.config
        self.engine = create_engine(
            cfg["DATABASE_URL"],
            pool_size=cfg["DB_POOL_SIZE"],
            max_overflow=cfg["DB_MAX_OVERFLOW"],
            pool_timeout=cfg["DB_POOL_TIMEOUT_S"],
            pool_pre_ping=True,
            connect_args={
                "connect_timeout": 5,
                "options": f"-c statement_timeout={cfg['DB_STATEMENT_TIMEOUT_MS']}"
                f" -c lock_timeout={cfg['DB_LOCK_TIMEOUT_MS']} -c timezone=UTC",
            },
        )
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        app.extensions["irl_db"] = self
        app.teardown_appcontext(self._remove)

    @property
    def session(self) -> Session:
        """The session of the current app context, created on first use."""
        if "db_session" not in g:
            g.db_session = self.session_factory()
        return g.db_session

    @staticmethod
    def _remove(_exc=None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
