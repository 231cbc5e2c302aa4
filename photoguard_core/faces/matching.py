"""Matching: which enrolled person, if anyone, each face of one photo is.

Plain functions over numpy arrays, in the spirit of face_recognition's ``api.py``::

    from photoguard_core.faces.matching import Template, enrolment_encoding, match_faces

    templates = [Template("p-17", enrolment_encoding("ref/p-17.jpg")), ...]
    results = match_faces([face.encoding for face in faces], templates)
    shown = {r.index: r.person_id for r in results if r.identified}

A wrong match is the one failure photoguard cannot undo: a stranger (or a sibling)
taken for an enrolled pupil is published under that pupil's consent. A missed match
only costs a redaction and a trip through the review queue. Every rule below
therefore trades recall for certainty, and a face is ``matched`` only when it is
clearly one enrolled person and clearly the only face in the photo that could be:

1. **Threshold.** The face's distance to a person (the minimum over that person's
   templates) must be at most ``threshold`` (:data:`THRESHOLD`, stricter than
   face_recognition's 0.6).
2. **Margin (siblings).** Every other person must be more than ``margin`` further
   away; otherwise the face is ``ambiguous``. Rivals count even when they are over
   the threshold or were ruled out for this face (rejected by a reviewer, confirmed
   on another face): "not P" from a reviewer does not make a face that looks just
   as much like P and Q into Q. Q is proposed, for a reviewer to confirm.
3. **Cannot-link.** Two faces of one photo are never the same person. Assignment is
   greedy by ascending distance *without fallback* and refuses narrow wins: a face
   keeps its nearest person only if every other face for which that person is
   plausible (its nearest, or within the margin of its nearest) is more than
   ``margin`` further from that person. A face that loses becomes ``ambiguous`` (it
   does not fall back to its second-best person: it looked more like the person a
   closer face took). Optimal assignment (Hungarian) was rejected for the same
   reason: minimising the total distance can hand a face a person who is not its
   nearest, which is exactly the guess we must not publish.
4. **Manual decisions win.** ``confirmed`` faces keep their person whatever the
   distances say, and that person is taken for the rest of the photo; a
   ``rejected`` (face, person) pair is never proposed again.

Enrolment (:func:`enrolment_encoding`) is strict for the same reason: a template
made from the wrong face in a reference photo would publish someone else's face
under the enrolled person's consent, in every photo, until noticed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from photoguard_core.errors import PhotoguardError
from photoguard_core.faces import DEFAULT_DETECTOR, detect_faces, encode_faces
from photoguard_core.faces.types import Face

__all__ = [
    "ENCODING_SIZE",
    "ENROL_DOMINANCE",
    "ENROL_MIN_SCORE",
    "ENROL_MIN_SIZE",
    "MARGIN",
    "THRESHOLD",
    "MatchResult",
    "MatchState",
    "ReferencePhotoError",
    "Template",
    "enrolment_encoding",
    "face_distances",
    "match_faces",
]

#: Largest face distance still accepted as "the same person".
#: ``bench/matching.py`` on shared/data/identity (45 photos, 20 adults; 14 enrolled
#: from one reference photo each; 31 query photos with 36 encoded faces, 28 of them
#: labelled with an enrolled person; 6 people never enrolled): no false match at any
#: threshold from 0.30 to 0.60, with or without the margin; true-match rate 0.75 at
#: 0.40, 0.82 at 0.45, 0.93 at 0.475-0.525, 1.00 at 0.60. The closest face to a wrong
#: person's template was 0.578 away (deepface_person_07 vs _09), the closest stranger
#: 0.667, and a normal fit to the 469 wrong-person distances puts the nearest of 1 500
#: enrolled people at about 0.60 (the observed 0.578 shows the tail is heavier). 0.45
#: keeps about 0.13 below the closest wrong person: the set is small and adult, a
#: school enrols far more people, and children sit closer together in dlib's space;
#: the faces it costs (0.45-0.60 from their reference) go to the review queue.
THRESHOLD = 0.45

#: The runner-up person must be more than this much further away than the best, or
#: the face is ambiguous (siblings, look-alikes). Same bench: at 0.45 every margin from
#: 0 to 0.20 gives the same true-match rate (every correct match within 0.60 was at
#: least 0.122 nearer than the next person); the set has no siblings, so it cannot show
#: what the margin saves. 0.10 stays below that smallest genuine gap, with some room.
MARGIN = 0.10

#: A dlib face encoding has this many dimensions.
ENCODING_SIZE = 128

#: A reference face must be at least this many pixels on its shorter side (full
#: resolution): a template from a small face blurs into everyone else's.
ENROL_MIN_SIZE = 80
#: The reference face must be this many times the size of any other face in the
#: photo; otherwise it is unclear whom the photo is of, and we refuse.
ENROL_DOMINANCE = 1.5
#: CenterFace detections under this score are not trusted as a reference face (the
#: scanner's cut-off before encoding, MIN_ENCODE_SCORE_CENTERFACE: weak ones are clutter).
ENROL_MIN_SCORE = 0.5

MatchState = Literal["matched", "ambiguous", "unknown", "confirmed", "rejected"]


@dataclass(frozen=True, eq=False)
class Template:
    """One enrolled encoding of a person (a person may have several)."""

    person_id: str
    encoding: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.person_id, str) or not self.person_id:
            raise ValueError("a template needs a non-empty person_id")
        object.__setattr__(self, "encoding", _vector(self.encoding, f"template {self.person_id}"))


@dataclass(frozen=True)
class MatchResult:
    """What matching concluded for the face at ``index``.

    ``state``: ``matched`` (clearly this enrolled person), ``confirmed`` (a reviewer
    said so), ``ambiguous`` (a candidate, but another person or another face is too
    close to call: review), ``unknown`` (nobody close enough, or no encoding),
    ``rejected`` (its nearest person was rejected by a reviewer and nobody else is
    close: reviewed already). Only the first two may ever be shown.

    ``person_id`` is an *identity* only when ``state`` is ``matched`` or
    ``confirmed`` (see :attr:`identified`). For ``ambiguous`` faces it is the nearest
    candidate, offered to a reviewer, never to be shown; for ``unknown`` and
    ``rejected`` it is None. ``distance`` is the distance to ``person_id`` (for
    ``unknown``/``rejected``: to the nearest person still allowed, if any).
    ``runner_up`` is the next-nearest *person* (any person other than ``person_id``).
    ``reason`` is a sentence a member of staff can read.
    """

    index: int
    person_id: str | None
    state: MatchState
    distance: float | None
    runner_up: str | None
    runner_up_distance: float | None
    reason: str

    @property
    def identified(self) -> bool:
        """True when the face may be treated as ``person_id`` (and only then)."""
        return self.state in ("matched", "confirmed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "person_id": self.person_id,
            "state": self.state,
            "distance": _round(self.distance),
            "runner_up": self.runner_up,
            "runner_up_distance": _round(self.runner_up_distance),
            "reason": self.reason,
        }


class ReferencePhotoError(PhotoguardError, ValueError):
    """A reference photo cannot be enrolled from. ``code`` says why, for scripts:

    ``no_face`` (none found), ``several_faces`` (no face clearly the largest),
    ``too_small`` (under :data:`ENROL_MIN_SIZE` px), ``unclear`` (weak detection).
    """

    def __init__(self, source: str | Path | None, reason: str, code: str) -> None:
        super().__init__(source, reason)
        self.code = code


# --- distances ------------------------------------------------------------------------


def face_distances(encodings: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """Euclidean distances, shape (faces, templates): face_recognition's face_distance.

    Uses |a|^2 + |b|^2 - 2ab rather than broadcasting differences: a photo of 40
    faces against 3 000 templates would otherwise build a 120 MB temporary.
    """
    a = np.asarray(encodings, dtype=np.float64).reshape(-1, ENCODING_SIZE)
    b = np.asarray(templates, dtype=np.float64).reshape(-1, ENCODING_SIZE)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.clip(squared, 0.0, None))


def _person_distances(
    encodings: Sequence[np.ndarray | None], templates: Sequence[Template]
) -> tuple[list[str], np.ndarray]:
    """Persons (sorted) and a (faces, persons) matrix: min over each person's templates.

    Faces without an encoding get a row of ``inf``.
    """
    persons = sorted({t.person_id for t in templates})
    out = np.full((len(encodings), len(persons)), np.inf)
    rows = [i for i, e in enumerate(encodings) if e is not None]
    if not rows or not persons:
        return persons, out
    column = {p: j for j, p in enumerate(persons)}
    vectors = np.stack([_vector(encodings[i], f"encoding of face {i}") for i in rows])
    per_template = face_distances(vectors, np.stack([t.encoding for t in templates]))
    # Group template columns by person, then one reduceat takes every person's minimum.
    owner = np.array([column[t.person_id] for t in templates])
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(persons)))
    out[rows] = np.minimum.reduceat(per_template[:, order], starts, axis=1)
    return persons, out


# --- matching -------------------------------------------------------------------------


def match_faces(
    encodings: Sequence[np.ndarray | None],
    templates: Sequence[Template],
    *,
    threshold: float = THRESHOLD,
    margin: float = MARGIN,
    confirmed: Mapping[int, str] | None = None,
    rejected: Mapping[int, Collection[str]] | None = None,
) -> list[MatchResult]:
    """One :class:`MatchResult` per face of ONE photo, in the order given.

    ``encodings[i]`` is face ``i``'s 128-d encoding, or None when it had none (too
    small or unclear: such a face is ``unknown``). ``confirmed`` maps a face index to
    the person a reviewer confirmed (kept whatever the distances; two faces confirmed
    as one person are both honoured, e.g. a pupil and their poster behind them).
    ``rejected`` maps a face index to persons a reviewer said it is not. See the
    module docstring for the rules and why each one is there.

    Raises ``ValueError`` for malformed input (wrong vector size, NaN, an index out
    of range, a threshold <= 0 or a negative margin): a caller's bug must not pass
    silently into a publishing decision.
    """
    if not threshold > 0 or not margin >= 0:
        raise ValueError(f"threshold must be > 0 and margin >= 0, not {threshold}, {margin}")
    photo = _Photo(encodings, templates, threshold, margin, confirmed or {}, rejected or {})
    return [photo.result(i) for i in range(len(encodings))]


class _Photo:
    """The faces of one photo against every person: the state the rules share."""

    def __init__(
        self,
        encodings: Sequence[np.ndarray | None],
        templates: Sequence[Template],
        threshold: float,
        margin: float,
        confirmed: Mapping[int, str],
        rejected: Mapping[int, Collection[str]],
    ) -> None:
        n = len(encodings)
        for what, indexes in (("confirmed", confirmed), ("rejected", rejected)):
            bad = [i for i in indexes if not 0 <= i < n]
            if bad:
                raise ValueError(f"{what} face index {bad[0]} out of range for {n} faces")
        self.threshold, self.margin = threshold, margin
        self.encoded = np.array([e is not None for e in encodings], dtype=bool)
        self.confirmed = dict(confirmed)
        self.rejected = {i: frozenset(p) for i, p in rejected.items()}
        self.persons, self.dist = _person_distances(encodings, templates)
        column = {p: j for j, p in enumerate(self.persons)}
        # A confirmed person is taken for every other face (the lowest face index is named).
        self.taken = {p: i for i, p in sorted(self.confirmed.items(), reverse=True)}

        # allowed[i, j]: face i may still be proposed person j (not rejected, not taken).
        self.allowed = np.ones(self.dist.shape, dtype=bool)
        for i, refused in self.rejected.items():
            self.allowed[i, [column[p] for p in refused if p in column]] = False
        self.allowed[:, [column[p] for p in self.taken if p in column]] = False
        # Each unconfirmed encoded face's nearest allowed person (ties: by person id).
        open_faces = self.encoded.copy()
        open_faces[list(self.confirmed)] = False
        masked = np.where(self.allowed & open_faces[:, None], self.dist, np.inf)
        self.best = np.zeros(n, dtype=int)
        self.best_d = np.full(n, np.inf)
        if self.persons:
            self.best = masked.argmin(axis=1)
            self.best_d = masked[np.arange(n), self.best]
        self.has_best = np.isfinite(self.best_d)

    def plausible(self, j: int) -> np.ndarray:
        """Which faces could be person ``j``: allowed, and within the margin of their nearest."""
        with np.errstate(invalid="ignore"):
            close = self.dist[:, j] - self.best_d <= self.margin
        return self.has_best & self.allowed[:, j] & close

    def result(self, i: int) -> MatchResult:
        if i in self.confirmed:
            person = self.confirmed[i]
            j = self.persons.index(person) if person in self.persons else None
            d = float(self.dist[i, j]) if j is not None and self.encoded[i] else None
            return MatchResult(i, person, "confirmed", d, None, None, "confirmed by a reviewer")
        if not self.encoded[i]:
            return _unknown(i, None, "too small or unclear to recognise")
        if not self.persons:
            return _unknown(i, None, "no enrolled person to compare with")
        j = int(self.best[i]) if self.has_best[i] else None
        if j is None or self.dist[i, j] > self.threshold:
            return self._not_close(i, j)
        return self._close(i, j)

    def _close(self, i: int, j: int) -> MatchResult:
        """Face ``i``'s nearest allowed person ``j`` is within the threshold: rules 2 and 3."""
        row, person, margin = self.dist[i], self.persons[j], self.margin
        d = float(row[j])
        rival_name = rival_d = None
        if len(self.persons) > 1:
            others = row.copy()
            others[j] = np.inf
            rival = int(others.argmin())
            rival_name, rival_d = self.persons[rival], float(row[rival])

        def ambiguous(reason: str) -> MatchResult:
            return MatchResult(i, person, "ambiguous", d, rival_name, rival_d, reason)

        # Rule 2: another person (even one ruled out for this face) nearly as close.
        if rival_d is not None and rival_d - d <= margin:
            return ambiguous(
                f"{person} ({d:.2f}) and {rival_name} ({rival_d:.2f}) are within the margin "
                f"({margin:.2f}) of each other{self._ruled_out(i, rival_name)}: "
                "a reviewer must decide"
            )
        # Rule 3: another face of this photo that is as plausibly this person.
        contenders = self.plausible(j) & (self.dist[:, j] - d <= margin)
        contenders[i] = False
        if contenders.any():
            g = int(np.where(contenders, self.dist[:, j], np.inf).argmin())
            dg = float(self.dist[g, j])
            how = "closer to" if dg < d else "almost as close to"
            return ambiguous(
                f"face {g} is {how} {person} ({dg:.2f} against {d:.2f}); two faces in one "
                "photo are never the same person, so a reviewer must decide"
            )
        after = f"; next {rival_name} at {rival_d:.2f}" if rival_name is not None else ""
        reason = f"{person} at {d:.2f} (threshold {self.threshold:.2f}){after}"
        return MatchResult(i, person, "matched", d, rival_name, rival_d, reason)

    def _not_close(self, i: int, j: int | None) -> MatchResult:
        """Nobody still allowed is within the threshold: unknown, or rejected by a reviewer."""
        row, threshold = self.dist[i], self.threshold
        d = float(row[j]) if j is not None else None
        nearest = int(row.argmin())
        name, nd = self.persons[nearest], float(row[nearest])
        if nd <= threshold and name in self.rejected.get(i, ()):
            reason = (
                f"a reviewer rejected {name} ({nd:.2f}) for this face and no other enrolled "
                f"person is within {threshold:.2f}"
            )
            return MatchResult(i, None, "rejected", d, None, None, reason)
        if nd <= threshold and name in self.taken:
            return _unknown(
                i,
                d,
                f"nearest {name} ({nd:.2f}) is confirmed on face {self.taken[name]}; two faces "
                f"in one photo are never the same person, and nobody else is within "
                f"{threshold:.2f}",
            )
        return _unknown(i, d, f"no enrolled person within {threshold:.2f} (nearest at {nd:.2f})")

    def _ruled_out(self, i: int, person: str | None) -> str:
        if person in self.rejected.get(i, ()):
            return f" ({person} was rejected by a reviewer, but the face looks as much like them)"
        if person in self.taken:
            return (
                f" ({person} is confirmed on face {self.taken[person]}, but this face looks as "
                "much like them)"
            )
        return ""


