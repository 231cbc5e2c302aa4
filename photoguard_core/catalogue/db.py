"""Opening the catalogue's SQLite file safely.

WAL mode lets readers (a report, a backup) run while an index job writes;
``synchronous=FULL`` and one transaction per logical change mean a crash leaves
either the old state or the new one, never half of a change. ``BEGIN IMMEDIATE``
takes the write lock up front so two writers queue instead of failing half-way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from photoguard_core.catalogue.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000


class CatalogueError(Exception):
    """The catalogue cannot be opened or is newer than this photoguard."""


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the catalogue at ``path``."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    migrate(conn)
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this file has not seen yet; return the new version."""
    version = schema_version(conn)
    if version > len(MIGRATIONS):
        raise CatalogueError(
            f"catalogue schema version {version} is newer than this photoguard "
            f"understands ({len(MIGRATIONS)}): upgrade photoguard"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(conn):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
    return schema_version(conn)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic change: committed as a whole or rolled back as a whole.

    Nested use joins the outer transaction (SQLite has no nested BEGIN).
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                out.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        out.append(buffer.strip())
    return out
