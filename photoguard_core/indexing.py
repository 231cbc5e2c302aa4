"""Indexing: photos into the catalogue, faces found, encoded, encrypted and matched.

Detection and encoding run in worker processes (one per core); everything that
touches the catalogue runs here, one transaction per photo, so an interrupted run
keeps every photo it finished and the next run skips them (photos are known by
content hash, so a moved or renamed file is not indexed twice).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np

from photoguard_core.batch import Outcome, run
from photoguard_core.context import POOL, Context
from photoguard_core.faces.matching import Template, match_faces
from photoguard_core.filehash import sha256_file
from photoguard_core.geometry import Box
from photoguard_core.jobs import scan_job

#: Assignment state stored for each matching result.
_STATE = {"matched": "auto", "ambiguous": "ambiguous", "unknown": "unknown"}


@dataclass
class IndexSummary:
    indexed: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    faces: int = 0
    matched: int = 0

    def to_dict(self) -> dict:
        return {
            "indexed": self.indexed,
            "skipped": self.skipped,
            "failed": [{"source": s, "error": e} for s, e in self.failed],
            "faces": self.faces,
            "matched": self.matched,
        }


def index_files(
    ctx: Context, files: list[Path], *, workers: int | None = None, force: bool = False
) -> IndexSummary:
    """Index ``files``; photos already indexed (same content) are skipped unless ``force``."""
    summary = IndexSummary()
    todo = []
    for path in files:
        known = ctx.store.photo_by_sha(sha256_file(path)[0]) if not force else None
        if known is not None and known.status == "indexed":
            summary.skipped += 1
        else:
            todo.append(path)
    if not todo:
        return summary
    templates = load_templates(ctx)
    # Detection-only schools process no biometric data at all: no encodings.
    for outcome in _scan(todo, workers, encode=not ctx.detection_only):
        if outcome.ok:
            location = str(Path(outcome.source).resolve())
            faces, matched = record_scan(ctx, outcome.payload, location, templates)
            summary.indexed += 1
            summary.faces += faces
            summary.matched += matched
        else:
            _store_failure(ctx, outcome)
            summary.failed.append((outcome.source, outcome.error or "unknown error"))
    return summary


def _scan(files: list[Path], workers: int | None, *, encode: bool) -> Iterator[Outcome]:
    yield from run(
        scan_job,
        files,
        workers=workers,
        label="photos",
        detector="centerface-sweep",
        encode=encode,
        embeddings=encode,
    )


def index_bytes(
    ctx: Context, data: bytes, location: str, *, name: str | None = None, force: bool = False
) -> int:
    """Index one photo held in memory (an upload, a file from remote storage).

    ``location`` says where the original lives, in the host's terms (a path, a
    storage name, a Nextcloud file id). Returns the photo id. A photo already
    indexed (same content) is left as it is — re-indexing would drop the faces
    staff confirmed — unless ``force``. Decoding errors raise, after the failure
    is recorded.
    """
    from photoguard_core.scan import scan_image

    known = ctx.store.photo_by_sha(hashlib.sha256(data).hexdigest())
    if known is not None and known.status == "indexed" and not force:
        return known.id
    try:
        scan = scan_image(data, name=name or location, encode=not ctx.detection_only)
    except Exception as err:
        with ctx.store.transaction():
            photo_id = ctx.store.save_photo(
                hashlib.sha256(data).hexdigest(),
                location,
                fmt=None,
                size=None,
                status="failed",
                error=str(err),
            )
            ctx.store.audit(ctx.actor, "index_failed", "photo", str(photo_id), {"error": str(err)})
        raise
    record_scan(ctx, scan.to_dict(encodings=True), location, load_templates(ctx))
    return ctx.store.photo_by_sha(scan.sha256).id


def record_scan(
    ctx: Context, scan: dict, location: str, templates: list[Template]
) -> tuple[int, int]:
    """Store one scan (as ``ScanResult.to_dict(encodings=True)``): photo, faces, matches.

    One transaction: a crash leaves the photo either fully recorded or absent.
    Returns (faces, matched).
    """
    with ctx.store.transaction():
        photo_id = ctx.store.save_photo(
            scan["sha256"],
            location,
            fmt=scan["format"],
            size=tuple(scan["size"]),
            status="indexed",
        )
        ctx.store.set_taken_on(photo_id, _taken_on(scan.get("taken")))
        ctx.store.delete_faces(photo_id)
        for face in scan["faces"]:
            embedding = None
            if face.get("encoding") is not None:
                vector = np.asarray(face["encoding"], dtype=np.float64)
                embedding = ctx.seal(POOL, vector, aad=_aad(scan["sha256"]))
            ctx.store.add_face(
                photo_id,
                Box.from_xywh(*face["box_xywh"]),
                detector=face["detector"],
                score=face["score"],
                embedding=embedding,
                key_owner=POOL if embedding else None,
            )
        matched = match_photo(ctx, photo_id, templates)
        ctx.store.audit(
            ctx.actor,
            "index",
            "photo",
            str(photo_id),
            {"sha256": scan["sha256"], "faces": len(scan["faces"]), "matched": matched},
        )
    return len(scan["faces"]), matched


def _store_failure(ctx: Context, outcome: Outcome) -> None:
    path = Path(outcome.source)
    try:
        sha = sha256_file(path)[0]
    except OSError:
        sha = "unreadable:" + hashlib.sha256(str(path).encode()).hexdigest()
    with ctx.store.transaction():
        photo_id = ctx.store.save_photo(
            sha, str(path.resolve()), fmt=None, size=None, status="failed", error=outcome.error
        )
        ctx.store.audit(ctx.actor, "index_failed", "photo", str(photo_id), {"error": outcome.error})


def load_templates(ctx: Context) -> list[Template]:
    """Decrypted templates of every enrolled person (shredded ones are unreadable: skipped)."""
    if ctx.detection_only:
        return []
    out = []
    for person_id, blob in ctx.store.templates():
        vector = ctx.open(person_id, blob, aad="template")
        if vector is not None:
            out.append(Template(person_id, vector))
    return out


def match_photo(ctx: Context, photo_id: int, templates: list[Template] | None = None) -> int:
    """Re-run matching for one photo; confirmed faces keep their person. Returns matches."""
    if templates is None:
        templates = load_templates(ctx)
    faces = ctx.store.faces(photo_id)
    photo = ctx.store.photo(photo_id)
    encodings = [_embedding(ctx, face.id, photo.sha256) for face in faces]
    confirmed = {i: f.person_id for i, f in enumerate(faces) if f.assignment == "confirmed"}
    rejected = {i: f.rejected for i, f in enumerate(faces) if f.rejected}
    results = match_faces(encodings, templates, confirmed=confirmed, rejected=rejected)
    matched = 0
    for face, result, vector in zip(faces, results, encodings, strict=True):
        if face.assignment == "confirmed":
            continue
        state = _STATE.get(result.state, "unknown")
        person = result.person_id if state == "auto" else None
        candidate = result.person_id if state != "auto" else None
        if state == "ambiguous":
            candidate = result.person_id or result.runner_up
        ctx.store.set_assignment(
            face.id,
            person_id=person,
            assignment=state,
            distance=result.distance,
            candidate=candidate,
        )
        rekey(ctx, face.id, photo.sha256, vector, person or POOL)
        matched += state == "auto"
    return matched


def rekey(
    ctx: Context, face_id: int, photo_sha: str, vector: np.ndarray | None, owner: str
) -> None:
    """Keep a face's embedding under the key of the person it is assigned to."""
    stored = ctx.store.face_embedding(face_id)
    if vector is None or stored is None or stored[1] == owner:
        return
    ctx.store.set_embedding(face_id, ctx.seal(owner, vector, aad=_aad(photo_sha)), owner)


def _embedding(ctx: Context, face_id: int, photo_sha: str) -> np.ndarray | None:
    stored = ctx.store.face_embedding(face_id)
    if stored is None:
        return None
    return ctx.open(stored[1], stored[0], aad=_aad(photo_sha))


def face_embedding(ctx: Context, face_id: int) -> np.ndarray | None:
    face = ctx.store.face(face_id)
    photo = ctx.store.photo(face.photo_id) if face else None
    return _embedding(ctx, face_id, photo.sha256) if photo else None


def _taken_on(stamp: str | None) -> date | None:
    """The date the photo was taken, from its EXIF "YYYY:MM:DD HH:MM:SS" (for finding)."""
    try:
        return datetime.strptime(stamp[:10], "%Y:%m:%d").date() if stamp else None
    except ValueError:
        return None


def _aad(photo_sha: str) -> str:
    return f"face:{photo_sha}"
