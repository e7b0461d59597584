"""Turns of the embedded store: appended with their full-text context, listed, threads."""

from __future__ import annotations

from collections.abc import Sequence

from agent_memory.core import context
from agent_memory.core.errors import InvalidInputError
from agent_memory.core.models import AppendResult, Turn
from agent_memory.core.query import Vector
from agent_memory.stores.sqlite.connection import SqliteBase, _blob, _iso, _scope_token, _turn
from agent_memory.stores.sqlite.failures import guarded
from agent_memory.stores.sqlite.segment import segment


class TurnsMixin(SqliteBase):
    """Append turns to a thread and list a thread's turns and a user's threads."""

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
