"""Matching faces to enrolled people: the right person on real photos, strangers stay
unknown, and every rule that turns a guess into "ambiguous" or "unknown" holds.

Real-photo tests run the production path (CenterFace sweep + dlib encodings). Rule tests
use hand-placed 128-d points, so each distance is known exactly and each rule is tested
alone; each of them also checks that the outcome flips when the rule is switched off
(margin 0, no confirmation...), so none of them can pass by accident.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoguard_core.errors import PhotoguardError
from photoguard_core.faces.matching import (
    ENCODING_SIZE,
    MARGIN,
    THRESHOLD,
    MatchResult,
    ReferencePhotoError,
    Template,
    enrolment_encoding,
    face_distances,
    match_faces,
)
from photoguard_core.scan import scan_image

IDENTITY = Path(__file__).parent / "fixtures" / "identity"
IMAGES = IDENTITY / "images"
TWO_PEOPLE = IMAGES / "fr__examples__two_people.jpg"  # Obama left, Biden right
OBAMA = IMAGES / "fr__examples__obama.jpg"
OBAMA2 = IMAGES / "fr__examples__obama2.jpg"  # a different photo of Obama
OBAMA_240P = IMAGES / "fr__examples__obama-240p.jpg"  # face 56 px high
BIDEN = IMAGES / "fr__examples__biden.jpg"
STRANGER = IMAGES / "fr__examples__lin-manuel-miranda.png"  # never enrolled
COUPLE = IMAGES / "df__tests__unit__dataset__couple.jpg"  # two faces of similar size


# --- real photos ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates() -> list[Template]:
    return [
        Template("obama", enrolment_encoding(OBAMA)),
        Template("biden", enrolment_encoding(BIDEN)),
    ]


@pytest.fixture(scope="module")
def two_people() -> list[np.ndarray | None]:
    """Encodings of the two faces of two_people.jpg, left to right."""
    faces = sorted(scan_image(TWO_PEOPLE, encode=True).faces, key=lambda f: f.box.center[0])
    assert len(faces) == 2 and all(f.encoding is not None for f in faces)
    return [f.encoding for f in faces]


def encodings_of(path: Path) -> list[np.ndarray | None]:
    return [face.encoding for face in scan_image(path, encode=True).faces]


def test_fixture_labels_cover_the_photos_used():
    labels = json.loads((IDENTITY / "identities.json").read_text())
    assert labels[TWO_PEOPLE.name] == ["barack_obama", "joe_biden"]
    assert labels[OBAMA2.name] == ["barack_obama"]
    assert labels[STRANGER.name] == ["lin_manuel_miranda"]
    assert {p.name for p in IMAGES.iterdir()} == set(labels)


def test_enrolment_gives_one_128d_template_per_reference(templates):
    obama, biden = (t.encoding for t in templates)
    assert obama.shape == biden.shape == (ENCODING_SIZE,)
    # Two different people: far apart, well beyond any threshold.
    assert np.linalg.norm(obama - biden) > 0.6


def test_two_people_left_is_obama_right_is_biden(templates, two_people):
    left, right = match_faces(two_people, templates)
    assert (left.state, left.person_id) == ("matched", "obama")
    assert (right.state, right.person_id) == ("matched", "biden")
    assert left.identified and right.identified
    assert left.distance is not None and left.distance <= THRESHOLD
    assert left.runner_up == "biden" and left.runner_up_distance > left.distance + MARGIN
    assert "obama" in left.reason


def test_another_photo_of_an_enrolled_person_is_matched(templates):
    (result,) = match_faces(encodings_of(OBAMA2), templates)
    assert (result.state, result.person_id) == ("matched", "obama")


def test_small_copy_of_the_reference_still_matches(templates):
    """obama-240p's face is 56 px: too small to enrol from, big enough to recognise."""
    (result,) = match_faces(encodings_of(OBAMA_240P), templates)
    assert (result.state, result.person_id) == ("matched", "obama")


def test_stranger_is_unknown(templates):
    encodings = encodings_of(STRANGER)
    results = match_faces(encodings, templates)
    assert len(results) == 1
    (result,) = results
    assert result.state == "unknown" and result.person_id is None and not result.identified
    assert result.distance is not None and result.distance > THRESHOLD
    # The stranger is not a near miss that a looser threshold would have let through.
    loose = match_faces(encodings, templates, threshold=0.6)
    assert loose[0].state == "unknown"


