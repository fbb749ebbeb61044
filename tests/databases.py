"""Databases the tests rebuild beside the test database, named after it."""

import os

from sqlalchemy.engine import make_url

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_test"


def sibling_database(url: str, suffix: str) -> str:
    """The URL of a database beside ``url``'s, named after it: ``irl_test`` → ``irl_test_fuzz``
    (the fuzz and replay tests rebuild theirs, so they follow ``TEST_DATABASE_URL``)."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}{suffix}").render_as_string(hide_password=False)


def test_database_sibling(suffix: str) -> str:
    """``sibling_database`` of ``TEST_DATABASE_URL`` (default ``…/irl_test``)."""
    return sibling_database(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL), suffix)
