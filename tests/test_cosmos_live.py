"""What only a Cosmos DB account proves (skipped with the reason without one).

Run with the store contract suite by the one command of ``Docs/azure_testing.md``. Each test
works in the session's test database (see ``tests/conftest.py``) under users of its own, and
deletes them at the end; the TTL tests use a database of their own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.cosmos import CosmosClient
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosResourceNotFoundError
from azure.identity import DefaultAzureCredential

from agent_memory import LocalEmbedder, Memory, SearchQuery, Turn
from agent_memory.core.models import (
    COUNTERS_CONTAINER,
    MEMORIES_CONTAINER,
    TURNS_CONTAINER,
    Summary,
)
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos._sync.store import CosmosStore
from tests.support.cosmos_server import RequestLog, account_skip_reason, unique_database

pytestmark = pytest.mark.skipif(
    account_skip_reason() is not None, reason=account_skip_reason() or ""
)


@pytest.fixture
def user() -> str:
    return f"live-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def live(cosmos_account: dict[str, Any], user: str) -> Iterator[tuple[CosmosStore, RequestLog]]:
    """A store on the account's test database that records its requests; ``user`` forgotten."""
    log = RequestLog()
    store = CosmosStore(**cosmos_account, raw_request_hook=log)
    try:
        yield store, log
    finally:
        store.forget(user)
        store.close()


def client_for(options: dict[str, Any]) -> CosmosClient:
    credential: Any = options["key"] or DefaultAzureCredential(
        managed_identity_client_id=options["client_id"]
    )
    extra = {} if options["verify_tls"] else {"connection_verify": False}
    return CosmosClient(options["endpoint"], credential, **extra)


def turn(user: str, thread: str, content: str, turn_id: str) -> Turn:
    return Turn(
        id=turn_id,
        user_id=user,
        thread_id=thread,
        role="user",
        content=content,
        created_at=datetime.now(UTC),
    )


def fact(user: str, content: str, **extra: Any) -> Memory:
    return Memory.create(
        user_id=user, thread_id="t1", type="fact", content=content, now=datetime.now(UTC), **extra
    )


def eventually(check: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(2)


# -- literal TOP and ranking order under a full partition key -----------------------------------


def test_ranked_queries_with_a_literal_top_rank_in_order_under_a_full_key(
    live: tuple[CosmosStore, RequestLog], user: str, embedder: LocalEmbedder
) -> None:
    store, log = live
    texts = [
        "Alice keeps bees on the roof of her house in Lyon.",
        "Alice's bees produced twelve jars of lavender honey this summer.",
        "Alice sold honey at the Lyon market.",
        "Alice repaired the roof gutters before winter.",
        "Alice prefers green tea in the morning.",
        "Alice's brother plays the cello.",
        "Alice booked a train to Geneva.",
        "Alice is allergic to peanuts.",
    ]
    memories = [fact(user, text) for text in texts]
    for memory, vector in zip(memories, embedder.embed(texts), strict=True):
        assert store.create_memory(memory, vector)
    query_text = "bees honey"
    vector = embedder.embed([query_text])[0]
    for mode in ("hybrid", "text", "vector"):
        mark = log.mark()
        hits = store.search(user, SearchQuery(text=query_text, vector=vector, top=3, mode=mode))
        sent = log.queries(mark, MEMORIES_CONTAINER)
        assert sent and sent[0].body["query"].startswith("SELECT TOP 3 "), mode
        assert sent[0].partition_key is None  # the key is pinned in WHERE
        assert len(hits) <= 3 and hits, mode
        assert all(h.memory is not None and h.memory.user_id == user for h in hits)
        found = [h.content for h in hits]
        if mode == "text":  # the one memory with both words first, then those with one
            assert found[0] == texts[1] and set(found) == {texts[0], texts[1], texts[2]}, found
        if mode == "hybrid":
            assert found[0] in texts[:3], found
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True), mode


def test_turns_of_one_thread_rank_under_the_threads_full_key(
    live: tuple[CosmosStore, RequestLog], user: str, embedder: LocalEmbedder
) -> None:
    store, _ = live
    texts = ["my sourdough starter died", "I fed the sourdough starter twice", "the bus was late"]
    batch = [turn(user, "kitchen", text, f"k{i}") for i, text in enumerate(texts)]
    store.append_turns(user, "kitchen", batch, embedder.embed(texts))
    other = [turn(user, "garden", "sourdough sourdough starter starter", "g0")]
    store.append_turns(user, "garden", other, embedder.embed([other[0].content]))
    query = SearchQuery(
        text="sourdough starter",
        vector=embedder.embed(["sourdough starter"])[0],
        top=5,
        include_turns=True,
        thread_id="kitchen",
        mode="text",
    )
    hits = [h for h in store.search(user, query) if h.kind == "turn"]
    assert [h.turn.thread_id for h in hits if h.turn] == ["kitchen", "kitchen"]
    assert {h.content for h in hits} == {texts[0], texts[1]}
    # across the user's threads (the key prefix pinned in WHERE): the denser turn ranks first
    everywhere = SearchQuery(text="sourdough starter", vector=None, top=5, include_turns=True)
    ranked = [h for h in store.search(user, everywhere) if h.kind == "turn"]
    assert ranked[0].content == other[0].content
    assert {h.content for h in ranked} == {other[0].content, texts[0], texts[1]}


# -- threads: a registry, no GROUP BY, orderings made by the store -------------------------------


