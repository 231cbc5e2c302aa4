"""People and consent from (and back to) a school information system CSV export.

Schools keep pupils, staff and consent forms in their SIS (SIMS, Arbor, Bromcom...),
and each exports CSV its own way: its own column names, a BOM from Excel, semicolons
where the decimal comma is in use. This module reads such a file into plain rows; the
catalogue decides what to store (and turns consent rows into ledger entries, see
:meth:`ConsentRow.to_entry`).

Canonical columns: ``id, first_name, last_name, role`` (required), ``groups``
(``;``-separated), ``date_of_birth`` (YYYY-MM-DD), ``flags`` (``;``-separated
safeguarding flags) and, per purpose, ``consent_<purpose>`` (granted / refused /
withdrawn / blank) with an optional ``consent_<purpose>_until`` (YYYY-MM-DD).
Other columns are ignored, since SIS exports carry many.

A row with any error is left out *whole* and reported with its line and column: a
half-read row could import a person without the safeguarding flag whose name was
misspelt. Two rows with the same id are both left out, because there is no telling
which one is right. Whether to import the rest when there are errors is the
caller's choice (a dry run shows them first).

On export, cells that a spreadsheet would run as a formula (starting ``= + - @``)
are prefixed with ``'``; the reader removes that prefix again, so a file written here
reads back to the same rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from photoguard_core.consent.flags import Vulnerability, parse_vulnerability
from photoguard_core.consent.ledger import ConsentEntry, ConsentStatus
from photoguard_core.consent.purposes import DEFAULT_PURPOSES

ROLES = ("pupil", "staff", "other")
PERSON_COLUMNS = ("id", "first_name", "last_name", "role", "groups", "date_of_birth", "flags")
REQUIRED_COLUMNS = ("id", "first_name", "last_name", "role")
CONSENT_VALUES = ("granted", "refused", "withdrawn")
ADULT_AGE = 18

_FORMULA_START = ("=", "+", "-", "@")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class PersonRow:
    """One person as the SIS describes them. ``line`` is where they were read from.

    Field names follow the CSV columns (``id``, ``first_name``...), so a row reads
    like the file it came from.
    """

    id: str
    first_name: str
    last_name: str
    role: str
    groups: tuple[str, ...] = ()
    date_of_birth: date | None = None
    flags: frozenset[Vulnerability] = frozenset()
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a person needs an id")
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} (choose from {', '.join(ROLES)})")
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "flags", frozenset(Vulnerability(f) for f in self.flags))

    def is_minor(self, on: date) -> bool:
        """Under 18 on ``on``.

        Without a date of birth, pupils and "other" people are treated as minors and
        only staff as adults: the stricter biometric rules then apply to anyone who
        might be a child.
        """
        if self.date_of_birth is None:
            return self.role != "staff"
        dob = self.date_of_birth
        age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
        return age < ADULT_AGE


@dataclass(frozen=True)
class ConsentRow:
    """One consent cell: a person's answer for a purpose, as the SIS holds it today."""

    person_id: str
    purpose: str
    status: ConsentStatus
    until: date | None = None
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", ConsentStatus(self.status))
        if self.status is not ConsentStatus.GRANTED:
            # An end date means "covered until": it has no meaning on a refusal or a
            # withdrawal, and keeping one would make the row read back differently.
            object.__setattr__(self, "until", None)

    def to_entry(
        self, *, valid_from: date, recorded_at: datetime, recorded_by: str, source: str
    ) -> ConsentEntry:
        """The ledger entry recording this row."""
        return ConsentEntry(
            person_id=self.person_id,
            purpose=self.purpose,
            status=self.status,
            valid_from=valid_from,
            valid_until=self.until,
            recorded_at=recorded_at,
            recorded_by=recorded_by,
            source=source,
        )


