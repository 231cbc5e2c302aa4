"""Audit chain: every kind of tampering is named at the right seq; bursts and filters."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from photoguard_core.audit import (
    CONSENT_CHANGE,
    DOWNLOAD,
    EXPORT,
    GENESIS_HASH,
    RENDER,
    AuditEntry,
    canonical_json,
    check_seal,
    entry_hash,
    filter_entries,
    flag_bursts,
    next_entry,
    seal_head,
    verify_chain,
)
from photoguard_core.crypto import MasterKey

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def make_chain(n: int = 6) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = None
    for i in range(n):
        prev = next_entry(
            prev,
            actor="dsl" if i % 2 else "editor",
            action=CONSENT_CHANGE if i % 2 else RENDER,
            object_type="person" if i % 2 else "photo",
            object_id=f"P{i}" if i % 2 else f"photo-{i}",
            details={"purpose": "website", "person_ids": [f"P{i + 1}"]},
            at=T0 + timedelta(minutes=i),
        )
        entries.append(prev)
    return entries


def rehash(entry: AuditEntry, **changes) -> AuditEntry:
    """What a tamperer who knows the format would write: changed fields, fresh hash."""
    fields = {**dataclasses.asdict(entry), **changes}
    fields.pop("hash")
    return AuditEntry(**fields, hash=entry_hash(**fields))


def test_valid_chain_verifies():
    chain = make_chain()
    report = verify_chain(chain, head=(chain[-1].seq, chain[-1].hash))
    assert report.ok, report.problems
    assert report.checked == 6 and report.last_seq == 6 and report.last_hash == chain[-1].hash
    assert chain[0].seq == 1 and chain[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:], strict=False))


def test_empty_chain_verifies_with_genesis_head():
    assert verify_chain([], head=(0, GENESIS_HASH)).ok


def test_entry_hash_is_canonical_json_of_all_fields_but_hash():
    import hashlib

    entry = make_chain(1)[0]
    fields = dataclasses.asdict(entry)
    fields.pop("hash")
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert entry.hash == hashlib.sha256(text.encode()).hexdigest()


def test_details_round_trip_through_stored_json():
    entry = next_entry(
        None,
        actor="dsl",
        action=CONSENT_CHANGE,
        object_type="person",
        object_id=42,
        details={"ids": ("a", "b"), "é": 1.5},
        at=T0,
    )
    assert entry.object_id == "42" and entry.details == {"ids": ["a", "b"], "é": 1.5}
    stored = canonical_json(entry.to_dict())
    assert verify_chain([AuditEntry.from_dict(json.loads(stored))]).ok
    with pytest.raises(ValueError, match="plain JSON"):
        next_entry(None, actor="a", action="b", object_type="c", object_id=1, details={"t": T0})
    with pytest.raises(ValueError, match="timezone"):
        next_entry(None, actor="a", action="b", object_type="c", object_id=1, at=datetime.now())


def test_edited_detail_is_detected_at_that_seq():
    chain = make_chain()
    chain[2] = dataclasses.replace(chain[2], details={"purpose": "press", "person_ids": ["P3"]})
    report = verify_chain(chain)
    assert not report.ok
    assert len(report.problems) == 1
    assert report.problems[0].startswith("seq 3: hash does not match")


def test_edited_and_rehashed_entry_is_detected_at_the_next_seq():
    chain = make_chain()
    chain[2] = rehash(chain[2], actor="someone-else")
    report = verify_chain(chain)
    assert [p.split(":")[0] for p in report.problems] == ["seq 4"]
    assert "prev_hash" in report.problems[0]


def test_deleted_middle_entry_is_detected():
    chain = make_chain()
    del chain[3]
    report = verify_chain(chain)
    assert not report.ok
    assert any(p.startswith("seq 5: seq 4 missing") for p in report.problems)
    assert any(p.startswith("seq 5: prev_hash") for p in report.problems)


def test_inserted_entry_is_detected():
    chain = make_chain()
    forged = next_entry(
        chain[2],
        actor="dsl",
        action=CONSENT_CHANGE,
        object_type="person",
        object_id="P9",
        details={"status": "granted"},
        at=T0 + timedelta(minutes=2, seconds=30),
    )
    chain.insert(3, forged)  # valid link to seq 3, but the old seq 4 follows it
    report = verify_chain(chain)
    assert not report.ok
    assert any("seq 4: out of order or repeated" in p for p in report.problems)
    assert any(p.startswith("seq 4: prev_hash") for p in report.problems)


def test_deleted_tail_is_only_detected_with_a_head():
    chain = make_chain()
    head = (chain[-1].seq, chain[-1].hash)
    truncated = chain[:-2]
    assert verify_chain(truncated).ok, "a chain alone cannot see a deleted tail"
    report = verify_chain(truncated, head=head)
    assert not report.ok
    assert "seqs 5-6 were deleted" in report.problems[0]


def test_appended_entry_beyond_the_head_is_detected():
    chain = make_chain()
    head = (chain[-1].seq, chain[-1].hash)
    extra = next_entry(
        chain[-1], actor="x", action=EXPORT, object_type="photo", object_id="p", at=T0
    )
    report = verify_chain([*chain, extra], head=head)
    assert not report.ok and "appended without updating the head" in report.problems[0]


def test_fully_rewritten_chain_fails_the_recorded_head():
    chain = make_chain()
    head = (chain[-1].seq, chain[-1].hash)
    rewritten = [rehash(chain[0], actor="forger")]
    for entry in chain[1:]:
        rewritten.append(rehash(entry, prev_hash=rewritten[-1].hash))
    assert verify_chain(rewritten).ok, "a consistent rewrite passes the chain check alone"
    report = verify_chain(rewritten, head=head)
    assert not report.ok and "rewritten" in report.problems[0]


def test_seal_detects_a_rewrite_by_someone_without_the_key():
    master = MasterKey.generate()
    chain = make_chain()
    head = (chain[-1].seq, chain[-1].hash)
    seal = seal_head(master, *head)
    assert check_seal(master, *head, seal)
    assert verify_chain(chain, head=head, seal=seal, master=master).ok

    # The tamperer rewrites the chain and the head row, and reseals without the key.
    rewritten = [rehash(chain[0], details={"purpose": "press"})]
    for entry in chain[1:]:
        rewritten.append(rehash(entry, prev_hash=rewritten[-1].hash))
    new_head = (rewritten[-1].seq, rewritten[-1].hash)
    forged_with_other_key = seal_head(MasterKey.generate(), *new_head)
    forged_with_old_mac = seal  # reuse of the genuine seal for another head
    assert verify_chain(rewritten, head=new_head).ok
    for forged in (forged_with_other_key, forged_with_old_mac, "v1:0000:deadbeef", "junk"):
        assert not check_seal(master, *new_head, forged)
        report = verify_chain(rewritten, head=new_head, seal=forged, master=master)
        assert not report.ok and "seal" in report.problems[-1]


def test_seal_names_a_different_key():
    chain = make_chain(2)
    head = (chain[-1].seq, chain[-1].hash)
    old, new = MasterKey.generate(), MasterKey.generate()
    report = verify_chain(chain, head=head, seal=seal_head(old, *head), master=new)
    assert old.key_id in report.problems[0] and new.key_id in report.problems[0]


def test_incremental_verification_from_a_checkpoint():
    chain = make_chain()
    assert verify_chain(chain[3:], after=(chain[2].seq, chain[2].hash)).ok
    assert not verify_chain(chain[4:], after=(chain[2].seq, chain[2].hash)).ok


# --- bursts --------------------------------------------------------------------------------


def _log(events: list[tuple[str, str, datetime]]) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = None
    for actor, action, at in events:
        prev = next_entry(
            prev, actor=actor, action=action, object_type="photo", object_id="x", at=at
        )
        entries.append(prev)
    return entries


def test_25_downloads_in_5_minutes_are_flagged():
    events = [("teacher", DOWNLOAD, T0 + timedelta(seconds=12 * i)) for i in range(25)]
    events += [("dsl", DOWNLOAD, T0 + timedelta(hours=i)) for i in range(5)]
    bursts = flag_bursts(_log(events))
    assert len(bursts) == 1
    burst = bursts[0]
    assert (burst.actor, burst.action, burst.count) == ("teacher", DOWNLOAD, 25)
    assert burst.start == T0 and burst.end == T0 + timedelta(seconds=12 * 24)
    assert (burst.first_seq, burst.last_seq) == (1, 25)


def test_25_downloads_over_a_day_are_not_flagged():
    events = [("teacher", DOWNLOAD, T0 + timedelta(hours=i)) for i in range(25)]
    assert flag_bursts(_log(events)) == []


def test_bursts_are_per_actor_and_action_and_separate_sprees_stay_separate():
    spree = [("a", DOWNLOAD, T0 + timedelta(seconds=i)) for i in range(20)]
    later = [("a", DOWNLOAD, T0 + timedelta(hours=3, seconds=i)) for i in range(30)]
    mixed = [("b", DOWNLOAD, T0 + timedelta(seconds=i)) for i in range(10)]
    mixed += [("b", EXPORT, T0 + timedelta(seconds=i)) for i in range(10)]
    renders = [("c", RENDER, T0 + timedelta(seconds=i)) for i in range(50)]
    bursts = flag_bursts(_log(spree + later + mixed + renders))
    assert [(b.actor, b.count) for b in bursts] == [("a", 20), ("a", 30)]
    assert flag_bursts(_log(spree), threshold=21) == []


# --- filters -------------------------------------------------------------------------------


def test_filters_by_person_actor_action_and_time():
    prev = None
    entries = []
    rows = [
        ("dsl", CONSENT_CHANGE, "person", "P1", {}, 0),
        ("editor", RENDER, "photo", "ph1", {"person_ids": ["P1", "P2"]}, 1),
        ("editor", DOWNLOAD, "photo", "ph2", {"person_id": "P2"}, 2),
        ("dsl", CONSENT_CHANGE, "person", "P2", {}, 3),
        ("editor", RENDER, "photo", "ph3", {"person_ids": [7]}, 4),
    ]
    for actor, action, otype, oid, details, day in rows:
        prev = next_entry(
            prev,
            actor=actor,
            action=action,
            object_type=otype,
            object_id=oid,
            details=details,
            at=T0 + timedelta(days=day),
        )
        entries.append(prev)

    def seqs(**kwargs):
        return [e.seq for e in filter_entries(entries, **kwargs)]

    assert seqs(person="P1") == [1, 2]
    assert seqs(person="P2") == [2, 3, 4]
    assert seqs(person=7) == [5]
    assert seqs(actor="editor") == [2, 3, 5]
    assert seqs(action=CONSENT_CHANGE) == [1, 4]
    assert seqs(action=[RENDER, DOWNLOAD], person="P2") == [2, 3]
    assert seqs(since=T0 + timedelta(days=1), until=T0 + timedelta(days=3)) == [2, 3]
    assert seqs(since="2025-03-05") == [3, 4, 5]
    assert seqs(until="2025-03-04") == [1]
    assert seqs(object_type="photo", object_id="ph2") == [3]
    assert seqs(person="P9") == []
