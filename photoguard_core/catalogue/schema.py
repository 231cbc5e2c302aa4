"""The catalogue's SQLite schema, as an ordered list of migrations.

A migration is applied once, inside one transaction, and its number recorded in
``PRAGMA user_version``; a crash mid-migration leaves the previous version intact.
Never edit a released migration: add the next one.

Append-only tables (the consent ledger, biometric responses, the audit log) are
enforced by triggers, so no code path — ours or a hand-run SQL session — can
update or delete their rows without failing loudly.
"""

from __future__ import annotations


def _append_only(table: str) -> str:
    return f"""
    CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
    CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
    """


MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE people (
        id TEXT PRIMARY KEY,
        first_name TEXT NOT NULL,
        last_name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL CHECK (role IN ('pupil', 'staff', 'other')),
        date_of_birth TEXT,
        left_on TEXT,
        created_at TEXT NOT NULL
    );
    -- Data keys, wrapped by the master key, one per person plus one for the pool
    -- of unassigned faces. Deleting a row crypto-shreds what it encrypted.
    CREATE TABLE data_keys (
        owner TEXT PRIMARY KEY,
        wrapped_key BLOB NOT NULL,
        key_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE person_flags (
        person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        flag TEXT NOT NULL,
        set_at TEXT NOT NULL,
        set_by TEXT NOT NULL,
        PRIMARY KEY (person_id, flag)
    );
    CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL DEFAULT 'group'
    );
    CREATE TABLE memberships (
        person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        PRIMARY KEY (person_id, group_id)
    );
    CREATE TABLE purposes (
        name TEXT PRIMARY KEY,
        audience TEXT NOT NULL,
        max_size INTEGER NOT NULL,
        style TEXT NOT NULL,
        names_with_images INTEGER NOT NULL,
        description TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE consent_ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('granted', 'refused', 'withdrawn')),
        valid_from TEXT NOT NULL,
        valid_until TEXT,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        source TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX consent_by_person ON consent_ledger (person_id, purpose, recorded_at);

    CREATE TABLE biometric_responses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id TEXT NOT NULL,
        respondent TEXT NOT NULL CHECK (respondent IN ('parent', 'child', 'self')),
        respondent_name TEXT NOT NULL,
        response TEXT NOT NULL CHECK (response IN ('granted', 'objected', 'withdrawn')),
        in_writing INTEGER NOT NULL,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL
    );
    CREATE INDEX biometric_by_person ON biometric_responses (person_id, recorded_at);

    CREATE TABLE templates (
        id INTEGER PRIMARY KEY,
        person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        encoding BLOB NOT NULL,
        source_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX templates_by_person ON templates (person_id);

    CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, date TEXT);
    CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);

    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        location TEXT NOT NULL,
        format TEXT,
        width INTEGER,
        height INTEGER,
        event_id INTEGER REFERENCES events(id) ON DELETE SET NULL,
        taken_on TEXT,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'failed')),
        error TEXT,
        indexed_at TEXT NOT NULL
    );
    CREATE TABLE photo_tags (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        PRIMARY KEY (photo_id, tag_id)
    );

    -- A face's embedding is encrypted with the data key of the person it is
    -- assigned to (key_owner), or with the pool key while unassigned, so that
    -- shredding a person's key makes their face embeddings unreadable too.
    CREATE TABLE faces (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        detector TEXT NOT NULL,
        score REAL NOT NULL,
        embedding BLOB,
        key_owner TEXT,
        person_id TEXT REFERENCES people(id) ON DELETE SET NULL,
        assignment TEXT NOT NULL DEFAULT 'unknown'
            CHECK (assignment IN ('unknown', 'auto', 'ambiguous', 'confirmed')),
        distance REAL,
        candidate TEXT,
        manual INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX faces_by_photo ON faces (photo_id);
    CREATE INDEX faces_by_person ON faces (person_id, assignment);
    CREATE INDEX faces_by_state ON faces (assignment);
    CREATE TABLE face_rejections (
        face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        person_id TEXT NOT NULL,
        PRIMARY KEY (face_id, person_id)
    );

    CREATE TABLE renditions (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        purpose TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        location TEXT NOT NULL,
        outcome TEXT NOT NULL,
        shown TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        superseded_at TEXT
    );
    CREATE INDEX renditions_by_photo ON renditions (photo_id, purpose);
    CREATE TABLE usages (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        purpose TEXT NOT NULL,
        location TEXT NOT NULL,
        rendition_id INTEGER REFERENCES renditions(id),
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        UNIQUE (photo_id, purpose, location)
    );
    CREATE INDEX usages_by_photo ON usages (photo_id, purpose);

    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        total INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        person_id TEXT,
        photo_id INTEGER,
        message TEXT NOT NULL
    );

    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        object_type TEXT NOT NULL,
        object_id TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_by_actor ON audit_log (actor, at);
    CREATE INDEX audit_by_action ON audit_log (action, at);
    """
    + _append_only("consent_ledger")
    + _append_only("biometric_responses")
    + _append_only("audit_log"),
]
