"""Biometric consent, enrolment of reference photos, and crypto-shredding.

A face template is biometric data (special category data under UK GDPR; for
pupils the Protection of Freedoms Act 2012 applies). So templates exist only
while :func:`photoguard_core.consent.biometric_allowed` says so, and the moment it
stops saying so the person's data key is deleted: their templates and their face
embeddings become unreadable at once, and their faces fall back to unknown, which
means redacted everywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from photoguard_core.consent import BiometricResponse, biometric_allowed
from photoguard_core.context import Context
from photoguard_core.errors import PhotoguardError
from photoguard_core.faces.matching import enrolment_encoding


class EnrolmentError(PhotoguardError):
    """Enrolment refused: no biometric consent, unknown person, or an unusable photo."""


@dataclass
class BiometricChange:
    person_id: str
    allowed_before: bool
    allowed_after: bool
    reason: str
    shredded: bool


def biometric_status(ctx: Context, person_id: str) -> tuple[bool, str]:
    person = ctx.store.person(person_id)
    if person is None:
        return False, f"no person with id {person_id}"
    decision = biometric_allowed(
        ctx.store.biometric_responses(person_id),
        is_minor=person.is_minor(ctx.now().date()),
        at=ctx.now(),
        detection_only=ctx.detection_only,
    )
    return decision.allowed, decision.reason


def record_biometric(
    ctx: Context,
    person_id: str,
    response: str,
    *,
    respondent: str = "parent",
    respondent_name: str = "",
    in_writing: bool = True,
) -> BiometricChange:
    """Append a response; if recognition is no longer allowed, shred at once."""
    if ctx.store.person(person_id) is None:
        raise EnrolmentError(None, f"no person with id {person_id}")
    before, _ = biometric_status(ctx, person_id)
    with ctx.store.transaction():
        ctx.store.append_biometric(
            BiometricResponse(
                person_id=person_id,
                respondent=respondent,
                respondent_name=respondent_name or respondent,
                response=response,
                in_writing=in_writing,
                recorded_at=ctx.now(),
                recorded_by=ctx.actor,
            )
        )
        after, reason = biometric_status(ctx, person_id)
        ctx.store.audit(
            ctx.actor,
            "biometric_change",
            "person",
            person_id,
            {"response": response, "respondent": respondent, "allowed": after},
        )
        shredded = False
        holds_data = ctx.store.wrapped_key(person_id) or ctx.store.template_count(person_id)
        if not after and holds_data:
            shredded = shred_person(ctx, person_id, reason=reason)
    return BiometricChange(person_id, before, after, reason, shredded)


def enrol(ctx: Context, person_id: str, photos: list[Path]) -> int:
    """Add one template per reference photo; returns how many were added."""
    allowed, reason = biometric_status(ctx, person_id)
    if not allowed:
        raise EnrolmentError(None, f"cannot enrol {person_id}: {reason}")
    vectors = []
    for path in photos:
        try:
            vectors.append(
                (enrolment_encoding(path), hashlib.sha256(path.read_bytes()).hexdigest())
            )
        except (ValueError, PhotoguardError) as err:
            raise EnrolmentError(path, str(err)) from err
    with ctx.store.transaction():
        for vector, sha in vectors:
            ctx.store.add_template(person_id, ctx.seal(person_id, vector, aad="template"), sha)
        ctx.store.audit(ctx.actor, "enrol", "person", person_id, {"templates_added": len(vectors)})
    return len(vectors)


def shred_person(ctx: Context, person_id: str, *, reason: str) -> bool:
    """Crypto-shred: delete the data key and templates; the person's faces become unknown."""
    with ctx.store.transaction():
        faces = ctx.store.faces_with_key_owner(person_id)
        for face_id in faces:
            ctx.store.set_embedding(face_id, None, None)
        for face in ctx.store.faces_of_person(person_id, ("auto", "ambiguous", "confirmed")):
            ctx.store.set_assignment(face.id, person_id=None, assignment="unknown")
        removed = ctx.store.delete_templates(person_id)
        shredded = ctx.shred(person_id)
        ctx.store.audit(
            ctx.actor,
            "shred",
            "person",
            person_id,
            {"reason": reason, "templates_deleted": removed, "face_embeddings": len(faces)},
        )
    return shredded or removed > 0
