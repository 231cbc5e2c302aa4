"""Plain records the catalogue stores and returns.

They carry no behaviour and no database handles, so the same records can come
from SQLite (the embedded default) or from Django models (the Wagtail adapter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from photoguard_core.geometry import Box


@dataclass(frozen=True)
class PersonRecord:
    id: str
    first_name: str
    last_name: str = ""
    role: str = "pupil"  # pupil | staff | other
    date_of_birth: date | None = None
    left_on: date | None = None
    groups: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def is_minor(self, on: date) -> bool:
        """Under 18 on ``on``. Unknown birth date counts as a minor (the stricter rules)."""
        if self.date_of_birth is None:
            return self.role == "pupil"
        dob = self.date_of_birth
        age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
        return age < 18


@dataclass(frozen=True)
class PhotoRecord:
    id: int
    sha256: str
    location: str
    format: str | None
    width: int | None
    height: int | None
    status: str  # indexed | failed
    error: str | None = None
    event: str | None = None
    taken_on: date | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaceRecord:
    id: int
    photo_id: int
    box: Box
    detector: str
    score: float
    person_id: str | None
    assignment: str  # unknown | auto | ambiguous | confirmed
    distance: float | None = None
    candidate: str | None = None  # the nearest person when ambiguous/unknown, for review
    manual: bool = False
    has_embedding: bool = False
    key_owner: str | None = None
    rejected: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class UsageRecord:
    id: int
    photo_id: int
    purpose: str
    location: str
    recorded_at: str
    recorded_by: str
    rendition_id: int | None = None


@dataclass(frozen=True)
class RenditionRecord:
    id: int
    photo_id: int
    purpose: str
    sha256: str
    location: str
    outcome: str
    created_at: str
    superseded_at: str | None = None
    shown: tuple[str, ...] = ()
