"""Encrypted backups of a live SQLite catalogue, and a restore that checks before it replaces.

Backup: SQLite's online backup API copies the database in one step, inside one read
transaction, so the copy is a consistent snapshot even while other connections keep
writing (in WAL mode readers never block writers). The snapshot is checked with
``PRAGMA integrity_check`` (a backup of a corrupt database should fail now, not on the
day it is needed), then encrypted with the master key in authenticated frames.

File format: ``PGBACKUP | version(1) | header length(4) | header JSON | encrypted stream``.
The JSON header (created_at, key_id, sha256 and size of the plaintext) is readable
without the key, so ``photoguard`` can say which key a backup needs, and it is bound
into every frame's associated data, so it cannot be altered either.

Restore: decrypt into a temporary file beside the catalogue, run ``integrity_check``,
then the caller's ``verify`` (the catalogue verifies the audit chain of the backup).
Only if all pass is the current database kept as ``<db>.before-restore-<timestamp>``
and the restored file renamed into place. Any failure replaces nothing.

Restore is an offline operation: stop the web app and workers first. A TRUNCATE
checkpoint refuses to go on while another connection is mid-transaction, but an idle
connection in another process cannot be detected and would keep using the old file.

The master key is not in the backup and must be kept separately: without it a backup
cannot be read. Persons crypto-shredded after a backup was taken come back with it;
re-apply their shreds after restoring (the audit log lists them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, cast

from photoguard_core.audit.chain import ChainReport
from photoguard_core.crypto.envelope import atomic_output, decrypt_stream, encrypt_stream
from photoguard_core.crypto.keys import DecryptionError, MasterKey, fsync_directory
from photoguard_core.filehash import sha256_file

BACKUP_MAGIC = b"PGBACKUP"
BACKUP_VERSION = 1
_PREFIX = struct.Struct(">8sBI")  # magic, version, header length
_MAX_HEADER_BYTES = 64 * 1024
_COMPANIONS = ("-wal", "-shm", "-journal")
# How long restore waits for other connections' transactions before calling it "in use".
BUSY_TIMEOUT_SECONDS = 5.0


class BackupError(Exception):
    """A backup could not be made or restored; the message says why, and on restore
    that nothing was replaced."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds (``size`` is the plaintext database size in bytes)."""

    path: Path
    created_at: str
    key_id: str
    sha256: str
    size: int
    version: int = BACKUP_VERSION


@dataclass(frozen=True)
class RestoreInfo:
    """A completed restore: ``previous`` is where the replaced database now lives
    (``None`` if there was none), ``chain`` what ``verify`` reported."""

    db_path: Path
    previous: Path | None
    backup: BackupInfo
    chain: ChainReport


def backup_sqlite(db_path: Path, out_path: Path, master: MasterKey) -> BackupInfo:
    """Take a consistent, encrypted backup of the (possibly live) database ``db_path``.

    ``out_path`` is written atomically with mode 0600; an existing file there is
    replaced only once the new backup is complete. The plaintext snapshot lives
    briefly beside the database (same protection as the database itself) and is
    always removed.
    """
    db_path, out_path = Path(db_path), Path(out_path)
    if not db_path.is_file():
        raise BackupError(f"cannot back up {db_path}: no such database file")
    if out_path.exists() and out_path.resolve() == db_path.resolve():
        raise BackupError("the backup file must not be the database itself")
    if not out_path.parent.is_dir():
        raise BackupError(f"cannot write backup {out_path}: directory does not exist")
    with _temp_db_beside(db_path, "backup") as snapshot:
        try:
            _snapshot(db_path, snapshot)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot read database {db_path}: {exc}") from exc
        problem = _integrity_problem(snapshot)
        if problem:
            raise BackupError(f"refusing to back up {db_path}: {problem}")
        digest, size = sha256_file(snapshot)
        created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        header = {
            "created_at": created_at,
            "format": "sqlite3",
            "key_id": master.key_id,
            "plaintext_sha256": digest,
            "plaintext_size": size,
        }
        prefix = _encode_prefix(header)
        with open(snapshot, "rb") as plain, atomic_output(out_path) as out:
            out.write(prefix)
            encrypt_stream(master, plain, out, aad=prefix)
    return BackupInfo(out_path, created_at, master.key_id, digest, size)


def read_backup_info(backup_path: Path) -> BackupInfo:
    """The backup's header, readable without the key (which key it needs, when, how big)."""
    info, _prefix = _read_prefix(Path(backup_path))
    return info


