"""A hash-chained, append-only audit log: who did what to which object, and when.

Each entry carries the hash of the one before it, so editing, inserting or deleting an
entry anywhere breaks the chain at a point :func:`verify_chain` names. What a chain
alone cannot show is a deleted *tail* (drop the last entries and the rest still links
up) or a chain rewritten from some point on by someone with write access to the store.
Two defences cover that:

* ``head``: the last (seq, hash) recorded somewhere else (a sealed head row, a file,
  a log shipped off the machine); :func:`verify_chain` checks the chain still ends there.
* a **seal**: an HMAC of the head under a key derived from the master key, which lives
  outside the store (:func:`seal_head`, :func:`check_seal`). Someone with database
  access but not the master key can neither forge a seal for a rewritten chain nor for
  entries appended behind the store's back.

What the store must do: append the entry and update the sealed head row in the *same*
transaction. Limitation: a seal for an old head stays valid, so someone who saved an
old (seq, hash, seal) and can write the store could roll the log back to it; copying
the head off the machine (backups, syslog, a file the app user cannot rewrite) closes
that gap.

This module holds no schema: stores keep entries in any table or model and turn them
into :class:`AuditEntry` values to verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from photoguard_core.crypto.keys import MasterKey

GENESIS_HASH = "0" * 64
SEAL_PURPOSE = "photoguard/audit-head-seal/v1"
_SEAL_VERSION = "v1"

# Standard action names. Stores may log others; these are the ones photoguard itself
# writes and the ones bursts and reports look for.
RENDER = "render"
EXPORT = "export"
DOWNLOAD = "download"
ORIGINAL_VIEW = "original_view"
CONSENT_CHANGE = "consent_change"
BIOMETRIC_CHANGE = "biometric_change"
ENROL = "enrol"
ASSIGNMENT = "assignment"
CONFIG_CHANGE = "config_change"
PERSON_IMPORT = "person_import"
BACKUP = "backup"
RESTORE = "restore"
SHRED = "shred"
ACTIONS = frozenset(
    {
        RENDER,
        EXPORT,
        DOWNLOAD,
        ORIGINAL_VIEW,
        CONSENT_CHANGE,
        BIOMETRIC_CHANGE,
        ENROL,
        ASSIGNMENT,
        CONFIG_CHANGE,
        PERSON_IMPORT,
        BACKUP,
        RESTORE,
        SHRED,
    }
)


@dataclass(frozen=True)
class AuditEntry:
    """One audit record. ``at`` is ISO-8601 UTC (``2025-03-01T09:30:00.000000Z``).

    ``details`` must be JSON (str keys; str, int, float, bool, None, lists, dicts):
    the hash is computed over its canonical JSON, so a store that saves
    :func:`canonical_json` text and parses it back gets an identical hash.
    """

    seq: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        """The hash this entry's content should have (compare with :attr:`hash`)."""
        return entry_hash(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            details=self.details,
            prev_hash=self.prev_hash,
        )

    def timestamp(self) -> datetime:
        """:attr:`at` as an aware UTC datetime."""
        return parse_time(self.at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEntry:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass
class ChainReport:
    """Outcome of :func:`verify_chain`. ``problems`` name the seq and what is wrong;
    ``last_seq``/``last_hash`` describe the last entry read (``None`` if there were none)."""

    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)
    last_seq: int | None = None
    last_hash: str | None = None


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, ASCII only, no NaN: one text per value, on any machine."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def entry_hash(
    *,
    seq: int,
    at: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical JSON of every field except ``hash``."""
    payload = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()


def next_entry(
    prev: AuditEntry | None,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    details: Mapping[str, Any] | None = None,
    at: datetime | str | None = None,
) -> AuditEntry:
    """Build the entry that follows ``prev`` (``None`` starts a chain at seq 1).

    ``details`` is normalised through canonical JSON now, so what the store saves is
    exactly what was hashed (tuples become lists, non-JSON values are refused here
    rather than breaking verification later).
    """
    for name, value in (("actor", actor), ("action", action), ("object_type", object_type)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"audit entry {name} must be a non-empty string")
    try:
        normalised = json.loads(canonical_json(dict(details or {})))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit details must be plain JSON: {exc}") from None
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    when = format_time(datetime.now(UTC) if at is None else at)
    fields: dict[str, Any] = {
        "seq": seq,
        "at": when,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "details": normalised,
        "prev_hash": prev_hash,
    }
    return AuditEntry(**fields, hash=entry_hash(**fields))


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    head: tuple[int, str] | None = None,
    seal: str | None = None,
    master: MasterKey | None = None,
    after: tuple[int, str] | None = None,
) -> ChainReport:
    """Check a chain in stored order; streams, so any length fits in memory.

    * every entry's hash must match its content (edits);
    * seqs must run on without gaps or repeats, and each ``prev_hash`` must be the
      previous entry's hash (insertions, deletions, rewritten entries);
    * with ``head`` = (seq, hash) recorded elsewhere, the chain must end exactly
      there: missing entries mean the tail was deleted, extra ones were appended
      without updating the head (a forger without the key cannot update a sealed head);
    * with ``seal`` and ``master``, the head's seal must be genuine.

    ``after`` = (seq, hash) verifies a continuation: the first entry must follow that
    already-verified entry (incremental checks of a long log).
    """
    if seal is not None and (head is None or master is None):
        raise ValueError("checking a seal needs both head and master")
    problems: list[str] = []
    expected_seq, expected_prev = (1, GENESIS_HASH) if after is None else (after[0] + 1, after[1])
    last: AuditEntry | None = None
    checked = 0
    for entry in entries:
        checked += 1
        where = f"seq {entry.seq}"
        try:
            recomputed = entry.computed_hash()
        except (TypeError, ValueError) as exc:
            problems.append(f"{where}: cannot be hashed ({exc}); the entry is malformed")
            recomputed = None
        if recomputed is not None and not hmac.compare_digest(recomputed, str(entry.hash)):
            problems.append(
                f"{where}: hash does not match its content; the entry was edited "
                "after it was written"
            )
        previous = "the start of the chain" if last is None else f"seq {last.seq}"
        if entry.seq > expected_seq:
            missing = (
                f"seq {expected_seq}"
                if entry.seq == expected_seq + 1
                else f"seqs {expected_seq}-{entry.seq - 1}"
            )
            problems.append(f"{where}: {missing} missing after {previous}; entries were deleted")
        elif entry.seq < expected_seq:
            problems.append(
                f"{where}: out of order or repeated after {previous} (expected seq "
                f"{expected_seq}); an entry was inserted or duplicated"
            )
        if entry.prev_hash != expected_prev:
            problems.append(
                f"{where}: prev_hash does not match the hash of {previous}; an entry "
                "before it was rewritten, inserted or deleted"
            )
        # Continue from the stored hash so one bad entry is reported once, not as a
        # cascade down the rest of the chain.
        expected_seq, expected_prev = entry.seq + 1, entry.hash
        last = entry

    last_seq = last.seq if last is not None else (after[0] if after else 0)
    last_hash = last.hash if last is not None else (after[1] if after else GENESIS_HASH)
    if head is not None:
        head_seq, head_hash = head
        if last_seq < head_seq:
            gone = (
                f"seq {head_seq}" if head_seq == last_seq + 1 else f"seqs {last_seq + 1}-{head_seq}"
            )
            problems.append(
                f"tail: the chain ends at seq {last_seq} but the recorded head is seq "
                f"{head_seq}; {gone} were deleted"
            )
        elif last_seq > head_seq:
            problems.append(
                f"tail: seqs {head_seq + 1}-{last_seq} come after the recorded head (seq "
                f"{head_seq}); they were appended without updating the head"
            )
        elif not hmac.compare_digest(last_hash, head_hash):
            problems.append(
                f"seq {last_seq}: hash differs from the recorded head; the chain was "
                "rewritten up to its end"
            )
        if seal is not None and master is not None:
            problem = _seal_problem(master, head_seq, head_hash, seal)
            if problem:
                problems.append(problem)
    return ChainReport(
        ok=not problems,
        checked=checked,
        problems=problems,
        last_seq=last.seq if last is not None else None,
        last_hash=last.hash if last is not None else None,
    )


def seal_head(master: MasterKey, seq: int, hash: str) -> str:
    """An HMAC-SHA256 seal of the chain head, ``v1:<key id>:<hex>``.

    Stored next to the head (seq, hash). Only a holder of the master key can make one,
    so a chain rewritten or extended by someone with database access alone fails
    :func:`check_seal`. The key id lets a check after key rotation say "sealed with
    another key" rather than "forged".
    """
    mac = hmac.new(master.derive_key(SEAL_PURPOSE), _seal_message(seq, hash), hashlib.sha256)
    return f"{_SEAL_VERSION}:{master.key_id}:{mac.hexdigest()}"


def check_seal(master: MasterKey, seq: int, hash: str, seal: str) -> bool:
    """True only if ``seal`` was made by :func:`seal_head` with this key for (seq, hash)."""
    return _seal_problem(master, seq, hash, seal) is None


def _seal_problem(master: MasterKey, seq: int, hash: str, seal: str) -> str | None:
    parts = seal.split(":") if isinstance(seal, str) else []
    if len(parts) != 3 or parts[0] != _SEAL_VERSION:
        return "head seal is malformed or of an unknown version"
    if parts[1] != master.key_id:
        return f"head seal was made with master key {parts[1]}, not the loaded key {master.key_id}"
    if not hmac.compare_digest(seal_head(master, seq, hash), seal):
        return (
            f"head seal does not match seq {seq}; the head or the chain was rewritten "
            "by someone without the master key"
        )
    return None


def _seal_message(seq: int, hash: str) -> bytes:
    return canonical_json({"purpose": "audit-head", "seq": int(seq), "hash": hash}).encode()


# --- time --------------------------------------------------------------------------------


def format_time(value: datetime | str) -> str:
    """Normalise to ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC); naive datetimes are refused,
    because guessing a time zone in an audit log would make it lie."""
    moment = parse_time(value) if isinstance(value, str) else value
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware (use datetime.now(UTC))")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | datetime) -> datetime:
    """Parse an ISO-8601 time that carries its offset (``Z`` or ``+hh:mm``)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"time {value!s} has no time zone")
    return moment.astimezone(UTC)


def as_bound(value: datetime | date | str) -> datetime:
    """A user-supplied time bound: naive values and bare dates are taken as UTC,
    which is what ``--since 2025-03-01`` on the command line means."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
