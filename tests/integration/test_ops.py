"""Health, readiness, metrics, OpenAPI and the offline docs."""

from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from migrations import citus
from service import create_app
from service.models import Base
from service.models.distribution import REPLACED_UNIQUES
from service.ratelimit import key_prefix, store_in_use


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_when_current(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert {k: body[k] for k in ("ok", "database", "migrations")} == {
        "ok": True,
        "database": "ok",
        "migrations": "current",
    }


def test_readyz_names_the_rate_limit_store(client, app):
    store = client.get("/readyz").json["rate_limit_store"]
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        assert store == "memory (this process only)"
    else:
        assert store.startswith("redis://") and repr(key_prefix(app.config)) in store


def test_the_store_is_shown_without_its_password():
    shown = store_in_use(
        {
            "RATELIMIT_STORAGE_URI": "redis://:hunter2@cache.internal:6380/2",
            "RATELIMIT_KEY_PREFIX": "",
            "DATABASE_URL": "postgresql+psycopg://postgres@db/irl_prod",
        }
    )
    assert shown == "redis://cache.internal:6380/2 (key prefix 'irl_prod')"


def test_a_push_gateway_without_its_signing_secret_refuses_to_start():
    with pytest.raises(RuntimeError, match="PUSH_SIGNING_SECRET is empty"):
        create_app(
            {
                "PUSH_GATEWAY_URL": "http://127.0.0.1:9/push",
                "PUSH_SIGNING_SECRET": "",
                "JWT_SECRET_KEY": "k" * 48,
            }
        )


def test_only_429_and_503_carry_retry_after(client, actions):
    user = actions.register()
    response = client.get("/api/v1/me", headers=user["headers"])
    assert response.status_code == 200 and response.headers["RateLimit-Limit"]
    assert "Retry-After" not in response.headers
    created = client.post(
        "/api/v1/venues",
        headers=user["headers"],
        json={"name": "Bar", "category": "Bar", "location": {"lat": 1.0, "lon": 2.0}},
    )
    assert created.status_code == 201 and "Retry-After" not in created.headers
    refused = client.get("/api/v1/venues/nearby?lat=100&lon=0", headers=user["headers"])
    assert refused.status_code == 422 and "Retry-After" not in refused.headers


def test_readyz_reports_unreachable_database(monkeypatch):
    from sqlalchemy import create_engine

    from service.ops import readiness

    dead = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    state = readiness.check(dead)
    dead.dispose()
    assert state["ok"] is False and state["database"].startswith("unreachable")


def test_readyz_reports_pending_migrations(live_app, engine):
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    try:
        response = live_app.test_client().get("/readyz")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "expected" in response.json["migrations"]


def test_metrics_are_prometheus_text(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Type"].count("charset") == 1
    assert (
        b'irl_http_requests_total{endpoint="/healthz",method="GET",status="200"}' in response.data
    )


def test_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/me",
        "/api/v1/venues",
        "/api/v1/venues/nearby",
        "/api/v1/venues/{venue_id}",
        "/api/v1/checkins",
        "/api/v1/checkins/{checkin_id}",
        "/api/v1/me/checkins",
    ):
        assert path in spec["paths"], path
    nearby = spec["paths"]["/api/v1/venues/nearby"]["get"]
    assert nearby["security"] == [{"bearerAuth": []}]
    assert "401" in nearby["responses"]
    assert "application/geo+json" in nearby["responses"]["200"]["content"]


def test_docs_work_offline(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "//cdn" not in html and "https://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/api/docs/static/{asset}" in html
        response = client.get(f"/api/docs/static/{asset}")
        assert response.status_code == 200
        response.close()


def test_unknown_path_and_method(client):
    assert client.get("/api/v1/nowhere").json["code"] == 404
    response = client.put("/api/v1/checkins")
    assert response.status_code == 405 and response.json["message"]


def test_models_match_migrations(engine):
    """The migrations, not the models, make the schema; they must agree."""
    from geoalchemy2 import alembic_helpers

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": alembic_helpers.include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    assert [item for item in diff if not _left_out_by_citus(engine, item)] == []


def _left_out_by_citus(engine, item) -> bool:
    """On Citus, the foreign keys and unique indexes the distribution step drops by design
    (migrations/citus.py): the only ways a distributed schema may differ from the models."""
    if not _is_citus(engine):
        return False
    kind, thing = item[0], item[1]
    if kind == "add_index":
        return thing.name in REPLACED_UNIQUES
    if kind == "add_fk":
        placed = citus.placement()
        element = next(iter(thing.elements))
        fk = SimpleNamespace(
            source=thing.parent.name,
            target=element.column.table.name,
            columns=[column.name for column in thing.columns],
            target_columns=[e.column.name for e in thing.elements],
        )
        return not citus.supported(fk, placed)
    return False


def _is_citus(engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")).scalar()
        )


def test_postgis_is_installed(engine):
    with engine.connect() as conn:
        version = conn.execute(text("SELECT postgis_lib_version()")).scalar()
    assert version.startswith("3.")


def test_every_foreign_key_has_an_index(engine):
    """Deleting a user or venue cascades through foreign keys; none may need a full scan."""
    unindexed = text("""
        SELECT c.conrelid::regclass::text, a.attname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND NOT EXISTS (
            SELECT 1 FROM pg_index i
            WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
        ORDER BY 1, 2""")
    with engine.connect() as conn:
        missing = conn.execute(unindexed).all()
    assert missing == []
