"""DDL of the embedded store. Bump :data:`SCHEMA_VERSION` with every change."""

from __future__ import annotations

from typing import Final

SCHEMA_VERSION: Final = 5
#: SQL function each connection registers: :func:`agent_memory.stores.sqlite.segment.segment`.
SEGMENT_FUNCTION: Final = "agent_memory_segment"
#: Full-text rows indexed again with unspaced runs cut into bigrams (schema 4).
_RESEGMENT: Final = (
    f"UPDATE turns_fts SET content = {SEGMENT_FUNCTION}(content), "
    f"about = {SEGMENT_FUNCTION}(about), before = {SEGMENT_FUNCTION}(before), "
    f"after = {SEGMENT_FUNCTION}(after)",
    f"UPDATE memories_fts SET content = {SEGMENT_FUNCTION}(content)",
)
#: Columns added after a table's first release: ``(table, column, definition)``. Opening a
#: file adds whichever are missing, whatever its version (schema 5: each user's vector
#: generation, see :mod:`.vector_files`).
ADDED_COLUMNS: Final = (("user_state", "vectors", "INTEGER NOT NULL DEFAULT 0"),)
#: Versions this release upgrades in place, with the statements that do it.
UPGRADES: Final = {
    2: (
        "ALTER TABLE user_state ADD COLUMN epoch TEXT",
        "INSERT OR IGNORE INTO user_state (user_id, mutations) "
        "SELECT user_id, 1 FROM turns UNION SELECT user_id, 1 FROM memories",
        "UPDATE user_state SET epoch = lower(hex(randomblob(16))) WHERE epoch IS NULL",
        *_RESEGMENT,
    ),
    3: _RESEGMENT,
    4: (),
}

#: FTS5 tokenizer: Porter stemming over Unicode words, diacritics folded. Text in scripts
#: written without spaces is indexed as character bigrams (:mod:`.segment`).
TOKENIZER: Final = "porter unicode61 remove_diacritics 2"

DDL: Final = f"""
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user_state (
    user_id TEXT PRIMARY KEY,
    mutations INTEGER NOT NULL DEFAULT 0,
    epoch TEXT,
    vectors INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS turns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    embedding BLOB,
    UNIQUE (user_id, thread_id, id)
);
CREATE INDEX IF NOT EXISTS turns_by_thread ON turns (user_id, thread_id, seq);
CREATE INDEX IF NOT EXISTS turns_by_user ON turns (user_id, seq);
CREATE VIRTUAL TABLE IF NOT EXISTS turns_fts USING fts5 (
    scope, content, about, before, after, tokenize = '{TOKENIZER}'
);
CREATE TABLE IF NOT EXISTS memories (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    type TEXT NOT NULL,
    confidence REAL NOT NULL,
    created_at TEXT NOT NULL,
    expires_at REAL,
    superseded_by TEXT,
    doc TEXT NOT NULL,
    embedding BLOB,
    UNIQUE (user_id, id)
);
CREATE INDEX IF NOT EXISTS memories_by_user ON memories (user_id, seq);
CREATE INDEX IF NOT EXISTS memories_by_time ON memories (user_id, created_at);
CREATE INDEX IF NOT EXISTS memories_superseded ON memories (user_id, seq)
    WHERE superseded_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_by_expiry ON memories (expires_at) WHERE expires_at IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5 (
    scope, content, tokenize = '{TOKENIZER}'
);
CREATE TABLE IF NOT EXISTS summaries (
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    thread_id TEXT,
    doc TEXT NOT NULL,
    embedding BLOB,
    PRIMARY KEY (user_id, kind, scope)
);
CREATE TABLE IF NOT EXISTS counters (
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    last_owner TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, scope, name)
);
CREATE TABLE IF NOT EXISTS usage (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_user ON usage (user_id, seq);
CREATE TABLE IF NOT EXISTS watermarks (
    user_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    step TEXT NOT NULL,
    value INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, thread_id, step)
);
"""
