"""Per-photo, per-purpose decisions: which faces may be shown, and may the photo go out.

This is where photoguard's promise is kept (DESIGN §2): *no identifiable face leaves
unless that person is confidently identified and their in-date consent covers the
purpose*. The function is pure: the catalogue (or the Django adapter) gathers the
facts, :func:`decide` answers, and the rendition pipeline redacts exactly the faces
the answer says. A face is shown only when every one of these holds:

1. it is assigned to a person with confidence (``auto`` or ``confirmed``); unknown,
   ambiguous and rejected faces are redacted;
2. that person is known (present in ``people``);
3. the person has no safeguarding flag (a flag overrides any consent);
4. in detection-only mode, a person assigned it by hand (``confirmed``);
5. automatic recognition is still allowed for that person, when the caller says so;
6. no other face in the photo was matched automatically to the same person (one
   person has one face in a photo, so at least one of those matches is wrong);
7. their consent for the purpose covers the moment asked about.

Ambiguous matches take the most restrictive answer (DESIGN §2.2): a face that
*might* be a person whose flag withholds photos withholds the photo.

Reasons never name a safeguarding flag or the person who has one: they end up in
logs, file tags and reports that staff other than the DSL read, and "Sam is adopted"
is exactly what must not leak. The ``person_id`` is kept for the DSL's own tools.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from photoguard_core.consent.flags import Vulnerability, withholds_photo
from photoguard_core.consent.ledger import ConsentEntry, consent_as_of, require_aware
from photoguard_core.consent.purposes import Purpose
from photoguard_core.geometry import Box

Assignment = Literal["auto", "confirmed", "ambiguous", "unknown", "rejected"]
Action = Literal["show", "redact"]
Outcome = Literal["publishable", "publishable_with_redactions", "withheld"]

ASSIGNMENTS = ("auto", "confirmed", "ambiguous", "unknown", "rejected")
#: Assignments that link a face to a person firmly enough to show it.
CONFIDENT = frozenset({"auto", "confirmed"})
#: Assignments that *might* be the person: enough to withhold, never to show.
POSSIBLE = frozenset({"auto", "confirmed", "ambiguous"})

_AUDIENCE_WORDS = {
    "public": "anything the public can see",
    "portal": "the parents' portal, which other families see",
}
_SAFEGUARDING = (
    "redacted for safeguarding reasons, whatever consent says "
    "(the designated safeguarding lead knows why)"
)


@dataclass(frozen=True)
class FaceFacts:
    """What the catalogue knows about one face in a photo.

    ``assignment`` is how the face was linked to ``person_id``: ``auto`` (matched by
    recognition), ``confirmed`` (by a person), ``ambiguous`` (close to more than one
    person; ``person_id`` is the best candidate or ``None``), ``unknown`` (no match)
    or ``rejected`` (staff said it is not ``person_id``). ``manual`` marks a box staff
    drew for a face the detector missed.
    """

    face_id: int | str
    box: Box
    person_id: str | None
    assignment: Assignment
    distance: float | None = None
    manual: bool = False

    def __post_init__(self) -> None:
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(
                f"face {self.face_id}: unknown assignment {self.assignment!r} "
                f"(choose from {', '.join(ASSIGNMENTS)})"
            )


@dataclass(frozen=True)
class PersonFacts:
    """What a decision needs to know about one person.

    ``recognition_allowed`` is the current biometric decision for the person when the
    caller has it: ``False`` means their automatic matches no longer count (consent
    withdrawn, templates being deleted), so only faces confirmed by hand can be shown.
    ``None`` leaves that check to the caller.
    """

    person_id: str
    display_name: str
    is_minor: bool
    flags: frozenset[Vulnerability]
    consents: tuple[ConsentEntry, ...]
    recognition_allowed: bool | None = None

    def __post_init__(self) -> None:
        # Adapters hand over strings and lists; store them in the frozen forms.
        object.__setattr__(self, "flags", frozenset(Vulnerability(f) for f in self.flags))
        object.__setattr__(self, "consents", tuple(self.consents))

    @property
    def name(self) -> str:
        return self.display_name.strip() or f"person {self.person_id}"


@dataclass(frozen=True)
class FaceDecision:
    """Show or redact one face, with the reason in words."""

    face_id: int | str
    action: Action
    reason: str
    person_id: str | None
    box: Box

    def to_dict(self) -> dict[str, Any]:
        return {
            "face_id": self.face_id,
            "action": self.action,
            "reason": self.reason,
            "person_id": self.person_id,
            "box_xywh": self.box.to_xywh(),
        }


@dataclass(frozen=True)
class PhotoDecision:
    """The decision for one photo, one purpose, one moment.

    When ``outcome`` is ``withheld`` every face is marked ``redact`` as well, so an
    adapter that renders a withheld photo by mistake still shows no face.
    """

    purpose: str
    at: datetime
    outcome: Outcome
    faces: tuple[FaceDecision, ...]
    reasons: tuple[str, ...]

    @property
    def withheld(self) -> bool:
        return self.outcome == "withheld"

    def show_boxes(self) -> tuple[Box, ...]:
        """Boxes of faces that may stay visible (``RenditionPlan.show``)."""
        return tuple(f.box for f in self.faces if f.action == "show")

    def redact_boxes(self) -> tuple[Box, ...]:
        """Boxes of faces that must be redacted (``RenditionPlan.redact``)."""
        return tuple(f.box for f in self.faces if f.action == "redact")

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "at": self.at.isoformat(),
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "faces": [f.to_dict() for f in self.faces],
        }


def decide(
    faces: Iterable[FaceFacts],
    people: Mapping[str, PersonFacts],
    purpose: Purpose,
    at: datetime,
    *,
    detection_only: bool = False,
) -> PhotoDecision:
    """Decide every face of one photo for ``purpose`` at the instant ``at``.

    Raises :class:`ValueError` for facts that cannot be right (a naive ``at``, two
    faces with one id): a caller that cannot decide must publish nothing.
    """
    at = require_aware(at, "at")
    faces = tuple(faces)
    _check_unique(faces)
    clashes = _clashing_auto_matches(faces)
    decisions = [
        _decide_face(face, people, purpose, at, detection_only, face.face_id in clashes)
        for face in faces
    ]
    withheld_because = _withholding(faces, people, purpose)
    if withheld_because:
        decisions = [_withheld_face(d) for d in decisions]
        return PhotoDecision(
            purpose.name, at, "withheld", tuple(decisions), (withheld_because, _tally(decisions))
        )
    redacted = any(d.action == "redact" for d in decisions)
    outcome: Outcome = "publishable_with_redactions" if redacted else "publishable"
    return PhotoDecision(purpose.name, at, outcome, tuple(decisions), (_tally(decisions),))


def _check_unique(faces: tuple[FaceFacts, ...]) -> None:
    repeated = [fid for fid, n in Counter(f.face_id for f in faces).items() if n > 1]
    if repeated:
        raise ValueError(f"face id(s) given more than once: {', '.join(map(str, repeated))}")


def _clashing_auto_matches(faces: tuple[FaceFacts, ...]) -> set[int | str]:
    """Automatic matches that put one person on two faces of this photo.

    A person appears once in a photo, so at least one such match is wrong; we cannot
    tell which, so all of them lose. A face a person confirmed by hand wins over
    automatic matches to the same person.
    """
    by_person: dict[str, list[FaceFacts]] = {}
    for face in faces:
        if face.person_id is not None and face.assignment in CONFIDENT:
            by_person.setdefault(face.person_id, []).append(face)
    clashes: set[int | str] = set()
    for group in by_person.values():
        autos = [f.face_id for f in group if f.assignment == "auto"]
        if len(group) > 1 and autos:
            clashes.update(autos)
    return clashes


def _decide_face(
    face: FaceFacts,
    people: Mapping[str, PersonFacts],
    purpose: Purpose,
    at: datetime,
    detection_only: bool,
    clashes: bool,
) -> FaceDecision:
    def redact(reason: str) -> FaceDecision:
        return FaceDecision(face.face_id, "redact", reason, face.person_id, face.box)

    unassigned = _unassigned_reason(face)
    if unassigned:
        return redact(unassigned)
    person = people.get(face.person_id) if face.person_id is not None else None
    if person is None:
        return redact(
            "the person this face was assigned to is not in the catalogue any more, "
            "so the face is redacted"
        )
    if person.flags:
        return redact(_SAFEGUARDING)
    if face.assignment == "auto":
        automatic = _automatic_match_problem(person, detection_only, clashes)
        if automatic:
            return redact(automatic)
    state = consent_as_of(person.consents, person.person_id, purpose.name, at)
    if not state.covered:
        return redact(f"{person.name}: {state.reason}")
    how = "confirmed by staff" if face.assignment == "confirmed" else "recognised automatically"
    return FaceDecision(
        face.face_id, "show", f"{person.name} ({how}): {state.reason}", face.person_id, face.box
    )


def _unassigned_reason(face: FaceFacts) -> str | None:
    drawn = " (box drawn by hand)" if face.manual else ""
    if face.assignment == "unknown":
        return f"nobody has been identified in this face{drawn}; unknown faces are always redacted"
    if face.assignment == "ambiguous":
        return (
            f"this face could be more than one person{drawn}; it stays redacted until "
            "someone confirms who it is"
        )
    if face.assignment == "rejected":
        return f"the suggested match for this face was rejected in review{drawn}"
    if face.person_id is None:
        return f"this face is not assigned to anyone{drawn}"
    return None


def _automatic_match_problem(
    person: PersonFacts, detection_only: bool, clashes: bool
) -> str | None:
    if detection_only:
        return (
            f"matched to {person.name} automatically, but the school runs in detection-only "
            "mode: only faces assigned by hand can be shown"
        )
    if person.recognition_allowed is False:
        return (
            f"matched to {person.name} automatically, but biometric consent for "
            f"{person.name} no longer allows recognition; a member of staff must confirm it"
        )
    if clashes:
        return (
            f"matched to {person.name}, who is also matched to another face in this photo; "
            "one match must be wrong, so this face stays redacted until someone confirms it"
        )
    return None


def _withholding(
    faces: tuple[FaceFacts, ...], people: Mapping[str, PersonFacts], purpose: Purpose
) -> str | None:
    """Why the whole photo is withheld from ``purpose``, or ``None``."""
    flagged = [
        face.face_id
        for face in faces
        if face.assignment in POSSIBLE
        and face.person_id in people
        and withholds_photo(people[face.person_id].flags, purpose.audience)
    ]
    if not flagged:
        return None
    which = ("face " if len(flagged) == 1 else "faces ") + ", ".join(map(str, flagged))
    where = _AUDIENCE_WORDS.get(purpose.audience, f"the {purpose.audience} audience")
    return (
        f"withheld from {purpose.label}: for safeguarding reasons, someone in this photo "
        f"({which}) must not appear at all in {where}; hiding the face is not enough, "
        "because clothing, the setting and the people around them can still identify them"
    )


def _withheld_face(decision: FaceDecision) -> FaceDecision:
    if decision.action == "redact":
        return decision
    reason = f"the photo is withheld, so no face is shown (otherwise: {decision.reason})"
    return FaceDecision(decision.face_id, "redact", reason, decision.person_id, decision.box)


def _tally(decisions: list[FaceDecision]) -> str:
    if not decisions:
        return (
            "no faces are recorded for this photo; the redaction check still hides any face "
            "it finds"
        )
    shown = sum(d.action == "show" for d in decisions)
    total = len(decisions)
    noun = "face" if total == 1 else "faces"
    return f"{total} {noun}: {shown} shown, {total - shown} redacted"
