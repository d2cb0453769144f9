"""Create the PostgreSQL database a URL names, if it does not exist yet:
``python scripts/createdb.py postgres://user@host:5432/name``."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def main(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql"} or not name:
        raise SystemExit(f"not a PostgreSQL database URL: {url}")
    server = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists:
            print(f"{name} exists")
            return
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"{name} created")


if __name__ == "__main__":
    main(sys.argv[1])