def test_cannot_link_on_real_photo(two_people, templates):
    """With only Obama enrolled and a threshold loose enough that both faces qualify,
    only the closer face (the real Obama, on the left) gets him."""
    obama_only = [t for t in templates if t.person_id == "obama"]
    left, right = match_faces(two_people, obama_only, threshold=1.5, margin=0.0)
    assert (left.state, left.person_id) == ("matched", "obama")
    assert right.state == "ambiguous" and not right.identified
    assert "face 0 is closer to obama" in right.reason


def test_margin_on_real_photo(two_people, templates):
    """A look-alike enrolled 0.02 away from Obama: his face can no longer be told apart."""
    obama = templates[0].encoding
    twin = obama + 0.02 * np.eye(ENCODING_SIZE)[0]
    with_twin = [*templates, Template("twin", twin)]
    left, right = match_faces(two_people, with_twin)
    assert left.state == "ambiguous" and left.person_id in {"obama", "twin"}
    assert {left.person_id, left.runner_up} == {"obama", "twin"}
    assert (right.state, right.person_id) == ("matched", "biden")
    assert match_faces(two_people, with_twin, margin=0.0)[0].state == "matched"


def test_confirmed_never_moves_on_real_photo(two_people, templates):
    """A reviewer put Obama on the right-hand face: it stays, and the left-hand face,
    though much closer to Obama, cannot take him."""
    left, right = match_faces(two_people, templates, confirmed={1: "obama"})
    assert (right.state, right.person_id) == ("confirmed", "obama")
    assert left.person_id != "obama" and not left.identified
    assert "confirmed on face 1" in left.reason


def test_rejected_pair_is_not_proposed_on_real_photo(two_people, templates):
    left, right = match_faces(two_people, templates, rejected={0: ["obama"]})
    assert left.state == "rejected" and left.person_id is None
    assert (right.state, right.person_id) == ("matched", "biden")


# --- enrolment refusals -----------------------------------------------------------------


@pytest.mark.parametrize("photo", [TWO_PEOPLE, COUPLE], ids=["two_people", "couple"])
def test_enrolment_refuses_two_similar_faces(photo):
    with pytest.raises(ReferencePhotoError) as caught:
        enrolment_encoding(photo)
    assert caught.value.code == "several_faces"
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, PhotoguardError)


def test_enrolment_refuses_a_photo_without_a_face(tmp_path):
    rng = np.random.default_rng(1)
    blank = np.linspace(0, 255, 640 * 480 * 3).reshape(480, 640, 3).astype(np.uint8)
    with pytest.raises(ReferencePhotoError) as caught:
        enrolment_encoding(blank)
    assert caught.value.code == "no_face"
    path = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(path)
    with pytest.raises(ReferencePhotoError, match="no face"):
        enrolment_encoding(path)


def test_enrolment_refuses_a_small_face():
    with pytest.raises(ReferencePhotoError) as caught:
        enrolment_encoding(OBAMA_240P)
    assert caught.value.code == "too_small"
    assert "80 px" in str(caught.value)


def test_enrolment_picks_the_largest_face_when_it_clearly_dominates(templates):
    """Biden's portrait pasted large next to a small Obama: Biden's face is enrolled."""
    big = Image.open(BIDEN).convert("RGB")
    obama = Image.open(OBAMA).convert("RGB")
    small = obama.resize((int(obama.width * 0.4), int(obama.height * 0.4)))  # face ~100 px
    canvas = Image.new("RGB", (big.width + small.width, big.height), "white")
    canvas.paste(big, (0, 0))
    canvas.paste(small, (big.width, 0))
    vector = enrolment_encoding(np.asarray(canvas))
    obama, biden = (t.encoding for t in templates)
    assert np.linalg.norm(vector - biden) < 0.2 < np.linalg.norm(vector - obama)


# --- the rules, on hand-placed points ---------------------------------------------------


def point(*coords: float) -> np.ndarray:
    """A 128-d encoding whose first coordinates are ``coords`` (distances are exact)."""
    out = np.zeros(ENCODING_SIZE)
    out[: len(coords)] = coords
    return out


P, Q, R = point(0, 0, 0), point(1, 0, 0), point(0, 1, 0)


def people(**where: np.ndarray) -> list[Template]:
    return [Template(name, vector) for name, vector in where.items()]


def test_point_distances_are_what_the_tests_assume():
    d = face_distances(np.stack([point(0, 0, 0.3), point(0.6, 0.8)]), np.stack([P, Q]))
    assert np.allclose(d, [[0.3, np.hypot(1, 0.3)], [1.0, np.hypot(0.4, 0.8)]])