@dataclass(frozen=True)
class RowError:
    """A problem in the file; ``column`` is the column as named in the file."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class PeopleImport:
    """What a file holds.

    ``columns`` lists the canonical columns the file had, so a caller can tell "no
    flags" from "this export has no flags column" and leave stored values alone when a
    column is absent. ``ignored_columns`` (as named in the file) are shown in a dry
    run, so a column that was meant to be mapped does not vanish unnoticed.
    """

    rows: list[PersonRow]
    consents: list[ConsentRow]
    errors: list[RowError]
    columns: frozenset[str] = frozenset()
    ignored_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    """Column positions by canonical name, plus the name the file used."""

    person: dict[str, int]
    consent: dict[str, int]
    until: dict[str, int]
    source_names: list[str]
    width: int
    ignored: tuple[str, ...]


def _canonical(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _unescape(cell: str) -> str:
    """Undo the export's formula guard: ``'=x`` reads as ``=x``, ``''x`` as ``'x``."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in (*_FORMULA_START, "'"):
        return cell[1:]
    return cell


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most columns (comma on a tie)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in _DELIMITERS}
    return max(_DELIMITERS, key=lambda d: (counts[d], d == ","))


def _records(text: str, delimiter: str) -> Iterable[tuple[int, list[str] | csv.Error]]:
    """(first physical line, cells) per record; a csv.Error ends the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield previous_end + 1, exc
            return
        yield previous_end + 1, [_unescape(c.strip()) for c in record]
        previous_end = reader.line_num


def _read_header(
    cells: list[str],
    line: int,
    mapping: Mapping[str, str],
    purposes: set[str],
    errors: list[RowError],
) -> _Header | None:
    """Place each column; ``None`` when a fatal header problem means no row can be read."""
    fatal = _check_mapping(mapping, line, errors)
    names = _mapped_names(cells, mapping)
    person: dict[str, int] = {}
    consent: dict[str, int] = {}
    until: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(names):
        target = _target(name, purposes) if name is not None else None
        if target is None:
            ignored.append(cells[index])
            continue
        kind, key = target
        if kind == "unknown_purpose":
            errors.append(RowError(line, cells[index], f"unknown purpose {key!r}; column ignored"))
            continue
        table = {"person": person, "consent": consent, "until": until}[kind]
        if key in table:
            errors.append(RowError(line, cells[index], f"column {name!r} appears more than once"))
            fatal = True
        table[key] = index
    for name in REQUIRED_COLUMNS:
        if name not in person:
            errors.append(RowError(line, name, f"required column {name!r} is missing"))
            fatal = True
    for purpose in sorted(set(until) - set(consent)):
        errors.append(
            RowError(
                line,
                cells[until[purpose]],
                f"end-date column without a 'consent_{purpose}' column; ignored",
            )
        )
        del until[purpose]
    if fatal:
        return None
    return _Header(person, consent, until, cells, len(cells), tuple(ignored))


def _mapped_names(cells: list[str], mapping: Mapping[str, str]) -> list[str | None]:
    """Canonical name per column; ``None`` for a column a mapping displaced.

    Exports often carry both an internal "ID" and the "UPN": when the mapping says
    ``UPN -> id``, the unmapped "ID" column is ignored instead of clashing with it.
    """
    folded = {k.strip().casefold(): _canonical(v) for k, v in mapping.items()}
    taken = set(folded.values())
    names: list[str | None] = []
    for cell in cells:
        mapped = folded.get(cell.casefold())
        if mapped is not None:
            names.append(mapped)
        else:
            name = _canonical(cell)
            names.append(None if name in taken else name)
    return names


def _check_mapping(mapping: Mapping[str, str], line: int, errors: list[RowError]) -> bool:
    """Refuse a mapping onto a column that does not exist.

    A typo such as ``{"Safeguarding": "flag"}`` would otherwise drop the flags column
    without a word, and publish the children it protects.
    """
    bad = False
    for source, target in mapping.items():
        name = _canonical(target)
        if name not in PERSON_COLUMNS and not name.startswith("consent_"):
            known = ", ".join(PERSON_COLUMNS)
            message = f"the mapping sends {source!r} to unknown column {target!r} (known: {known}"
            errors.append(RowError(line, source, message + ", consent_<purpose>)"))
            bad = True
    return bad


def _target(name: str, purposes: set[str]) -> tuple[str, str] | None:
    """What a canonical column name holds: ``(kind, key)``, or ``None`` to ignore it."""
    if name in PERSON_COLUMNS:
        return ("person", name)
    if not name.startswith("consent_"):
        return None
    purpose = name.removeprefix("consent_")
    kind = "consent"
    if purpose.endswith("_until"):
        purpose, kind = purpose.removesuffix("_until"), "until"
    return (kind, purpose) if purpose in purposes else ("unknown_purpose", purpose)


class _RowReader:
    """Reads one data row, collecting every problem rather than stopping at the first."""

    def __init__(self, header: _Header, cells: list[str], line: int) -> None:
        self.header, self.cells, self.line = header, cells, line
        self.errors: list[RowError] = []

    def cell(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]

    def error(self, index: int | None, message: str) -> None:
        column = self.header.source_names[index] if index is not None else None
        self.errors.append(RowError(self.line, column, message))

    def date(self, index: int | None, what: str) -> date | None:
        text = self.cell(index)
        if not text:
            return None
        try:
            if not _DATE_RE.match(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            self.error(index, f"{what} {text!r} is not a date in the form YYYY-MM-DD")
            return None

    def person(self) -> PersonRow | None:
        col = self.header.person.get
        person_id = self.cell(col("id"))
        first = self.cell(col("first_name"))
        role = self.cell(col("role")).lower()
        if not person_id:
            self.error(col("id"), "the id is missing")
        if not first:
            self.error(col("first_name"), "the first name is missing")
        if role not in ROLES:
            self.error(col("role"), f"unknown role {role!r} (use {', '.join(ROLES)})")
        dob = self.date(col("date_of_birth"), "date of birth")
        flags = self.flags(col("flags"))
        if self.errors:
            return None
        return PersonRow(
            person_id,
            first,
            self.cell(col("last_name")),
            role,
            _split_list(self.cell(col("groups"))),
            dob,
            flags,
            line=self.line,
        )

    def flags(self, index: int | None) -> frozenset[Vulnerability]:
        out = set()
        for text in _split_list(self.cell(index)):
            try:
                out.add(parse_vulnerability(text))
            except ValueError as exc:
                self.error(index, str(exc))
        return frozenset(out)

    def consents(self, person_id: str) -> list[ConsentRow]:
        out = []
        for purpose, index in self.header.consent.items():
            value = self.cell(index).lower()
            if not value:
                continue
            if value not in CONSENT_VALUES:
                allowed = ", ".join(CONSENT_VALUES)
                self.error(index, f"consent {value!r} is not one of {allowed} or blank")
                continue
            status = ConsentStatus(value)
            until = None
            if status is ConsentStatus.GRANTED:
                # Only a grant's end date matters. One left over on a refusal or a
                # withdrawal is ignored, not reported: refusing the row over it would
                # also drop the withdrawal.
                label = f"end date for {purpose.replace('_', ' ')}"
                until = self.date(self.header.until.get(purpose), label)
            out.append(ConsentRow(person_id, purpose, status, until, line=self.line))
        return out


def _split_list(text: str) -> tuple[str, ...]:
    items = (item.strip() for item in text.split(";"))
    return tuple(dict.fromkeys(item for item in items if item))


def parse_people_csv(
    text: str,
    mapping: Mapping[str, str] | None = None,
    *,
    purposes: Iterable[str] | None = None,
) -> PeopleImport:
    """Read a SIS export into people, consent rows and per-row errors.

    ``mapping`` renames the file's columns to canonical ones, e.g.
    ``{"UPN": "id", "Forename": "first_name", "Reg group": "groups"}`` (matched
    ignoring case). ``purposes`` are the purpose names a ``consent_<purpose>`` column
    may use (default: :data:`DEFAULT_PURPOSES`). Never raises for bad content: every
    problem is a :class:`RowError` with its line and column.
    """
    text = text.removeprefix("\ufeff")
    known = set(DEFAULT_PURPOSES if purposes is None else purposes)
    errors: list[RowError] = []
    header: _Header | None = None
    rows: list[PersonRow] = []
    consents: list[ConsentRow] = []
    ids: dict[str, list[int]] = {}
    for line, cells in _records(text, _sniff_delimiter(text)):
        if isinstance(cells, csv.Error):
            errors.append(RowError(line, None, f"the file cannot be read from here on: {cells}"))
            break
        if not any(cells):
            continue
        if header is None:
            header = _read_header(cells, line, mapping or {}, known, errors)
            if header is None:
                return PeopleImport([], [], errors)
            continue
        _read_row(header, cells, line, rows, consents, errors, ids)
    if header is None and not errors:
        errors.append(RowError(1, None, "the file is empty: no header row"))
    rows, consents = _drop_duplicates(rows, consents, ids, errors)
    errors.sort(key=lambda e: e.line)
    if header is None:
        return PeopleImport(rows, consents, errors)
    return PeopleImport(rows, consents, errors, frozenset(_present_columns(header)), header.ignored)


def _read_row(
    header: _Header,
    cells: list[str],
    line: int,
    rows: list[PersonRow],
    consents: list[ConsentRow],
    errors: list[RowError],
    ids: dict[str, list[int]],
) -> None:
    reader = _RowReader(header, cells, line)
    if len(cells) > header.width and any(cells[header.width :]):
        reader.error(None, f"the row has {len(cells)} cells but the header has {header.width}")
    person_id = reader.cell(header.person["id"])
    if person_id:
        ids.setdefault(person_id, []).append(line)
    person = reader.person()
    row_consents = reader.consents(person_id)
    if reader.errors or person is None:
        errors.extend(reader.errors)
        return
    rows.append(person)
    consents.extend(row_consents)


def _drop_duplicates(
    rows: list[PersonRow],
    consents: list[ConsentRow],
    ids: dict[str, list[int]],
    errors: list[RowError],
) -> tuple[list[PersonRow], list[ConsentRow]]:
    duplicated = {pid: lines for pid, lines in ids.items() if len(lines) > 1}
    for pid, lines in duplicated.items():
        listed = ", ".join(map(str, lines))
        for line in lines:
            errors.append(
                RowError(line, "id", f"id {pid!r} appears on lines {listed}; none was imported")
            )
    return (
        [r for r in rows if r.id not in duplicated],
        [c for c in consents if c.person_id not in duplicated],
    )


def _present_columns(header: _Header) -> set[str]:
    out = set(header.person)
    out.update(f"consent_{p}" for p in header.consent)
    out.update(f"consent_{p}_until" for p in header.until)
    return out


# --- writing ---------------------------------------------------------------------------


def _escape(cell: str) -> str:
    """Guard a cell against formula injection when the file is opened in a spreadsheet."""
    if cell.startswith(_FORMULA_START) or _unescape(cell) != cell:
        return "'" + cell
    return cell


def write_people_csv(
    rows: Iterable[PersonRow],
    consents: Iterable[ConsentRow],
    *,
    purposes: Iterable[str] | None = None,
) -> str:
    """The canonical CSV for ``rows`` and ``consents``; reads back to the same rows.

    One ``consent_<purpose>`` and ``consent_<purpose>_until`` pair is written per
    purpose in ``purposes`` (default: the default purposes) and per purpose any
    consent row uses. Raises :class:`ValueError` for data the format cannot carry
    (a duplicate id, a group name with ``;``, two answers for one purpose).
    """
    rows = list(rows)
    table = _consent_table(rows, consents)
    names = list(DEFAULT_PURPOSES if purposes is None else purposes)
    names += sorted({p for (_, p) in table} - set(names))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = list(PERSON_COLUMNS)
    for name in names:
        header += [f"consent_{name}", f"consent_{name}_until"]
    writer.writerow(header)
    for row in rows:
        cells = _person_cells(row)
        for name in names:
            consent = table.get((row.id, name))
            cells.append(consent.status.value if consent else "")
            until = consent.until if consent else None
            cells.append(until.isoformat() if until else "")
        writer.writerow([_escape(c) for c in cells])
    return out.getvalue()


def _consent_table(
    rows: list[PersonRow], consents: Iterable[ConsentRow]
) -> dict[tuple[str, str], ConsentRow]:
    ids = [r.id for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("two people share an id; the file could not be read back")
    table: dict[tuple[str, str], ConsentRow] = {}
    for c in consents:
        if c.person_id not in ids:
            raise ValueError(f"consent for {c.person_id!r}, who is not among the people written")
        if (c.person_id, c.purpose) in table:
            raise ValueError(f"two consent answers for {c.person_id!r} and {c.purpose!r}")
        table[(c.person_id, c.purpose)] = c
    return table


def _person_cells(row: PersonRow) -> list[str]:
    for group in row.groups:
        if ";" in group:
            raise ValueError(f"group name {group!r} contains ';', the list separator")
    flags = [v.value for v in Vulnerability if v in row.flags]
    return [
        row.id,
        row.first_name,
        row.last_name,
        row.role,
        ";".join(row.groups),
        row.date_of_birth.isoformat() if row.date_of_birth else "",
        ";".join(flags),
    ]
