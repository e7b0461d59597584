"""Search results from ranked Cosmos rows, and their merge across containers.

Cosmos returns a hybrid (``RRF``) or full-text ranking in order but cannot project its score,
so a hit's score there is the fusion score of its rank: ``(1 + 0.5) / (10 + rank)`` for
hybrid, ``1 / (10 + rank)`` for full text. A vector ranking projects its cosine similarity.
Memories and turns are merged by score; at equal score, a hit that contains a query word
comes first, then memories before turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from agent_memory.core.models import SearchHit
from agent_memory.core.query import RRF_K, TEXT_WEIGHT, VECTOR_WEIGHT, query_terms
from agent_memory.stores.cosmos.documents import memory_from_doc, turn_from_doc
from agent_memory.stores.cosmos.queries import CosmosQuery, Ranking


def rank_score(ranking: Ranking, rank: int) -> float:
    """The fusion score of 1-based ``rank`` in a ranking Cosmos does not score."""
    weight = TEXT_WEIGHT + VECTOR_WEIGHT if ranking == "hybrid" else TEXT_WEIGHT
    return weight / (RRF_K + rank)


def hits_of(
    kind: Literal["memories", "turns"],
    rows: Sequence[dict[str, Any]],
    request: CosmosQuery,
    min_similarity: float = -1.0,
) -> list[SearchHit]:
    """Rows of one ranked query as hits, in rank order (a vector ranking's rows below
    ``min_similarity`` are left out)."""
    hits: list[SearchHit] = []
    for rank, row in enumerate(rows, start=1):
        if request.ranking == "vector":
            score = float(row["score"])
            if score < min_similarity:
                continue
        else:
            score = rank_score(request.ranking or "hybrid", rank)
        if kind == "memories":
            hits.append(SearchHit(kind="memory", score=score, memory=memory_from_doc(row)))
        else:
            hits.append(SearchHit(kind="turn", score=score, turn=turn_from_doc(row)))
    return hits


def merge_hits(
    ranked: Sequence[Sequence[SearchHit]], top: int, terms: Sequence[str]
) -> list[SearchHit]:
    """The ``top`` best of several rankings (memories first in ``ranked``)."""
    wanted = set(terms)
    entries = []
    for source, hits in enumerate(ranked):
        for position, hit in enumerate(hits):
            matched = bool(wanted.intersection(query_terms(hit.content)))
            entries.append(((-hit.score, not matched, source, position), hit))
    entries.sort(key=lambda entry: entry[0])
    return [hit for _, hit in entries[:top]]