def test_threshold_is_inclusive_and_strict_beyond():
    (inside,) = match_faces([point(0, 0, THRESHOLD - 1e-6)], people(p=P))
    (outside,) = match_faces([point(0, 0, THRESHOLD + 1e-3)], people(p=P))
    assert inside.state == "matched" and outside.state == "unknown"
    assert "no enrolled person within" in outside.reason


def test_person_distance_is_the_nearest_template():
    templates = [Template("p", point(5, 5, 5)), Template("p", P), Template("q", Q)]
    (result,) = match_faces([point(0, 0, 0.2)], templates)
    assert result.person_id == "p" and result.distance == pytest.approx(0.2)


def test_face_without_encoding_is_unknown():
    results = match_faces([None, P], people(p=P))
    assert (results[0].state, results[0].person_id) == ("unknown", None)
    assert results[0].reason == "too small or unclear to recognise"
    assert results[1].state == "matched"


def test_no_templates_means_every_face_unknown():
    results = match_faces([P, None], [])
    assert [r.state for r in results] == ["unknown", "unknown"]
    assert match_faces([], people(p=P)) == []


def test_margin_makes_near_equal_people_ambiguous():
    """Siblings: p and q 0.05 apart, the face 0.30 from p and 0.304 from q."""
    sibling = point(0.05, 0, 0)
    face = point(0, 0, 0.3)
    (result,) = match_faces([face], people(p=P, q=sibling))
    assert result.state == "ambiguous" and not result.identified
    assert (result.person_id, result.runner_up) == ("p", "q")
    assert result.runner_up_distance == pytest.approx(np.hypot(0.05, 0.3))
    assert "margin" in result.reason
    assert match_faces([face], people(p=P, q=sibling), margin=0.0)[0].state == "matched"


def test_margin_counts_a_rival_beyond_the_threshold():
    """0.40 from p, 0.48 from q: q is over the threshold but still too close to call."""
    face = point(0, 0, 0.40)
    q = face + point(0, 0, 0, 0.48)  # 0.48 from the face, orthogonal to the rest
    (result,) = match_faces([face], people(p=P, q=q))
    assert result.runner_up_distance == pytest.approx(0.48)
    assert result.state == "ambiguous"
    assert match_faces([face], people(p=P, q=q), margin=0.05)[0].state == "matched"


def test_cannot_link_gives_the_person_to_the_closer_face_only():
    near, far = point(0, 0, 0.1), point(0, 0, 0, 0.3)
    for order in ([near, far], [far, near]):
        results = match_faces(order, people(p=P, q=Q))
        winner = next(r for r in results if r.identified)
        loser = next(r for r in results if not r.identified)
        assert winner.person_id == "p" and order[winner.index] is near
        assert loser.state == "ambiguous" and f"face {winner.index} is closer" in loser.reason
    # Without cannot-link both faces would have been p: each alone is a clear match.
    assert match_faces([far], people(p=P, q=Q))[0].state == "matched"


def test_cannot_link_loser_does_not_fall_back_to_its_second_choice():
    """The loser is 0.20 from p and 0.40 from q: it looked like p, so it is not q."""
    winner = point(0, 0, 0.05)
    loser = point(0.12, 0, 0.16)  # 0.20 from p
    q = loser + point(0, 0, 0, 0, 0.40)
    results = match_faces([winner, loser], people(p=P, q=q))
    assert results[0].person_id == "p" and results[0].state == "matched"
    assert results[1].state == "ambiguous" and results[1].person_id == "p"
    assert not results[1].identified
    assert match_faces([loser], people(p=P, q=q))[0].person_id == "p"


def test_cannot_link_refuses_a_narrow_win():
    """Two faces 0.30 and 0.33 from p: no way to tell which one is p, so neither is."""
    a, b = point(0, 0, 0.30), point(0, 0, 0, 0.33)
    results = match_faces([a, b], people(p=P, q=Q))
    assert [r.state for r in results] == ["ambiguous", "ambiguous"]
    assert "almost as close" in results[0].reason and "is closer" in results[1].reason
    assert [r.state for r in match_faces([a, b], people(p=P, q=Q), margin=0.0)] == [
        "matched",
        "ambiguous",
    ]


def test_at_most_one_face_per_person_whatever_the_photo():
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 0.3, (6, ENCODING_SIZE))
    templates = [Template(f"p{k}", c) for k, c in enumerate(centres)]
    for _ in range(200):
        faces = centres[rng.integers(0, 6, 8)] + rng.normal(0, 0.03, (8, ENCODING_SIZE))
        results = match_faces(list(faces), templates, threshold=0.9, margin=0.02)
        shown = [r.person_id for r in results if r.identified]
        assert len(shown) == len(set(shown))


