"""Pipeline state in the embedded store: summaries, the usage ledger, counters, watermarks."""

from __future__ import annotations

from agent_memory.core.models import CounterIncrement, Summary, SummaryKind, UsageRecord
from agent_memory.core.query import Vector
from agent_memory.stores.sqlite.connection import SqliteBase, _blob, _iso
from agent_memory.stores.sqlite.failures import guarded


class StateMixin(SqliteBase):
    """Summaries, the usage ledger, counters and watermarks."""

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
