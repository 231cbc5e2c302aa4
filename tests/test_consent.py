"""Consent policy: purposes, the ledger over time, flags, PoFA biometric rules, decisions.

The ledger tests replay one history at several moments, because the promise is about
*the consent in force when the photo goes out*, not the latest row in a table.
"""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from photoguard_core.consent import (
    DEFAULT_PURPOSES,
    BiometricResponse,
    ConsentEntry,
    ConsentStatus,
    FaceFacts,
    PersonFacts,
    Purpose,
    Vulnerability,
    biometric_allowed,
    consent_as_of,
    decide,
    expiring,
    history,
    load_purposes,
    parse_vulnerability,
    withholds_photo,
)
from photoguard_core.geometry import Box

WEBSITE = DEFAULT_PURPOSES["website"]
INTERNAL = DEFAULT_PURPOSES["internal"]
PORTAL = DEFAULT_PURPOSES["parents_portal"]


def at(y: int, m: int, d: int, hour: int = 12) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


def entry(
    status: str,
    recorded: datetime,
    *,
    person: str = "p1",
    purpose: str = "website",
    valid_from: date | None = None,
    until: date | None = None,
    by: str = "J. Bloggs",
    source: str = "parent email",
    entry_id: int | None = None,
) -> ConsentEntry:
    return ConsentEntry(
        person_id=person,
        purpose=purpose,
        status=ConsentStatus(status),
        valid_from=valid_from or recorded.date(),
        valid_until=until,
        recorded_at=recorded,
        recorded_by=by,
        source=source,
        entry_id=entry_id,
    )


# --- purposes ------------------------------------------------------------------------


def test_default_purposes_cover_the_issue_list_and_public_ones_carry_no_names():
    assert set(DEFAULT_PURPOSES) == {
        "internal",
        "newsletter",
        "website",
        "social_media",
        "prospectus",
        "press",
        "parents_portal",
        "video",
    }
    for purpose in DEFAULT_PURPOSES.values():
        if purpose.audience == "public":
            assert purpose.names_with_images is False, purpose.name
    assert DEFAULT_PURPOSES["social_media"].max_size == 1080
    assert DEFAULT_PURPOSES["parents_portal"].audience == "portal"


def test_load_purposes_overrides_and_adds_without_touching_defaults():
    loaded = load_purposes(
        {
            "website": {"max_size": 1200},
            "sports_film": {"audience": "public", "max_size": 1920, "style": "pixelate"},
        }
    )
    assert loaded["website"].max_size == 1200
    assert loaded["website"].audience == "public"
    assert loaded["sports_film"] == Purpose("sports_film", "public", 1920, "pixelate")
    assert DEFAULT_PURPOSES["website"].max_size == 1600
    assert load_purposes(None) == dict(DEFAULT_PURPOSES)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"website": {"audience": "world"}}, "unknown audience 'world'"),
        ({"website": {"style": "blur"}}, "unknown style 'blur'"),
        ({"website": {"audiance": "public"}}, "unknown field(s) 'audiance'"),
        ({"club": {"audience": "public"}}, "needs max_size"),
        ({"club": {"audience": "public", "max_size": 8}}, "below the minimum"),
        ({"club": {"audience": "public", "max_size": "big"}}, "whole number"),
        ({"Bad Name": {"audience": "public", "max_size": 800}}, "lower-case"),
        ({"club_until": {"audience": "public", "max_size": 800}}, "_until"),
    ],
)
def test_load_purposes_refuses_bad_configuration_clearly(config, message):
    with pytest.raises(ValueError) as excinfo:
        load_purposes(config)
    assert message in str(excinfo.value)


# --- ledger: as-of queries ---------------------------------------------------------------


def test_grant_then_withdrawal_answers_differently_before_and_after():
    entries = [
        entry("granted", at(2025, 9, 1), by="A. Office", source="paper form"),
        entry("withdrawn", at(2026, 3, 3), by="J. Bloggs", source="parent email"),
    ]
    before_anything = consent_as_of(entries, "p1", "website", at(2025, 8, 1))
    assert (before_anything.covered, before_anything.status) == (False, "none")
    assert before_anything.entry is None

    during = consent_as_of(entries, "p1", "website", at(2025, 12, 1))
    assert (during.covered, during.status) == (True, "granted")
    assert during.entry == entries[0]
    assert "granted on 1 September 2025 by A. Office (paper form)" in during.reason

    after = consent_as_of(entries, "p1", "website", at(2026, 3, 4))
    assert (after.covered, after.status) == (False, "withdrawn")
    assert after.reason == "website consent withdrawn on 3 March 2026 by J. Bloggs (parent email)"


