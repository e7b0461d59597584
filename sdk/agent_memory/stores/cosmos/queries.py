"""Every query the Cosmos store sends: fixed text, values only as parameters.

Nothing a caller supplies is spliced into query text: ids, filters, search terms and vectors
are ``@parameters``. The text only varies by which clauses a request needs, and by one
validated integer: the ``TOP n`` of a ranked (search) query is a literal, because the service
rejects a parameterised ``TOP`` in hybrid (``ORDER BY RANK``) query plans.

No query uses ``GROUP BY`` or ``DISTINCT``: queries over a key prefix (a user's threads) are
sent to every physical partition the prefix spans and their answers concatenated, which neither
merges groups nor keeps an ``ORDER BY``. Those queries select plain items (thread head items
for ``list_threads``) and the store orders them itself.

Search queries name no partition key: the key is pinned in ``WHERE`` instead, so the SDK takes
the query-plan path that runs ``ORDER BY RANK`` (hybrid, full text) and ``VectorDistance``
rankings correctly, across physical partitions too. With a full partition key, ``azure-cosmos``
sends such a query straight to the partition, and its fallback to the hybrid pipeline on a 500
only recognises query strings, never parameterised queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np

from agent_memory.core.errors import InvalidInputError
from agent_memory.core.models import USER_SCOPED_TYPES
from agent_memory.core.query import TEXT_WEIGHT, VECTOR_WEIGHT, SearchQuery
from agent_memory.stores.cosmos.documents import (
    EPOCH_ID,
    HEAD_ID,
    KIND_USAGE,
    MEMORY_FIELDS,
    SUMMARY_FIELDS,
    TURN_FIELDS,
    USAGE_FIELDS,
    USER_SCOPE,
)

#: Most search terms passed to ``FullTextScore`` (the first ones of the query).
MAX_TERMS: Final = 32
#: Largest ``TOP n`` of a ranked query: ``azure-cosmos`` refuses hybrid queries above 1000.
MAX_RANKED: Final = 1000

Ranking = Literal["hybrid", "text", "vector"]

#: ``query_items`` keywords of a query that names no partition key, for ``azure.cosmos.aio``
#: (which enables cross-partition execution by itself and refuses the keyword) and for
#: ``azure.cosmos`` (which needs it). The generated sync store uses the second by name.
AsyncCrossPartition: Final[dict[str, Any]] = {}
CrossPartition: Final[dict[str, Any]] = {"enable_cross_partition_query": True}


@dataclass(frozen=True)
class CosmosQuery:
    """Query text and its parameters, as ``query_items`` takes them."""

    text: str
    values: tuple[tuple[str, Any], ...] = ()
    ranking: Ranking | None = None

    @property
    def parameters(self) -> list[dict[str, object]]:
        """``[{"name": "@x", "value": ...}, ...]``."""
        return [{"name": name, "value": value} for name, value in self.values]


def literal_top(n: object) -> int:
    """``n`` if it can be the literal ``TOP`` of a ranked query (an int in 1..1000)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_RANKED:
        raise InvalidInputError(f"top must be an integer from 1 to {MAX_RANKED}, got {n!r}")
    return n


def _select(fields: Iterable[str], top: bool | int = False) -> str:
    columns = ", ".join(f"c.{f}" for f in fields)
    if top is True:
        return f"SELECT TOP @top {columns} FROM c"
    if top is False:
        return f"SELECT {columns} FROM c"
    return f"SELECT TOP {literal_top(top)} {columns} FROM c"


# -- turns ----------------------------------------------------------------------------------

#: What an append reads of a thread: its head item and the turns it was given that exist.
APPEND_FIELDS: Final = (*TURN_FIELDS, "kind", "first_seq", "last_seq", "_etag")


def append_state(user_id: str, thread_id: str, ids: Sequence[str]) -> CosmosQuery:
    """The thread's head item and its turns whose id is one of ``ids`` (one query)."""
    return CosmosQuery(
        f"{_select(APPEND_FIELDS)} WHERE c.user_id = @user_id AND c.thread_id = @thread_id "
        "AND (c.id = @head OR ARRAY_CONTAINS(@ids, c.id))",
        (("@user_id", user_id), ("@thread_id", thread_id), ("@head", HEAD_ID), ("@ids", list(ids))),
    )


def list_turns(
    user_id: str, thread_id: str, *, after: int, limit: int | None, latest: bool
) -> CosmosQuery:
    """Turns with ``seq > after`` in order (the last ``limit`` first when ``latest``)."""
    values: list[tuple[str, Any]] = [
        ("@user_id", user_id),
        ("@thread_id", thread_id),
        ("@after", after),
    ]
    if limit is not None:
        values.append(("@top", limit))
    return CosmosQuery(
        f"{_select(TURN_FIELDS, top=limit is not None)} WHERE c.user_id = @user_id "
        f"AND c.thread_id = @thread_id AND c.seq > @after ORDER BY c.seq "
        f"{'DESC' if latest else 'ASC'}",
        tuple(values),
    )