def _unknown(i: int, distance: float | None, reason: str) -> MatchResult:
    return MatchResult(i, None, "unknown", distance, None, None, reason)


# --- enrolment ------------------------------------------------------------------------


def enrolment_encoding(
    source: str | Path | bytes | np.ndarray,
    *,
    detector: str = DEFAULT_DETECTOR,
    min_size: float = ENROL_MIN_SIZE,
) -> np.ndarray:
    """The 128-d template of the one clear face in a reference photo.

    ``source`` is a file path, the file's bytes, or an upright RGB ``uint8`` array
    (taken as full resolution). The largest face is used, but only if it is at least
    ``min_size`` px (shorter side, full resolution), a confident detection, and
    :data:`ENROL_DOMINANCE` times the size of every other face: with two faces of
    similar size we cannot know whom staff meant, and enrolling the wrong one would
    publish that other person under this one's consent.

    Raises :class:`ReferencePhotoError` (a ``ValueError``) when the photo is refused,
    or an :class:`~photoguard_core.errors.ImageError` when it cannot be decoded.
    """
    from photoguard_core.images import open_image, read_source
    from photoguard_core.scan import SCAN_LONG_SIDE

    if isinstance(source, np.ndarray):
        rgb, scale, label = source, 1.0, "<array>"
    else:
        data, label = read_source(source)
        # Decode as the scanner does, so templates and indexed faces are encoded alike.
        decoded = open_image(data, name=label, target_long_side=SCAN_LONG_SIDE)
        rgb, scale = np.asarray(decoded.image), decoded.scale

    faces = sorted(detect_faces(rgb, detector=detector), key=lambda f: -f.box.size)
    if not faces:
        raise ReferencePhotoError(label, "no face found in the reference photo", "no_face")
    face = faces[0]
    size = face.box.size / scale
    if len(faces) > 1 and faces[1].box.size * ENROL_DOMINANCE > face.box.size:
        other = faces[1].box.size / scale
        raise ReferencePhotoError(
            label,
            f"{len(faces)} faces and none clearly the largest ({size:.0f} px and {other:.0f} px): "
            "use a photo of this person alone, or crop it",
            "several_faces",
        )
    if size < min_size:
        raise ReferencePhotoError(
            label,
            f"the face is {size:.0f} px; a reference face needs at least {min_size:.0f} px",
            "too_small",
        )
    if face.detector.startswith("centerface") and face.score < ENROL_MIN_SCORE:
        raise ReferencePhotoError(
            label, f"the face is unclear (detection score {face.score:.2f})", "unclear"
        )
    encoded: Face = encode_faces(rgb, [face], min_size=0)[0]
    if encoded.encoding is None:  # pragma: no cover - dlib encodes any box it is given
        raise ReferencePhotoError(label, "the face could not be encoded", "unclear")
    return _vector(encoded.encoding, label)


# --- helpers --------------------------------------------------------------------------


def _vector(value: Any, what: str) -> np.ndarray:
    vector = np.asarray(value, dtype=np.float64)
    if vector.shape != (ENCODING_SIZE,):
        raise ValueError(f"{what}: expected a {ENCODING_SIZE}-d encoding, got shape {vector.shape}")
    if not np.isfinite(vector).all():
        raise ValueError(f"{what}: encoding contains NaN or infinity")
    return vector


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
