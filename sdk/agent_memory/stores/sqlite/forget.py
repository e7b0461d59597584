"""Forgetting in the embedded store: a user's (or one thread's) data deleted beyond recovery."""

from __future__ import annotations

from agent_memory.core.models import (
    COUNTERS_CONTAINER,
    MEMORIES_CONTAINER,
    SUMMARIES_CONTAINER,
    TURNS_CONTAINER,
)
from agent_memory.stores.sqlite.connection import _FRESH_EPOCH, SqliteBase
from agent_memory.stores.sqlite.failures import guarded


class ForgetMixin(SqliteBase):
    """Delete everything of a user, or of one thread."""

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
