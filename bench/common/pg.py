"""PostgreSQL helpers for benchmark databases: create, check, drop, and connect as a given role."""

from __future__ import annotations

import psycopg
from psycopg import sql

HOST = "127.0.0.1"
PORT = 5432
OWNER_ROLE = "helpdesk_owner"
APP_ROLE = "helpdesk_app"
# The superuser is used only by maintenance steps that must bypass row-level security (bulk loading with COPY);
# the server under test always connects as the application role.
SUPERUSER = "postgres"


def url(*, role: str, dbname: str) -> str:
    return f"postgres://{role}@{HOST}:{PORT}/{dbname}"


def connect(*, role: str, dbname: str, autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(host=HOST, port=PORT, user=role, dbname=dbname, autocommit=autocommit)


def database_exists(dbname: str) -> bool:
    with connect(role=OWNER_ROLE, dbname="postgres") as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is not None


def database_create(dbname: str) -> None:
    """Create the database as the owner role, as a deployment would."""
    with connect(role=OWNER_ROLE, dbname="postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)))


def database_drop(dbname: str) -> None:
    with connect(role=OWNER_ROLE, dbname="postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def server_version() -> str:
    with connect(role=OWNER_ROLE, dbname="postgres") as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def server_settings(names: list[str]) -> dict[str, str]:
    with connect(role=OWNER_ROLE, dbname="postgres") as conn:
        return {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0] for name in names}
