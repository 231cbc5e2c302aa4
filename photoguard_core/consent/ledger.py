"""The consent ledger: an append-only list of what each person said, and when.

Consent is fluid (a parent withdraws it, it reaches its use-by date), and a school
must be able to show what was in force when a photo went out. So a change is never
an edit: it is a new :class:`ConsentEntry`, and "what was the consent on date D?"
is answered by replaying the entries recorded up to D. Storage (SQLite, Django)
keeps the entries; this module only reads them.

Rules, all chosen to fail closed:

- Only entries *recorded* at or before the moment asked about count; a consent
  form typed in tomorrow does not cover a photo published today.
- The latest recorded entry for a person and purpose decides. Ties on the recording
  time are broken by ``entry_id`` (the store's append order), then by position in
  the sequence given.
- ``valid_from`` and ``valid_until`` bound *grants* only. A refusal or withdrawal
  takes effect the moment it is recorded, whatever dates were typed with it: it is
  never right to keep publishing because a withdrawal was dated next week.
- Calendar dates are compared with the UTC date of the moment asked about, so every
  adapter (CLI, Django, Nextcloud) gets the same answer for the same instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Literal

CoverageStatus = Literal["granted", "refused", "withdrawn", "expired", "not_yet_valid", "none"]

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


class ConsentStatus(StrEnum):
    """What a person (or their parent) said about one purpose."""

    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


def human_date(d: date | datetime) -> str:
    """``3 March 2026``: the form a school secretary writes, independent of locale."""
    if isinstance(d, datetime):
        d = d.astimezone(UTC).date()
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def require_aware(value: datetime, what: str) -> datetime:
    """``value`` in UTC; a naive datetime is refused because its instant is unknown."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class ConsentEntry:
    """One recorded statement of consent for one person and purpose.

    ``recorded_at`` is when the school recorded it (the ledger's clock); ``valid_from``
    and ``valid_until`` (inclusive) are the dates a grant covers. ``source`` says how
    the school learnt it ("paper form", "parent email", "SIS import") and
    ``recorded_by`` who typed it in: both appear in the reasons staff read.
    """

    person_id: str
    purpose: str
    status: ConsentStatus
    valid_from: date
    valid_until: date | None
    recorded_at: datetime
    recorded_by: str
    source: str
    note: str = ""
    entry_id: int | None = None

    def __post_init__(self) -> None:
        if not self.person_id or not self.purpose:
            raise ValueError("a consent entry needs a person_id and a purpose")
        if not self.recorded_by or not self.recorded_by.strip():
            raise ValueError("a consent entry must say who recorded it (recorded_by)")
        # Coerce rather than trust: adapters hand over strings from databases and forms.
        object.__setattr__(self, "status", ConsentStatus(self.status))
        object.__setattr__(self, "recorded_at", require_aware(self.recorded_at, "recorded_at"))
        for name in ("valid_from", "valid_until"):
            value = getattr(self, name)
            if isinstance(value, datetime) or not (
                isinstance(value, date) or (value is None and name == "valid_until")
            ):
                raise TypeError(f"{name} must be a date, not {value!r}")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError(
                f"consent for {self.purpose!r} ends ({self.valid_until}) before it starts "
                f"({self.valid_from})"
            )

    @property
    def purpose_label(self) -> str:
        return self.purpose.replace("_", " ")

    def provenance(self) -> str:
        """``on 3 March 2026 by J. Bloggs (parent email)``."""
        text = f"on {human_date(self.recorded_at)} by {self.recorded_by.strip()}"
        return f"{text} ({self.source.strip()})" if self.source.strip() else text


@dataclass(frozen=True)
class ConsentState:
    """The answer to "does consent cover this person for this purpose at this moment?"."""

    covered: bool
    status: CoverageStatus
    entry: ConsentEntry | None
    reason: str


def _order(indexed: tuple[int, ConsentEntry]) -> tuple[datetime, int, int]:
    index, entry = indexed
    return (entry.recorded_at, -1 if entry.entry_id is None else entry.entry_id, index)


