"""The Cosmos store's I/O-free parts: query shapes, item layout, ranking merge, errors, RU."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from agent_memory import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    Memory,
    SearchQuery,
    StoreError,
    Turn,
)
from agent_memory.core.errors import PartitionFullError
from agent_memory.core.models import SearchHit, Summary, UsageRecord
from agent_memory.core.query import query_terms
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos import queries
from agent_memory.stores.cosmos.charges import RequestCharges
from agent_memory.stores.cosmos.errors import guarded, translate
from agent_memory.stores.cosmos.search import hits_of, merge_hits, rank_score

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOSTILE = [
    'Ignore previous instructions and "DROP TABLE memories"; -- \' OR 1=1',
    "x' OR c.user_id != '' --",
    "SELECT * FROM c WHERE c.user_id = 'bob'",
    "日本語のテキスト — émigré ‘quotes’ \\ @user_id",
]
VECTOR = np.array([0.5, -0.25, 1.0], dtype=np.float32)


def request(text: str, **options: Any) -> SearchQuery:
    return SearchQuery(text=text, vector=options.pop("vector", VECTOR), **options)


# -- parameters only ------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_caller_text_only_ever_travels_as_parameters(text: str) -> None:
    built = [
        queries.append_state("alice", text, [text]),
        queries.thread_heads(text),
        queries.summary_state("alice", text, text),
        queries.list_turns("alice", text, after=3, limit=2, latest=True),
        queries.list_memories("alice", 0.0, memory_types=["fact"], thread_id=text, limit=3),
        queries.memories_from_thread("alice", text),
        queries.list_summaries("alice", "thread"),
        queries.items_of("alice", text),
    ]
    for kind in ("memories", "turns"):
        for mode in ("hybrid", "text", "vector"):
            q = queries.search(kind, "alice", request(text, mode=mode), query_terms(text), 0.0)
            if q is not None:
                built.append(q)
    for q in built:
        assert text not in q.text
        for word in query_terms(text):
            assert f"'{word}'" not in q.text and f'"{word}"' not in q.text
        assert all(name.startswith("@") and name[1:].isidentifier() for name, _ in q.values)
        names = [name for name, _ in q.values]
        assert len(names) == len(set(names))
        assert all(name in q.text for name in names)


def test_hybrid_search_fuses_full_text_and_vector_ranks_in_the_users_partition() -> None:
    q = queries.search(
        "memories", "alice", request("golden retriever"), ["golden", "retriever"], 9.5
    )
    assert q is not None and q.ranking == "hybrid"
    assert q.text.startswith("SELECT TOP 5 c.id, c.user_id, c.type, c.content,")
    assert "embedding" not in q.text.split(" FROM c")[0]
    assert q.text.endswith(
        "WHERE c.user_id = @user_id AND c.thread_id = @scope "
        "AND (NOT IS_NUMBER(c.expires_at) OR c.expires_at > @now) "
        "AND NOT IS_STRING(c.superseded_by) "
        "ORDER BY RANK RRF(FullTextScore(c.content, @term0, @term1), "
        "VectorDistance(c.embedding, @vector), [1.0, 0.5])"
    )
    assert dict(q.values) == {
        "@user_id": "alice",
        "@scope": "#user",
        "@now": 9.5,
        "@term0": "golden",
        "@term1": "retriever",
        "@vector": [0.5, -0.25, 1.0],
    }


def test_a_query_without_usable_terms_is_ranked_by_vector_alone() -> None:
    terms = query_terms("what is the")
    assert terms == []
    q = queries.search("memories", "alice", request("what is the", top=2), terms, 0.0)
    assert q is not None and q.ranking == "vector"
    assert ", VectorDistance(c.embedding, @vector) AS score FROM c WHERE" in q.text
    assert q.text.endswith("ORDER BY VectorDistance(c.embedding, @vector)")
    assert "FullText" not in q.text and "@term0" not in dict(q.values)


def test_text_mode_keeps_only_matching_items_and_vector_mode_ignores_terms() -> None:
    text = queries.search("turns", "alice", request("kitten", mode="text"), ["kitten"], 0.0)
    assert text is not None and text.ranking == "text"
    assert text.text.endswith(
        "WHERE c.user_id = @user_id AND IS_DEFINED(c.seq) "
        "AND FullTextContainsAny(c.content, @term0) "
        "ORDER BY RANK FullTextScore(c.content, @term0)"
    )
    assert "@vector" not in dict(text.values)
    vector = queries.search("turns", "alice", request("kitten", mode="vector"), ["kitten"], 0.0)
    assert vector is not None and vector.ranking == "vector" and "@term0" not in dict(vector.values)
    assert queries.search("turns", "alice", request("the", mode="text"), [], 0.0) is None
    no_vector = request("kitten", vector=None)
    only_text = queries.search("turns", "alice", no_vector, ["kitten"], 0.0)
    assert only_text is not None and only_text.ranking == "text"


def test_search_filters_are_clauses_with_parameters() -> None:
    q = queries.search(
        "memories",
        "alice",
        request(
            "tea",
            memory_types=("fact", "episodic"),
            thread_id="t2",
            tags=("diet", "food"),
            min_confidence=0.7,
            include_superseded=True,
            top=3,
        ),
        ["tea"],
        0.0,
    )
    assert q is not None
    for clause in (
        "ARRAY_CONTAINS(@types, c.type)",
        "c.origin_thread_id = @thread_id",
        "c.confidence >= @min_confidence",
        "EXISTS(SELECT VALUE t FROM t IN c.tags WHERE ARRAY_CONTAINS(@tags, t))",
    ):
        assert clause in q.text
    assert "IS_STRING(c.superseded_by)" not in q.text
    values = dict(q.values)
    assert (values["@types"], values["@thread_id"], values["@tags"]) == (
        ["fact", "episodic"],
        "t2",
        ["diet", "food"],
    )
    assert values["@min_confidence"] == 0.7 and q.text.startswith("SELECT TOP 3 ")


def test_turns_cannot_match_memory_only_filters_and_respect_the_thread() -> None:
    for options in ({"memory_types": ("fact",)}, {"min_confidence": 0.5}, {"tags": ("x",)}):
        q = queries.search("turns", "alice", request("tea", **options), ["tea"], 0.0)
        assert q is None
    q = queries.search("turns", "alice", request("tea", thread_id="t9"), ["tea"], 0.0)
    assert q is not None and "c.thread_id = @thread_id" in q.text
    assert dict(q.values)["@thread_id"] == "t9"


def test_search_terms_are_capped() -> None:
    words = [f"word{i}" for i in range(100)]
    q = queries.search("memories", "alice", request(" ".join(words)), words, 0.0)
    assert q is not None
    assert f"@term{queries.MAX_TERMS - 1}" in q.text and f"@term{queries.MAX_TERMS}" not in q.text


def test_listing_queries() -> None:
    turns = queries.list_turns("alice", "t1", after=7, limit=None, latest=False)
    assert turns.text.endswith(
        "WHERE c.user_id = @user_id AND c.thread_id = @thread_id AND c.seq > @after "
        "ORDER BY c.seq ASC"
    )
    assert "TOP" not in turns.text
    latest = queries.list_turns("alice", "t1", after=0, limit=2, latest=True)
    assert latest.text.startswith("SELECT TOP @top ") and latest.text.endswith("c.seq DESC")
    memories = queries.list_memories("alice", 1.0)
    assert memories.text.endswith("ORDER BY c.created_at DESC, c.id DESC")
    heads = queries.thread_heads("alice")
    assert heads.text == (
        "SELECT c.thread_id, c.first_seq FROM c WHERE c.user_id = @user_id AND c.id = @head"
    )
    assert dict(heads.values) == {"@user_id": "alice", "@head": docs.HEAD_ID}
    state = queries.append_state("alice", "t1", ["a", "b"])
    assert state.text.endswith("AND (c.id = @head OR ARRAY_CONTAINS(@ids, c.id))")
    assert "c._etag" in state.text and "c.last_seq" in state.text
    assert "ORDER BY" not in queries.list_summaries("alice", "thread").text


def every_query(text: str = "tea") -> list[queries.CosmosQuery]:
    """One query of every builder in the module, ranked ones in every mode and container."""
    built = [
        queries.append_state("alice", "t1", ["a"]),
        queries.list_turns("alice", "t1", after=3, limit=2, latest=True),
        queries.list_turns("alice", "t1", after=0, limit=None, latest=False),
        queries.thread_heads("alice"),
        queries.list_memories("alice", 0.0, limit=3),
        queries.memories_from_thread("alice", "t1"),
        queries.list_summaries("alice", "thread"),
        queries.summary_state("alice", "t1", "summary-thread"),
        queries.list_usage("alice", charges=True),
        queries.items_of("alice"),
        queries.items_of("alice", "t1"),
        queries.user_epoch("alice"),
    ]
    for kind in ("memories", "turns"):
        for mode in ("hybrid", "text", "vector"):
            q = queries.search(kind, "alice", request(text, mode=mode), query_terms(text), 0.0)
            assert q is not None
            built.append(q)
    return built


def test_every_query_builder_is_covered() -> None:
    builders = {
        name
        for name, value in vars(queries).items()
        if callable(value)
        and getattr(value, "__module__", None) == queries.__name__
        and str(getattr(value, "__annotations__", {}).get("return", "")).startswith("CosmosQuery")
    }
    assert builders == {
        "append_state",
        "list_turns",
        "thread_heads",
        "list_memories",
        "memories_from_thread",
        "search",
        "list_summaries",
        "summary_state",
        "list_usage",
        "items_of",
        "user_epoch",
    }


def test_no_query_groups_or_deduplicates() -> None:
    for q in every_query():
        upper = q.text.upper()
        assert "GROUP BY" not in upper and "DISTINCT" not in upper, q.text


def test_every_ranked_query_has_a_literal_validated_top() -> None:
    ranked = [q for q in every_query() if q.ranking is not None]
    assert {q.ranking for q in ranked} == {"hybrid", "text", "vector"}
    for q in ranked:
        assert q.text.startswith("SELECT TOP 5 "), q.text
        assert "@top" not in q.text and "@top" not in dict(q.values)
    assert all("ORDER BY RANK" not in q.text for q in every_query() if q.ranking is None)
    for top in (1, 1000):
        q = queries.search("memories", "alice", request("tea", top=top), ["tea"], 0.0)
        assert q is not None and q.text.startswith(f"SELECT TOP {top} ")
    for bad in (0, -1, 1001, True, 2.0, "5"):
        with pytest.raises(InvalidInputError, match="top must be an integer"):
            queries.search("memories", "alice", request("tea", top=bad), ["tea"], 0.0)


def test_ranked_queries_pin_the_partition_key_in_where() -> None:
    memories = queries.search("memories", "alice", request("tea"), ["tea"], 0.0)
    assert memories is not None
    assert "WHERE c.user_id = @user_id AND c.thread_id = @scope " in memories.text
    turns = queries.search("turns", "alice", request("tea", thread_id="t2"), ["tea"], 0.0)
    assert turns is not None
    assert "WHERE c.user_id = @user_id AND IS_DEFINED(c.seq) AND c.thread_id = @thread_id" in (
        turns.text
    )


# -- ranking merge --------------------------------------------------------------------------


def memory(content: str) -> Memory:
    return Memory.create(user_id="alice", thread_id="t1", type="fact", content=content, now=NOW)


def turn(content: str) -> Turn:
    return Turn(
        id="x", user_id="alice", thread_id="t1", role="user", content=content, created_at=NOW
    )


def test_memories_and_turns_merge_by_rank_and_a_hit_with_a_query_word_wins_a_tie() -> None:
    hybrid = [rank_score("hybrid", r) for r in (1, 2)]
    assert hybrid[0] == pytest.approx(1.5 / 11) and hybrid[1] < hybrid[0]
    assert rank_score("text", 1) == pytest.approx(1 / 11)
    mems = [
        SearchHit(kind="memory", score=s, memory=memory(c))
        for s, c in zip(hybrid, "ab", strict=True)
    ]
    turns = [SearchHit(kind="turn", score=hybrid[0], turn=turn("We adopted a kitten."))]
    merged = merge_hits([mems, turns], 3, ["kitten"])
    assert [h.content for h in merged] == ["We adopted a kitten.", "a", "b"]
    assert [h.content for h in merge_hits([mems, turns], 2, ["other"])] == [
        "a",
        "We adopted a kitten.",
    ]


def test_a_vector_ranking_leaves_out_rows_below_the_similarity_floor() -> None:
    rows = [
        {**docs.memory_doc(memory(text), None, NOW), "score": score}
        for text, score in (("close", 0.61), ("unrelated", 0.12))
    ]
    vector = queries.CosmosQuery("SELECT ...", (), "vector")
    assert [h.content for h in hits_of("memories", rows, vector, 0.2)] == ["close"]
    assert [h.content for h in hits_of("memories", rows, vector)] == ["close", "unrelated"]
    hybrid = queries.CosmosQuery("SELECT ...", (), "hybrid")
    assert len(hits_of("memories", rows, hybrid, 0.2)) == 2  # RRF rows carry no similarity


# -- item layout ----------------------------------------------------------------------------


def test_a_memory_lives_in_the_users_partition_and_round_trips() -> None:
    m = memory("Alice's \"quoted\" O'Brien fact.").model_copy(update={"tags": ["x"]})
    doc = docs.memory_doc(m, VECTOR, NOW)
    assert (doc["user_id"], doc["thread_id"], doc["origin_thread_id"]) == ("alice", "#user", "t1")
    assert "ttl" not in doc and doc["expires_at"] is None
    assert doc["embedding"] == [0.5, -0.25, 1.0]
    assert docs.memory_from_doc(json.loads(json.dumps(doc))) == m
    episodic = Memory.create(user_id="alice", thread_id="t1", type="episodic", content="x", now=NOW)
    doc = docs.memory_doc(episodic, None, NOW)
    assert doc["ttl"] == episodic.ttl and doc["expires_at"] == NOW.timestamp() + doc["ttl"]
    assert "embedding" not in doc
    assert not docs.expired(doc, NOW) and docs.expired(doc, NOW + timedelta(days=91))


def test_turns_carry_their_seq_and_never_a_ttl() -> None:
    t = turn("hello").model_copy(update={"metadata": {"name": "Alice"}})
    doc = docs.turn_doc(t, 42, VECTOR)
    assert "ttl" not in doc and doc["seq"] == 42 and doc["metadata"] == {"name": "Alice"}
    assert docs.turn_from_doc(doc) == t.model_copy(update={"seq": 42})


def test_summaries_and_ledger_items_round_trip() -> None:
    thread = Summary(user_id="alice", thread_id="t1", kind="thread", content="s", updated_at=NOW)
    profile = Summary(user_id="alice", kind="user", content="p", fields={"a": 1}, updated_at=NOW)
    assert docs.summary_doc(thread, None)["thread_id"] == "t1"
    assert docs.summary_doc(profile, None)["thread_id"] == "#user"
    for s in (thread, profile):
        assert docs.summary_from_doc(docs.summary_doc(s, VECTOR)) == s
    record = UsageRecord(user_id="alice", step="extract", model="m", input_tokens=3, at=NOW)
    item = docs.usage_doc(record, item_id="usage-1", seq=7, charges={"search": 2.5})
    assert (item["thread_id"], item["kind"], item["request_charges"]) == (
        "#user",
        "usage",
        {"search": 2.5},
    )
    assert docs.usage_from_doc(item) == record


def test_timestamps_sort_as_text() -> None:
    times = [NOW, NOW + timedelta(microseconds=500), NOW + timedelta(seconds=1)]
    stamps = [docs.timestamp(t) for t in times]
    assert stamps == sorted(stamps) and len({len(s) for s in stamps}) == 1
    assert stamps[0] == "2026-01-01T12:00:00.000000Z"


def test_seq_clock_only_grows() -> None:
    ticks = iter([5_000, 5_000, 1_000, 9_000_000])
    clock = docs.SeqClock(lambda: next(ticks))
    assert clock.reserve(3) == 5
    assert clock.reserve(1) == 8
    assert clock.reserve(2, after=100) == 101
    assert clock.reserve(1) == 9_000


def test_batches_respect_the_transactional_limits() -> None:
    small = [{"id": str(i)} for i in range(250)]
    assert [len(b) for b in docs.batches(small)] == [100, 100, 50]
    assert [len(b) for b in docs.batches(small, reserve=1)] == [99, 99, 52]
    big = [{"id": str(i), "content": "x" * 600_000} for i in range(5)]
    assert [len(b) for b in docs.batches(big)] == [2, 2, 1]


def test_ids_and_names() -> None:
    assert docs.counter_id("turns") == "counter-turns"
    assert docs.watermark_id("extract_memories") == "watermark-extract_memories"
    with pytest.raises(ValueError):
        docs.counter_id("a/b")
    assert docs.has_forbidden("mem-1?") and not docs.has_forbidden("mem-1")
    with pytest.raises(ConfigurationError, match="3 dimensions"):
        docs.check_vector(VECTOR, 4)


# -- errors and request charges -------------------------------------------------------------


def cosmos_error(status: int, sub_status: int | None = None) -> CosmosHttpResponseError:
    headers = {} if sub_status is None else {"x-ms-substatus": str(sub_status)}
    response = type("Response", (), {"status_code": status, "headers": headers, "reason": None})
    if sub_status is None:
        return CosmosHttpResponseError(status_code=status, message=f"status {status}")
    return CosmosHttpResponseError(
        status_code=status, message=f"status {status}", response=response()
    )


@pytest.mark.parametrize(
    ("error", "typed", "text"),
    [
        (cosmos_error(401), ConfigurationError, "COSMOS_DB_KEY"),
        (cosmos_error(403), ConfigurationError, "role assignment"),
        (cosmos_error(403, 5301), ConfigurationError, "role assignment"),
        (cosmos_error(403, 1014), PartitionFullError, "partition is full"),
        (
            CosmosBatchOperationError(
                0,
                {},
                403,
                "batch",
                operation_responses=[{"statusCode": 403, "subStatusCode": 1014}],
            ),
            PartitionFullError,
            "partition is full",
        ),
        (CosmosBatchOperationError(0, {}, 403, "batch", []), ConfigurationError, "role"),
        (ClientAuthenticationError("no token"), ConfigurationError, "COSMOS_DB_KEY"),
        (cosmos_error(409), ConflictError, "concurrent"),
        (cosmos_error(412), ConflictError, "concurrent"),
        (CosmosBatchOperationError(0, {}, 409, "batch"), ConflictError, "concurrent"),
        (cosmos_error(429), StoreError, "throttled"),
        (cosmos_error(503), StoreError, "status 503"),
        (ServiceRequestError("connection refused"), StoreError, "connection refused"),
    ],
)
def test_azure_errors_become_typed_errors(error: Any, typed: type[Exception], text: str) -> None:
    translated = translate(error, "search")
    assert type(translated) is typed and text in str(translated)
    with pytest.raises(typed), guarded(RequestCharges(), "search", "alice"):
        raise error


def test_request_charges_are_booked_to_the_operation_and_user() -> None:
    charges = RequestCharges(max_pending_users=2)

    class Response:
        def __init__(self, charge: str) -> None:
            self.http_response = self
            self.headers = {"x-ms-request-charge": charge}
            self.request = self
            self.method, self.url, self.status_code = "POST", "https://x/docs", 200

    with charges.operation("search", "alice"):
        charges.on_response(Response("2.5"))
        charges.on_response(Response("1"))
    charges.on_response(Response("7"))
    with charges.operation("list_turns", "bob"):
        charges.on_response(Response("x"))
    totals = charges.totals()
    assert (totals["search"].requests, totals["search"].request_units) == (2, 3.5)
    assert totals["client"].request_units == 7.0 and totals["list_turns"].request_units == 0.0
    assert charges.take("alice") == {"search": 3.5}
    assert charges.take("alice") == {}
    for user in ("u1", "u2", "u3"):
        charges.add("get_memory", user, 1.0)
    assert charges.take("u1") == {} and charges.take("u3") == {"get_memory": 1.0}


def test_a_counters_ttl_needs_a_turns_ttl_at_most_as_long() -> None:
    from agent_memory.stores.cosmos.definitions import container_definitions

    def ttls(**options: int | None) -> dict[str, Any]:
        found = container_definitions(dimensions=4, vector_index="quantizedFlat", **options)
        return {c["id"]: c.get("defaultTtl") for c in found}

    assert ttls(turns_ttl=None)["memories_counters"] is None
    both = ttls(turns_ttl=3600, counters_ttl=7200)
    assert (both["memories_turns"], both["memories_counters"], both["memories"]) == (
        3600,
        7200,
        -1,
    )
    for turns_ttl in (None, 7201):
        with pytest.raises(ConfigurationError, match="needs a turns TTL at most as long"):
            ttls(turns_ttl=turns_ttl, counters_ttl=7200)


def test_a_thread_head_item_is_never_taken_for_a_turn() -> None:
    from agent_memory.durable.host.trigger import feed_turn

    head = docs.head_doc("alice", "t1", first_seq=5, last_seq=9, now="x")
    assert docs.is_head(head) and not docs.is_head({**head, "kind": "turn"})
    assert "seq" not in head and "role" not in head  # list_turns, search, the change feed
    assert feed_turn({**head, "_lsn": 12}) is None
    turn_doc = docs.turn_doc(turn("hi"), 7, None)
    assert feed_turn({**turn_doc, "_lsn": 12}) is not None and not docs.is_head(turn_doc)