def test_withdrawal_counts_from_the_instant_it_is_recorded():
    withdrawn_at = at(2026, 3, 3, hour=10)
    entries = [entry("granted", at(2025, 9, 1)), entry("withdrawn", withdrawn_at)]
    assert consent_as_of(entries, "p1", "website", withdrawn_at - timedelta(seconds=1)).covered
    assert not consent_as_of(entries, "p1", "website", withdrawn_at).covered


def test_a_withdrawal_dated_in_the_future_still_applies_at_once():
    entries = [
        entry("granted", at(2025, 9, 1)),
        entry("withdrawn", at(2026, 3, 3), valid_from=date(2026, 4, 1)),
    ]
    assert consent_as_of(entries, "p1", "website", at(2026, 3, 10)).status == "withdrawn"


def test_regrant_after_withdrawal_covers_again_and_history_keeps_all():
    entries = [
        entry("granted", at(2025, 9, 1)),
        entry("withdrawn", at(2026, 1, 10)),
        entry("granted", at(2026, 2, 1)),
        entry("refused", at(2025, 9, 1), purpose="press"),
        entry("granted", at(2025, 9, 1), person="p2"),
    ]
    assert consent_as_of(entries, "p1", "website", at(2026, 1, 20)).status == "withdrawn"
    assert consent_as_of(entries, "p1", "website", at(2026, 2, 2)).covered
    press = consent_as_of(entries, "p1", "press", at(2026, 2, 2))
    assert (press.covered, press.status) == (False, "refused")
    assert [e.status.value for e in history(entries, "p1")] == [
        "granted",
        "refused",
        "withdrawn",
        "granted",
    ]


def test_order_comes_from_recording_time_not_list_position():
    later_withdrawal = entry("withdrawn", at(2026, 3, 3))
    earlier_grant = entry("granted", at(2025, 9, 1))
    state = consent_as_of([later_withdrawal, earlier_grant], "p1", "website", at(2026, 4, 1))
    assert state.status == "withdrawn"


def test_same_instant_ties_are_broken_by_entry_id():
    t = at(2026, 1, 1)
    grant = entry("granted", t, entry_id=7)
    refusal = entry("refused", t, entry_id=8)
    assert consent_as_of([refusal, grant], "p1", "website", t).status == "refused"


def test_expiry_is_inclusive_of_the_last_day():
    entries = [entry("granted", at(2025, 9, 1), until=date(2026, 7, 31))]
    assert consent_as_of(entries, "p1", "website", at(2026, 7, 31, hour=23)).covered
    expired = consent_as_of(entries, "p1", "website", at(2026, 8, 1, hour=0))
    assert (expired.covered, expired.status) == (False, "expired")
    assert "expired on 31 July 2026" in expired.reason


def test_grant_not_yet_valid_until_its_start_date():
    entries = [entry("granted", at(2026, 7, 1), valid_from=date(2026, 9, 1))]
    early = consent_as_of(entries, "p1", "website", at(2026, 8, 15))
    assert (early.covered, early.status) == (False, "not_yet_valid")
    assert "only applies from 1 September 2026" in early.reason
    assert consent_as_of(entries, "p1", "website", at(2026, 9, 1, hour=0)).covered


