"""What every phase of one run works with, and how the API is configured for them."""

import argparse
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"
TOKEN_MINUTES = 24 * 60
UNLIMITED = "100000000 per minute"
API_ENV = {  # every rate limit out of the way, counted in process as without Redis
    "RATE_LIMIT_WRITES": UNLIMITED,
    "RATE_LIMIT_READS": UNLIMITED,
    "RATE_LIMIT_NEARBY": UNLIMITED,
    "RATE_LIMIT_AUTH": UNLIMITED,
    "CHECKINS_PER_HOUR": "100000000",
    "JWT_ACCESS_MINUTES": str(TOKEN_MINUTES),
    "REDIS_URL": None,
    "RATELIMIT_STORAGE_URI": None,
    "DATABASE_REPLICA_URLS": None,
}


@dataclass
class Run:
    """One run on the seeded world: options, databases, people, positions, files."""

    args: argparse.Namespace
    url: str
    conninfo: str
    facts: dict  # the world's seeded facts: busy venue, its owner, history_max_id ...
    app: object  # the service's app in this process, built as the API's gunicorn
    secret: str  # the API's JWT secret
    options: str  # the service connections' PGOPTIONS (jit, timezone, timeouts)
    tmp: Path  # this run's items and scripts
    points: list[tuple[float, float]]  # query positions near venue clusters
    viewers: list[int]  # a random world user per position
    tokens: dict[int, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # wrk items, pgbench scripts

    @property
    def busy(self) -> int:
        """The busy venue's id."""
        return self.facts["busy_venue_id"]