def thread_heads(user_id: str) -> CosmosQuery:
    """The head item of each of the user's threads: its id and first ``seq`` (unordered)."""
    return CosmosQuery(
        "SELECT c.thread_id, c.first_seq FROM c WHERE c.user_id = @user_id AND c.id = @head",
        (("@user_id", user_id), ("@head", HEAD_ID)),
    )


# -- memories -------------------------------------------------------------------------------


def _memory_filters(
    user_id: str,
    now: float,
    *,
    memory_types: Sequence[str] | None,
    thread_id: str | None,
    min_confidence: float | None,
    include_superseded: bool,
    tags: Sequence[str] | None = None,
) -> tuple[str, list[tuple[str, Any]]]:
    clauses = [
        "c.user_id = @user_id",
        "c.thread_id = @scope",
        "(NOT IS_NUMBER(c.expires_at) OR c.expires_at > @now)",
    ]
    values: list[tuple[str, Any]] = [("@user_id", user_id), ("@scope", USER_SCOPE), ("@now", now)]
    if memory_types is not None:
        clauses.append("ARRAY_CONTAINS(@types, c.type)")
        values.append(("@types", list(memory_types)))
    if thread_id is not None:  # the thread's facts and the user's own memories
        clauses.append("(c.origin_thread_id = @thread_id OR ARRAY_CONTAINS(@user_types, c.type))")
        values.extend((("@thread_id", thread_id), ("@user_types", list(USER_SCOPED_TYPES))))
    if min_confidence is not None:
        clauses.append("c.confidence >= @min_confidence")
        values.append(("@min_confidence", min_confidence))
    if not include_superseded:
        clauses.append("NOT IS_STRING(c.superseded_by)")
    if tags:
        clauses.append("EXISTS(SELECT VALUE t FROM t IN c.tags WHERE ARRAY_CONTAINS(@tags, t))")
        values.append(("@tags", list(tags)))
    return " AND ".join(clauses), values


def list_memories(
    user_id: str,
    now: float,
    *,
    memory_types: Sequence[str] | None = None,
    thread_id: str | None = None,
    min_confidence: float | None = None,
    include_superseded: bool = False,
    limit: int | None = None,
) -> CosmosQuery:
    """The user's unexpired memories, newest first."""
    where, values = _memory_filters(
        user_id,
        now,
        memory_types=memory_types,
        thread_id=thread_id,
        min_confidence=min_confidence,
        include_superseded=include_superseded,
    )
    if limit is not None:
        values.append(("@top", limit))
    return CosmosQuery(
        f"{_select(MEMORY_FIELDS, top=limit is not None)} WHERE {where} "
        "ORDER BY c.created_at DESC, c.id DESC",
        tuple(values),
    )


def active_memory_condition(now: float) -> str:
    """The patch condition of an unexpired memory that is not superseded (``now``: epoch s).

    Patch conditions take no parameters; ``now`` is a float the store computed.
    """
    return (
        "FROM c WHERE NOT IS_STRING(c.superseded_by) "
        f"AND (NOT IS_NUMBER(c.expires_at) OR c.expires_at > {float(now)!r})"
    )


def memories_from_thread(user_id: str, thread_id: str) -> CosmosQuery:
    """Id and partition of the user's memories that came from one thread."""
    return CosmosQuery(
        "SELECT c.id, c.thread_id FROM c WHERE c.user_id = @user_id AND c.thread_id = @scope "
        "AND c.origin_thread_id = @thread_id",
        (("@user_id", user_id), ("@scope", USER_SCOPE), ("@thread_id", thread_id)),
    )


# -- search ---------------------------------------------------------------------------------


