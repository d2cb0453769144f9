"""The backup and restore of docs/operations.md, done for real: the demo
organisation in a PostgreSQL database, ``pg_dump --format=custom``, then
``pg_restore`` into a fresh database, and every row is there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from psycopg import sql

from conftest import SUMMARY_LINES, tier_unavailable
from slaportal.tests.test_settings import clean_env

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"

# Tables whose rows are compared whole (a checksum of every column), not
# only counted: agreements, figures, friction reports and their history.
CHECKSUMMED = {
    "agreements_agreement": "id",
    "agreements_objective": "id",
    "agreements_measurement": "id",
    "agreements_frictionreport": "id",
    "agreements_historicalagreement": "history_id",
    "agreements_historicalmeasurement": "history_id",
    "agreements_historicalfrictionreport": "history_id",
    "reports_scorecardline": "id",
    "reports_delivery": "id",
}


class Server:
    """The PostgreSQL server of ``DATABASE_URL`` (or the local one), and the
    pg_dump and pg_restore that match its version."""

    def __init__(self) -> None:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            url = DEFAULT_SERVER
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = parts.username or "postgres"
        self.password = parts.password or ""
        self.major = self._server_major()
        self.pg_dump = self._binary("pg_dump")
        self.pg_restore = self._binary("pg_restore")

    def url(self, database: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=3)

    def _server_major(self) -> int:
        import psycopg

        try:
            with self.connect() as conn:
                return conn.info.server_version // 10000
        except psycopg.OperationalError as exc:
            tier_unavailable(f"PostgreSQL at {self.host}:{self.port} refused: {exc}")
            raise  # not reached: tier_unavailable skips or fails

    def _binary(self, name: str) -> str:
        """The server's own version of the tool when it is installed (Debian
        keeps each under /usr/lib/postgresql/<major>/bin), else the one on
        PATH if it is at least as new as the server: an older pg_dump refuses
        a newer server."""
        matching = Path(f"/usr/lib/postgresql/{self.major}/bin/{name}")
        if matching.is_file():
            return str(matching)
        found = shutil.which(name)
        if found is None:
            tier_unavailable(f"{name} is not installed (Debian: postgresql-client)")
            raise AssertionError  # not reached
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, check=True
        ).stdout  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
        major = int(re.search(r"\) (\d+)", version).group(1))
        if major < self.major:
            tier_unavailable(
                f"{found} is version {major}, older than the server ({self.major})"
            )
        return found

    def tool_env(self) -> dict[str, str]:
        env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def tool_args(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]


@pytest.fixture
def server():
    return Server()


@pytest.fixture
def fresh_database(server):
    """``fresh_database()``: the name of a new, empty database; every one
    made is dropped after the test."""
    made: list[str] = []

    def make() -> str:
        name = f"slaportal_backup_{uuid.uuid4().hex[:10]}"
        with server.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return name

    yield make
    with server.connect() as conn:
        for name in made:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


def manage(server: Server, database: str, tmp_path: Path, *args: str) -> str:
    """Run ``manage.py`` against ``database`` as the demo runs (no Redis:
    tasks in-process, emails as files under ``tmp_path``)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env(
            DATABASE_URL=server.url(database),
            EMAIL_FILE_PATH=str(tmp_path / "mail"),
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def tables(conn) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ).fetchall()
    return [name for (name,) in rows]


def row_counts(conn) -> dict[str, int]:
    """Exact counts (``count(*)``), not the planner's estimates."""
    query = sql.SQL("SELECT count(*) FROM {}")
    return {
        name: conn.execute(query.format(sql.Identifier(name))).fetchone()[0]
        for name in tables(conn)
    }


def checksums(conn) -> dict[str, str]:
    """An md5 over every column of every row of each checksummed table."""
    query = sql.SQL(
        "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.{}), '')) FROM {} t"
    )
    return {
        name: conn.execute(
            query.format(sql.Identifier(pk), sql.Identifier(name))
        ).fetchone()[0]
        for name, pk in CHECKSUMMED.items()
    }


def sequences(conn) -> dict[str, int | None]:
    """Where each id sequence stands: a restore that lost them would hand
    out ids that are taken."""
    rows = conn.execute(
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
    ).fetchall()
    return dict(rows)


def test_a_custom_format_dump_restores_every_row_into_a_fresh_database(
    server, fresh_database, tmp_path, request
):
    source = fresh_database()
    manage(server, source, tmp_path, "migrate", "--verbosity", "0")
    manage(server, source, tmp_path, "seed_demo")

    dump = tmp_path / "slaportal.dump"
    started = time.monotonic()
    subprocess.run(
        [
            server.pg_dump,
            *server.tool_args(),
            "--format=custom",
            "--file",
            str(dump),
            source,
        ],
        env=server.tool_env(),
        check=True,
        timeout=300,
    )
    dump_seconds = time.monotonic() - started

    target = fresh_database()
    started = time.monotonic()
    subprocess.run(
        [
            server.pg_restore,
            *server.tool_args(),
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            target,
            str(dump),
        ],
        env=server.tool_env(),
        check=True,
        timeout=300,
    )
    restore_seconds = time.monotonic() - started

    with server.connect(source) as before, server.connect(target) as after:
        counts = row_counts(before)
        size = before.execute("SELECT pg_database_size(current_database())")
        size_bytes = size.fetchone()[0]
        assert row_counts(after) == counts
        assert checksums(after) == checksums(before)
        assert sequences(after) == sequences(before)

    # The seed made what the comparison is about: agreements, figures,
    # friction reports, scorecards and the history of each.
    for name in [*CHECKSUMMED, "agreements_historicalobjective"]:
        assert counts[name] > 0, f"the demo left {name} empty"
    history = [name for name in counts if "_historical" in name]
    assert len(history) >= 20
    # Django finds its schema complete in the copy: nothing to migrate.
    manage(server, target, tmp_path, "migrate", "--check")

    request.config.stash.setdefault(SUMMARY_LINES, []).append(
        f"backup and restore (PostgreSQL {server.major}): database "
        f"{size_bytes / 2**20:.1f} MiB, dump {dump.stat().st_size / 2**10:.0f} KiB "
        f"in {dump_seconds:.2f} s, restore {restore_seconds:.2f} s; "
        f"{len(counts)} tables ({len(history)} historical), "
        f"{sum(counts.values())} rows, {len(CHECKSUMMED)} checksummed: identical"
    )
