"""Schemathesis against the live API (quick profile; ``make fuzz`` runs 100 examples per
operation): every operation, authenticated, positive and negative data; no server
error, every answer as documented, invalid input rejected."""

import re

from scripts.fuzz_api import run
from tests.live import ROOT

QUICK_EXAMPLES = 4


def test_every_operation_survives_schemathesis(tmp_path):
    summary = run(
        examples=QUICK_EXAMPLES,
        workers=2,
        seed=20261202,
        report_dir=ROOT / "test-artifacts" / "fuzz-quick",
        database_url="postgresql+psycopg://postgres@127.0.0.1:5432/irl_fuzz",
    )
    output = summary["output"]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    print(counts.group(0) if counts else output[-3000:])
    assert summary["exit_code"] == 0, output[-8000:]
    assert re.search(r"Selected: (\d+)/(\d+)", output).group(1) != "0"
