"""Search in the embedded store: FTS5 bm25 and NumPy cosine rankings fused by weighted RRF.

The vector side reads each user's vectors through a :class:`.vectors.VectorCache`, seeded
from the user's memory-mapped vector file (:mod:`.vector_files`) when one is current.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from agent_memory.core import context
from agent_memory.core.models import USER_SCOPED_TYPES, Memory, SearchHit
from agent_memory.core.query import (
    TEXT_WEIGHT,
    VECTOR_WEIGHT,
    SearchQuery,
    query_terms,
    rrf,
)
from agent_memory.stores.sqlite.connection import SqliteBase, _scope_token, _turn
from agent_memory.stores.sqlite.failures import guarded
from agent_memory.stores.sqlite.segment import segment
from agent_memory.stores.sqlite.vector_files import Header, VectorFiles
from agent_memory.stores.sqlite.vectors import TYPE_CODES, Rows, VectorCache

#: Full-text candidates ranked before the filters join; more are read only if too few survive.
_TEXT_OVERFETCH: Final = 4


class SearchMixin(SqliteBase):
    """Hybrid, text and vector search over a user's memories (and turns)."""

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


def _neighbour(scores: npt.NDArray[np.float32], index: npt.NDArray[np.int64]) -> Any:
    """``scores`` of each row's neighbour given by ``index`` (0 where there is none)."""
    n = scores.shape[0]
    present = (index >= 0) & (index < n)
    return np.where(present, scores[np.where(present, index, 0)], np.float32(0.0))