def restore_sqlite(
    backup_path: Path,
    db_path: Path,
    master: MasterKey,
    *,
    verify: Callable[[Path], ChainReport],
) -> RestoreInfo:
    """Restore ``backup_path`` over ``db_path`` only after it decrypts, passes
    ``integrity_check`` and ``verify(temp_db)`` reports ``ok``.

    ``verify`` receives the restored copy before it replaces anything; it must only
    read it (the catalogue opens it and verifies the audit chain, seal included).
    """
    backup_path, db_path = Path(backup_path), Path(db_path)
    info, prefix = _read_prefix(backup_path)
    if info.key_id != master.key_id:
        raise BackupError(
            f"wrong master key: backup {backup_path} was encrypted with master key "
            f"{info.key_id}, but the loaded key is {master.key_id}; nothing was replaced"
        )
    if not db_path.parent.is_dir():
        raise BackupError(f"cannot restore to {db_path}: directory does not exist")

    with _temp_db_beside(db_path, "restore") as restored:
        try:
            with open(backup_path, "rb") as src, open(restored, "wb") as out:
                src.seek(len(prefix))
                hasher = _HashingWriter(out)
                size = decrypt_stream(master, src, cast(BinaryIO, hasher), aad=prefix)
                out.flush()
                os.fsync(out.fileno())
        except DecryptionError as exc:
            raise BackupError(
                f"backup {backup_path} cannot be decrypted ({exc}); nothing was replaced"
            ) from exc
        if size != info.size or hasher.hexdigest() != info.sha256:
            raise BackupError(
                f"backup {backup_path} decrypted to different content than its header "
                "records; nothing was replaced"
            )
        problem = _integrity_problem(restored)
        if problem:
            raise BackupError(f"backup {backup_path} {problem}; nothing was replaced")
        try:
            report = verify(restored)
        except Exception as exc:
            raise BackupError(
                f"verifying backup {backup_path} failed to run ({exc}); nothing was replaced"
            ) from exc
        if not report.ok:
            shown = "; ".join(report.problems[:5])
            more = f" (and {len(report.problems) - 5} more)" if len(report.problems) > 5 else ""
            raise BackupError(
                f"backup {backup_path} failed verification: {shown}{more}; nothing was replaced"
            )
        _settle(restored)
        previous = _swap_in(restored, db_path)
    return RestoreInfo(db_path=db_path, previous=previous, backup=info, chain=report)


# --- snapshot and checks -----------------------------------------------------------------


def _snapshot(db_path: Path, target: Path) -> None:
    """Copy with the online backup API in a single step (``pages=-1``).

    One step means one read transaction: the copy is the database as of one commit.
    Copying in several steps would restart whenever another connection writes, and
    under a steady stream of writes might never finish.
    """
    source = sqlite3.connect(_uri(db_path, "rw"), uri=True, timeout=30)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest, pages=-1)
        finally:
            dest.close()
    finally:
        source.close()


def _integrity_problem(path: Path) -> str | None:
    """``None`` if ``PRAGMA integrity_check`` says ok, else a short description.

    Opened read-write (but never written) so closing the connection checkpoints and
    removes the -wal/-shm files a read-only connection would leave behind.
    """
    try:
        con = sqlite3.connect(_uri(path, "rw"), uri=True)
        try:
            rows = [row[0] for row in con.execute("PRAGMA integrity_check").fetchall()]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return f"is not a readable SQLite database ({exc})"
    if rows == ["ok"]:
        return None
    return "fails PRAGMA integrity_check: " + "; ".join(str(row) for row in rows[:5])


def _settle(path: Path) -> None:
    """Fold any WAL left by ``verify`` into the file, so the file moved into place is
    complete on its own and no stray -wal can pair with the wrong database."""
    con = sqlite3.connect(_uri(path, "rw"), uri=True)
    try:
        if con.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    leftovers = [name for name in ("-wal", "-journal") if _companion(path, name).exists()]
    if leftovers:
        raise BackupError(
            "the restored copy is still open (the verify function left a connection "
            "open?); nothing was replaced"
        )
    _companion(path, "-shm").unlink(missing_ok=True)


# --- replacing the live database ---------------------------------------------------------


