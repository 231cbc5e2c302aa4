"""How fast ``affected_by`` answers on a school-sized catalogue.

    python bench/affected.py [--photos 100000] [--faces 500000] [--people 1500] [--keep FILE]

Builds a synthetic catalogue (random boxes, people assigned to 70% of faces,
website consent for everyone, copies and usages for a fifth of the photos) with
the real schema, then records one withdrawal at a time for 30 people and times
``affected_by`` for each. Prints build time, file size, and the timings (median,
95th percentile, max) against the 100 ms target. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from photoguard_core.catalogue.sqlite_store import SQLiteCatalogue, now_iso
from photoguard_core.consent import DEFAULT_PURPOSES, ConsentEntry, ConsentStatus
from photoguard_core.context import Context
from photoguard_core.crypto import MasterKey
from photoguard_core.fluid import Change, affected_by


def build(path: Path, photos: int, faces: int, people: int, seed: int = 7) -> float:
    rng = random.Random(seed)
    store = SQLiteCatalogue(path)
    start = time.perf_counter()
    conn = store.conn
    store.save_purposes(DEFAULT_PURPOSES)
    stamp = now_iso()
    granted = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO people (id, first_name, last_name, role, created_at) VALUES (?, ?, ?, ?, ?)",
        [(f"P{i:05d}", f"First{i}", f"Last{i}", "pupil", stamp) for i in range(people)],
    )
    conn.executemany(
        "INSERT INTO consent_ledger (person_id, purpose, status, valid_from, valid_until, "
        "recorded_at, recorded_by, source) VALUES (?, 'website', 'granted', ?, NULL, ?, 'bench', "
        "'bench')",
        [(f"P{i:05d}", "2026-01-01", granted) for i in range(people)],
    )
    conn.executemany(
        "INSERT INTO photos (id, sha256, location, format, width, height, status, indexed_at) "
        "VALUES (?, ?, ?, 'JPEG', 4000, 3000, 'indexed', ?)",
        [
            (i, f"{rng.getrandbits(256):064x}", f"/photos/{i}.jpg", stamp)
            for i in range(1, photos + 1)
        ],
    )
    rows = []
    for _ in range(faces):
        photo = rng.randint(1, photos)
        x, y = rng.uniform(0, 3800), rng.uniform(0, 2800)
        assigned = rng.random() < 0.7
        person = f"P{rng.randrange(people):05d}" if assigned else None
        state = rng.choice(("auto", "confirmed")) if assigned else "unknown"
        rows.append((photo, x, y, x + 120, y + 120, "centerface-sweep", 0.9, person, state, stamp))
    conn.executemany(
        "INSERT INTO faces (photo_id, x0, y0, x1, y1, detector, score, person_id, assignment, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    published = rng.sample(range(1, photos + 1), photos // 5)
    conn.executemany(
        "INSERT INTO renditions (photo_id, purpose, sha256, location, outcome, created_at) "
        "VALUES (?, 'website', ?, ?, 'publishable', ?)",
        [(p, f"{p:064x}", f"/safe/{p}.jpg", stamp) for p in published],
    )
    conn.executemany(
        "INSERT INTO usages (photo_id, purpose, location, recorded_at, recorded_by) "
        "VALUES (?, 'website', ?, ?, 'bench')",
        [(p, f"https://school.example/page/{p}", stamp) for p in published],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    store.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--faces", type=int, default=500_000)
    parser.add_argument("--people", type=int, default=1_500)
    parser.add_argument("--keep", type=Path, default=None, help="keep the catalogue here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pg-affected-") as tmp:
        path = args.keep or Path(tmp) / "catalogue.sqlite"
        seconds = build(path, args.photos, args.faces, args.people)
        size_mb = path.stat().st_size / 2**20
        print(f"catalogue: {args.photos:,} photos, {args.faces:,} faces, {args.people:,} people")
        print(f"built in {seconds:.1f} s (with indexes), file {size_mb:.0f} MB")

        store = SQLiteCatalogue(path)
        ctx = Context(store=store, master=MasterKey.generate(), actor="bench")
        timings, sizes = [], []
        for i in range(30):
            person = f"P{(i * 47) % args.people:05d}"
            before = datetime.now(UTC)
            store.append_consent(
                ConsentEntry(
                    person_id=person,
                    purpose="website",
                    status=ConsentStatus.WITHDRAWN,
                    valid_from=date.today(),
                    valid_until=None,
                    recorded_at=before,
                    recorded_by="bench",
                    source="bench",
                )
            )
            change = Change(
                "consent",
                person_id=person,
                purpose="website",
                before=before - timedelta(microseconds=1),
                after=datetime.now(UTC),
            )
            start = time.perf_counter()
            impact = affected_by(ctx, change)
            timings.append((time.perf_counter() - start) * 1000)
            sizes.append((len(impact.photos), len(impact.renditions), len(impact.usages)))
        store.close()

    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    photos_avg = statistics.mean(s[0] for s in sizes)
    usages_avg = statistics.mean(s[2] for s in sizes)
    print(
        f"affected_by, one withdrawal (30 people): median {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms  (target < 100 ms: "
        f"{'met' if timings[-1] < 100 else 'NOT met'}; ratio to target "
        f"{statistics.median(timings) / 100:.2f})"
    )
    print(f"  each found on average {photos_avg:.0f} photos and {usages_avg:.0f} usages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