def _in_order(entries: Iterable[ConsentEntry]) -> list[ConsentEntry]:
    """Entries in the order they were recorded (the ledger's own order)."""
    return [e for _, e in sorted(enumerate(entries), key=_order)]


def _latest(
    entries: Iterable[ConsentEntry], person_id: str, purpose: str, at: datetime
) -> ConsentEntry | None:
    relevant = [
        e
        for e in entries
        if e.person_id == person_id and e.purpose == purpose and e.recorded_at <= at
    ]
    return _in_order(relevant)[-1] if relevant else None


def consent_as_of(
    entries: Iterable[ConsentEntry], person_id: str, purpose: str, at: datetime
) -> ConsentState:
    """The consent in force for ``person_id`` and ``purpose`` at the instant ``at``.

    ``covered`` is true only for a grant whose dates include ``at``'s (UTC) date;
    every other case comes back uncovered with a reason a school secretary can read.
    """
    at = require_aware(at, "at")
    entry = _latest(entries, person_id, purpose, at)
    label = purpose.replace("_", " ")
    if entry is None:
        return ConsentState(False, "none", None, f"no {label} consent has been recorded")
    return _state_of(entry, at.date())


def _state_of(entry: ConsentEntry, today: date) -> ConsentState:
    label = entry.purpose_label
    if entry.status is ConsentStatus.REFUSED:
        return ConsentState(
            False, "refused", entry, f"{label} consent refused {entry.provenance()}"
        )
    if entry.status is ConsentStatus.WITHDRAWN:
        reason = f"{label} consent withdrawn {entry.provenance()}"
        return ConsentState(False, "withdrawn", entry, reason)
    granted = f"granted {entry.provenance()}"
    if today < entry.valid_from:
        reason = (
            f"{label} consent was {granted} but only applies from {human_date(entry.valid_from)}"
        )
        return ConsentState(False, "not_yet_valid", entry, reason)
    if entry.valid_until is not None and today > entry.valid_until:
        reason = f"{label} consent expired on {human_date(entry.valid_until)} (it was {granted})"
        return ConsentState(False, "expired", entry, reason)
    until = f"until {human_date(entry.valid_until)}" if entry.valid_until else "with no end date"
    return ConsentState(True, "granted", entry, f"{label} consent {granted}, valid {until}")


def history(entries: Iterable[ConsentEntry], person_id: str) -> list[ConsentEntry]:
    """Every entry for one person, all purposes, in the order they were recorded.

    Nothing is dropped or merged: the history is what a DSL shows a parent who asks
    "what have you recorded about my child?".
    """
    return _in_order(e for e in entries if e.person_id == person_id)


def expiring(entries: Iterable[ConsentEntry], at: datetime, within_days: int) -> list[ConsentEntry]:
    """Grants covering someone at ``at`` whose use-by date falls within ``within_days``.

    These are the consents the school should renew before photos start being redacted.
    A grant ending today counts (``within_days=0``). Sorted by end date, then person
    and purpose, so a reminder lists the most urgent first.
    """
    at = require_aware(at, "at")
    if within_days < 0:
        raise ValueError("within_days cannot be negative")
    today = at.date()
    horizon = today + timedelta(days=within_days)
    latest: dict[tuple[str, str], tuple[tuple[datetime, int, int], ConsentEntry]] = {}
    for indexed in enumerate(entries):
        entry = indexed[1]
        if entry.recorded_at > at:
            continue
        key, order = (entry.person_id, entry.purpose), _order(indexed)
        if key not in latest or latest[key][0] < order:
            latest[key] = (order, entry)
    out = [
        entry
        for _, entry in latest.values()
        if entry.valid_until is not None
        and entry.valid_until <= horizon
        and _state_of(entry, today).covered
    ]
    return sorted(out, key=lambda e: (e.valid_until, e.person_id, e.purpose))
