"""Schemathesis against the live API (quick profile; ``make fuzz`` runs 100 examples per
operation): every operation, authenticated, positive and negative data, stateful
sequences along the document's links, every check: no server error, every answer as
documented, invalid input rejected and valid input accepted (tests/fuzz.toml names the
few operations whose state-bound rules may refuse valid-looking data, and why)."""

import re

import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.databases import sibling_database
from tests.fuzz import run
from tests.live import ROOT

pytestmark = [pytest.mark.fuzz, pytest.mark.gunicorn]

QUICK_EXAMPLES = 4
# rebuilt each run: named after the test database, never a fixed name of its own
FUZZ_DATABASE_URL = sibling_database(TEST_DATABASE_URL, "_fuzz")


def test_the_fuzz_database_is_named_after_the_test_database():
    assert FUZZ_DATABASE_URL.rsplit("/", 1)[1] == TEST_DATABASE_URL.rsplit("/", 1)[1] + "_fuzz"
    assert sibling_database("postgresql+psycopg://u:p%40ss@db:5433/x?sslmode=require", "_fuzz") == (
        "postgresql+psycopg://u:p%40ss@db:5433/x_fuzz?sslmode=require"
    )


def test_every_operation_survives_schemathesis(tmp_path):
    summary = run(
        examples=QUICK_EXAMPLES,
        workers=2,
        seed=20261202,
        report_dir=ROOT / "test-artifacts" / "fuzz-quick",
        database_url=FUZZ_DATABASE_URL,
    )
    output = summary["output"]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    print(counts.group(0) if counts else output[-3000:])
    assert summary["exit_code"] == 0, output[-8000:]
    assert re.search(r"Selected: (\d+)/(\d+)", output).group(1) != "0"
