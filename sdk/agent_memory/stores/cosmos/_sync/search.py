# Generated from agent_memory/stores/cosmos/_async/search.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""Hybrid search of the Cosmos DB store (sync, generated)."""

from __future__ import annotations

from typing import Literal

from agent_memory.core.models import MEMORIES_CONTAINER, TURNS_CONTAINER, SearchHit
from agent_memory.core.query import SearchQuery, query_terms
from agent_memory.core.validation import check_identifier
from agent_memory.stores.cosmos import queries
from agent_memory.stores.cosmos._sync.connection import CosmosConnection
from agent_memory.stores.cosmos.errors import guarded
from agent_memory.stores.cosmos.search import hits_of, merge_hits


class CosmosSearch(CosmosConnection):
    """Hybrid search over a user's memories (and turns)."""

    def search(self, user_id: str, query: SearchQuery) -> list[SearchHit]:
        """Hybrid search in the user's partitions: Cosmos ranks, RRF fuses (see queries).

        Each ranked query pins the user's key (and thread) in ``WHERE`` and is sent without a
        partition key, so the SDK runs it through the service's query plan: rankings come back
        in order across physical partitions, and full-text statistics are those of the
        partitions holding the key (``full_text_score_scope="Local"``). ``InvalidInputError``
        when ``query.top`` is not an integer from 1 to 1000.
        """
        check_identifier(user_id, "user_id")
        queries.literal_top(query.top)
        terms = query_terms(query.text)
        now = self._now().timestamp()
        ranked: list[list[SearchHit]] = []
        sources: list[tuple[Literal["memories", "turns"], str]] = [("memories", MEMORIES_CONTAINER)]
        if query.include_turns:
            sources.append(("turns", TURNS_CONTAINER))
        with guarded(self.charges, "search", user_id):
            for kind, name in sources:
                request = queries.search(kind, user_id, query, terms, now)
                if request is None:
                    continue
                options = {} if request.ranking == "vector" else {"full_text_score_scope": "Local"}
                container = self._container(name)
                rows = self._query(container, request, None, **options)
                ranked.append(hits_of(kind, rows, request, query.min_similarity))
        return merge_hits(ranked, query.top, terms)
