"""The base of the embedded store: connections, transactions, the schema, epochs and purge.

:class:`SqliteBase` checks the file before opening it, creates or upgrades the schema, gives
each thread its own connection and runs writes as ``BEGIN IMMEDIATE`` transactions. It holds
what every concern of :class:`~agent_memory.stores.sqlite.store.SqliteStore` shares: the
clock, the per-user state row (mutation count, forget epoch, vector generation), the vector
caches and files, the memory filters and the TTL purge. Each concern is a mixin over it.
"""

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

from agent_memory.core.errors import ConfigurationError, ForgottenError, StoreError
from agent_memory.core.models import USER_SCOPED_TYPES, Turn, utcnow
from agent_memory.core.query import Vector
from agent_memory.stores.sqlite.failures import check_store_file, guarded, storage_errors
from agent_memory.stores.sqlite.schema import (
    ADDED_COLUMNS,
    DDL,
    SCHEMA_VERSION,
    SEGMENT_FUNCTION,
    UPGRADES,
)
from agent_memory.stores.sqlite.segment import segment
from agent_memory.stores.sqlite.vector_files import VectorFiles
from agent_memory.stores.sqlite.vectors import VectorCache

DEFAULT_PATH: Final = Path(".agent_memory") / "memory.db"
PATH_ENV: Final = "AGENT_MEMORY_PATH"
_PURGE_INTERVAL_SECONDS: Final = 60.0
_CACHE_KIB: Final = 64 * 1024  # page cache per connection
_MMAP_BYTES: Final = 256 * 1024 * 1024
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


def _turn(row: tuple[Any, ...]) -> Turn:
    data = json.loads(row[1])
    data["seq"] = int(row[0])
    return Turn.model_validate(data)


class SqliteBase:
    """What every concern of the store uses: the file, its connections and shared state."""

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

    # -- memory filters (memories and search) --------------------------------------------

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

    # -- expiry --------------------------------------------------------------------------

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