def test_a_users_threads_are_listed_once_in_order_and_summaries_newest_first(
    live: tuple[CosmosStore, RequestLog], user: str, cosmos_account: dict[str, Any]
) -> None:
    store, log = live
    threads = [f"thread-{i:02d}" for i in range(12)]
    for index, thread in enumerate(threads):
        store.append_turns(user, thread, [turn(user, thread, f"hello {index}", "a")], None)
        store.append_turns(user, thread, [turn(user, thread, f"again {index}", "b")], None)
    mark = log.mark()
    assert store.list_threads(user) == threads
    assert all("GROUP BY" not in r.body["query"].upper() for r in log.queries(mark))
    start = datetime.now(UTC)
    for index, thread in enumerate(reversed(threads)):
        summary = Summary(
            user_id=user,
            thread_id=thread,
            kind="thread",
            content=f"summary of {thread}",
            updated_at=start + timedelta(seconds=index),
        )
        store.put_summary(summary, None)
    assert [s.thread_id for s in store.list_summaries(user, "thread")] == threads

    with client_for(cosmos_account) as client:
        container = client.get_database_client(cosmos_account["database"]).get_container_client(
            TURNS_CONTAINER
        )
        prefix = container.feed_range_from_partition_key([user])
        inside = [
            r for r in container.read_feed_ranges() if container.is_feed_range_subset(r, prefix)
        ]
    if inside:
        pytest.skip(
            "the user's key prefix lies in one physical partition here (a user spans several "
            "only once its data outgrows one): listed once and in order, spanning not shown"
        )


# -- turn order is commit order: the real transactional batch -----------------------------------


def test_a_batch_whose_later_operation_fails_leaves_the_head_unchanged(
    live: tuple[CosmosStore, RequestLog], user: str, cosmos_account: dict[str, Any]
) -> None:
    store, _ = live
    store.append_turns(user, "t1", [turn(user, "t1", "one", "a")], None)
    with client_for(cosmos_account) as client:
        container = client.get_database_client(cosmos_account["database"]).get_container_client(
            TURNS_CONTAINER
        )
        partition = [user, "t1"]
        head = container.read_item(docs.HEAD_ID, partition_key=partition)
        moved = {**docs.head_doc(user, "t1", first_seq=1, last_seq=head["last_seq"] + 1, now="x")}
        duplicate = {"id": "a", "user_id": user, "thread_id": "t1", "seq": head["last_seq"] + 1}
        with pytest.raises(CosmosBatchOperationError) as failed:
            container.execute_item_batch(
                [
                    ("replace", (docs.HEAD_ID, moved), {"if_match_etag": head["_etag"]}),
                    ("create", (duplicate,)),
                ],
                partition_key=partition,
            )
        assert failed.value.status_code == 409
        after = container.read_item(docs.HEAD_ID, partition_key=partition)
    assert after["_etag"] == head["_etag"] and after["last_seq"] == head["last_seq"]
    assert [t.id for t in store.list_turns(user, "t1")] == ["a"]


# -- TTL -------------------------------------------------------------------------------------------


@pytest.fixture
def ttl_store(cosmos_account: dict[str, Any]) -> Iterator[CosmosStore]:
    """A store in a database of its own whose turns expire after 5 s, counters after 10 s."""
    options = {**cosmos_account, "database": unique_database()}
    store = CosmosStore(**options, turns_ttl=5, counters_ttl=10)
    try:
        yield store
    finally:
        store.close()
        with client_for(options) as client:
            client.delete_database(options["database"])


def test_turns_and_their_head_expire_and_counters_follow(ttl_store: CosmosStore, user: str) -> None:
    ttl_store.connect()
    ttl_store.append_turns(user, "t1", [turn(user, "t1", "short-lived", "a")], None)
    ttl_store.increment_counter(user, "turns", thread_id="t1")
    assert ttl_store.list_threads(user) == ["t1"]
    eventually(lambda: ttl_store.list_turns(user, "t1") == [], seconds=120, what="turn expiry")
    eventually(lambda: ttl_store.list_threads(user) == [], seconds=120, what="head expiry")
    eventually(
        lambda: ttl_store.increment_counter(user, "turns", thread_id="t1", by=0).after == 0,
        seconds=120,
        what="counter expiry",
    )
    again = ttl_store.append_turns(user, "t1", [turn(user, "t1", "new", "b")], None)
    assert again.created == 1 and [t.id for t in ttl_store.list_turns(user, "t1")] == ["b"]


def test_supersede_does_not_restart_an_expiring_memorys_ttl(
    live: tuple[CosmosStore, RequestLog], user: str, cosmos_account: dict[str, Any]
) -> None:
    store, _ = live
    short = fact(user, "Alice is at the dentist.", ttl=20)
    winner = fact(user, "Alice was at the dentist this morning.")
    store.create_memory(short, None)
    store.create_memory(winner, None)
    time.sleep(10)
    assert store.supersede(user, short.id, by=winner.id, reason="contradict")
    with client_for(cosmos_account) as client:
        container = client.get_database_client(cosmos_account["database"]).get_container_client(
            MEMORIES_CONTAINER
        )
        item = container.read_item(short.id, partition_key=docs.user_partition(user))
        assert item["ttl"] <= 11 and item["superseded_by"] == winner.id

        def purged() -> bool:
            try:
                container.read_item(short.id, partition_key=docs.user_partition(user))
            except CosmosResourceNotFoundError:
                return True
            return False

        eventually(purged, seconds=120, what="purge at the original expiry")


def test_the_embedding_model_record_never_expires(ttl_store: CosmosStore) -> None:
    ttl_store.ensure_embedding_model("m", ttl_store.dimensions)
    container = ttl_store._containers[COUNTERS_CONTAINER]
    item = container.read_item(docs.META_ID, partition_key=docs.STORE_PARTITION)
    assert item["ttl"] == -1