def _swap_in(restored: Path, db_path: Path) -> Path | None:
    """Keep the current database aside and atomically put ``restored`` in its place.

    The current file is hard-linked to its aside name, so ``db_path`` never stops
    existing (a process opening it in between would otherwise create an empty
    database), then ``os.replace`` swaps in the restored file. Its -wal/-journal move
    with it: a WAL must stay paired with its own database file, and committed rows
    still in the WAL belong to the old copy.
    """
    if not db_path.exists():
        os.chmod(restored, 0o600)
        os.replace(restored, db_path)
        fsync_directory(db_path.parent)
        return None
    _checkpoint_live(db_path)
    aside = _aside_name(db_path)
    moved: list[tuple[Path, Path]] = []
    linked = False
    try:
        try:
            os.link(db_path, aside)
            linked = True
        except OSError:
            # No hard links on this file system: fall back to a rename (brief gap).
            os.rename(db_path, aside)
            moved.append((db_path, aside))
        for suffix in _COMPANIONS:
            source = _companion(db_path, suffix)
            if source.exists():
                target = _companion(aside, suffix)
                os.rename(source, target)
                moved.append((source, target))
        os.chmod(restored, _mode_of(aside))
        os.replace(restored, db_path)
    except OSError as exc:
        for source, target in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(target, source)
        if linked:
            with contextlib.suppress(OSError):
                aside.unlink()
        raise BackupError(
            f"cannot replace {db_path} ({exc.strerror}); nothing was replaced"
        ) from exc
    fsync_directory(db_path.parent)
    return aside


def _checkpoint_live(db_path: Path) -> None:
    """Fold the live WAL into the main file; refuse if another connection is busy.

    A database too damaged to open is not an error here: replacing it may be the
    reason for the restore. Its files are moved aside unchanged.
    """
    try:
        con = sqlite3.connect(_uri(db_path, "rw"), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error:
        return
    try:
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                return
            busy = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.DatabaseError:
            return
        if busy:
            raise BackupError(
                f"{db_path} is in use by another process; stop it and retry. Nothing was replaced"
            )
    finally:
        con.close()


def _aside_name(db_path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
    counter = 1
    while os.path.lexists(candidate) or any(
        _companion(candidate, suffix).exists() for suffix in _COMPANIONS
    ):
        counter += 1
        candidate = db_path.with_name(f"{db_path.name}.before-restore-{stamp}-{counter}")
    return candidate


# --- file format -------------------------------------------------------------------------


def _encode_prefix(header: dict[str, object]) -> bytes:
    body = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")
    return _PREFIX.pack(BACKUP_MAGIC, BACKUP_VERSION, len(body)) + body


def _read_prefix(backup_path: Path) -> tuple[BackupInfo, bytes]:
    try:
        with open(backup_path, "rb") as handle:
            fixed = handle.read(_PREFIX.size)
            if len(fixed) < _PREFIX.size:
                raise BackupError(f"{backup_path} is not a photoguard backup (too short)")
            magic, version, length = _PREFIX.unpack(fixed)
            if magic != BACKUP_MAGIC:
                raise BackupError(f"{backup_path} is not a photoguard backup")
            if version != BACKUP_VERSION:
                raise BackupError(f"{backup_path} has unsupported backup version {version}")
            if length > _MAX_HEADER_BYTES:
                raise BackupError(f"{backup_path} has a corrupt header")
            body = handle.read(length)
    except OSError as exc:
        raise BackupError(f"cannot read backup {backup_path}: {exc.strerror}") from None
    try:
        header = json.loads(body.decode("ascii"))
        info = BackupInfo(
            path=backup_path,
            created_at=str(header["created_at"]),
            key_id=str(header["key_id"]),
            sha256=str(header["plaintext_sha256"]),
            size=int(header["plaintext_size"]),
            version=version,
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise BackupError(f"{backup_path} has a corrupt header") from None
    return info, fixed + body


# --- helpers -----------------------------------------------------------------------------


class _HashingWriter:
    """File wrapper hashing what passes through, so the plaintext is read once."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        return self._target.write(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@contextlib.contextmanager
def _temp_db_beside(db_path: Path, purpose: str) -> Iterator[Path]:
    """A private (0600) temporary database path next to ``db_path``; it and its
    companion files are always removed (a no-op once it was renamed into place)."""
    fd, name = tempfile.mkstemp(prefix=f".{db_path.name}.{purpose}-", dir=db_path.parent)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
        for suffix in _COMPANIONS:
            _companion(path, suffix).unlink(missing_ok=True)


def _companion(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


def _mode_of(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o600
