"""Backups of a live catalogue are consistent and encrypted; a restore replaces nothing
unless the backup decrypts, is intact and its audit chain verifies."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from photoguard_core.audit import ChainReport, next_entry, verify_chain
from photoguard_core.audit.chain import AuditEntry
from photoguard_core.backup import (
    BackupError,
    backup_sqlite,
    read_backup_info,
    restore_sqlite,
)
from photoguard_core.crypto import MasterKey

# A throwaway schema: the real catalogue schema lives in photoguard_core.catalogue.
SCHEMA = """
CREATE TABLE photo (id INTEGER PRIMARY KEY, name TEXT NOT NULL, blob BLOB);
CREATE TABLE face (id INTEGER PRIMARY KEY, photo_id INTEGER NOT NULL REFERENCES photo(id));
CREATE INDEX face_photo ON face(photo_id);
CREATE TABLE audit (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);
"""


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    return con


def make_db(path: Path, photos: int = 50) -> Path:
    con = _connect(path)
    con.executescript(SCHEMA)
    prev = None
    for i in range(photos):
        _add_photo(con, i)
        prev = next_entry(prev, actor="t", action="render", object_type="photo", object_id=i)
        con.execute("INSERT INTO audit VALUES (?, ?)", (prev.seq, _dump(prev)))
    con.commit()
    con.close()
    return path


def _add_photo(con: sqlite3.Connection, i: int) -> None:
    # Two rows per transaction: a consistent snapshot never has one without the other.
    cur = con.execute("INSERT INTO photo (name, blob) VALUES (?, ?)", (f"p{i}", os.urandom(300)))
    con.execute("INSERT INTO face (photo_id) VALUES (?)", (cur.lastrowid,))


def _dump(entry: AuditEntry) -> str:
    from photoguard_core.audit import canonical_json

    return canonical_json(entry.to_dict())


def verify_audit(db: Path) -> ChainReport:
    """What the catalogue passes to restore: read the audit table and verify it."""
    import json

    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT entry FROM audit ORDER BY seq").fetchall()
    finally:
        con.close()
    return verify_chain(AuditEntry.from_dict(json.loads(r[0])) for r in rows)


def rows(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(db)
    try:
        return (
            con.execute("SELECT count(*) FROM photo").fetchone()[0],
            con.execute("SELECT count(*) FROM face").fetchone()[0],
        )
    finally:
        con.close()


def fingerprint(db: Path) -> str:
    """Content of the database as SQLite sees it (main file and WAL together)."""
    con = sqlite3.connect(db)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


def test_backup_of_a_live_database_while_another_thread_writes(tmp_path, master):
    db = make_db(tmp_path / "catalogue.db")
    stop = threading.Event()
    written = [0]
    errors: list[BaseException] = []

    def writer() -> None:
        con = _connect(db)
        try:
            i = 1000
            while not stop.is_set():
                _add_photo(con, i)
                con.commit()
                i += 1
                written[0] += 1
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            con.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 50:
            threading.Event().wait(0.005)
        infos = [backup_sqlite(db, tmp_path / f"b{n}.pgbak", master) for n in range(3)]
        assert written[0] > 50, "the writer kept going during the backups"
    finally:
        stop.set()
        thread.join()
    assert not errors

    for n, info in enumerate(infos):
        out = tmp_path / f"b{n}.pgbak"
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert read_backup_info(out) == info and info.key_id == master.key_id
        plain = out.read_bytes()
        assert b"SQLite format 3" not in plain and b"CREATE TABLE" not in plain
        restored = tmp_path / f"restored{n}.db"
        result = restore_sqlite(out, restored, master, verify=verify_audit)
        assert result.previous is None and result.chain.ok and result.chain.checked == 50
        con = sqlite3.connect(restored)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        con.close()
        photos, faces = rows(restored)
        assert photos == faces >= 50, "snapshot is consistent: every photo has its face"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp files left"


def test_backup_of_missing_database_creates_nothing(tmp_path, master):
    with pytest.raises(BackupError, match="no such database"):
        backup_sqlite(tmp_path / "absent.db", tmp_path / "out.pgbak", master)
    assert not (tmp_path / "absent.db").exists() and not (tmp_path / "out.pgbak").exists()


def test_successful_restore_replaces_and_keeps_the_old_copy(tmp_path, master):
    db = make_db(tmp_path / "catalogue.db", photos=10)
    backup = tmp_path / "catalogue.pgbak"
    backup_sqlite(db, backup, master)
    backed_up = fingerprint(db)

    con = _connect(db)
    for i in range(5):
        _add_photo(con, 100 + i)
    con.commit()
    con.close()
    after_changes = fingerprint(db)

    result = restore_sqlite(backup, db, master, verify=verify_audit)
    assert fingerprint(db) == backed_up
    assert result.previous is not None and result.previous.name.startswith(
        "catalogue.db.before-restore-"
    )
    assert fingerprint(result.previous) == after_changes
    assert rows(result.previous) == (15, 15)


def test_restore_keeps_a_crashed_databases_wal_with_its_old_copy(tmp_path, master):
    """Committed rows still only in the WAL (as after a crash) belong to the copy kept
    aside; they must neither be lost nor be replayed into the restored database."""
    db = make_db(tmp_path / "catalogue.db", photos=10)
    backup = tmp_path / "catalogue.pgbak"
    backup_sqlite(db, backup, master)
    backed_up = fingerprint(db)

    crashed = tmp_path / "crashed"
    crashed.mkdir()
    con = _connect(db)
    con.execute("PRAGMA wal_autocheckpoint=0")
    for i in range(7):
        _add_photo(con, 200 + i)
    con.commit()
    for suffix in ("", "-wal"):  # the files as a crash would leave them
        shutil.copyfile(f"{db}{suffix}", crashed / f"catalogue.db{suffix}")
    con.close()
    live = crashed / "catalogue.db"
    assert (crashed / "catalogue.db-wal").stat().st_size > 0

    result = restore_sqlite(backup, live, master, verify=verify_audit)
    assert fingerprint(live) == backed_up
    assert rows(result.previous) == (17, 17)


def test_restore_with_failing_verify_leaves_the_database_untouched(tmp_path, master):
    db = make_db(tmp_path / "catalogue.db", photos=10)
    backup = tmp_path / "catalogue.pgbak"
    backup_sqlite(db, backup, master)
    con = _connect(db)
    _add_photo(con, 99)
    con.commit()
    con.close()
    before = db.read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())

    seen: list[Path] = []

    def failing_verify(path: Path) -> ChainReport:
        seen.append(path)
        assert path != db and path.parent == db.parent
        return ChainReport(ok=False, checked=10, problems=["seq 4: hash does not match"])

    with pytest.raises(BackupError, match="seq 4: hash does not match") as err:
        restore_sqlite(backup, db, master, verify=failing_verify)
    assert "nothing was replaced" in str(err.value)
    assert seen, "verify was called on the restored copy"
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing

    def crashing_verify(path: Path) -> ChainReport:
        raise RuntimeError("audit table missing")

    with pytest.raises(BackupError, match="audit table missing"):
        restore_sqlite(backup, db, master, verify=crashing_verify)
    assert db.read_bytes() == before


def test_restore_detects_a_tampered_audit_chain_in_the_backup(tmp_path, master):
    db = make_db(tmp_path / "catalogue.db", photos=10)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM audit WHERE seq = 4")
    con.commit()
    con.close()
    backup = tmp_path / "catalogue.pgbak"
    backup_sqlite(db, backup, master)
    target = make_db(tmp_path / "target.db", photos=3)
    before = fingerprint(target)
    with pytest.raises(BackupError, match="seq 5: seq 4 missing"):
        restore_sqlite(backup, target, master, verify=verify_audit)
    assert fingerprint(target) == before


def test_restore_with_the_wrong_key_is_refused_and_untouched(tmp_path, master):
    db = make_db(tmp_path / "catalogue.db", photos=5)
    backup = tmp_path / "catalogue.pgbak"
    backup_sqlite(db, backup, master)
    before = db.read_bytes()
    other = MasterKey.generate()
    with pytest.raises(BackupError, match="wrong master key") as err:
        restore_sqlite(backup, db, other, verify=verify_audit)
    assert master.key_id in str(err.value) and other.key_id in str(err.value)
    assert db.read_bytes() == before
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_restore_of_a_corrupted_backup_is_refused_and_untouched(tmp_path, master):
    db = make_db(tmp_path / "catalogue.db", photos=5)
    backup = tmp_path / "catalogue.pgbak"
    backup_sqlite(db, backup, master)
    before = db.read_bytes()
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01
    backup.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="cannot be decrypted"):
        restore_sqlite(backup, db, master, verify=verify_audit)
    backup.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(BackupError, match="cannot be decrypted"):
        restore_sqlite(backup, db, master, verify=verify_audit)
    # Editing the readable header (e.g. to claim another size) breaks authentication too.
    backup_sqlite(db, backup, master)
    original = backup.read_bytes()
    backup.write_bytes(original.replace(b'"format":"sqlite3"', b'"format":"sqlite4"'))
    with pytest.raises(BackupError, match="cannot be decrypted"):
        restore_sqlite(backup, db, master, verify=verify_audit)
    assert db.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_restore_of_a_non_backup_file(tmp_path, master):
    junk = tmp_path / "junk.pgbak"
    junk.write_bytes(b"not a backup at all")
    with pytest.raises(BackupError, match="not a photoguard backup"):
        restore_sqlite(junk, tmp_path / "db.sqlite", master, verify=verify_audit)
    assert not (tmp_path / "db.sqlite").exists()


def test_backup_includes_commits_still_only_in_the_wal(tmp_path, master):
    """A plain copy of the database file would miss these rows; the online backup API
    reads them through the WAL like any other connection."""
    db = make_db(tmp_path / "catalogue.db", photos=5)
    con = _connect(db)
    con.execute("PRAGMA wal_autocheckpoint=0")
    for i in range(40):
        _add_photo(con, 300 + i)
    con.commit()
    try:
        assert Path(f"{db}-wal").stat().st_size > 0
        backup_sqlite(db, tmp_path / "b.pgbak", master)
    finally:
        con.close()
    restored = tmp_path / "restored.db"
    restore_sqlite(tmp_path / "b.pgbak", restored, master, verify=verify_audit)
    assert rows(restored) == (45, 45)


def test_restore_refuses_while_the_catalogue_is_in_a_transaction(tmp_path, master, monkeypatch):
    from photoguard_core import backup as backup_module

    monkeypatch.setattr(backup_module, "BUSY_TIMEOUT_SECONDS", 0.1)
    db = make_db(tmp_path / "catalogue.db", photos=5)
    backup_sqlite(db, tmp_path / "b.pgbak", master)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM photo").fetchone()
    writer = _connect(db)
    _add_photo(writer, 50)
    writer.commit()
    writer.close()
    try:
        before = fingerprint(db)
        with pytest.raises(BackupError, match="in use by another process"):
            restore_sqlite(tmp_path / "b.pgbak", db, master, verify=verify_audit)
        assert fingerprint(db) == before
        assert not list(tmp_path.glob("*.before-restore-*"))
    finally:
        other.execute("COMMIT")
        other.close()


def _corrupt(db: Path) -> None:
    """Overwrite part of a page in the middle of the file, as a failing disk would."""
    data = bytearray(db.read_bytes())
    middle = (len(data) // 4096 // 2) * 4096
    data[middle + 200 : middle + 400] = b"\x5a" * 200
    db.write_bytes(bytes(data))


def test_corrupt_database_is_neither_backed_up_nor_restored(tmp_path, master, monkeypatch):
    from photoguard_core import backup as backup_module

    db = make_db(tmp_path / "catalogue.db", photos=400)
    _corrupt(db)
    with pytest.raises(BackupError, match="integrity_check"):
        backup_sqlite(db, tmp_path / "b.pgbak", master)
    assert not (tmp_path / "b.pgbak").exists()

    # Smuggle the corrupt file into a backup anyway: restore must still refuse it.
    with monkeypatch.context() as patch:
        patch.setattr(backup_module, "_integrity_problem", lambda path: None)
        backup_sqlite(db, tmp_path / "b.pgbak", master)
    target = make_db(tmp_path / "target.db", photos=3)
    before = fingerprint(target)
    with pytest.raises(BackupError, match="integrity_check"):
        restore_sqlite(tmp_path / "b.pgbak", target, master, verify=lambda p: ChainReport(True, 0))
    assert fingerprint(target) == before