def search(
    container: Literal["memories", "turns"],
    user_id: str,
    query: SearchQuery,
    terms: Sequence[str],
    now: float,
) -> CosmosQuery | None:
    """The ranked query for one container, or None when nothing there can match.

    ``hybrid`` is ``ORDER BY RANK RRF(FullTextScore, VectorDistance, weights)``; with no
    usable term it falls back to the vector ranking, with no vector to the text ranking.
    Only the vector ranking can project a score (cosine similarity). ``TOP`` is the literal
    ``query.top`` (1 to 1000, else ``InvalidInputError``); the partition key is pinned in
    ``WHERE``, for a query sent without one (see the module docstring).
    """
    top = literal_top(query.top)
    words = list(terms)[:MAX_TERMS] if query.mode != "vector" else []
    vector = query.vector if query.mode != "text" else None
    if words and vector is not None:
        ranking: Ranking = "hybrid"
    elif vector is not None:
        ranking = "vector"
    elif words:
        ranking = "text"
    else:
        return None
    if container == "memories":
        where, values = _memory_filters(
            user_id,
            now,
            memory_types=query.memory_types,
            thread_id=query.thread_id,
            min_confidence=query.min_confidence,
            include_superseded=query.include_superseded,
            tags=query.tags,
        )
        fields: tuple[str, ...] = MEMORY_FIELDS
    else:
        if query.memory_types is not None or query.min_confidence is not None or query.tags:
            return None
        where, values = "c.user_id = @user_id AND IS_DEFINED(c.seq)", [("@user_id", user_id)]
        if query.thread_id is not None:
            where += " AND c.thread_id = @thread_id"
            values.append(("@thread_id", query.thread_id))
        fields = TURN_FIELDS
    names = [f"@term{i}" for i in range(len(words))]
    values.extend(zip(names, words, strict=True))
    score_terms = f"FullTextScore(c.content, {', '.join(names)})"
    distance = "VectorDistance(c.embedding, @vector)"
    if vector is not None:
        values.append(("@vector", np.asarray(vector, dtype=np.float32).astype(float).tolist()))
    select = _select(fields, top=top)
    if ranking == "vector":
        text = f"{select.removesuffix(' FROM c')}, {distance} AS score FROM c WHERE {where} "
        text += f"ORDER BY {distance}"
    elif ranking == "text":
        text = f"{select} WHERE {where} AND FullTextContainsAny(c.content, {', '.join(names)}) "
        text += f"ORDER BY RANK {score_terms}"
    else:
        weights = f"[{TEXT_WEIGHT}, {VECTOR_WEIGHT}]"
        text = f"{select} WHERE {where} ORDER BY RANK RRF({score_terms}, {distance}, {weights})"
    return CosmosQuery(text, tuple(values), ranking)


# -- summaries, ledger, watermarks, deletion ------------------------------------------------


def list_summaries(user_id: str, kind: str) -> CosmosQuery:
    """The user's summaries of one kind (unordered: a key-prefix query; the store sorts)."""
    return CosmosQuery(
        f"{_select(SUMMARY_FIELDS)} WHERE c.user_id = @user_id AND c.kind = @kind",
        (("@user_id", user_id), ("@kind", kind)),
    )


def summary_state(user_id: str, scope: str, item_id: str) -> CosmosQuery:
    """How many turns a stored summary covers, and its ETag (no row when there is none)."""
    return CosmosQuery(
        "SELECT c.covers_up_to, c._etag FROM c WHERE c.user_id = @user_id "
        "AND c.thread_id = @scope AND c.id = @id",
        (("@user_id", user_id), ("@scope", scope), ("@id", item_id)),
    )


def watermark_below(seq: int) -> str:
    """The patch condition of a watermark below ``seq`` (an int the store computed)."""
    return f"FROM c WHERE c.seq < {seq}"


def watermark_at(seq: int) -> str:
    """The patch condition of a watermark at exactly ``seq`` (an int the store computed)."""
    return f"FROM c WHERE c.seq = {seq}"


def list_usage(user_id: str, *, charges: bool = False) -> CosmosQuery:
    """The user's ledger items, oldest first (with their request charges when asked)."""
    fields = (*USAGE_FIELDS, "request_charges") if charges else USAGE_FIELDS
    return CosmosQuery(
        f"{_select(fields)} WHERE c.user_id = @user_id AND c.thread_id = @scope "
        "AND c.kind = @kind ORDER BY c.seq ASC",
        (("@user_id", user_id), ("@scope", USER_SCOPE), ("@kind", KIND_USAGE)),
    )


def items_of(user_id: str, thread_id: str | None = None) -> CosmosQuery:
    """Id, partition and kind of every item of the user (or of one of its partitions)."""
    if thread_id is None:
        return CosmosQuery(
            "SELECT c.id, c.thread_id, c.kind FROM c WHERE c.user_id = @user_id",
            (("@user_id", user_id),),
        )
    return CosmosQuery(
        "SELECT c.id, c.thread_id, c.kind FROM c WHERE c.user_id = @user_id "
        "AND c.thread_id = @thread_id",
        (("@user_id", user_id), ("@thread_id", thread_id)),
    )


def user_epoch(user_id: str) -> CosmosQuery:
    """The user's forget epoch item (a query, so a missing item is an empty answer)."""
    return CosmosQuery(
        "SELECT c.epoch FROM c WHERE c.user_id = @user_id AND c.thread_id = @scope AND c.id = @id",
        (("@user_id", user_id), ("@scope", USER_SCOPE), ("@id", EPOCH_ID)),
    )
