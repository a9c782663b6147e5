"""The case schema as an ordered list of migrations; `PRAGMA user_version` records how many have run."""

from __future__ import annotations

# The hash-chained, append-only log: a case's and the server's accounts' (store/server.py) alike.
AUDIT_LOG = """
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

MIGRATIONS: list[str] = [
    # 1: the core case
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        given TEXT NOT NULL,
        root TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        added_at TEXT NOT NULL
    );

    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        arguments TEXT NOT NULL,
        counts TEXT
    );

    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        relpath TEXT NOT NULL,
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        size INTEGER,
        mtime REAL,
        ctime REAL,
        atime REAL,
        md5 TEXT,
        sha1 TEXT,
        sha256 TEXT,
        media_type TEXT,
        width INTEGER,
        height INTEGER,
        exif TEXT,
        pdq TEXT,
        pdq_quality INTEGER,
        pdq_variants BLOB,
        stack_id INTEGER,
        UNIQUE (source_id, relpath)
    );
    CREATE INDEX items_sha256 ON items(sha256);
    CREATE INDEX items_md5 ON items(md5);
    CREATE INDEX items_sha1 ON items(sha1);
    CREATE INDEX items_stack ON items(stack_id);

    CREATE TABLE item_errors (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        stage TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX item_errors_item ON item_errors(item_id);

    CREATE TABLE hash_lists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        file_name TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        entry_count INTEGER NOT NULL,
        problems TEXT NOT NULL
    );

    CREATE TABLE list_entries (
        id INTEGER PRIMARY KEY,
        list_id INTEGER NOT NULL REFERENCES hash_lists(id),
        line INTEGER,
        md5 TEXT,
        sha1 TEXT,
        sha256 TEXT,
        pdq TEXT,
        pdq_quality INTEGER,
        photodna TEXT,
        category_scheme TEXT,
        category TEXT,
        label TEXT,
        series TEXT,
        victim_identified INTEGER,
        extra TEXT
    );
    CREATE INDEX list_entries_md5 ON list_entries(md5) WHERE md5 IS NOT NULL;
    CREATE INDEX list_entries_sha1 ON list_entries(sha1) WHERE sha1 IS NOT NULL;
    CREATE INDEX list_entries_sha256 ON list_entries(sha256) WHERE sha256 IS NOT NULL;
    CREATE INDEX list_entries_list ON list_entries(list_id);

    CREATE TABLE matches (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        entry_id INTEGER NOT NULL REFERENCES list_entries(id),
        signal TEXT NOT NULL,
        distance INTEGER NOT NULL,
        variant TEXT,
        UNIQUE (item_id, entry_id, signal)
    );
    CREATE INDEX matches_item ON matches(item_id);

    CREATE TABLE stacks (
        id INTEGER PRIMARY KEY,
        representative_id INTEGER NOT NULL REFERENCES items(id),
        size INTEGER NOT NULL,
        exact_only INTEGER NOT NULL
    );

    """ + AUDIT_LOG,
    # 2: video facts, frame hashes, review stills; video hash lists; where in a video a match sits
    """
    ALTER TABLE items ADD COLUMN duration REAL;
    ALTER TABLE items ADD COLUMN codec TEXT;
    ALTER TABLE items ADD COLUMN frame_rate REAL;

    CREATE TABLE video_frames (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        frame_number INTEGER NOT NULL,
        timestamp REAL NOT NULL,
        quality INTEGER NOT NULL,
        pdq TEXT NOT NULL,
        pdq_variants BLOB
    );
    CREATE INDEX video_frames_item ON video_frames(item_id);

    CREATE TABLE video_stills (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        frame_number INTEGER NOT NULL,
        timestamp REAL NOT NULL,
        jpeg BLOB NOT NULL
    );
    CREATE INDEX video_stills_item ON video_stills(item_id);

    CREATE TABLE list_video_frames (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES list_entries(id),
        frame_number INTEGER,
        timestamp REAL,
        quality INTEGER NOT NULL,
        pdq TEXT NOT NULL
    );
    CREATE INDEX list_video_frames_entry ON list_video_frames(entry_id);

    ALTER TABLE matches ADD COLUMN frame_number INTEGER;
    ALTER TABLE matches ADD COLUMN timestamp REAL;
    ALTER TABLE matches ADD COLUMN detail TEXT;
    """,
    # 3: provenance findings and the AI verdict computed from them
    """
    ALTER TABLE items ADD COLUMN ai_verdict TEXT;

    CREATE TABLE item_findings (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        value TEXT,
        strength TEXT NOT NULL
    );
    CREATE INDEX item_findings_item ON item_findings(item_id);
    """,
    # 4: faces, and the persons a grouping or a reviewer puts them in
    """
    CREATE TABLE persons (
        id INTEGER PRIMARY KEY,
        name TEXT,
        representative_face_id INTEGER,
        created_at TEXT NOT NULL
    );

    CREATE TABLE faces (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        x INTEGER NOT NULL, y INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
        landmarks TEXT NOT NULL,
        embedding BLOB,
        score REAL NOT NULL,
        detector TEXT NOT NULL,
        crop BLOB,
        person_id INTEGER REFERENCES persons(id)
    );
    CREATE INDEX faces_item ON faces(item_id);
    CREATE INDEX faces_person ON faces(person_id);
    """,
    # 5: the review console: accounts, sessions, decisions, notes, and the derived queue and search index
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'read-only')),
        settings TEXT NOT NULL DEFAULT '{}',
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );

    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );

    CREATE TABLE reveals (
        token_hash TEXT NOT NULL REFERENCES sessions(token_hash) ON DELETE CASCADE,
        item_id INTEGER NOT NULL REFERENCES items(id),
        at TEXT NOT NULL,
        PRIMARY KEY (token_hash, item_id)
    );

    CREATE TABLE reviews (
        item_id INTEGER PRIMARY KEY REFERENCES items(id),
        category_scheme TEXT NOT NULL,
        category TEXT,
        ai_tags TEXT NOT NULL DEFAULT '[]',
        industry_class TEXT,
        decided_by TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        audit_seq INTEGER NOT NULL
    );
    CREATE INDEX reviews_category ON reviews(category);

    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        author TEXT NOT NULL,
        at TEXT NOT NULL,
        text TEXT NOT NULL,
        audit_seq INTEGER NOT NULL
    );
    CREATE INDEX notes_item ON notes(item_id);

    CREATE TABLE review_queue (
        representative_id INTEGER PRIMARY KEY REFERENCES items(id),
        stack_id INTEGER,
        members INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        ai_verdict TEXT NOT NULL,
        path TEXT NOT NULL
    );
    CREATE INDEX review_queue_order ON review_queue(priority, members DESC, path);

    CREATE VIRTUAL TABLE item_search USING fts5(path, metadata, tokenize = 'trigram');
    """,
    # 6: scan lifecycle: how far each hash list has been matched (items up to this id), so a resumed scan
    # matches what a killed one stored
    """
    CREATE TABLE list_match_state (
        list_id INTEGER PRIMARY KEY REFERENCES hash_lists(id),
        matched_through INTEGER NOT NULL
    );
    """,
    # 7: lists: a 64-digit value that says not whether it is SHA-256 or PDQ (matched both ways); import notes
    """
    ALTER TABLE list_entries ADD COLUMN untyped INTEGER;
    ALTER TABLE hash_lists ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';
    """,
    # 8: evidence paths: names escaped, repeated archive members numbered (the grammar in sources/base.py);
    # how deep in archives an item sits is a column, since "!/" in a relpath may now belong to a name;
    # a source root that is not UTF-8 keeps its raw bytes (its `root` text is then escaped)
    """
    ALTER TABLE sources ADD COLUMN root_raw BLOB;
    ALTER TABLE items ADD COLUMN archive_depth INTEGER NOT NULL DEFAULT 0;
    UPDATE items SET archive_depth = (length(relpath) - length(replace(relpath, '!/', ''))) / 2,
                     relpath = vigie_legacy_relpath(relpath);
    CREATE INDEX items_top_level ON items(source_id, archive_depth);
    DELETE FROM meta WHERE key = 'review_queue_built_for';
    """,
    # 9: disk images: files the file system lists as deleted, their inode, and an image's own stored digests
    # (an E01's MD5/SHA-1) with how they compared with the media read
    """
    ALTER TABLE items ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE items ADD COLUMN inode INTEGER;
    ALTER TABLE items ADD COLUMN stored_hashes TEXT;
    """,
    # 10: ai score: the detector's score of an image, kept whatever it is, for sorting and filtering (null in
    # cases scanned before); analysed_as: the item whose findings a copy with the same SHA-256 took
    """
    ALTER TABLE items ADD COLUMN ai_score REAL;
    ALTER TABLE items ADD COLUMN analysed_as INTEGER REFERENCES items(id);
    CREATE INDEX items_ai_score ON items(ai_score) WHERE ai_score IS NOT NULL;
    """,
    # 11: volume: stacks are updated incrementally; the items whose stack changed since the review queue was
    # last brought up to date (the queue redoes only their groups)
    """
    CREATE TABLE review_dirty (item_id INTEGER PRIMARY KEY);
    DELETE FROM meta WHERE key = 'review_queue_built_for';
    """,
    # 12: conflicts: each item's decision version, the audit entry that last decided, undecided or undid it
    # (kept when it goes back to undecided, so a screen older than that is still known to be stale); the
    # queue entries a reviewer claimed, until when
    """
    CREATE TABLE review_versions (item_id INTEGER PRIMARY KEY, audit_seq INTEGER NOT NULL);
    INSERT INTO review_versions SELECT item_id, audit_seq FROM reviews;
    CREATE TABLE review_claims (
        item_id INTEGER PRIMARY KEY, claimed_by TEXT NOT NULL, until TEXT NOT NULL, audit_seq INTEGER NOT NULL
    );
    """,
    # 13: accounts: an account whose password was made for it (first start, `vigie user add`, a reset) must
    # choose its own at its next login
    """
    ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
    """,
    # 14: late commits: the items not yet matched against every list, and not yet stacked, queued by id with the
    # item itself (in PostgreSQL a lower id may commit after a higher one was matched: no id range is safe);
    # what the high-water marks had not reached yet is queued
    """
    CREATE TABLE unmatched_items (item_id INTEGER PRIMARY KEY);
    CREATE TABLE unstacked_items (item_id INTEGER PRIMARY KEY);
    INSERT INTO unmatched_items SELECT id FROM items WHERE id > (SELECT min(matched_through) FROM list_match_state);
    INSERT INTO unstacked_items SELECT id FROM items
        WHERE id > (SELECT json_extract(value, '$.through') FROM meta WHERE key = 'stacks_state');
    """,
    # 15: faces a reviewer placed (by a split or a merge) stay in their person through later groupings; the
    # persons that earlier merges kept are pinned so
    """
    ALTER TABLE faces ADD COLUMN placed INTEGER NOT NULL DEFAULT 0;
    UPDATE faces SET placed = 1 WHERE person_id IN
        (SELECT json_extract(details, '$.keep') FROM audit_log WHERE action = 'person-merge');
    """,
    # 16: lists: the lines skipped at import, a column (a line read without a bad cell's value is not skipped);
    # lists imported before had one problem per skipped line, their count past the first 1000 in the last
    """
    ALTER TABLE hash_lists ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
    UPDATE hash_lists SET skipped = CASE
        WHEN json_array_length(problems) > 1000 AND json_extract(problems, '$[#-1]')
            GLOB '[0-9]* more skipped line* not listed ([0-9]* in all; only the first [0-9]* are kept)'
        THEN CAST(substr(json_extract(problems, '$[#-1]'), instr(json_extract(problems, '$[#-1]'), '(') + 1)
            AS INTEGER)
        ELSE json_array_length(problems) END;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
