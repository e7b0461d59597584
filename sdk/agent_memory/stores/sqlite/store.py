"""The embedded default store: one SQLite file, FTS5 full text, NumPy vectors, RRF fusion."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from agent_memory.core import context
from agent_memory.core.errors import (
    ConfigurationError,
    ForgottenError,
    InvalidInputError,
    StoreError,
)
from agent_memory.core.models import (
    COUNTERS_CONTAINER,
    MEMORIES_CONTAINER,
    SUMMARIES_CONTAINER,
    TURNS_CONTAINER,
    USER_SCOPED_TYPES,
    AppendResult,
    CounterIncrement,
    Memory,
    MemoryType,
    SearchHit,
    Summary,
    SummaryKind,
    SupersedeReason,
    Turn,
    UsageRecord,
    check_supersede_reason,
    utcnow,
)
from agent_memory.core.query import (
    TEXT_WEIGHT,
    VECTOR_WEIGHT,
    SearchQuery,
    Vector,
    query_terms,
    rrf,
)
from agent_memory.stores.sqlite.failures import check_store_file, guarded, storage_errors
from agent_memory.stores.sqlite.schema import (
    ADDED_COLUMNS,
    DDL,
    SCHEMA_VERSION,
    SEGMENT_FUNCTION,
    UPGRADES,
)
from agent_memory.stores.sqlite.segment import segment
from agent_memory.stores.sqlite.vector_files import Header, VectorFiles
from agent_memory.stores.sqlite.vectors import TYPE_CODES, Rows, VectorCache

DEFAULT_PATH: Final = Path(".agent_memory") / "memory.db"
PATH_ENV: Final = "AGENT_MEMORY_PATH"
_PURGE_INTERVAL_SECONDS: Final = 60.0
_CACHE_KIB: Final = 64 * 1024  # page cache per connection
_MMAP_BYTES: Final = 256 * 1024 * 1024
#: Full-text candidates ranked before the filters join; more are read only if too few survive.
_TEXT_OVERFETCH: Final = 4
_ACTIVE_NOW: Final = "(expires_at IS NULL OR expires_at > ?)"
_FRESH_EPOCH: Final = "lower(hex(randomblob(16)))"
_FRESH_COUNT: Final = "(abs(random()) % 1099511627776) + 1"

Clock = Callable[[], datetime]


def default_path() -> Path:
    """``$AGENT_MEMORY_PATH`` or ``./.agent_memory/memory.db``."""
    return Path(os.environ.get(PATH_ENV) or DEFAULT_PATH)


def _scope_token(kind: str, value: str) -> str:
    """An opaque FTS token standing for a user or thread, so MATCH stays inside a partition."""
    return kind + hashlib.sha256(value.encode("utf-8")).hexdigest()[:24]


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def _blob(vector: Vector | None, dims: int | None) -> bytes | None:
    if vector is None:
        return None
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    if dims is not None and array.shape[0] != dims:
        raise ConfigurationError(
            f"embedding has {array.shape[0]} dimensions; this store holds {dims}-dimension vectors"
        )
    return array.tobytes()


class SqliteStore:
    """Embedded :class:`~agent_memory.MemoryStore` in one SQLite file (WAL, thread-safe).

    Each thread gets its own connection; writes take ``BEGIN IMMEDIATE`` with a busy timeout,
    so concurrent writers queue instead of failing with "database is locked".
    ``vector_files`` keeps each searched user's vectors in a memory-mapped file beside the
    database, so a new process's first search maps them instead of reading every embedding
    (:mod:`agent_memory.stores.sqlite.vector_files`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        clock: Clock = utcnow,
        busy_timeout: float = 30.0,
        vector_cache_users: int = 256,
        vector_files: bool = True,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        check_store_file(self.path)
        if str(self.path) != ":memory:":
            with storage_errors(self.path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self._last_purge = 0.0
        try:
            with storage_errors(self.path):
                self._init_schema()
                self._dims: int | None = self._meta_int("embedding_dimensions")
        except BaseException:
            self.close()
            raise
        self._vectors: dict[str, VectorCache] = {}
        self._vector_cache_users = vector_cache_users
        # removed on forget and purge even when this store does not use them: another may
        self._vector_file_set = VectorFiles(self.path) if str(self.path) != ":memory:" else None
        self._vector_files = (
            self._vector_file_set if vector_files and VectorFiles.available(self.path) else None
        )

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the store is closed")
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            db.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            db.execute("PRAGMA secure_delete = ON")
            db.create_function(SEGMENT_FUNCTION, 1, segment, deterministic=True)
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _init_schema(self) -> None:
        db = self._connect()
        db.executescript(DDL)
        with self._write() as tx:
            row = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                tx.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) in UPGRADES:
                for statement in UPGRADES[int(row[0])]:
                    tx.execute(statement)
                for table, column, definition in ADDED_COLUMNS:
                    present = {r[1] for r in tx.execute(f"PRAGMA table_info({table})")}
                    if column not in present:
                        tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
                tx.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) != SCHEMA_VERSION:
                raise ConfigurationError(
                    f"{self.path} has schema version {row[0]}; this release reads {SCHEMA_VERSION}"
                )

    def _meta_int(self, key: str) -> int | None:
        row = self._connect().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else None

    def _now(self) -> datetime:
        return self._clock()

    def _bump(self, db: sqlite3.Connection, user_id: str, *, vectors: bool = False) -> int:
        """Count a non-append change of the user's rows; return the new count.

        A user's state row starts at a random count, so caches keyed on the count never
        mistake a user who was forgotten and came back for the one they cached. ``vectors``:
        the change also removes rows or replaces a vector, so the user's vector files
        (:mod:`.vector_files`) are stale; the caller clears them after the commit.
        """
        step = 1 if vectors else 0
        row = db.execute(
            f"INSERT INTO user_state (user_id, mutations, epoch, vectors) VALUES (?, "
            f"{_FRESH_COUNT}, {_FRESH_EPOCH}, {step}) ON CONFLICT (user_id) DO UPDATE SET "
            f"mutations = mutations + 1, vectors = vectors + {step} RETURNING mutations",
            (user_id,),
        ).fetchone()
        return int(row[0])

    def _clear_vector_files(self, user_id: str, *, erase: bool) -> None:
        """Delete (``erase``: overwrite, then delete) the user's vector files, after a commit."""
        if self._vector_file_set is not None:
            self._vector_file_set.remove(user_id, erase=erase)

    # -- forget epochs -------------------------------------------------------------------

    @guarded
    def user_epoch(self, user_id: str) -> str:
        """A token for the user's data as it is now; ``""`` when the user has none.

        A user's first turn or memory draws a random token; ``forget`` deletes it with the
        user (or draws a new one when one thread is forgotten). Pipeline steps read it first
        and pass it as ``epoch=`` to their writes, which are then refused with
        :class:`ForgottenError`, in the same transaction, once the user was forgotten.
        """
        row = (
            self._connect()
            .execute("SELECT epoch FROM user_state WHERE user_id = ?", (user_id,))
            .fetchone()
        )
        return "" if row is None or row[0] is None else str(row[0])

    @staticmethod
    def _ensure_user(db: sqlite3.Connection, user_id: str) -> None:
        """Give the user a state row (with a fresh epoch) unless they have one."""
        db.execute(
            f"INSERT INTO user_state (user_id, mutations, epoch) VALUES (?, {_FRESH_COUNT}, "
            f"{_FRESH_EPOCH}) ON CONFLICT (user_id) DO UPDATE SET epoch = "
            f"COALESCE(epoch, {_FRESH_EPOCH})",
            (user_id,),
        )

    @staticmethod
    def _check_epoch(db: sqlite3.Connection, user_id: str, epoch: str | None) -> None:
        """Refuse a write from work that started before the user was forgotten."""
        if epoch is None:
            return
        row = db.execute("SELECT epoch FROM user_state WHERE user_id = ?", (user_id,)).fetchone()
        if ("" if row is None else row[0] or "") != epoch:
            raise ForgottenError(
                "the user was forgotten while this step ran; nothing of theirs was written"
            )

    # -- embedding model -----------------------------------------------------------------

    @guarded
    def ensure_embedding_model(self, model: str, dimensions: int) -> None:
        """Record the embedding model on first use; raise ``ConfigurationError`` on a mismatch."""
        with self._write() as db:
            rows = dict(
                db.execute(
                    "SELECT key, value FROM meta WHERE key IN "
                    "('embedding_model', 'embedding_dimensions')"
                ).fetchall()
            )
            if not rows:
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("embedding_model", model), ("embedding_dimensions", str(dimensions))],
                )
            elif rows.get("embedding_model") != model or rows.get("embedding_dimensions") != str(
                dimensions
            ):
                raise ConfigurationError(
                    f"{self.path} holds vectors from embedding model "
                    f"{rows.get('embedding_model')!r} ({rows.get('embedding_dimensions')} dims), "
                    f"but this client embeds with {model!r} ({dimensions} dims). Use the same "
                    "embedder for this store, or point AGENT_MEMORY_PATH at a new one."
                )
        self._dims = dimensions

    # -- turns ---------------------------------------------------------------------------

    @guarded
    def append_turns(
        self, user_id: str, thread_id: str, turns: Sequence[Turn], embeddings: Vector | None
    ) -> AppendResult:
        """Append turns in one transaction; a turn whose id exists in the thread is kept as is."""
        if any(t.user_id != user_id or t.thread_id != thread_id for t in turns):
            raise InvalidInputError("every turn must belong to the given user and thread")
        blobs = [
            _blob(None if embeddings is None else embeddings[i], self._dims)
            for i in range(len(turns))
        ]
        user_tok, thread_tok = _scope_token("u", user_id), _scope_token("t", thread_id)
        stored: list[Turn] = []
        created = 0
        with self._write() as db:
            self._ensure_user(db, user_id)
            last = db.execute(
                "SELECT seq, json_extract(doc, '$.content') FROM turns "
                "WHERE user_id = ? AND thread_id = ? ORDER BY seq DESC LIMIT 1",
                (user_id, thread_id),
            ).fetchone()
            for turn, blob in zip(turns, blobs, strict=True):
                cur = db.execute(
                    "INSERT INTO turns (id, user_id, thread_id, created_at, doc, embedding) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, thread_id, id) DO NOTHING",
                    (
                        turn.id,
                        user_id,
                        thread_id,
                        _iso(turn.created_at),
                        turn.model_dump_json(exclude={"seq"}),
                        blob,
                    ),
                )
                if cur.rowcount == 1:
                    created += 1
                    seq = int(cur.lastrowid or 0)
                    db.execute(
                        "INSERT INTO turns_fts (rowid, scope, content, about, before, after) "
                        "VALUES (?, ?, ?, ?, ?, '')",
                        (
                            seq,
                            f"{user_tok} {thread_tok}",
                            segment(turn.content),
                            segment(context.about(turn.metadata, turn.created_at)),
                            "" if last is None else segment(context.neighbour_text(last[1])),
                        ),
                    )
                    if last is not None:
                        db.execute(
                            "UPDATE turns_fts SET after = ? WHERE rowid = ?",
                            (segment(context.neighbour_text(turn.content)), last[0]),
                        )
                    last = (seq, turn.content)
                    stored.append(turn.model_copy(update={"seq": seq}))
                else:
                    row = db.execute(
                        "SELECT seq, doc FROM turns WHERE user_id = ? AND thread_id = ? AND id = ?",
                        (user_id, thread_id, turn.id),
                    ).fetchone()
                    stored.append(_turn(row))
        return AppendResult(turns=stored, created=created)

    @guarded
    def list_turns(
        self,
        user_id: str,
        thread_id: str,
        *,
        after: int = 0,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[Turn]:
        """Turns of a thread with ``seq > after`` in order; ``latest`` keeps the last ``limit``."""
        order = "DESC" if latest else "ASC"
        sql = (
            "SELECT seq, doc FROM turns WHERE user_id = ? AND thread_id = ? AND seq > ? "
            f"ORDER BY seq {order} LIMIT ?"
        )
        rows = self._connect().execute(
            sql, (user_id, thread_id, after, -1 if limit is None else limit)
        )
        turns = [_turn(r) for r in rows.fetchall()]
        return turns[::-1] if latest else turns

    @guarded
    def list_threads(self, user_id: str) -> list[str]:
        """Ids of the user's threads that have turns, oldest first."""
        rows = (
            self._connect()
            .execute(
                "SELECT thread_id FROM turns WHERE user_id = ? "
                "GROUP BY thread_id ORDER BY min(seq)",
                (user_id,),
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    # -- memories ------------------------------------------------------------------------

    @guarded
    def create_memory(
        self, memory: Memory, embedding: Vector | None, *, epoch: str | None = None
    ) -> bool:
        """Create ``memory`` unless an active one with its id exists; True when written.

        A memory with the same id that is superseded, or expired but not yet purged, is
        replaced by ``memory`` (reactivated): saying a thing again makes it true again.
        """
        blob = _blob(embedding, self._dims)
        now = self._now()
        expires = None if memory.ttl is None else now.timestamp() + memory.ttl
        values = (
            memory.thread_id,
            memory.type,
            memory.confidence,
            _iso(memory.created_at),
            expires,
            memory.superseded_by,
            memory.model_dump_json(),
            blob,
        )
        scope = f"{_scope_token('u', memory.user_id)} {_scope_token('t', memory.thread_id)}"
        with self._write() as db:
            self._check_epoch(db, memory.user_id, epoch)
            self._ensure_user(db, memory.user_id)
            old = db.execute(
                f"SELECT seq, superseded_by IS NULL AND {_ACTIVE_NOW} FROM memories "
                "WHERE user_id = ? AND id = ?",
                (now.timestamp(), memory.user_id, memory.id),
            ).fetchone()
            if old is not None and old[1]:
                return False
            if old is None:
                seq = db.execute(
                    "INSERT INTO memories (thread_id, type, confidence, created_at, expires_at, "
                    "superseded_by, doc, embedding, id, user_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, memory.id, memory.user_id),
                ).lastrowid
            else:
                seq = int(old[0])
                db.execute(
                    "UPDATE memories SET thread_id = ?, type = ?, confidence = ?, created_at = ?, "
                    "expires_at = ?, superseded_by = ?, doc = ?, embedding = ? WHERE seq = ?",
                    (*values, seq),
                )
                db.execute("DELETE FROM memories_fts WHERE rowid = ?", (seq,))
                self._bump(db, memory.user_id, vectors=True)
            db.execute(
                "INSERT INTO memories_fts (rowid, scope, content) VALUES (?, ?, ?)",
                (seq, scope, segment(memory.content)),
            )
        if old is not None:  # the old vector was replaced: the user's vector file is stale
            self._clear_vector_files(memory.user_id, erase=False)
        self._maybe_purge()
        return True

    @guarded
    def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        """One unexpired memory of the user (superseded or not), or None."""
        row = (
            self._connect()
            .execute(
                f"SELECT doc FROM memories WHERE user_id = ? AND id = ? AND {_ACTIVE_NOW}",
                (user_id, memory_id, self._now().timestamp()),
            )
            .fetchone()
        )
        return Memory.model_validate_json(row[0]) if row else None

    @guarded
    def list_memories(
        self,
        user_id: str,
        *,
        memory_types: Sequence[MemoryType] | None = None,
        thread_id: str | None = None,
        min_confidence: float | None = None,
        include_superseded: bool = False,
        limit: int | None = None,
    ) -> list[Memory]:
        """The user's unexpired memories, newest first."""
        where, params = self._memory_filters(
            user_id, memory_types, thread_id, min_confidence, include_superseded, alias="m"
        )
        sql = (
            f"SELECT m.doc FROM memories m WHERE {where} "
            "ORDER BY m.created_at DESC, m.seq DESC LIMIT ?"
        )
        rows = self._connect().execute(sql, (*params, -1 if limit is None else limit)).fetchall()
        return [Memory.model_validate_json(r[0]) for r in rows]

    def _memory_filters(
        self,
        user_id: str,
        memory_types: Sequence[str] | None,
        thread_id: str | None,
        min_confidence: float | None,
        include_superseded: bool,
        *,
        alias: str,
        tags: Sequence[str] | None = None,
    ) -> tuple[str, list[Any]]:
        a = alias
        clauses = [f"{a}.user_id = ?", f"({a}.expires_at IS NULL OR {a}.expires_at > ?)"]
        params: list[Any] = [user_id, self._now().timestamp()]
        if memory_types is not None:
            clauses.append(f"{a}.type IN ({','.join('?' * len(memory_types))})")
            params.extend(memory_types)
        if thread_id is not None:  # the thread's facts and the user's own memories
            scoped = ",".join("?" * len(USER_SCOPED_TYPES))
            clauses.append(f"({a}.thread_id = ? OR {a}.type IN ({scoped}))")
            params.extend((thread_id, *USER_SCOPED_TYPES))
        if min_confidence is not None:
            clauses.append(f"{a}.confidence >= ?")
            params.append(min_confidence)
        if not include_superseded:
            clauses.append(f"{a}.superseded_by IS NULL")
        if tags:
            clauses.append(
                f"EXISTS (SELECT 1 FROM json_each({a}.doc, '$.tags') j "
                f"WHERE j.value IN ({','.join('?' * len(tags))}))"
            )
            params.extend(tags)
        return " AND ".join(clauses), params

    @guarded
    def supersede(
        self,
        user_id: str,
        memory_id: str,
        *,
        by: str,
        reason: SupersedeReason,
        epoch: str | None = None,
    ) -> bool:
        """Mark an active memory superseded; False if missing or already superseded.

        ``InvalidInputError`` for a ``reason`` that is not a ``SupersedeReason``.
        """
        check_supersede_reason(reason)
        now = self._now()
        with self._write() as db:
            self._check_epoch(db, user_id, epoch)
            row = db.execute(
                "SELECT seq, doc FROM memories "
                "WHERE user_id = ? AND id = ? AND superseded_by IS NULL",
                (user_id, memory_id),
            ).fetchone()
            if row is None:
                return False
            seq, doc = int(row[0]), row[1]
            memory = Memory.model_validate_json(doc).model_copy(
                update={
                    "superseded_by": by,
                    "supersede_reason": reason,
                    "superseded_at": now,
                    "updated_at": now,
                }
            )
            db.execute(
                "UPDATE memories SET superseded_by = ?, doc = ? "
                "WHERE user_id = ? AND id = ? AND superseded_by IS NULL",
                (by, memory.model_dump_json(), user_id, memory_id),
            )
            mutations = self._bump(db, user_id)
        cache = self._vectors.get("memories")
        if cache is not None:
            cache.mark_superseded((user_id, "memories"), seq, mutations - 1, mutations)
        return True

    # -- search --------------------------------------------------------------------------

    @guarded
    def search(self, user_id: str, query: SearchQuery) -> list[SearchHit]:
        """Hybrid search: FTS5 bm25 and cosine rankings fused by weighted reciprocal rank.

        In hybrid mode a turn is also ranked with its thread context (the neighbouring turns'
        text and cosine similarity, see :mod:`agent_memory.core.context`).
        """
        scored: list[tuple[float, str, int]] = []
        for table in ("memories", "turns") if query.include_turns else ("memories",):
            for seq, score in self._rank(user_id, table, query):
                scored.append((score, table, seq))
        scored.sort(key=lambda item: -item[0])
        return self._hits(user_id, scored[: query.top])

    def _rank(self, user_id: str, table: str, query: SearchQuery) -> list[tuple[int, float]]:
        terms = query_terms(segment(query.text)) if query.mode != "vector" else []
        use_vector = query.mode != "text" and query.vector is not None
        allowed = self._allowed_by_tags(user_id, table, query)
        rows = self._vector_rows(user_id, table, self._dims) if use_vector and self._dims else None
        similarity: dict[int, float] = {}  # each vector candidate's own cosine similarity
        vector_ranked = self._vector_rank(rows, table, query, allowed, similarity) if rows else []
        scoped = rows is None or not self._owns_most(table, len(rows))
        text_ranked = (
            self._text_rank(user_id, table, terms, query, allowed, scoped) if terms else []
        )
        if query.mode == "text":
            return text_ranked
        if query.mode == "vector":
            return [item for item in vector_ranked if similarity[item[0]] >= query.min_similarity]
        fused = rrf(
            [[s for s, _ in text_ranked], [s for s, _ in vector_ranked]],
            weights=(TEXT_WEIGHT, VECTOR_WEIGHT),
        )
        matched = {s for s, _ in text_ranked}
        kept = [
            item
            for item in fused.items()
            if item[0] in matched or similarity.get(item[0], 0.0) >= query.min_similarity
        ]
        return sorted(kept, key=lambda item: -item[1])[: query.pool]

    def _owns_most(self, table: str, user_rows: int) -> bool:
        """Whether one user holds over half the rows of ``table`` (rowids bound the total)."""
        top = self._connect().execute(f"SELECT max(seq) FROM {table}").fetchone()[0]
        return top is not None and 2 * user_rows > int(top)

    def _allowed_by_tags(self, user_id: str, table: str, query: SearchQuery) -> set[int] | None:
        if not query.tags:
            return None
        if table == "turns":
            return set()
        where, params = self._memory_filters(
            user_id, None, None, None, True, alias="m", tags=query.tags
        )
        rows = self._connect().execute(f"SELECT m.seq FROM memories m WHERE {where}", params)
        return {int(r[0]) for r in rows.fetchall()}

    def _text_rank(
        self,
        user_id: str,
        table: str,
        terms: list[str],
        query: SearchQuery,
        allowed: set[int] | None,
        scoped: bool = True,
    ) -> list[tuple[int, float]]:
        """BM25 ranking. ``scoped`` narrows the MATCH to the user's scope token; when the user
        holds most rows, intersecting with that token costs more than the join's user filter,
        which always applies."""
        scope = [_scope_token("u", user_id)] if scoped else []
        if query.thread_id is not None and table == "turns":  # memories: in the join
            scope.append(_scope_token("t", query.thread_id))
        words = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        if table == "turns" and query.mode == "hybrid":
            columns = "{content about before after}"
            weights = (
                f"0.0, 1.0, {context.ABOUT_WEIGHT}, {context.BEFORE_WEIGHT}, {context.AFTER_WEIGHT}"
            )
        elif table == "turns":
            columns, weights = "{content about}", f"0.0, 1.0, {context.ABOUT_WEIGHT}, 0.0, 0.0"
        else:
            columns, weights = "content", "0.0, 1.0"
        match = f"{columns} : ({words})"
        if scope:
            match = f"scope : ({' '.join(scope)}) AND {match}"
        if table == "memories":
            where, params = self._memory_filters(
                user_id,
                query.memory_types,
                query.thread_id,
                query.min_confidence,
                query.include_superseded,
                alias="m",
            )
            join = f"JOIN memories m ON m.seq = f.rowid AND {where}"
        else:
            if query.memory_types is not None or query.min_confidence is not None:
                return []
            join, params = "JOIN turns m ON m.seq = f.rowid AND m.user_id = ?", [user_id]
        db = self._connect()
        ranked: list[tuple[int, float]] = []
        if allowed is None:  # rank the best few first, then join them to the filters
            fetch = query.pool * _TEXT_OVERFETCH
            sql = (
                f"SELECT f.rowid, f.r FROM (SELECT rowid, bm25({table}_fts, {weights}) AS r "
                f"FROM {table}_fts WHERE {table}_fts MATCH ? ORDER BY r LIMIT ?) f {join} "
                "ORDER BY f.r"
            )
            rows = db.execute(sql, (match, fetch, *params)).fetchall()
            ranked = [(int(seq), -float(rank)) for seq, rank in rows]
            if len(ranked) >= query.pool or self._fewer_matches(db, table, match, fetch):
                return ranked[: query.pool]
        sql = (
            f"SELECT f.rowid, bm25({table}_fts, {weights}) AS r FROM {table}_fts f {join} "
            f"WHERE {table}_fts MATCH ? ORDER BY r LIMIT ?"
        )
        limit = query.pool if allowed is None else -1
        rows = db.execute(sql, (*params, match, limit)).fetchall()
        ranked = [(int(seq), -float(rank)) for seq, rank in rows]
        if allowed is not None:
            ranked = [item for item in ranked if item[0] in allowed]
        return ranked[: query.pool]

    @staticmethod
    def _fewer_matches(db: sqlite3.Connection, table: str, match: str, than: int) -> bool:
        """Whether the MATCH has fewer than ``than`` rows (so the ranked-first read saw all)."""
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {table}_fts WHERE {table}_fts MATCH ? LIMIT ?)"
        return int(db.execute(sql, (match, than)).fetchone()[0]) < than

    def _vector_rank(
        self,
        rows: Rows,
        table: str,
        query: SearchQuery,
        allowed: set[int] | None,
        similarity: dict[int, float] | None = None,
    ) -> list[tuple[int, float]]:
        """Cosine ranking (turns in hybrid mode: plus their neighbours'); ``similarity``
        receives each returned row's own cosine similarity."""
        if query.vector is None:
            return []
        if table != "memories" and (
            query.memory_types is not None or query.min_confidence is not None
        ):
            return []
        conditions: list[npt.NDArray[np.bool_]] = []
        now = self._now().timestamp()
        if rows.soonest_expiry <= now:
            conditions.append(rows.expires > now)
        if query.thread_id is not None:
            in_thread = rows.thread == query.thread_id
            if table == "memories":
                user_scoped = [TYPE_CODES[t] for t in USER_SCOPED_TYPES]
                in_thread |= np.isin(rows.type_code, user_scoped)
            conditions.append(in_thread)
        if table == "memories":
            if not query.include_superseded and rows.inactive:
                conditions.append(rows.active)
            if query.memory_types is not None:
                codes = [TYPE_CODES[t] for t in query.memory_types]
                conditions.append(np.isin(rows.type_code, codes))
            if query.min_confidence is not None:
                conditions.append(rows.confidence >= np.float32(query.min_confidence))
        if allowed is not None:
            ids = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
            conditions.append(np.isin(rows.seq, ids))
        q = np.asarray(query.vector, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(q))
        if norm == 0.0:
            return []
        # einsum, not `matrix @ q`: a matrix-vector product is memory-bound, and threaded BLAS
        # (OpenBLAS starts a thread per core) only adds contention on a busy machine. einsum's
        # own loop stays on the calling thread, without configuring BLAS for the host app.
        own = np.einsum("ij,j->i", rows.matrix, q / norm)
        scores = own
        if table == "turns" and query.mode == "hybrid":
            scores = scores + np.float32(context.NEIGHBOUR_SIMILARITY) * (
                _neighbour(scores, rows.prev) + _neighbour(scores, rows.next)
            )
        live = len(rows)
        if conditions:
            mask = np.logical_and.reduce(conditions)
            live = int(np.count_nonzero(mask))
            scores[~mask] = -np.inf
        k = min(query.pool, live)
        if k == 0:
            return []
        top = np.argpartition(scores, len(scores) - k)[len(scores) - k :]
        top = top[np.argsort(-scores[top], kind="stable")]
        if similarity is not None:
            similarity.update((int(rows.seq[i]), float(own[i])) for i in top)
        return [(int(rows.seq[i]), float(scores[i])) for i in top]

    def _vector_rows(self, user_id: str, table: str, dims: int) -> Rows:
        """The user's vector index: cached, else mapped from the user's vector file (then
        only rows appended since it was written are read), else read from SQLite; a file
        that was missing, stale or behind is written again afterwards."""
        cache = self._vectors.get(table)
        if cache is None or cache.dims != dims:
            cache = self._vectors[table] = VectorCache(
                dims, max_users=self._vector_cache_users, neighbours=table == "turns"
            )
        db = self._connect()
        if table == "memories":
            cols = "seq, thread_id, type, confidence, expires_at, superseded_by, embedding"
        else:
            cols = "seq, thread_id, NULL, 0, NULL, NULL, embedding"
        sql = f"SELECT {cols} FROM {table} WHERE user_id = ? AND seq > ? ORDER BY seq"
        files = self._vector_files
        db.execute("BEGIN")  # one snapshot for the state, the file's check and the rows
        try:
            row = db.execute(
                "SELECT mutations, epoch, vectors FROM user_state WHERE user_id = ?", (user_id,)
            ).fetchone()
            mutations, epoch, generation = (row[0], row[1], int(row[2])) if row else (0, None, 0)

            def seed() -> dict[str, npt.NDArray[Any]] | None:
                if files is None or not epoch:
                    return None
                opened = files.open(user_id, table, dims, epoch, generation)
                if opened is None:
                    return None
                return self._seed_columns(db, user_id, table, *opened)

            rows, built = cache.load(
                (user_id, table),
                mutations,
                lambda after: db.execute(sql, (user_id, after)).fetchall(),
                seed,
            )
        finally:
            db.execute("COMMIT")
        if files is not None and epoch and built is not None and len(rows) > built:
            self._write_vector_file(files, user_id, table, rows, epoch, generation)
        return rows

    @staticmethod
    def _seed_columns(
        db: sqlite3.Connection,
        user_id: str,
        table: str,
        header: Header,
        columns: dict[str, npt.NDArray[Any]],
    ) -> dict[str, npt.NDArray[Any]] | None:
        """A file's columns with each row's superseded flag from SQLite; None when the file
        does not hold exactly the user's rows up to its ``max_seq``."""
        count = db.execute(
            f"SELECT count(*) FROM {table} WHERE user_id = ? AND seq <= ?",
            (user_id, header.max_seq),
        ).fetchone()[0]
        if int(count) != header.rows:
            return None
        active = np.ones(header.rows, dtype=bool)
        if table == "memories":
            superseded = db.execute(
                "SELECT seq FROM memories WHERE user_id = ? AND seq <= ? "
                "AND superseded_by IS NOT NULL",
                (user_id, header.max_seq),
            ).fetchall()
            if superseded:
                seqs = np.fromiter((r[0] for r in superseded), dtype=np.int64)
                at = np.searchsorted(columns["seq"], seqs)
                if np.any(at >= header.rows) or np.any(columns["seq"][at] != seqs):
                    return None
                active[at] = False
        return {**columns, "active": active}

    def _write_vector_file(
        self,
        files: VectorFiles,
        user_id: str,
        table: str,
        rows: Rows,
        epoch: str,
        generation: int,
    ) -> None:
        """Write the user's vector file from ``rows`` unless the user's vectors changed since."""

        def current() -> bool:
            now = (
                self._connect()
                .execute("SELECT epoch, vectors FROM user_state WHERE user_id = ?", (user_id,))
                .fetchone()
            )
            return now is not None and (now[0], int(now[1])) == (epoch, generation)

        header = Header(
            dims=int(rows.matrix.shape[1]),
            rows=len(rows),
            max_seq=int(rows.seq[-1]),
            epoch=epoch,
            generation=generation,
        )
        columns: dict[str, npt.NDArray[Any]] = {
            "seq": rows.seq,
            "type_code": rows.type_code,
            "confidence": rows.confidence,
            "expires": rows.expires,
            "thread": rows.thread,
            "prev": rows.prev,
            "next": rows.next,
            "matrix": rows.matrix,
        }
        files.write(user_id, table, header, columns, current)

    def _hits(self, user_id: str, scored: list[tuple[float, str, int]]) -> list[SearchHit]:
        hits: list[SearchHit] = []
        db = self._connect()
        for score, table, seq in scored:
            row = db.execute(
                f"SELECT seq, doc FROM {table} WHERE seq = ? AND user_id = ?", (seq, user_id)
            ).fetchone()
            if row is None:
                continue
            if table == "memories":
                hits.append(
                    SearchHit(kind="memory", score=score, memory=Memory.model_validate_json(row[1]))
                )
            else:
                hits.append(SearchHit(kind="turn", score=score, turn=_turn(row)))
        return hits

    # -- summaries -----------------------------------------------------------------------

    @guarded
    def get_summary(
        self, user_id: str, kind: SummaryKind, thread_id: str | None = None
    ) -> Summary | None:
        """The thread summary (``kind='thread'``) or user profile (``kind='user'``)."""
        row = (
            self._connect()
            .execute(
                "SELECT doc FROM summaries WHERE user_id = ? AND kind = ? AND scope = ?",
                (user_id, kind, thread_id or ""),
            )
            .fetchone()
        )
        return Summary.model_validate_json(row[0]) if row else None

    @guarded
    def put_summary(
        self, summary: Summary, embedding: Vector | None, *, epoch: str | None = None
    ) -> None:
        """Create or replace a summary, unless the stored one covers more turns.

        A stored summary with a higher ``covers_up_to`` is kept (a late or repeated step
        never rolls a summary back); the comparison and the write are one transaction.
        """
        blob = _blob(embedding, self._dims)
        with self._write() as db:
            self._check_epoch(db, summary.user_id, epoch)
            row = db.execute(
                "SELECT doc FROM summaries WHERE user_id = ? AND kind = ? AND scope = ?",
                (summary.user_id, summary.kind, summary.thread_id or ""),
            ).fetchone()
            if row and Summary.model_validate_json(row[0]).covers_up_to > summary.covers_up_to:
                return
            db.execute(
                "INSERT INTO summaries (user_id, kind, scope, thread_id, doc, embedding) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, kind, scope) "
                "DO UPDATE SET doc = excluded.doc, embedding = excluded.embedding",
                (
                    summary.user_id,
                    summary.kind,
                    summary.thread_id or "",
                    summary.thread_id,
                    summary.model_dump_json(),
                    blob,
                ),
            )

    @guarded
    def list_summaries(self, user_id: str, kind: SummaryKind) -> list[Summary]:
        """Every summary of a kind for the user, most recently updated first."""
        rows = (
            self._connect()
            .execute("SELECT doc FROM summaries WHERE user_id = ? AND kind = ?", (user_id, kind))
            .fetchall()
        )
        found = [Summary.model_validate_json(r[0]) for r in rows]
        return sorted(found, key=lambda s: s.updated_at, reverse=True)

    # -- usage ledger --------------------------------------------------------------------

    @guarded
    def record_usage(self, record: UsageRecord, *, epoch: str | None = None) -> None:
        """Append one model call to the user's usage ledger."""
        with self._write() as db:
            self._check_epoch(db, record.user_id, epoch)
            db.execute(
                "INSERT INTO usage (user_id, doc) VALUES (?, ?)",
                (record.user_id, record.model_dump_json()),
            )

    @guarded
    def list_usage(self, user_id: str) -> list[UsageRecord]:
        """The user's usage ledger, oldest first."""
        rows = (
            self._connect()
            .execute("SELECT doc FROM usage WHERE user_id = ? ORDER BY seq", (user_id,))
            .fetchall()
        )
        return [UsageRecord.model_validate_json(r[0]) for r in rows]

    # -- counters and watermarks ---------------------------------------------------------

    @guarded
    def increment_counter(
        self,
        user_id: str,
        name: str,
        *,
        thread_id: str | None = None,
        by: int = 1,
        owner: str | None = None,
        epoch: str | None = None,
    ) -> CounterIncrement:
        """Atomically add ``by`` to a counter; return the values before and after.

        ``epoch=`` is checked in the same transaction (see :meth:`user_epoch`).
        """
        scope = thread_id or ""
        with self._write() as db:
            self._check_epoch(db, user_id, epoch)
            row = db.execute(
                "SELECT value, last_owner FROM counters "
                "WHERE user_id = ? AND scope = ? AND name = ?",
                (user_id, scope, name),
            ).fetchone()
            before, previous = (int(row[0]), row[1]) if row else (0, None)
            db.execute(
                "INSERT INTO counters (user_id, scope, name, value, last_owner, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, scope, name) DO UPDATE SET "
                "value = excluded.value, last_owner = COALESCE(excluded.last_owner, last_owner), "
                "updated_at = excluded.updated_at",
                (user_id, scope, name, before + by, owner, _iso(self._now())),
            )
        return CounterIncrement(before=before, after=before + by, previous_owner=previous)

    @guarded
    def get_watermark(self, user_id: str, thread_id: str, step: str) -> int:
        """The turn ``seq`` a step has processed up to in a thread (0 when none)."""
        row = (
            self._connect()
            .execute(
                "SELECT value FROM watermarks WHERE user_id = ? AND thread_id = ? AND step = ?",
                (user_id, thread_id, step),
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    @guarded
    def advance_watermark(
        self, user_id: str, thread_id: str, step: str, value: int, *, epoch: str | None = None
    ) -> int:
        """Move a watermark forward (never back); return the resulting value."""
        with self._write() as db:
            self._check_epoch(db, user_id, epoch)
            db.execute(
                "INSERT INTO watermarks (user_id, thread_id, step, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, thread_id, step) DO UPDATE SET "
                "value = MAX(value, excluded.value), updated_at = excluded.updated_at",
                (user_id, thread_id, step, value, _iso(self._now())),
            )
            row = db.execute(
                "SELECT value FROM watermarks WHERE user_id = ? AND thread_id = ? AND step = ?",
                (user_id, thread_id, step),
            ).fetchone()
        return int(row[0])

    @guarded
    def compare_and_set_watermark(
        self,
        user_id: str,
        thread_id: str,
        step: str,
        *,
        expected: int,
        value: int,
        epoch: str | None = None,
    ) -> bool:
        """Move a watermark from ``expected`` (0: none stored) to ``value``; True when moved.

        The comparison and the write are one transaction; False (nothing written) when the
        watermark is not ``expected`` or ``value`` is not above it.
        """
        with self._write() as db:
            self._check_epoch(db, user_id, epoch)
            row = db.execute(
                "SELECT value FROM watermarks WHERE user_id = ? AND thread_id = ? AND step = ?",
                (user_id, thread_id, step),
            ).fetchone()
            if (int(row[0]) if row else 0) != expected or value <= expected:
                return False
            db.execute(
                "INSERT INTO watermarks (user_id, thread_id, step, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, thread_id, step) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                (user_id, thread_id, step, value, _iso(self._now())),
            )
        return True

    # -- deletion and expiry -------------------------------------------------------------

    @guarded
    def forget(self, user_id: str, *, thread_id: str | None = None) -> dict[str, int]:
        """Delete everything of the user (or one thread); counts per container.

        Nothing of a forgotten user stays readable in the file: deleted pages are zeroed
        (``secure_delete``), the full-text indexes are merged so no deleted term remains in
        them, and the write-ahead log is checkpointed and truncated. Steps in flight for the
        user have their writes refused (see :meth:`user_epoch`). The full-text merge rewrites
        the index, so ``forget`` takes time in proportion to the store's text.
        """
        scope = "" if thread_id is None else " AND thread_id = ?"
        params: tuple[str, ...] = (user_id,) if thread_id is None else (user_id, thread_id)
        counts: dict[str, int] = {}
        with self._write() as db:
            for table in ("turns", "memories"):
                db.execute(
                    f"DELETE FROM {table}_fts WHERE rowid IN "
                    f"(SELECT seq FROM {table} WHERE user_id = ?{scope})",
                    params,
                )
            counts[TURNS_CONTAINER] = db.execute(
                f"DELETE FROM turns WHERE user_id = ?{scope}", params
            ).rowcount
            counts[MEMORIES_CONTAINER] = db.execute(
                f"DELETE FROM memories WHERE user_id = ?{scope}", params
            ).rowcount
            summaries = "" if thread_id is None else " AND kind = 'thread' AND scope = ?"
            counts[SUMMARIES_CONTAINER] = db.execute(
                f"DELETE FROM summaries WHERE user_id = ?{summaries}", params
            ).rowcount
            counters = "" if thread_id is None else " AND scope = ?"
            counts[COUNTERS_CONTAINER] = (
                db.execute(f"DELETE FROM counters WHERE user_id = ?{counters}", params).rowcount
                + db.execute(f"DELETE FROM watermarks WHERE user_id = ?{scope}", params).rowcount
            )
            if thread_id is None:  # the usage ledger and the user's state go with the user
                db.execute("DELETE FROM usage WHERE user_id = ?", (user_id,))
                db.execute("DELETE FROM user_state WHERE user_id = ?", (user_id,))
            else:  # steps in flight for the user start again
                self._bump(db, user_id, vectors=True)
                db.execute(
                    f"UPDATE user_state SET epoch = {_FRESH_EPOCH} WHERE user_id = ?", (user_id,)
                )
            for table in ("turns", "memories"):  # merge the index: no deleted term stays in it
                db.execute(f"INSERT INTO {table}_fts ({table}_fts) VALUES ('optimize')")
        self._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._clear_vector_files(user_id, erase=True)
        for cache in self._vectors.values():
            cache.drop(user_id)
        return counts

    @guarded
    def purge_expired(self) -> int:
        """Delete memories whose TTL has passed; return how many."""
        now = self._now().timestamp()
        with self._write() as db:
            rows = db.execute(
                "SELECT seq, user_id FROM memories "
                "WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (now,),
            ).fetchall()
            for seq, user_id in rows:
                db.execute("DELETE FROM memories_fts WHERE rowid = ?", (seq,))
                db.execute("DELETE FROM memories WHERE seq = ?", (seq,))
                self._bump(db, user_id, vectors=True)
        for user_id in {str(r[1]) for r in rows}:
            self._clear_vector_files(user_id, erase=True)
        self._last_purge = time.monotonic()
        return len(rows)

    def _maybe_purge(self) -> None:
        if time.monotonic() - self._last_purge >= _PURGE_INTERVAL_SECONDS:
            self.purge_expired()

    def close(self) -> None:
        """Close every connection this store opened."""
        self._closed = True
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _neighbour(scores: npt.NDArray[np.float32], index: npt.NDArray[np.int64]) -> Any:
    """``scores`` of each row's neighbour given by ``index`` (0 where there is none)."""
    n = scores.shape[0]
    present = (index >= 0) & (index < n)
    return np.where(present, scores[np.where(present, index, 0)], np.float32(0.0))


def _turn(row: tuple[Any, ...]) -> Turn:
    data = json.loads(row[1])
    data["seq"] = int(row[0])
    return Turn.model_validate(data)
