"""Engines and per-request sessions: the primary, and read replicas for lag-tolerant reads.

Service functions receive the session keyword-only and only add and flush; the request
boundary (a view, or the ``idempotent`` wrapper) commits writes. A request that succeeds
ends its transaction with COMMIT and one that fails with ROLLBACK: psycopg forgets its
prepared statements on every ROLLBACK, so ending read-only requests with COMMIT lets
hot queries stay prepared. Tests swap the session factory for one bound to a connection
whose outer transaction is rolled back.
"""

import random

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service import replicas


class AppDatabase:
    """One app's engines and session factories (kept in ``app.extensions["irl_db"]``)."""

    def __init__(self, engine: Engine, replicas: list[Engine] = ()):
        self.engine = engine
        self.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        # reads that need no transaction (here and on replicas): no BEGIN and COMMIT
        # round trips, and statements stay prepared
        self.reader_factory = sessionmaker(
            bind=engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        self.replicas = list(replicas)
        self.replica_factories = [
            sessionmaker(
                bind=replica.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
            for replica in self.replicas
        ]


def _engine(url: str, cfg, read_only: bool = False) -> Engine:
    options = (
        f"-c statement_timeout={cfg['DB_STATEMENT_TIMEOUT_MS']}"
        f" -c lock_timeout={cfg['DB_LOCK_TIMEOUT_MS']} -c timezone=UTC -c jit=off"
    )
    if read_only:
        options += " -c default_transaction_read_only=on"
    return create_engine(
        url,
        pool_size=cfg["DB_POOL_SIZE"],
        max_overflow=cfg["DB_MAX_OVERFLOW"],
        pool_timeout=cfg["DB_POOL_TIMEOUT_S"],
        pool_recycle=1800,
        # JIT: PostGIS functions are costed so high that the planner JIT-compiles
        # millisecond queries, which costs 5-90 ms each (measured in bench/).
        # Plans: the default plan cache (generic plans for prepared statements); the
        # few statements whose generic plan is bad run in ``common.plans.custom_plans``
        # (forcing custom plans everywhere cost 0.2-0.9 ms of planning per statement).
        connect_args={"connect_timeout": 5, "options": options},
    )


class Database:
    """Hands out one session per app context, from the current app's engine."""

    def init_app(self, app: Flask) -> None:
        """Create the app's engine from its config and register the request hooks."""
        cfg = app.config
        replicas = [_engine(url, cfg, read_only=True) for url in cfg["DATABASE_REPLICA_URLS"]]
        app.extensions["irl_db"] = AppDatabase(_engine(cfg["DATABASE_URL"], cfg), replicas)
        app.after_request(self._end_transaction)
        app.teardown_appcontext(self._remove)

    @staticmethod
    def state(app: Flask | None = None) -> AppDatabase:
        """The engine and session factory of ``app`` (default: the current app)."""
        return (app or current_app).extensions["irl_db"]

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self.state().engine

    @property
    def session(self) -> Session:
        """The session of the current app context, created on first use."""
        if "db_session" not in g:
            g.db_session = self.state().session_factory()
        return g.db_session

    @property
    def reader(self) -> Session:
        """A session for reads that tolerate replication lag (nearby, feed, stats): a
        replica that has replayed the current user's last write, else the primary (in
        autocommit: a read needs no transaction)."""
        if "db_reader" not in g:
            state = self.state()
            session = None
            if state.replica_factories:
                session = random.choice(state.replica_factories)()
                if not replicas.caught_up(session, g.get("user_id")):
                    session.close()
                    session = None
            if session is None:  # no reader factory (tests): the request's own session
                session = state.reader_factory() if state.reader_factory else self.session
            g.db_reader = session
        return g.db_reader

    @staticmethod
    def _end_transaction(response: Response) -> Response:
        """COMMIT what a successful request left open (only reads: views commit their
        writes); ROLLBACK after any error so nothing half-done is kept. Readers run in
        autocommit: nothing to end."""
        session = g.get("db_session")
        if session is not None and session.in_transaction():
            if response.status_code < 400 and not (session.new or session.dirty or session.deleted):
                session.commit()
            else:
                session.rollback()
        return response

    @staticmethod
    def _remove(_exc=None) -> None:
        session = g.pop("db_session", None)
        reader = g.pop("db_reader", None)
        if reader is not None and reader is not session:
            reader.close()  # autocommit: no transaction to end, statements stay prepared
        if session is not None:
            session.close()


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as a plain libpq one, for connections
    made outside the pool (LISTEN)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


db = Database()


def one_connection_per_node(db_session: Session) -> None:
    """Run the rest of this transaction's multi-shard statements over one connection per
    node (Citus's sequential mode).

    Citus refuses to write a reference table (venues) after a statement of the same
    transaction read many shards in parallel, and to read one after parallel DDL on a
    table that refers to it; a transaction that mixes them (approving a claim, rebuilding
    footfall) says so first. On single-node PostgreSQL the setting is an unused
    placeholder: the same statement runs on both engines."""
    db_session.execute(select(func.set_config("citus.multi_shard_modify_mode", "sequential", True)))
