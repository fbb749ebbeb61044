"""Fuzz the live API with Schemathesis: every operation of the OpenAPI document,
authenticated, positive and negative data, every check, stateful sequences too.

Starts gunicorn (as ``make run`` does) on its own database, registers a user, and runs
``st run`` against ``/api/v1/openapi.json`` with the checks below; prints how many
examples ran and what failed, and exits non-zero on any failure. ``make test`` runs it
quickly (tests/integration/test_fuzz.py), ``make fuzz`` with 100 examples per operation.
Its database is named after ``TEST_DATABASE_URL``'s with ``_fuzz`` appended
(``irl_test_fuzz`` by default; ``FUZZ_DATABASE_URL`` overrides it) and is rebuilt each run.

    .venv/bin/python -m tests.fuzz --examples 100
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.databases import test_database_sibling
from tests.fake_networks import FakeNetworks
from tests.live import process_env, running_api

ROOT = Path(__file__).resolve().parents[1]

CONFIG = ROOT / "tests" / "fuzz.toml"  # which operations may answer 422 to valid data, and why
HOOKS = "tests.fuzz_hooks"  # cursor formats, fresh Idempotency-Keys, times that keep the rules
# An SSE stream never ends by itself; tests/integration/test_stream.py covers it.
EXCLUDED_PATHS = ("/api/v1/me/notifications/stream",)


def prepare(database_url: str) -> None:
    """A fresh, migrated database for the run."""
    python = Path(sys.executable)
    subprocess.run([str(python), "scripts/prepare_db.py", database_url], cwd=ROOT, check=True)
    env = {**os.environ, "DATABASE_URL": database_url}
    import psycopg

    from service.database import libpq_dsn

    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    alembic = python.with_name("alembic")
    subprocess.run(
        [str(alembic), "upgrade", "head"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def register(base: str) -> str:
    """A fuzzing user's access token."""
    handle = f"fuzz_{secrets.token_hex(4)}"
    response = httpx.post(
        f"{base}/api/v1/auth/register",
        json={
            "handle": handle,
            "email": f"{handle}@example.com",
            "password": secrets.token_urlsafe(12),
            "display_name": "Fuzz",
        },
    )
    response.raise_for_status()
    return response.json()["access_token"]


def run(examples: int, workers: int, seed: int, report_dir: Path, database_url: str) -> dict:
    """Run Schemathesis; return the summary."""
    prepare(database_url)
    networks = FakeNetworks()  # identity verification reads these, never the internet
    env = process_env(
        database_url,
        secrets.token_urlsafe(48),
        JWT_ACCESS_MINUTES="240",
        RATE_LIMIT_WRITES="1000000 per minute",
        RATE_LIMIT_READS="1000000 per minute",
        RATE_LIMIT_NEARBY="1000000 per minute",
        RATE_LIMIT_AUTH="1000000 per minute",
        RATE_LIMIT_IDENTITY_CHECKS="1000000 per minute",
        CHECKINS_PER_HOUR="1000000",
        **networks.profile_config(),
        **networks.oauth_config(),
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_api(env, Path(scratch) / "gunicorn.log", workers=2) as base,
    ):
        token = register(base)
        command = [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--mode",
            "all",
            "--max-examples",
            str(examples),
            "--workers",
            str(workers),
            "--seed",
            str(seed),
            "--generation-database",
            "none",
            "--request-timeout",
            "20",
            "--report",
            "junit,json",
            "--report-dir",
            str(report_dir),
            "--no-color",
        ]
        for path in EXCLUDED_PATHS:
            command += ["--exclude-path", path]
        hooked = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT)}
        finished = subprocess.run(command, cwd=ROOT, env=hooked, capture_output=True, text=True)
    networks.close()
    output = finished.stdout + finished.stderr
    summary = {"exit_code": finished.returncode, "output": output}
    report = report_dir / "report.json"
    if report.exists():
        summary["report"] = json.loads(report.read_text())
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--report-dir", type=Path, default=ROOT / "test-artifacts" / "fuzz")
    args = parser.parse_args()
    # its own database beside the test database: TEST_DATABASE_URL's name + "_fuzz"
    database_url = os.environ.get("FUZZ_DATABASE_URL") or test_database_sibling("_fuzz")
    summary = run(args.examples, args.workers, args.seed, args.report_dir, database_url)
    print(summary["output"])
    sys.exit(summary["exit_code"])


if __name__ == "__main__":
    main()
