"""Memories of the embedded store: created (or reactivated), read, listed and superseded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from agent_memory.core.models import (
    Memory,
    MemoryType,
    SupersedeReason,
    check_supersede_reason,
)
from agent_memory.core.query import Vector
from agent_memory.stores.sqlite.connection import SqliteBase, _blob, _iso, _scope_token
from agent_memory.stores.sqlite.failures import guarded
from agent_memory.stores.sqlite.segment import segment

_ACTIVE_NOW: Final = "(expires_at IS NULL OR expires_at > ?)"


class MemoriesMixin(SqliteBase):
    """Create, get, list and supersede memories."""

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
