"""LOCATION_SECRET is its own secret, written once by ``make run``: rotating the JWT key
never moves anyone's approximate grid, and an upgrade keeps the grid everyone had."""

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from geo.coords import LatLon
from service import app as service_app
from service import create_app
from service.presence.shaping import shown_position

ROOT = Path(__file__).resolve().parents[2]
MILAN = LatLon(45.4642, 9.19)
USERS = (1, 2, 42, 10_000_019)
KEY_BEFORE, KEY_AFTER = "old-jwt-key-" + "a" * 40, "new-jwt-key-" + "b" * 40


def old_formula(jwt_key: str) -> str:
    """What service/__init__.py computed before LOCATION_SECRET had a file."""
    return hashlib.sha256(b"location-grid:" + jwt_key.encode()).hexdigest()


def app_with(jwt_key: str, **config):
    return create_app(
        {"JWT_SECRET_KEY": jwt_key, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1/x"}
        | config
    )


def shown(app) -> list[LatLon]:
    with app.app_context():
        return [shown_position(user_id, "approximate", MILAN) for user_id in USERS]


@pytest.fixture
def secret_file(tmp_path, monkeypatch):
    path = tmp_path / ".secrets" / "location_secret"
    monkeypatch.setattr(service_app, "LOCATION_SECRET_FILE", path)
    monkeypatch.setattr(service_app, "_warned_derived_location_secret", False)
    return path


def test_rotating_the_jwt_key_leaves_everyones_grid_where_it_was(secret_file, monkeypatch):
    monkeypatch.delenv("LOCATION_SECRET", raising=False)
    secret_file.parent.mkdir()
    secret_file.write_text("generated-once-" + "z" * 40 + "\n")
    before, after = app_with(KEY_BEFORE), app_with(KEY_AFTER)
    assert before.config["LOCATION_SECRET"] == after.config["LOCATION_SECRET"]
    assert before.config["LOCATION_SECRET"] == "generated-once-" + "z" * 40
    assert shown(before) == shown(after)
    # and the snapped point is not the venue (the grid is really in use)
    assert all(point != MILAN for point in shown(before))


def test_without_the_file_the_old_derived_value_is_kept_with_one_warning(
    secret_file, monkeypatch, caplog
):
    """Upgrading a deployment that has no file yet moves nobody's grid: the value is the
    one derived from the JWT key, as before (and the operator is told, once)."""
    monkeypatch.delenv("LOCATION_SECRET", raising=False)
    with caplog.at_level(logging.WARNING, logger="service"):
        first, second = app_with(KEY_BEFORE), app_with(KEY_BEFORE)
    assert first.config["LOCATION_SECRET"] == old_formula(KEY_BEFORE)
    assert second.config["LOCATION_SECRET"] == old_formula(KEY_BEFORE)
    warnings = [r for r in caplog.records if "LOCATION_SECRET" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    # this is exactly the coupling the file removes: without it, rotation moves the grid
    assert shown(first) != shown(app_with(KEY_AFTER))


def test_a_configured_location_secret_wins(secret_file, monkeypatch):
    monkeypatch.delenv("LOCATION_SECRET", raising=False)
    secret_file.parent.mkdir()
    secret_file.write_text("from-the-file")
    app = app_with(KEY_BEFORE, LOCATION_SECRET="from-the-environment")
    assert app.config["LOCATION_SECRET"] == "from-the-environment"


def make(directory: Path, target: str, **env) -> None:
    subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "-C", str(directory), target],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(directory), **env},
    )


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
def test_make_writes_a_random_key_once_for_a_new_deployment(tmp_path):
    make(tmp_path, ".secrets/jwt_secret")  # what `make run` makes first
    location = (tmp_path / ".secrets" / "location_secret").read_text().strip()
    jwt_key = (tmp_path / ".secrets" / "jwt_secret").read_text().strip()
    assert len(location) >= 64 and location != old_formula(jwt_key)
    assert oct((tmp_path / ".secrets" / "location_secret").stat().st_mode & 0o777) == "0o600"
    # rotating the JWT key and running make again leaves it alone
    (tmp_path / ".secrets" / "jwt_secret").write_text("rotated\n")
    make(tmp_path, ".secrets/location_secret")
    assert (tmp_path / ".secrets" / "location_secret").read_text().strip() == location


@needs_make
def test_make_keeps_the_grid_of_an_existing_deployment(tmp_path):
    """An existing deployment has a JWT key and no location file: the file it gets holds
    the value its grid was built with."""
    (tmp_path / ".secrets").mkdir()
    (tmp_path / ".secrets" / "jwt_secret").write_text(KEY_BEFORE + "\n")
    make(tmp_path, ".secrets/location_secret")
    written = (tmp_path / ".secrets" / "location_secret").read_text().strip()
    assert written == old_formula(KEY_BEFORE)
    # one configured through JWT_SECRET_KEY instead of the file: the same
    other = tmp_path / "other"
    other.mkdir()
    make(other, ".secrets/location_secret", JWT_SECRET_KEY=KEY_AFTER)
    assert (other / ".secrets" / "location_secret").read_text().strip() == old_formula(KEY_AFTER)
