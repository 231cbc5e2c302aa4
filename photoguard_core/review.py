"""The review queue: staff confirm or reject matches, name unknown faces, and draw
boxes round faces the detector missed. A confirmed face never moves on later runs;
a rejected (face, person) pair is never proposed again."""

from __future__ import annotations

from photoguard_core.catalogue.records import FaceRecord
from photoguard_core.context import POOL, Context
from photoguard_core.errors import PhotoguardError
from photoguard_core.fluid import Change, Impact, affected_by, apply_impact
from photoguard_core.geometry import Box
from photoguard_core.indexing import face_embedding, match_photo, rekey


class ReviewError(PhotoguardError):
    """The review action refers to a face or person that does not exist."""


def queue(ctx: Context) -> list[FaceRecord]:
    return ctx.store.faces_for_review()


def accept(ctx: Context, face_id: int, person_id: str) -> Impact:
    """Confirm that ``face_id`` is ``person_id`` (by hand: allowed in detection-only mode)."""
    face = _face(ctx, face_id)
    if ctx.store.person(person_id) is None:
        raise ReviewError(None, f"no person with id {person_id}")
    photo = ctx.store.photo(face.photo_id)
    with ctx.store.transaction():
        # Cannot-link: the person leaves any other face of this photo.
        for other in ctx.store.faces(face.photo_id):
            if other.id != face_id and other.person_id == person_id:
                ctx.store.set_assignment(other.id, person_id=None, assignment="unknown")
        ctx.store.set_assignment(face_id, person_id=person_id, assignment="confirmed")
        rekey(ctx, face_id, photo.sha256, face_embedding(ctx, face_id), person_id)
        ctx.store.audit(
            ctx.actor,
            "assignment",
            "face",
            str(face_id),
            {
                "person_id": person_id,
                "action": "confirm",
                "photo_id": face.photo_id,
                "was": face.person_id or face.candidate,
            },
        )
    return _follow_through(ctx, face.photo_id)


def reject(ctx: Context, face_id: int) -> Impact:
    """This face is not the person it was matched (or proposed) to."""
    face = _face(ctx, face_id)
    wrong = face.person_id or face.candidate
    photo = ctx.store.photo(face.photo_id)
    with ctx.store.transaction():
        if wrong:
            ctx.store.reject(face_id, wrong)
        ctx.store.set_assignment(face_id, person_id=None, assignment="unknown")
        rekey(ctx, face_id, photo.sha256, face_embedding(ctx, face_id), POOL)
        ctx.store.audit(
            ctx.actor,
            "assignment",
            "face",
            str(face_id),
            {"rejected": wrong, "action": "reject", "photo_id": face.photo_id},
        )
        match_photo(ctx, face.photo_id)
    return _follow_through(ctx, face.photo_id)


def add_box(ctx: Context, photo_id: int, box: Box, person_id: str | None = None) -> int:
    """A face the detector missed: always redacted unless assigned and covered."""
    if ctx.store.photo(photo_id) is None:
        raise ReviewError(None, f"no photo with id {photo_id}")
    with ctx.store.transaction():
        face_id = ctx.store.add_face(
            photo_id,
            box,
            detector="manual",
            score=1.0,
            embedding=None,
            key_owner=None,
            manual=True,
        )
        if person_id:
            ctx.store.set_assignment(face_id, person_id=person_id, assignment="confirmed")
        ctx.store.audit(
            ctx.actor,
            "assignment",
            "face",
            str(face_id),
            {
                "action": "add_box",
                "photo_id": photo_id,
                "box_xywh": box.to_xywh(),
                "person_id": person_id,
            },
        )
    _follow_through(ctx, photo_id)
    return face_id


def _follow_through(ctx: Context, photo_id: int) -> Impact:
    impact = affected_by(ctx, Change("assignment", photo_id=photo_id))
    apply_impact(ctx, impact)
    return impact


def _face(ctx: Context, face_id: int) -> FaceRecord:
    face = ctx.store.face(face_id)
    if face is None:
        raise ReviewError(None, f"no face with id {face_id}")
    return face
