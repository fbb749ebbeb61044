"""A throwaway PostgreSQL cluster of the test's own (initdb + pg_ctl as the postgres
user), for tests that stop, crash and restart the database."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        check=check,
        capture_output=True,
        text=True,
    )


class PrivateCluster:
    """A cluster in a fresh directory on ``port``; ``url`` reaches its ``irl`` database."""

    def __init__(self, port: int, settings: dict | None = None, root: Path | None = None):
        self.port = port
        self.settings = settings or {}
        self.root = Path(root).resolve() if root else Path(tempfile.mkdtemp(prefix="irl-cluster-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        shutil.chown(self.root, "postgres", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/irl"

    def init(self) -> None:
        """initdb, start, create the database (PostGIS comes from the system install)."""
        _as_postgres(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE irl")

    def follow(self, primary: "PrivateCluster") -> None:
        """Become a streaming replica of ``primary`` (pg_basebackup -R) and start."""
        _as_postgres(
            str(BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",  # not a spread checkpoint: minutes on an idle cluster
        )
        self.start()

    def start(self) -> float:
        """Start and wait until it accepts connections; returns when it did (monotonic)."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        _as_postgres(
            str(BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
        )
        return time.monotonic()

    def stop(self, mode: str = "fast") -> None:
        """Stop it (``immediate`` is a crash: no checkpoint, recovery from WAL next start)."""
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        """Stop if running and delete everything."""
        _as_postgres(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False
        )
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> bool:
    """True where a private cluster can be made (root, with runuser and PostgreSQL 15)."""
    return os.geteuid() == 0 and shutil.which("runuser") and (BIN / "initdb").exists()
