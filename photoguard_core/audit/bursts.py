"""Reading the audit log: bursts of downloads, and filters for ``photoguard audit show``.

A burst (one account fetching many originals or exports in minutes) is the pattern of
a compromised account or someone collecting pictures of a child; a school will not spot
it in a long log, so it is flagged for the designated safeguarding lead to look at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from photoguard_core.audit.chain import DOWNLOAD, EXPORT, ORIGINAL_VIEW, AuditEntry, as_bound

DEFAULT_BURST_ACTIONS = (DOWNLOAD, EXPORT, ORIGINAL_VIEW)


@dataclass(frozen=True)
class Burst:
    """``count`` ``action`` entries by ``actor`` between ``start`` and ``end`` (inclusive);
    ``first_seq``/``last_seq`` point at the entries so a reviewer can open them."""

    actor: str
    action: str
    start: datetime
    end: datetime
    count: int
    first_seq: int
    last_seq: int


def flag_bursts(
    entries: Iterable[AuditEntry],
    *,
    actions: Collection[str] = DEFAULT_BURST_ACTIONS,
    window: timedelta = timedelta(minutes=10),
    threshold: int = 20,
) -> list[Burst]:
    """Find runs where one actor did one action at least ``threshold`` times within
    ``window``; overlapping windows merge into one burst (a 200-download spree is one
    finding, not 181). Sorted by start time."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if window < timedelta(0):
        raise ValueError("window must not be negative")
    wanted = set(actions)
    groups: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    for entry in entries:
        if entry.action in wanted:
            groups[(entry.actor, entry.action)].append((entry.timestamp(), entry.seq))

    bursts: list[Burst] = []
    for (actor, action), events in groups.items():
        events.sort()
        span_start: int | None = None  # index of the first event of the current burst
        span_end = -1
        left = 0
        for right, (moment, _seq) in enumerate(events):
            while moment - events[left][0] > window:
                left += 1
            if right - left + 1 < threshold:
                continue
            if span_start is not None and left <= span_end:
                span_end = right  # this window overlaps the burst: extend it
                continue
            if span_start is not None:
                bursts.append(_burst(actor, action, events, span_start, span_end))
            span_start, span_end = left, right
        if span_start is not None:
            bursts.append(_burst(actor, action, events, span_start, span_end))
    bursts.sort(key=lambda burst: (burst.start, burst.actor, burst.action))
    return bursts


def filter_entries(
    entries: Iterable[AuditEntry],
    *,
    person: str | int | None = None,
    actor: str | None = None,
    action: str | Collection[str] | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
) -> list[AuditEntry]:
    """Entries matching every given criterion, in their original order.

    ``person`` matches entries *about* that person: the person object itself, or any
    entry whose details name them in ``person_id`` / ``person_ids`` (a render of a
    photo they are in, a consent change). Times: ``since`` inclusive, ``until``
    exclusive; naive values and bare dates are UTC.
    """
    actions = {action} if isinstance(action, str) else (set(action) if action else None)
    lower = as_bound(since) if since is not None else None
    upper = as_bound(until) if until is not None else None
    wanted_person = str(person) if person is not None else None
    wanted_object = str(object_id) if object_id is not None else None
    selected: list[AuditEntry] = []
    for entry in entries:
        if actor is not None and entry.actor != actor:
            continue
        if actions is not None and entry.action not in actions:
            continue
        if object_type is not None and entry.object_type != object_type:
            continue
        if wanted_object is not None and entry.object_id != wanted_object:
            continue
        if wanted_person is not None and not _mentions(entry, wanted_person):
            continue
        if lower is not None or upper is not None:
            moment = entry.timestamp()
            if lower is not None and moment < lower:
                continue
            if upper is not None and moment >= upper:
                continue
        selected.append(entry)
    return selected


def _mentions(entry: AuditEntry, person: str) -> bool:
    if entry.object_type == "person" and entry.object_id == person:
        return True
    details = entry.details if isinstance(entry.details, dict) else {}
    single = details.get("person_id")
    if single is not None and str(single) == person:
        return True
    many = details.get("person_ids")
    if isinstance(many, list | tuple):
        return any(str(item) == person for item in many)
    return False


def _burst(
    actor: str, action: str, events: list[tuple[datetime, int]], first: int, last: int
) -> Burst:
    return Burst(
        actor=actor,
        action=action,
        start=events[first][0],
        end=events[last][0],
        count=last - first + 1,
        first_seq=events[first][1],
        last_seq=events[last][1],
    )