def test_dates_are_compared_in_utc_whatever_zone_is_asked_in():
    entries = [entry("granted", at(2025, 9, 1), until=date(2026, 7, 31))]
    # 00:30 on 1 August in UTC+2 is still 31 July in UTC.
    plus_two = datetime(2026, 8, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert consent_as_of(entries, "p1", "website", plus_two).covered


def test_entries_refuse_naive_times_and_backwards_dates():
    with pytest.raises(ValueError, match="timezone-aware"):
        entry("granted", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="ends"):
        entry("granted", at(2026, 1, 1), until=date(2025, 1, 1))
    with pytest.raises(ValueError, match="recorded it"):
        entry("granted", at(2026, 1, 1), by=" ")
    with pytest.raises(ValueError, match="timezone-aware"):
        consent_as_of([], "p1", "website", datetime(2026, 1, 1))


def test_expiring_lists_only_covered_grants_ending_soon():
    now = at(2026, 7, 1)
    entries = [
        entry("granted", at(2025, 9, 1), person="soon", until=date(2026, 7, 20)),
        entry("granted", at(2025, 9, 1), person="today", until=date(2026, 7, 1)),
        entry("granted", at(2025, 9, 1), person="later", until=date(2026, 12, 31)),
        entry("granted", at(2025, 9, 1), person="open"),
        entry("granted", at(2025, 9, 1), person="gone", until=date(2026, 6, 30)),
        entry("granted", at(2025, 9, 1), person="withdrawn", until=date(2026, 7, 10)),
        entry("withdrawn", at(2026, 5, 1), person="withdrawn"),
    ]
    assert [e.person_id for e in expiring(entries, now, 30)] == ["today", "soon"]
    assert [e.person_id for e in expiring(entries, now, 0)] == ["today"]
    with pytest.raises(ValueError):
        expiring(entries, now, -1)


# --- flags ---------------------------------------------------------------------------


def test_flags_parse_as_people_type_them():
    assert parse_vulnerability("Looked after") is Vulnerability.LOOKED_AFTER
    assert parse_vulnerability("never-publish") is Vulnerability.NEVER_PUBLISH
    with pytest.raises(ValueError, match="unknown flag 'adoptd'"):
        parse_vulnerability("adoptd")


def test_which_flags_withhold_a_photo_and_where():
    never = {Vulnerability.NEVER_PUBLISH}
    assert withholds_photo(never, "public")
    assert withholds_photo(never, "portal")
    assert not withholds_photo(never, "internal")
    assert withholds_photo({Vulnerability.PROTECTED_IDENTITY}, "public")
    assert not withholds_photo({Vulnerability.ADOPTED, Vulnerability.LOOKED_AFTER}, "public")
    assert withholds_photo(never, "some-new-audience")


# --- biometric consent (PoFA 2012 ss.26-28) --------------------------------------------


def response(
    respondent: str,
    answer: str,
    when: datetime,
    *,
    name: str = "Jane Smith",
    in_writing: bool = True,
    person: str = "p1",
) -> BiometricResponse:
    return BiometricResponse(
        person_id=person,
        respondent=respondent,
        respondent_name=name,
        response=answer,
        in_writing=in_writing,
        recorded_at=when,
        recorded_by="A. Office",
    )


NOW = at(2026, 3, 1)


def test_minor_with_one_written_parent_grant_is_allowed():
    decision = biometric_allowed(
        [response("parent", "granted", at(2025, 9, 1))], is_minor=True, at=NOW
    )
    assert decision.allowed
    assert "Jane Smith (parent) granted in writing on 1 September 2025" in decision.reason


def test_minor_with_no_response_is_not_allowed():
    decision = biometric_allowed([], is_minor=True, at=NOW)
    assert not decision.allowed
    assert "in writing" in decision.reason


def test_verbal_only_parent_grant_is_not_enough():
    decision = biometric_allowed(
        [response("parent", "granted", at(2025, 9, 1), in_writing=False)], is_minor=True, at=NOW
    )
    assert not decision.allowed
    assert "no parent has consented in writing" in decision.reason
    assert "granted but not in writing" in decision.reason


def test_written_grant_survives_a_later_verbal_confirmation():
    responses = [
        response("parent", "granted", at(2025, 9, 1)),
        response("parent", "granted", at(2025, 10, 1), in_writing=False),
    ]
    assert biometric_allowed(responses, is_minor=True, at=NOW).allowed


def test_written_grant_does_not_survive_an_objection_followed_by_a_verbal_yes():
    responses = [
        response("parent", "granted", at(2025, 9, 1)),
        response("parent", "objected", at(2025, 10, 1)),
        response("parent", "granted", at(2025, 11, 1), in_writing=False),
    ]
    decision = biometric_allowed(responses, is_minor=True, at=NOW)
    assert not decision.allowed
    assert "no parent has consented in writing" in decision.reason


def test_one_parent_grants_the_other_objects():
    responses = [
        response("parent", "granted", at(2025, 9, 1), name="Jane Smith"),
        response("parent", "objected", at(2025, 9, 5), name="Tom Smith"),
    ]
    decision = biometric_allowed(responses, is_minor=True, at=NOW)
    assert not decision.allowed
    assert "Tom Smith (parent) objected on 5 September 2025" in decision.reason


def test_parents_are_told_apart_by_name_ignoring_case_and_spacing():
    responses = [
        response("parent", "objected", at(2025, 9, 1), name="Tom  Smith"),
        response("parent", "granted", at(2025, 9, 5), name="tom smith"),
    ]
    # Tom changed his mind: his latest response (a written grant) is what counts.
    assert biometric_allowed(responses, is_minor=True, at=NOW).allowed


def test_child_objection_overrides_both_parents():
    responses = [
        response("parent", "granted", at(2025, 9, 1), name="Jane Smith"),
        response("parent", "granted", at(2025, 9, 1), name="Tom Smith"),
        response("child", "objected", at(2026, 1, 10), name="Sam", in_writing=False),
    ]
    decision = biometric_allowed(responses, is_minor=True, at=NOW)
    assert not decision.allowed
    assert "the child objected on 10 January 2026" in decision.reason
    assert "overrides" in decision.reason
    # Before the child objected, the parents' consent applied.
    assert biometric_allowed(responses, is_minor=True, at=at(2026, 1, 9)).allowed


def test_parent_withdrawal_later_stops_it_from_that_moment():
    withdrawn = at(2026, 2, 1, hour=9)
    responses = [
        response("parent", "granted", at(2025, 9, 1)),
        response("parent", "withdrawn", withdrawn),
    ]
    assert biometric_allowed(responses, is_minor=True, at=withdrawn - timedelta(minutes=1)).allowed
    decision = biometric_allowed(responses, is_minor=True, at=withdrawn)
    assert not decision.allowed
    assert "withdrawn on 1 February 2026" in decision.reason


def test_responses_recorded_after_the_moment_are_ignored():
    responses = [response("parent", "granted", at(2026, 6, 1))]
    assert not biometric_allowed(responses, is_minor=True, at=NOW).allowed


def test_adult_needs_their_own_consent_and_parents_do_not_count():
    own = response("self", "granted", at(2025, 9, 1), name="Ms Jones", in_writing=False)
    assert biometric_allowed([own], is_minor=False, at=NOW).allowed
    parent_only = [response("parent", "granted", at(2025, 9, 1))]
    assert not biometric_allowed(parent_only, is_minor=False, at=NOW).allowed
    later = response("self", "withdrawn", at(2026, 2, 1), name="Ms Jones")
    decision = biometric_allowed([own, later], is_minor=False, at=NOW)
    assert not decision.allowed
    assert "Ms Jones (the person themself) withdrawn on 1 February 2026" in decision.reason


def test_detection_only_mode_never_allows_recognition():
    responses = [response("parent", "granted", at(2025, 9, 1))]
    decision = biometric_allowed(responses, is_minor=True, at=NOW, detection_only=True)
    assert not decision.allowed
    assert "detection-only" in decision.reason
    own = [response("self", "granted", at(2025, 9, 1))]
    assert not biometric_allowed(own, is_minor=False, at=NOW, detection_only=True).allowed


def test_biometric_inputs_are_checked():
    with pytest.raises(ValueError, match="one person"):
        biometric_allowed(
            [
                response("parent", "granted", at(2025, 9, 1), person="a"),
                response("parent", "granted", at(2025, 9, 1), person="b"),
            ],
            is_minor=True,
            at=NOW,
        )
    with pytest.raises(ValueError, match="parent's name"):
        response("parent", "granted", at(2025, 9, 1), name=" ")
    with pytest.raises(ValueError, match="unknown response"):
        response("parent", "maybe", at(2025, 9, 1))


# --- decisions -----------------------------------------------------------------------

BOX_A = Box.from_xywh(10, 10, 50, 50)
BOX_B = Box.from_xywh(100, 10, 50, 50)
WHEN = at(2026, 3, 1)


def person(pid: str, name: str, *consents: ConsentEntry, flags=(), **kw) -> PersonFacts:
    return PersonFacts(pid, name, True, frozenset(flags), tuple(consents), **kw)


def granted(pid: str, purpose: str = "website") -> ConsentEntry:
    return entry("granted", at(2025, 9, 1), person=pid, purpose=purpose)


def face(fid, box, pid, assignment="auto", **kw) -> FaceFacts:
    return FaceFacts(fid, box, pid, assignment, **kw)


def test_two_people_one_consented_one_not():
    people = {
        "alice": person("alice", "Alice", granted("alice")),
        "bob": person("bob", "Bob"),
    }
    faces = [face(1, BOX_A, "alice", distance=0.38), face(2, BOX_B, "bob", "confirmed")]
    decision = decide(faces, people, WEBSITE, WHEN)
    assert decision.outcome == "publishable_with_redactions"
    assert [(f.face_id, f.action) for f in decision.faces] == [(1, "show"), (2, "redact")]
    assert decision.show_boxes() == (BOX_A,)
    assert decision.redact_boxes() == (BOX_B,)
    assert decision.faces[0].reason.startswith("Alice (recognised automatically): website")
    assert decision.faces[1].reason == "Bob: no website consent has been recorded"
    assert decision.reasons == ("2 faces: 1 shown, 1 redacted",)


def test_everyone_covered_is_publishable_and_no_face_is_publishable():
    people = {"alice": person("alice", "Alice", granted("alice"))}
    decision = decide([face(1, BOX_A, "alice", "confirmed")], people, WEBSITE, WHEN)
    assert decision.outcome == "publishable"
    empty = decide([], people, WEBSITE, WHEN)
    assert empty.outcome == "publishable"
    assert empty.faces == ()
    assert "no faces" in empty.reasons[0]


def test_consent_for_another_purpose_does_not_cover():
    people = {"alice": person("alice", "Alice", granted("alice", "internal"))}
    faces = [face(1, BOX_A, "alice")]
    assert decide(faces, people, WEBSITE, WHEN).faces[0].action == "redact"
    assert decide(faces, people, INTERNAL, WHEN).faces[0].action == "show"


@pytest.mark.parametrize(
    ("assignment", "pid", "words"),
    [
        ("unknown", None, "nobody has been identified"),
        ("ambiguous", "alice", "more than one person"),
        ("rejected", "alice", "rejected in review"),
        ("auto", "stranger", "not in the catalogue"),
        ("confirmed", None, "not assigned to anyone"),
    ],
)
def test_faces_without_a_confident_known_person_are_redacted(assignment, pid, words):
    people = {"alice": person("alice", "Alice", granted("alice"))}
    decision = decide([face(1, BOX_A, pid, assignment)], people, WEBSITE, WHEN)
    assert decision.faces[0].action == "redact"
    assert words in decision.faces[0].reason
    assert decision.outcome == "publishable_with_redactions"


def test_consent_timeline_drives_the_face_decision():
    people = {
        "alice": person(
            "alice",
            "Alice",
            entry("granted", at(2025, 9, 1), person="alice", until=date(2026, 7, 31)),
            entry("withdrawn", at(2026, 3, 3), person="alice"),
        )
    }
    faces = [face(1, BOX_A, "alice")]
    assert decide(faces, people, WEBSITE, at(2026, 3, 2)).faces[0].action == "show"
    after = decide(faces, people, WEBSITE, at(2026, 3, 4)).faces[0]
    assert after.action == "redact"
    assert "withdrawn on 3 March 2026" in after.reason


def test_a_flag_overrides_a_valid_grant_without_naming_the_flag():
    for flag in Vulnerability:
        people = {"sam": person("sam", "Sam", granted("sam", "internal"), flags={flag})}
        decision = decide([face(1, BOX_A, "sam", "confirmed")], people, INTERNAL, WHEN)
        only = decision.faces[0]
        assert only.action == "redact", flag
        assert "safeguarding" in only.reason
        assert flag.value not in only.reason and flag.label not in only.reason
        assert "Sam" not in only.reason


def test_adopted_child_redacted_but_photo_still_publishable():
    people = {
        "sam": person("sam", "Sam", granted("sam"), flags={Vulnerability.ADOPTED}),
        "alice": person("alice", "Alice", granted("alice")),
    }
    faces = [face(1, BOX_A, "sam"), face(2, BOX_B, "alice")]
    decision = decide(faces, people, WEBSITE, WHEN)
    assert decision.outcome == "publishable_with_redactions"
    assert [f.action for f in decision.faces] == ["redact", "show"]


@pytest.mark.parametrize("purpose", [WEBSITE, PORTAL])
def test_never_publish_withholds_the_whole_photo_outside_school(purpose):
    people = {
        "sam": person("sam", "Sam", flags={Vulnerability.NEVER_PUBLISH}),
        "alice": person("alice", "Alice", granted("alice", purpose.name)),
    }
    faces = [face(1, BOX_A, "sam", "confirmed"), face(2, BOX_B, "alice")]
    decision = decide(faces, people, purpose, WHEN)
    assert decision.outcome == "withheld"
    assert decision.withheld
    # Fail closed even for an adapter that renders it anyway: nothing is shown.
    assert decision.show_boxes() == ()
    assert "photo is withheld" in decision.faces[1].reason
    assert "withheld from" in decision.reasons[0] and "face 1" in decision.reasons[0]
    assert "Sam" not in decision.reasons[0]


def test_never_publish_inside_school_only_redacts_the_face():
    people = {
        "sam": person("sam", "Sam", flags={Vulnerability.PROTECTED_IDENTITY}),
        "alice": person("alice", "Alice", granted("alice", "internal")),
    }
    faces = [face(1, BOX_A, "sam", "confirmed"), face(2, BOX_B, "alice")]
    decision = decide(faces, people, INTERNAL, WHEN)
    assert decision.outcome == "publishable_with_redactions"
    assert [f.action for f in decision.faces] == ["redact", "show"]


def test_an_ambiguous_face_that_may_be_a_protected_child_withholds():
    people = {"sam": person("sam", "Sam", flags={Vulnerability.NEVER_PUBLISH})}
    decision = decide([face(1, BOX_A, "sam", "ambiguous")], people, WEBSITE, WHEN)
    assert decision.outcome == "withheld"
    rejected = decide([face(1, BOX_A, "sam", "rejected")], people, WEBSITE, WHEN)
    assert rejected.outcome == "publishable_with_redactions"


def test_detection_only_shows_only_faces_assigned_by_hand():
    people = {
        "alice": person("alice", "Alice", granted("alice")),
        "bob": person("bob", "Bob", granted("bob")),
    }
    faces = [face(1, BOX_A, "alice", "auto"), face(2, BOX_B, "bob", "confirmed", manual=True)]
    decision = decide(faces, people, WEBSITE, WHEN, detection_only=True)
    assert [f.action for f in decision.faces] == ["redact", "show"]
    assert "detection-only" in decision.faces[0].reason
    normal = decide(faces, people, WEBSITE, WHEN)
    assert [f.action for f in normal.faces] == ["show", "show"]


def test_automatic_match_stops_counting_once_recognition_is_withdrawn():
    people = {"alice": person("alice", "Alice", granted("alice"), recognition_allowed=False)}
    auto = decide([face(1, BOX_A, "alice", "auto")], people, WEBSITE, WHEN)
    assert auto.faces[0].action == "redact"
    assert "biometric consent" in auto.faces[0].reason
    confirmed = decide([face(1, BOX_A, "alice", "confirmed")], people, WEBSITE, WHEN)
    assert confirmed.faces[0].action == "show"


def test_one_person_matched_to_two_faces_shows_neither_automatic_match():
    people = {"alice": person("alice", "Alice", granted("alice"))}
    both_auto = decide([face(1, BOX_A, "alice"), face(2, BOX_B, "alice")], people, WEBSITE, WHEN)
    assert [f.action for f in both_auto.faces] == ["redact", "redact"]
    assert "also matched to another face" in both_auto.faces[0].reason
    one_confirmed = decide(
        [face(1, BOX_A, "alice", "confirmed"), face(2, BOX_B, "alice")], people, WEBSITE, WHEN
    )
    assert [f.action for f in one_confirmed.faces] == ["show", "redact"]


def test_decision_to_dict_is_plain_data():
    people = {"alice": person("alice", "Alice", granted("alice"))}
    data = decide([face(7, BOX_A, "alice")], people, WEBSITE, WHEN).to_dict()
    assert data["purpose"] == "website"
    assert data["at"] == "2026-03-01T12:00:00+00:00"
    assert data["outcome"] == "publishable"
    assert data["faces"][0]["box_xywh"] == [10.0, 10.0, 50.0, 50.0]
    assert data["faces"][0]["action"] == "show"


def test_decide_refuses_facts_it_cannot_trust():
    with pytest.raises(ValueError, match="timezone-aware"):
        decide([], {}, WEBSITE, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="more than once"):
        decide(
            [face(1, BOX_A, None, "unknown"), face(1, BOX_B, None, "unknown")], {}, WEBSITE, WHEN
        )
    with pytest.raises(ValueError, match="unknown assignment"):
        face(1, BOX_A, None, "probably")