def test_confirmed_face_keeps_its_person_even_when_another_face_is_closer():
    exact, far = P.copy(), point(0, 0, 0.4)
    results = match_faces([exact, far], people(p=P, q=Q), confirmed={1: "p"})
    assert (results[1].state, results[1].person_id) == ("confirmed", "p")
    assert results[1].distance == pytest.approx(0.4)
    assert results[0].state == "unknown" and results[0].person_id is None
    assert "confirmed on face 1" in results[0].reason
    # Without the confirmation the closer face wins p.
    assert match_faces([exact, far], people(p=P, q=Q))[0].person_id == "p"


def test_confirmed_face_needs_no_encoding_nor_template():
    """Detection-only mode and missed faces: a reviewer names a face nothing can encode."""
    (result,) = match_faces([None], [], confirmed={0: "pupil-9"})
    assert (result.state, result.person_id, result.distance) == ("confirmed", "pupil-9", None)
    assert result.identified


def test_confirmed_person_is_taken_for_the_rest_of_the_photo():
    sibling_face = point(0, 0, 0.2)  # would match p clearly on its own
    q_face = Q + point(0, 0, 0.1)
    results = match_faces([P, sibling_face, q_face], people(p=P, q=Q), confirmed={0: "p"})
    assert results[1].person_id != "p" and not results[1].identified
    assert (results[2].state, results[2].person_id) == ("matched", "q")


def test_two_faces_confirmed_as_one_person_are_both_kept():
    """A pupil and their poster behind them: a reviewer's word is final."""
    results = match_faces([P, P], people(p=P), confirmed={0: "p", 1: "p"})
    assert [(r.state, r.person_id) for r in results] == [("confirmed", "p")] * 2


def test_rejected_pair_is_never_proposed():
    face = point(0, 0, 0.1)
    (result,) = match_faces([face], people(p=P, q=Q), rejected={0: {"p"}})
    assert result.state == "rejected" and result.person_id is None
    assert "rejected p" in result.reason
    assert match_faces([face], people(p=P, q=Q))[0].person_id == "p"


def test_rejection_does_not_turn_a_look_alike_into_a_match():
    """0.10 from p (rejected) and 0.40 from q: the face looks like p, so q is only a
    suggestion for a reviewer, never a match."""
    face = point(0, 0, 0.1)
    q = face + point(0, 0, 0, 0.40)
    (result,) = match_faces([face], people(p=P, q=q), rejected={0: ["p"]})
    assert result.state == "ambiguous" and result.person_id == "q"
    assert result.runner_up == "p" and "rejected by a reviewer" in result.reason


def test_rejecting_a_person_it_is_not_leaves_the_match():
    face = point(0, 0, 0.05)
    p_far = face + point(0, 0, 0, 0.40)
    (result,) = match_faces([face], people(p=p_far, q=P), rejected={0: ["p"]})
    assert (result.state, result.person_id) == ("matched", "q")
    assert result.runner_up == "p"


def test_rejected_face_does_not_block_the_person_for_other_faces():
    """The reviewer said face 0 is not p, so face 1 (further from p) may be p."""
    close, further = point(0, 0, 0.05), point(0, 0, 0, 0.2)
    results = match_faces([close, further], people(p=P, q=Q), rejected={0: ["p"]})
    assert (results[1].state, results[1].person_id) == ("matched", "p")


def test_results_are_in_face_order_and_serialisable():
    results = match_faces([None, P, point(0, 0, 5)], people(p=P))
    assert [r.index for r in results] == [0, 1, 2]
    assert all(isinstance(r, MatchResult) for r in results)
    assert json.loads(json.dumps([r.to_dict() for r in results]))[1]["person_id"] == "p"


@pytest.mark.parametrize(
    "call",
    [
        lambda: match_faces([np.zeros(64)], people(p=P)),
        lambda: match_faces([point(np.nan)], people(p=P)),
        lambda: match_faces([P], people(p=P), confirmed={3: "p"}),
        lambda: match_faces([P], people(p=P), rejected={-1: ["p"]}),
        lambda: match_faces([P], people(p=P), threshold=0),
        lambda: match_faces([P], people(p=P), margin=-0.1),
        lambda: Template("", P),
        lambda: Template("p", np.zeros(127)),
    ],
)
def test_malformed_input_is_refused(call):
    with pytest.raises(ValueError):
        call()


def test_constants_are_stricter_than_face_recognition():
    assert 0.3 <= THRESHOLD < 0.6 and 0 < MARGIN < THRESHOLD
