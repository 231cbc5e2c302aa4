"""Recognition: true and false matches across thresholds, with and without the margin rule.

    python bench/matching.py DATA_DIR [--strangers NAME,NAME] [--json OUT]

DATA_DIR holds ``images/`` and ``identities.json`` (file name -> list of the person
labels in that photo; not positional). Protocol:

* Every photo goes through the production path (``scan_image(encode=True)``:
  CenterFace sweep, dlib encodings of faces >= 40 px with a confident detection).
* **Enrolment**: one reference photo per person, the first by file name that is
  labelled with that person alone and that :func:`enrolment_encoding` accepts (it
  refuses small faces and photos with two similar-size faces). The reference photo
  is not queried again.
* **Strangers**: ``--strangers`` (default ``lin_manuel_miranda,unidentified_adult``)
  and every person labelled in only one photo are never enrolled: their faces are
  faces of people the school does not know, and any match of them is a false match.
* **Scoring, per query photo**: a ``matched`` face counts as a true match when its
  person is among the photo's enrolled labels and that label has not been used yet
  (labels are not positional); any other match is a false match (wrong person, a
  second face given the same label, or a stranger). Unlabelled extra faces (people
  in the background, detector clutter) can only be false matches or non-matches.

Rates: true-match rate = true matches / enrolled labels in query photos; false-match
rate = false matches / encoded query faces; ambiguous and unknown rates are shares
of the encoded query faces. Figures are printed, not asserted: the threshold and
margin in ``photoguard_core.faces.matching`` cite them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photoguard_core.errors import PhotoguardError  # noqa: E402
from photoguard_core.faces.matching import (  # noqa: E402
    MARGIN,
    THRESHOLD,
    Template,
    enrolment_encoding,
    face_distances,
    match_faces,
)
from photoguard_core.scan import scan_image  # noqa: E402

DEFAULT_STRANGERS = ("lin_manuel_miranda", "unidentified_adult")
THRESHOLDS = [round(0.30 + 0.025 * k, 3) for k in range(13)]  # 0.30 .. 0.60
MARGINS = [0.0, 0.025, 0.05, 0.075, 0.10, 0.125, 0.15, 0.20]


@dataclass
class Photo:
    name: str
    labels: list[str]
    encodings: list[np.ndarray | None]
    encode_ms: float


@dataclass
class Row:
    """Counts for one (threshold, margin) over every query photo."""

    threshold: float
    margin: float
    genuine: int = 0  # enrolled labels in query photos
    faces: int = 0  # encoded query faces
    true: int = 0
    false: int = 0
    false_stranger: int = 0  # false matches in photos with no enrolled label
    ambiguous: int = 0
    unknown: int = 0
    false_examples: list[str] = field(default_factory=list)

    def rates(self) -> dict[str, float]:
        return {
            "true_match_rate": self.true / max(self.genuine, 1),
            "false_match_rate": self.false / max(self.faces, 1),
            "ambiguous_rate": self.ambiguous / max(self.faces, 1),
            "unknown_rate": self.unknown / max(self.faces, 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--strangers", default=",".join(DEFAULT_STRANGERS))
    parser.add_argument("--json", type=Path, help="also write every row as JSON here")
    args = parser.parse_args()

    identities: dict[str, list[str]] = json.loads((args.data_dir / "identities.json").read_text())
    images = args.data_dir / "images"
    names = sorted(n for n in identities if (images / n).is_file())
    if not names:
        print(f"no labelled images under {images}", file=sys.stderr)
        return 2

    photos = [_scan(images / n, identities[n]) for n in names]
    encoded = sum(e is not None for p in photos for e in p.encodings)
    encode_ms = sum(p.encode_ms for p in photos)

    templates, references, refusals, enrol_ms = _enrol(photos, images, args.strangers.split(","))
    enrolled = {t.person_id for t in templates}
    queries = [p for p in photos if p.name not in references.values()]
    all_people = {label for p in photos for label in p.labels}

    print(f"{len(photos)} photos, {encoded} faces encoded, {len(all_people)} people labelled")
    print(f"time per encoding: {encode_ms / max(encoded, 1):.0f} ms (scan's encode step / faces)")
    print(f"time per enrolment: {enrol_ms / max(len(templates), 1):.0f} ms (decode+detect+encode)")
    print(f"enrolled {len(enrolled)} people: one reference photo each")
    for person, photo in sorted(references.items()):
        print(f"  {person:22} {photo}")
    for photo, reason in refusals:
        print(f"  refused as reference: {photo}: {reason}")
    strangers = sorted(all_people - enrolled)
    print(f"never enrolled (strangers): {', '.join(strangers)}")
    genuine = sum(label in enrolled for p in queries for label in p.labels)
    stranger_faces = sum(
        e is not None for p in queries if not set(p.labels) & enrolled for e in p.encodings
    )
    query_faces = sum(e is not None for p in queries for e in p.encodings)
    print(
        f"{len(queries)} query photos: {query_faces} encoded faces, {genuine} labels of enrolled "
        f"people, {stranger_faces} faces in photos of strangers only\n"
    )

    _distance_summary(queries, templates, enrolled)

    rows: list[Row] = []
    for margin, title in ((0.0, "without the margin rule"), (MARGIN, f"margin {MARGIN:.3f}")):
        print(f"\nthresholds, {title} (cannot-link always on)")
        table = [_evaluate(queries, templates, enrolled, t, margin) for t in THRESHOLDS]
        _print_rows(table, mark=THRESHOLD)
        rows += table
    print(f"\nmargins at threshold {THRESHOLD:.3f}")
    table = [_evaluate(queries, templates, enrolled, THRESHOLD, m) for m in MARGINS]
    _print_rows(table, mark=None, by_margin=True)
    rows += table

    chosen = _evaluate(queries, templates, enrolled, THRESHOLD, MARGIN)
    rates = chosen.rates()
    print(
        f"\nchosen: THRESHOLD = {THRESHOLD}, MARGIN = {MARGIN}: true-match rate "
        f"{rates['true_match_rate']:.3f}, false matches {chosen.false} "
        f"(strangers {chosen.false_stranger}), ambiguous {chosen.ambiguous}, "
        f"unknown {chosen.unknown}"
    )
    _match_speed()
    if args.json:
        args.json.write_text(
            json.dumps(
                [{"threshold": r.threshold, "margin": r.margin, **r.rates()} for r in rows],
                indent=1,
            )
        )
    return 0


def _scan(path: Path, labels: list[str]) -> Photo:
    try:
        result = scan_image(path, encode=True)
    except PhotoguardError as err:
        print(f"skipped {path.name}: {err.reason}", file=sys.stderr)
        return Photo(path.name, labels, [], 0.0)
    print(f"scanned {path.name}: {len(result.faces)} faces", file=sys.stderr)
    return Photo(
        path.name, labels, [f.encoding for f in result.faces], result.timings_ms.get("encode", 0.0)
    )


def _enrol(
    photos: list[Photo], images: Path, strangers: list[str]
) -> tuple[list[Template], dict[str, str], list[tuple[str, str]], float]:
    """One template per person: the first acceptable single-person photo by name."""
    photo_count = Counter(label for p in photos for label in set(p.labels))
    templates, references, refusals = [], {}, []
    seconds = 0.0
    for person in sorted(photo_count):
        if person in strangers or photo_count[person] < 2:
            continue
        for photo in photos:  # sorted by name
            if photo.labels != [person]:
                continue
            start = time.perf_counter()
            try:
                vector = enrolment_encoding(images / photo.name)
            except (ValueError, PhotoguardError) as err:
                refusals.append((photo.name, str(err).split(": ", 1)[-1]))
                continue
            finally:
                seconds += time.perf_counter() - start
            templates.append(Template(person, vector))
            references[person] = photo.name
            break
    return templates, references, refusals, seconds * 1000


def _evaluate(
    queries: list[Photo],
    templates: list[Template],
    enrolled: set[str],
    threshold: float,
    margin: float,
) -> Row:
    row = Row(threshold, margin)
    for photo in queries:
        known = [label for label in photo.labels if label in enrolled]
        row.genuine += len(known)
        row.faces += sum(e is not None for e in photo.encodings)
        remaining = Counter(known)
        results = match_faces(photo.encodings, templates, threshold=threshold, margin=margin)
        for result, encoding in zip(results, photo.encodings, strict=True):
            if encoding is None:
                continue
            if result.state == "matched":
                if remaining[result.person_id] > 0:
                    remaining[result.person_id] -= 1
                    row.true += 1
                else:
                    row.false += 1
                    row.false_stranger += not known
                    row.false_examples.append(f"{photo.name}#{result.index}->{result.person_id}")
            elif result.state == "ambiguous":
                row.ambiguous += 1
            else:
                row.unknown += 1
    return row


def _print_rows(rows: list[Row], *, mark: float | None, by_margin: bool = False) -> None:
    key = "margin" if by_margin else "threshold"
    print(f"  {key:>9} {'true':>6} {'TMR':>6} {'false':>6} {'FMR':>6} {'ambig':>6} {'unknown':>8}")
    for r in rows:
        value = r.margin if by_margin else r.threshold
        rates = r.rates()
        star = "*" if mark is not None and abs(value - mark) < 1e-9 else " "
        print(
            f" {star}{value:9.3f} {r.true:3d}/{r.genuine:<2d} {rates['true_match_rate']:6.3f} "
            f"{r.false:6d} {rates['false_match_rate']:6.3f} {r.ambiguous:6d} {r.unknown:8d}"
            + (f"   false: {', '.join(r.false_examples[:3])}" if r.false_examples else "")
        )


def _distance_summary(queries: list[Photo], templates: list[Template], enrolled: set[str]) -> None:
    """Where genuine faces and strangers fall, independent of the matching rules.

    Genuine: for each enrolled label of a query photo, the closest of the photo's faces
    to that person's template. Impostor: every face against every enrolled person not
    labelled in its photo (so extra, unlabelled faces count as impostors too).
    """
    persons = [t.person_id for t in templates]
    column = {p: j for j, p in enumerate(persons)}
    matrix = np.stack([t.encoding for t in templates])
    genuine: list[tuple[float, float, str]] = []  # distance, gap to next person, where
    impostor: list[tuple[float, str]] = []
    stranger: list[tuple[float, str]] = []
    for photo in queries:
        faces = [e for e in photo.encodings if e is not None]
        if not faces:
            continue
        dist = face_distances(np.stack(faces), matrix)
        labels = set(photo.labels) & enrolled
        for label in labels:
            k = int(dist[:, column[label]].argmin())
            others = np.delete(dist[k], column[label])
            d = float(dist[k, column[label]])
            gap = float(others.min()) - d if others.size else float("inf")
            genuine.append((d, gap, f"{photo.name} {label}"))
        for k, row in enumerate(dist):
            for person, d in zip(persons, row, strict=True):
                if person not in labels:
                    impostor.append((float(d), f"{photo.name}#{k} vs {person}"))
            if not labels:
                j = int(row.argmin())
                stranger.append(
                    (float(row[j]), f"{photo.name}#{k} ({photo.labels[0]}) vs {persons[j]}")
                )
    if not genuine or not impostor:
        return
    genuine.sort()
    impostor.sort()
    values = [d for d, _, _ in genuine]
    print("distances, query faces to the reference templates (before any matching rule):")
    print(
        f"  genuine: n={len(values)}, median {np.median(values):.3f}, "
        f"90th pct {np.percentile(values, 90):.3f}, max {values[-1]:.3f}"
    )
    print(
        f"  genuine over {THRESHOLD}: "
        + ", ".join(f"{d:.3f} {w}" for d, _, w in genuine if d > THRESHOLD)
    )
    print(
        f"  impostor: n={len(impostor)}, closest: "
        + ", ".join(f"{d:.3f} {w}" for d, w in impostor[:3])
    )
    if stranger:
        stranger.sort()
        print(
            "  never-enrolled people, nearest template: "
            + ", ".join(f"{d:.3f} {w}" for d, w in stranger)
        )
    # With N enrolled people a stranger meets N impostor distances, not 14: estimate the
    # nearest of them from a normal fit to this set's impostor distances (a rough guide;
    # real tails are heavier, and children sit closer together than these adults).
    mean, sd = float(np.mean([d for d, _ in impostor])), float(np.std([d for d, _ in impostor]))
    estimates = ", ".join(
        f"{n} people ~{mean + sd * NormalDist().inv_cdf(1 / n):.2f}" for n in (100, 1500)
    )
    print(f"  impostor mean {mean:.3f}, sd {sd:.3f}; expected nearest impostor among {estimates}")
    gaps = [g for d, g, _ in genuine if d <= max(THRESHOLDS)]
    print(f"  genuine <= {max(THRESHOLDS)}: smallest gap to the next person {min(gaps):.3f}")


def _match_speed() -> None:
    """match_faces cost at school scale: 1 500 people x 2 templates, 30 faces."""
    rng = np.random.default_rng(0)
    templates = [Template(f"p{i // 2}", rng.normal(0, 0.09, 128)) for i in range(3000)]
    faces = list(rng.normal(0, 0.09, (30, 128)))
    start = time.perf_counter()
    for _ in range(10):
        match_faces(faces, templates)
    ms = (time.perf_counter() - start) * 100
    print(f"match_faces: {ms:.1f} ms per photo of 30 faces against 3 000 templates")


if __name__ == "__main__":
    sys.exit(main())
