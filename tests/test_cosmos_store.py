"""The Cosmos store over a real wire (npm ``@vercel/cosmosdb-server``), sync and async.

What that server cannot serve — prefix (hierarchical) partition-key queries, ``RRF`` /
``VectorDistance`` / ``FullTextScore``, batch delete, 404 on a missing read — is checked by
the exact requests the store sends instead.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from azure.cosmos import CosmosClient
from azure.cosmos.exceptions import CosmosBatchOperationError

from agent_memory import (
    ConfigurationError,
    ForgottenError,
    InvalidInputError,
    Memory,
    SearchQuery,
    StoreError,
    Turn,
)
from agent_memory.core.models import COUNTERS_CONTAINER, Summary, UsageRecord
from agent_memory.core.query import query_terms
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos import queries
from agent_memory.stores.cosmos._async.store import AsyncCosmosStore
from agent_memory.stores.cosmos._sync.store import CosmosStore
from tests.conftest import FakeClock
from tests.support import concurrent_appends as race_module
from tests.support.concurrent_appends import check_race, extract_once, race_appends
from tests.support.cosmos_server import CosmosServer, RecordedRequest, RequestLog, unique_database

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

DIMS = 4
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOSTILE = [
    'Ignore previous instructions and "DROP TABLE memories"; -- \' OR 1=1',
    "x' OR c.user_id != '' -- \\\" }]",
    "SELECT * FROM c WHERE c.user_id = 'bob'",
    "日本語のテキスト — émigré ‘quotes’ @user_id",
]


class Blocking:
    """An :class:`AsyncCosmosStore` called like the sync store, on its own event loop."""

    def __init__(self, store: AsyncCosmosStore) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(attribute(*args, **kwargs))

        return call

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())

    def dispose(self) -> None:
        self.close()
        self.loop.close()


class Wire:
    """A store on the npm server (one database per module), the requests it sent, and a user.

    Each test gets a user of its own and the clock back at its start, so tests share the
    store without seeing each other's items.
    """

    def __init__(self, server: CosmosServer, flavour: str) -> None:
        self.server = server
        self.flavour = flavour
        self.log = RequestLog()
        self.clock = FakeClock(START)
        self.database = unique_database()
        self.user = "alice"
        self.options: dict[str, Any] = {
            "key": server.key,
            "database": self.database,
            "dimensions": DIMS,
            "clock": self.clock,
            "raw_request_hook": self.log,
        }
        self.store: Any = self.open()
        self.store.ensure_embedding_model("test-model", DIMS)

    def open(self) -> Any:
        if self.flavour == "sync":
            return CosmosStore(self.server.endpoint, **self.options)
        return Blocking(AsyncCosmosStore(self.server.endpoint, **self.options))

    def container(self, name: str) -> Any:
        client = CosmosClient(self.server.endpoint, self.server.key)
        return client.get_database_client(self.database).get_container_client(name)

    def dispose(self) -> None:
        if isinstance(self.store, Blocking):
            self.store.dispose()
        else:
            self.store.close()


@pytest.fixture(scope="module", params=["sync", "async"])
def shared_wire(request: pytest.FixtureRequest, cosmos_server: CosmosServer) -> Iterator[Wire]:
    opened = Wire(cosmos_server, request.param)
    yield opened
    opened.dispose()


@pytest.fixture
def wire(shared_wire: Wire) -> Wire:
    shared_wire.user = f"user-{uuid.uuid4().hex[:10]}"
    shared_wire.clock.now = START
    return shared_wire


@pytest.fixture
def clock(wire: Wire) -> FakeClock:
    return wire.clock


def vectors(n: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.arange(n * DIMS, dtype=np.float32).reshape(n, DIMS) + 1


def turns(wire: Wire, thread: str, texts: list[str], prefix: str) -> list[Turn]:
    return [
        Turn(
            id=f"{prefix}{i}",
            user_id=wire.user,
            thread_id=thread,
            role="user",
            content=text,
            created_at=wire.clock(),
        )
        for i, text in enumerate(texts)
    ]


def memory(wire: Wire, content: str, **extra: Any) -> Memory:
    return Memory.create(
        user_id=wire.user,
        thread_id="t1",
        content=content,
        now=wire.clock(),
        **{"type": "fact", **extra},
    )


def only_query(log: RequestLog, mark: int, container: str) -> RecordedRequest:
    (sent,) = log.queries(mark, container)
    return sent


# -- turns ----------------------------------------------------------------------------------


def test_turns_append_atomically_list_after_a_watermark_and_are_not_duplicated(
    wire: Wire, clock: FakeClock
) -> None:
    mark = wire.log.mark()
    first = wire.store.append_turns(
        wire.user, "t1", turns(wire, "t1", ["one", "two", "three"], "a"), vectors(3)
    )
    assert first.created == 3
    seqs = [t.seq for t in first.turns]
    assert all(isinstance(s, int) for s in seqs) and seqs == sorted(set(seqs))
    (batch,) = batches_since(wire.log, mark)
    assert batch.partition_key == [wire.user, "t1"]
    head, *creates = batch.body
    assert head["operationType"] == "Create" and "ifMatch" not in head
    assert head["resourceBody"] == docs.head_doc(
        wire.user, "t1", first_seq=seqs[0], last_seq=seqs[-1], now=docs.timestamp(clock())
    )
    assert [op["operationType"] for op in creates] == ["Create"] * 3
    assert [op["resourceBody"]["seq"] for op in creates] == seqs
    assert all("ttl" not in op["resourceBody"] for op in batch.body)
    assert creates[0]["resourceBody"]["embedding"] == [1.0, 2.0, 3.0, 4.0]

    listed = wire.store.list_turns(wire.user, "t1")
    assert [t.content for t in listed] == ["one", "two", "three"] and listed == first.turns
    assert [t.content for t in wire.store.list_turns(wire.user, "t1", after=seqs[0])] == [
        "two",
        "three",
    ]
    latest = wire.store.list_turns(wire.user, "t1", limit=2, latest=True)
    assert [t.content for t in latest] == ["two", "three"]
    assert [t.content for t in wire.store.list_turns(wire.user, "t1", limit=1)] == ["one"]

    again = turns(wire, "t1", ["changed", "four"], "a")
    again[1] = again[1].model_copy(update={"id": "a9"})
    mark = wire.log.mark()
    redelivered = wire.store.append_turns(wire.user, "t1", again, None)
    assert redelivered.created == 1
    (state,) = wire.log.queries(mark, "memories_turns")
    assert state.body["query"] == queries.append_state(wire.user, "t1", ["a0", "a9"]).text
    (batch,) = batches_since(wire.log, mark)
    head, create = batch.body
    assert (head["operationType"], head["id"]) == ("Replace", docs.HEAD_ID)
    assert head["ifMatch"] and head["resourceBody"]["first_seq"] == seqs[0]
    assert head["resourceBody"]["last_seq"] == create["resourceBody"]["seq"] > seqs[-1]
    assert redelivered.turns[0] == first.turns[0]
    assert redelivered.turns[1].seq is not None and redelivered.turns[1].seq > seqs[-1]
    assert [t.content for t in wire.store.list_turns(wire.user, "t1")] == [
        "one",
        "two",
        "three",
        "four",
    ]


def test_seq_keeps_growing_across_store_instances(
    wire: Wire, clock: FakeClock, cosmos_server: CosmosServer
) -> None:
    other = CosmosStore(
        cosmos_server.endpoint, key=cosmos_server.key, database=wire.database, dimensions=DIMS
    )
    writers = [wire.store, other, wire.store, other]
    for i, writer in enumerate(writers):
        writer.append_turns(wire.user, "t1", turns(wire, "t1", [f"turn {i}"], f"w{i}-"), None)
    listed = wire.store.list_turns(wire.user, "t1")
    assert [t.content for t in listed] == [f"turn {i}" for i in range(4)]
    assert [t.seq for t in listed] == sorted({t.seq for t in listed})
    other.close()


def batches_since(log: RequestLog, mark: int) -> list[RecordedRequest]:
    return [r for r in log.since(mark) if r.headers.get("x-ms-cosmos-batch-atomic")]


def test_this_servers_batch_stops_at_a_failed_condition_as_appends_rely_on(
    wire: Wire, clock: FakeClock
) -> None:
    """What the npm server proves of batches, and what only an account does.

    The server runs a batch's operations in order and answers 424 for the ones after a
    failure, but does not roll back the ones before it. Appends put the head's conditional
    replacement first, so a lost race writes nothing here too; the rollback of a batch whose
    later operation fails is proved only against an account (``Docs/azure_testing.md``).
    """
    wire.store.append_turns(wire.user, "t1", turns(wire, "t1", ["one"], "b"), None)
    container = wire.container("memories_turns")
    partition = [wire.user, "t1"]
    head = docs.head_doc(wire.user, "t1", first_seq=1, last_seq=2, now="x")
    with pytest.raises(CosmosBatchOperationError) as lost:
        container.execute_item_batch(
            [
                ("replace", (docs.HEAD_ID, head), {"if_match_etag": '"stale"'}),
                ("create", ({"id": "b9", "user_id": wire.user, "thread_id": "t1", "seq": 2},)),
            ],
            partition_key=partition,
        )
    assert lost.value.status_code == 412 and lost.value.error_index == 0
    assert [r["statusCode"] for r in lost.value.operation_responses] == [412, 424]
    assert [t.id for t in wire.store.list_turns(wire.user, "t1")] == ["b0"]


def test_a_writer_that_loses_the_race_for_the_head_appends_after_the_winner(
    wire: Wire, clock: FakeClock, cosmos_server: CosmosServer
) -> None:
    """Writer A reads the head; before A's batch arrives, writer B appends and an extraction
    pass moves the watermark past B's turn. A's batch then fails on the head's ETag (412) and A
    starts over: its turn gets a ``seq`` above B's, so the next extraction pass still sees it.
    (Numbering before the commit, A's turn would land below the watermark, never extracted.)"""
    step = race_module.STEP
    counters = wire.container(COUNTERS_CONTAINER)
    counters.create_item(
        docs.watermark_doc(docs.watermark_id(step), [wire.user, "t1"], step, 0, "x")
    )
    race = race_module.AppendRace()
    log = RequestLog()

    def hook(pipeline_request: Any) -> None:
        log(pipeline_request)
        if pipeline_request.http_request.headers.get("x-ms-cosmos-batch-atomic") and not race.seen:
            wire.store.append_turns(wire.user, "t1", turns(wire, "t1", ["from b"], "b"), None)
            extract_once(wire.store, wire.user, "t1", race)

    wire.store.append_turns(wire.user, "t1", turns(wire, "t1", ["first"], "f"), None)
    writer_a = CosmosStore(
        cosmos_server.endpoint,
        key=cosmos_server.key,
        database=wire.database,
        dimensions=DIMS,
        raw_request_hook=hook,
    )
    result = writer_a.append_turns(wire.user, "t1", turns(wire, "t1", ["from a"], "a"), None)
    writer_a.close()
    assert result.created == 1
    assert [t.content for t in race.seen] == ["first", "from b"]
    extract_once(wire.store, wire.user, "t1", race)
    assert [t.content for t in race.seen] == ["first", "from b", "from a"]
    sent = batches_since(log, 0)
    assert len(sent) == 2 and all(b.body[0]["operationType"] == "Replace" for b in sent)
    listed = wire.store.list_turns(wire.user, "t1")
    assert listed == race.seen and result.turns[0] == listed[-1]
    assert [t.seq for t in listed] == sorted({t.seq for t in listed})


def test_concurrent_appenders_on_one_thread_are_all_extracted_in_seq_order(
    wire: Wire, clock: FakeClock, cosmos_server: CosmosServer
) -> None:
    counters = wire.container(COUNTERS_CONTAINER)
    step = race_module.STEP
    counters.create_item(
        docs.watermark_doc(docs.watermark_id(step), [wire.user, "t1"], step, 0, "x")
    )

    def open_store() -> CosmosStore:
        return CosmosStore(
            cosmos_server.endpoint, key=cosmos_server.key, database=wire.database, dimensions=DIMS
        )

    mark = wire.log.mark()
    race = race_appends(
        open_store, wire.store, user=wire.user, thread="t1", now=clock, writers=3, appends=4
    )
    check_race(race)
    assert len(race.appended) == 24 and race.passes >= 2
    assert [t.id for t in wire.store.list_turns(wire.user, "t1")] == race.seen_ids
    final = wire.store.get_watermark(wire.user, "t1", step)
    assert final == race.seen[-1].seq
    assert all("GROUP BY" not in r.body["query"].upper() for r in wire.log.queries(mark))


def test_a_turn_cannot_take_the_head_items_id(wire: Wire, clock: FakeClock) -> None:
    mark = wire.log.mark()
    with pytest.raises(InvalidInputError, match="reserved"):
        (turn,) = turns(wire, "t1", ["x"], "h")
        wire.store.append_turns(
            wire.user, "t1", [turn.model_copy(update={"id": docs.HEAD_ID})], None
        )
    assert wire.log.since(mark) == []


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips_and_never_enters_query_text(
    wire: Wire, clock: FakeClock, text: str
) -> None:
    mark = wire.log.mark()
    m = memory(wire, text, tags=[text])
    assert wire.store.create_memory(m, vectors(1)[0]) is True
    stored = wire.store.append_turns(wire.user, "t1", turns(wire, "t1", [text], "h"), vectors(1))
    assert wire.store.get_memory(wire.user, m.id) == m
    assert [x.content for x in wire.store.list_memories(wire.user, thread_id="t1")] == [text]
    assert wire.store.list_turns(wire.user, "t1")[0].content == text == stored.turns[0].content
    summary = Summary(
        user_id=wire.user, thread_id="t1", kind="thread", content=text, updated_at=clock()
    )
    wire.store.put_summary(summary, None)
    assert wire.store.get_summary(wire.user, "thread", "t1") == summary
    sent = wire.log.queries(mark)
    assert sent and all(text not in r.body["query"] for r in sent)
    assert any(p["value"] == "t1" for r in sent for p in r.body["parameters"])


# -- memories -------------------------------------------------------------------------------


def test_memories_are_created_once_listed_filtered_and_superseded_conditionally(
    wire: Wire, clock: FakeClock
) -> None:
    a = memory(wire, "Alice lives in Oslo.", confidence=0.95, tags=["home"])
    clock.advance(seconds=1)
    b = memory(wire, "Always reply in French.", type="procedural", confidence=0.8)
    b = b.model_copy(update={"thread_id": "t2"})
    clock.advance(seconds=1)
    c = memory(wire, "Alice missed a flight.", type="episodic", confidence=0.6, tags=["trip"])
    for m in (a, b, c):
        assert wire.store.create_memory(m, vectors(1)[0]) is True
    assert wire.store.create_memory(memory(wire, "alice lives in oslo"), None) is False
    assert wire.store.get_memory(wire.user, a.id) == a

    def ids(**options: Any) -> list[str]:
        return [m.id for m in wire.store.list_memories(wire.user, **options)]

    assert ids() == [c.id, b.id, a.id]
    assert ids(memory_types=["fact", "episodic"]) == [c.id, a.id]
    assert ids(thread_id="t2") == [c.id, b.id]  # + the user's procedural and episodic
    assert ids(thread_id="t2", memory_types=["fact"]) == []
    assert ids(thread_id=a.thread_id) == [c.id, b.id, a.id]
    assert ids(min_confidence=0.75) == [b.id, a.id]
    assert ids(limit=2) == [c.id, b.id]

    mark = wire.log.mark()
    assert wire.store.supersede(wire.user, a.id, by=c.id, reason="contradict") is True
    (patch,) = [r for r in wire.log.since(mark) if r.method == "PATCH"]
    assert patch.partition_key == [wire.user, "#user"]
    assert patch.body["condition"] == queries.active_memory_condition(clock().timestamp())
    assert patch.body["condition"].startswith("FROM c WHERE NOT IS_STRING(c.superseded_by) AND")
    assert wire.store.supersede(wire.user, a.id, by="other", reason="duplicate") is False
    assert wire.store.supersede(wire.user, "mem-missing", by=c.id, reason="duplicate") is False
    assert wire.store.supersede(wire.user, "bad/id", by=c.id, reason="duplicate") is False
    loser = wire.store.get_memory(wire.user, a.id)
    assert loser is not None and (loser.superseded_by, loser.supersede_reason) == (
        c.id,
        "contradict",
    )
    assert loser.superseded_at == clock()
    assert ids() == [c.id, b.id]
    assert ids(include_superseded=True) == [c.id, b.id, a.id]


def test_expired_memories_are_hidden_before_cosmos_purges_them(
    wire: Wire, clock: FakeClock
) -> None:
    short = memory(wire, "Alice is in a meeting.", ttl=60)
    episode = memory(wire, "Alice's train was cancelled.", type="episodic")
    lasting = memory(wire, "Alice's train pass is annual.")
    for m in (short, episode, lasting):
        wire.store.create_memory(m, None)
    clock.advance(seconds=61)
    assert wire.store.get_memory(wire.user, short.id) is None
    assert {m.id for m in wire.store.list_memories(wire.user)} == {episode.id, lasting.id}
    clock.advance(days=90)
    assert [m.id for m in wire.store.list_memories(wire.user)] == [lasting.id]


def test_a_reasserted_memory_replaces_its_superseded_or_expired_item_if_unchanged(
    wire: Wire, clock: FakeClock
) -> None:
    paris, berlin = memory(wire, "Alice lives in Paris."), memory(wire, "Alice lives in Berlin.")
    for m in (paris, berlin):
        wire.store.create_memory(m, vectors(1)[0])
    assert wire.store.supersede(wire.user, paris.id, by=berlin.id, reason="contradict")
    clock.advance(days=1)
    again = memory(wire, "alice lives in paris", confidence=0.7)
    mark = wire.log.mark()
    assert wire.store.create_memory(again, vectors(1)[0]) is True
    (replace,) = [r for r in wire.log.since(mark) if r.method == "PUT"]
    assert replace.headers.get("if-match")  # conditioned on the item read
    assert wire.store.get_memory(wire.user, paris.id) == again
    assert {m.id for m in wire.store.list_memories(wire.user)} == {paris.id, berlin.id}
    assert wire.store.create_memory(again, None) is False

    short = memory(wire, "Alice is in a meeting.", ttl=60)
    wire.store.create_memory(short, None)
    clock.advance(seconds=61)
    fresh = memory(wire, "Alice is in a meeting.", ttl=60)
    assert wire.store.create_memory(fresh, None) is True
    assert wire.store.get_memory(wire.user, short.id) == fresh


# -- summaries, counters, watermarks, ledger -------------------------------------------------


def test_summaries_are_put_and_replaced(wire: Wire, clock: FakeClock) -> None:
    first = Summary(
        user_id=wire.user,
        thread_id="t1",
        kind="thread",
        content="v1",
        fields={"topics": ["tea"]},
        covers_up_to=3,
        updated_at=clock(),
    )
    wire.store.put_summary(first, vectors(1)[0])
    assert wire.store.get_summary(wire.user, "thread", "t1") == first
    second = first.model_copy(update={"content": "v2", "covers_up_to": 7})
    wire.store.put_summary(second, None)
    assert wire.store.get_summary(wire.user, "thread", "t1") == second
    profile = Summary(user_id=wire.user, kind="user", content="profile", updated_at=clock())
    wire.store.put_summary(profile, None)
    assert wire.store.get_summary(wire.user, "user") == profile
    assert wire.store.get_summary(wire.user, "thread", None) is None


def test_a_summary_covering_more_turns_is_never_overwritten(wire: Wire, clock: FakeClock) -> None:
    newer = Summary(
        user_id=wire.user,
        thread_id="t1",
        kind="thread",
        content="covers 20",
        covers_up_to=20,
        updated_at=clock(),
    )
    wire.store.put_summary(newer, None)
    clock.advance(seconds=5)
    late = newer.model_copy(
        update={"content": "covers 10", "covers_up_to": 10, "updated_at": clock()}
    )
    mark = wire.log.mark()
    wire.store.put_summary(late, vectors(1)[0])
    assert [r.method for r in wire.log.since(mark)] == ["POST"]  # one query, no write
    assert wire.store.get_summary(wire.user, "thread", "t1") == newer
    same = newer.model_copy(update={"content": "covers 20 again", "updated_at": clock()})
    mark = wire.log.mark()
    wire.store.put_summary(same, None)
    assert wire.store.get_summary(wire.user, "thread", "t1") == same
    query, replace = wire.log.since(mark)[:2]
    assert query.is_query and replace.method == "PUT"
    assert replace.headers["if-match"]  # the ETag the query read


def test_supersede_keeps_the_expiry_of_an_expiring_memory(wire: Wire, clock: FakeClock) -> None:
    short = memory(wire, "Alice is in Rome this week.", ttl=3600)
    winner = memory(wire, "Alice is in Rome until Sunday.")
    for m in (short, winner):
        assert wire.store.create_memory(m, None)
    clock.advance(seconds=600)
    mark = wire.log.mark()
    assert wire.store.supersede(wire.user, short.id, by=winner.id, reason="contradict")
    first, second = [r for r in wire.log.since(mark) if r.method == "PATCH"]
    assert "/superseded_by" in str(first.body["operations"])
    assert second.body == {"operations": [{"op": "set", "path": "/ttl", "value": 3000}]}
    mark = wire.log.mark()
    assert wire.store.supersede(wire.user, winner.id, by=short.id, reason="duplicate")
    assert len([r for r in wire.log.since(mark) if r.method == "PATCH"]) == 1  # never expires
    brief = memory(wire, "Alice is on a call.", ttl=60)
    wire.store.create_memory(brief, None)
    clock.advance(seconds=61)
    assert wire.store.supersede(wire.user, brief.id, by=winner.id, reason="duplicate") is False


def test_counters_increment_by_patch_and_report_the_previous_owner(wire: Wire) -> None:
    mark = wire.log.mark()
    first = wire.store.increment_counter(
        wire.user, "turns", thread_id="t1", by=3, owner="inprocess"
    )
    assert (first.before, first.after, first.previous_owner) == (0, 3, None)
    second = wire.store.increment_counter(wire.user, "turns", thread_id="t1", owner="durable")
    assert (second.before, second.after, second.previous_owner) == (3, 4, "inprocess")
    third = wire.store.increment_counter(wire.user, "turns", thread_id="t1", by=2)
    assert (third.before, third.after, third.previous_owner) == (4, 6, "durable")
    read = wire.store.increment_counter(wire.user, "turns", thread_id="t1", by=0)
    assert (read.before, read.after) == (6, 6)
    user = wire.store.increment_counter(wire.user, "extractions")
    assert (user.before, user.after) == (0, 1)
    patches = [r for r in wire.log.since(mark) if r.method == "PATCH"]
    assert patches[0].partition_key == [wire.user, "t1"]
    assert patches[1].body["operations"][:3] == [
        {"op": "incr", "path": "/total", "value": 1},
        {"op": "move", "from": "/last_owner", "path": "/previous_owner"},
        {"op": "set", "path": "/last_owner", "value": "durable"},
    ]
    assert patches[-1].partition_key == [wire.user, "#user"]


def test_watermarks_only_move_forward(wire: Wire, clock: FakeClock) -> None:
    counters = wire.container(COUNTERS_CONTAINER)
    counters.create_item(
        docs.watermark_doc(docs.watermark_id("extract"), [wire.user, "t1"], "extract", 2, "x")
    )
    assert wire.store.get_watermark(wire.user, "t1", "extract") == 2
    assert wire.store.advance_watermark(wire.user, "t1", "extract", 10) == 10
    mark = wire.log.mark()
    assert wire.store.advance_watermark(wire.user, "t1", "extract", 4) == 10
    patch, read = wire.log.since(mark)
    assert patch.body["condition"] == "FROM c WHERE c.seq < 4" and patch.method == "PATCH"
    assert read.method == "GET" and read.partition_key == [wire.user, "t1"]
    assert wire.store.get_watermark(wire.user, "t1", "extract") == 10


def test_a_watermark_moves_by_compare_and_set_from_the_value_a_run_read(wire: Wire) -> None:
    cas = wire.store.compare_and_set_watermark
    mark = wire.log.mark()
    assert cas(wire.user, "t1", "extract", expected=0, value=5) is True
    (create,) = wire.log.since(mark)
    assert create.method == "POST" and create.partition_key == [wire.user, "t1"]
    mark = wire.log.mark()
    assert cas(wire.user, "t1", "extract", expected=0, value=7) is False  # a run that read 0
    create, patch = wire.log.since(mark)
    assert create.method == "POST" and patch.method == "PATCH"
    assert patch.body["condition"] == "FROM c WHERE c.seq = 0"
    mark = wire.log.mark()
    assert cas(wire.user, "t1", "extract", expected=5, value=5) is False  # never in place
    assert cas(wire.user, "t1", "extract", expected=5, value=3) is False  # nor back
    assert wire.log.since(mark) == []  # refused before anything is sent
    assert cas(wire.user, "t1", "extract", expected=4, value=9) is False
    assert wire.store.get_watermark(wire.user, "t1", "extract") == 5
    mark = wire.log.mark()
    assert cas(wire.user, "t1", "extract", expected=5, value=9) is True
    (patch,) = wire.log.since(mark)
    assert patch.body["condition"] == "FROM c WHERE c.seq = 5"
    assert patch.body["operations"][0] == {"op": "set", "path": "/seq", "value": 9}
    assert wire.store.get_watermark(wire.user, "t1", "extract") == 9
    assert cas(wire.user, "t2", "extract", expected=3, value=4) is False  # none stored: 0


def test_a_new_watermark_is_patched_then_created(wire: Wire) -> None:
    mark = wire.log.mark()
    with pytest.raises(StoreError):  # this server answers a read of a missing item with 500
        wire.store.advance_watermark(wire.user, "t2", "summary", 5)
    patch, *reads = wire.log.since(mark)
    assert patch.method == "PATCH" and patch.partition_key == [wire.user, "t2"]
    assert "/colls/memories_counters/docs/watermark-summary" in patch.path
    assert patch.body == {
        "operations": [
            {"op": "set", "path": "/seq", "value": 5},
            {"op": "set", "path": "/updated_at", "value": "2026-01-01T12:00:00.000000Z"},
        ],
        "condition": "FROM c WHERE c.seq < 5",
    }
    assert reads and all(r.method == "GET" and r.path == patch.path for r in reads)


def test_the_usage_ledger_carries_the_store_request_charges(wire: Wire, clock: FakeClock) -> None:
    wire.store.append_turns(wire.user, "t1", turns(wire, "t1", ["hi"], "u"), None)
    wire.store.list_turns(wire.user, "t1")
    first = UsageRecord(user_id=wire.user, step="extract", model="m", input_tokens=5, at=clock())
    wire.store.record_usage(first)
    wire.store.increment_counter(wire.user, "turns", thread_id="t1")
    clock.advance(seconds=1)
    second = first.model_copy(update={"step": "summarize", "at": clock()})
    wire.store.record_usage(second)
    assert wire.store.list_usage(wire.user) == [first, second]
    ledgered = wire.store.ledgered_request_charges(wire.user)
    assert set(ledgered) == {
        "append_turns",
        "user_epoch",  # the first turn gives the user a forget epoch
        "list_turns",
        "record_usage",
        "increment_counter",
    }
    assert all(value > 0 for value in ledgered.values())
    totals = wire.store.request_charges()
    assert totals["append_turns"].requests >= 3 and totals["connect"].request_units > 0


def test_the_embedding_model_is_recorded_and_a_different_one_refused(wire: Wire) -> None:
    wire.store.ensure_embedding_model("test-model", DIMS)
    with pytest.raises(ConfigurationError, match="holds vectors from embedding model"):
        wire.store.ensure_embedding_model("other-model", DIMS)
    mark = wire.log.mark()
    with pytest.raises(ConfigurationError, match="EMBEDDING_DIMENSIONS"):
        wire.store.ensure_embedding_model("test-model", DIMS + 1)
    assert wire.log.since(mark) == []
    with pytest.raises(ConfigurationError, match="dimensions"):
        wire.store.create_memory(memory(wire, "x"), np.ones(DIMS + 1))


def test_a_closed_store_refuses_work(wire: Wire) -> None:
    closed = wire.open()
    closed.list_turns(wire.user, "t1")
    closed.close()
    closed.close()
    with pytest.raises(StoreError, match="closed"):
        closed.list_turns(wire.user, "t1")
    if isinstance(closed, Blocking):
        closed.dispose()


# -- request shapes of what this server cannot answer ----------------------------------------


def prefix_query(wire: Wire, call: Callable[[], Any], container: str) -> RecordedRequest:
    mark = wire.log.mark()
    with pytest.raises(StoreError, match="status 400"):
        call()
    sent = only_query(wire.log, mark, container)
    assert sent.is_prefix_scoped and sent.partition_key is None and not sent.is_cross_partition
    return sent


def test_user_wide_reads_are_scoped_to_the_users_key_prefix(wire: Wire) -> None:
    threads = prefix_query(wire, lambda: wire.store.list_threads(wire.user), "memories_turns")
    expected = queries.thread_heads(wire.user)
    assert (threads.body["query"], threads.body["parameters"]) == (
        expected.text,
        expected.parameters,
    )
    summaries = prefix_query(
        wire, lambda: wire.store.list_summaries(wire.user, "thread"), "memories_summaries"
    )
    assert summaries.body["parameters"] == queries.list_summaries(wire.user, "thread").parameters
    forget = prefix_query(wire, lambda: wire.store.forget(wire.user), "memories_turns")
    assert forget.body["query"] == queries.items_of(wire.user).text


@pytest.mark.parametrize(
    ("mode", "ranking"),
    [("hybrid", "ORDER BY RANK RRF("), ("text", "ORDER BY RANK FullTextScore("), ("vector", "")],
)
def test_search_names_no_partition_key_and_pins_the_users_in_where(
    wire: Wire, clock: FakeClock, mode: str, ranking: str
) -> None:
    """Ranked queries go out without a partition key (the SDK's query-plan path, which ranks
    across physical partitions), with the key in ``WHERE`` and a literal ``TOP``."""
    mark = wire.log.mark()
    request = SearchQuery(
        text='golden "retriever" -- OR 1=1',
        vector=vectors(1)[0],
        top=3,
        include_turns=True,
        mode=mode,  # type: ignore[arg-type]
    )
    with pytest.raises(StoreError, match="status 400"):
        wire.store.search(wire.user, request)
    (sent,) = wire.log.queries(mark)  # the first ranked query; this server cannot plan it
    assert sent.partition_key is None and sent.is_cross_partition and not sent.is_prefix_scoped
    assert "/colls/memories/" in sent.path
    expected = queries.search(
        "memories", wire.user, request, query_terms(request.text), clock().timestamp()
    )
    assert expected is not None
    assert (sent.body["query"], sent.body["parameters"]) == (expected.text, expected.parameters)
    assert sent.body["query"].startswith("SELECT TOP 3 ") and ranking in sent.body["query"]
    assert "WHERE c.user_id = @user_id AND c.thread_id = @scope " in sent.body["query"]
    assert {"name": "@user_id", "value": wire.user} in sent.body["parameters"]
    assert {"name": "@scope", "value": "#user"} in sent.body["parameters"]
    if mode != "vector":
        terms = [p["value"] for p in sent.body["parameters"] if p["name"].startswith("@term")]
        assert terms == ["golden", "retriever", "1"]


def test_a_search_top_outside_1_to_1000_is_refused_before_anything_is_sent(wire: Wire) -> None:
    mark = wire.log.mark()
    for top in (0, 1001):
        with pytest.raises(InvalidInputError, match="top must be an integer from 1 to 1000"):
            wire.store.search(wire.user, SearchQuery(text="tea", vector=None, top=top))
    assert wire.log.since(mark) == []


def test_writes_of_steps_that_began_before_forget_are_refused(wire: Wire) -> None:
    assert wire.store.user_epoch(wire.user) == ""
    wire.store.append_turns(wire.user, "t1", turns(wire, "t1", ["one"], "a"), None)
    epoch = wire.store.user_epoch(wire.user)
    assert epoch and wire.store.user_epoch(wire.user) == epoch
    record = UsageRecord(user_id=wire.user, step="s", model="m", at=wire.clock())
    wire.store.record_usage(record, epoch=epoch)
    wire.store.forget(wire.user, thread_id="t2")  # a thread: steps in flight start again
    with pytest.raises(ForgottenError):
        wire.store.record_usage(record, epoch=epoch)
    epoch = wire.store.user_epoch(wire.user)
    wire.store.record_usage(record, epoch=epoch)
    assert len(wire.store.list_usage(wire.user)) == 2
    # forget(user) deletes every item whose user_id is the user's (items_of), the epoch item
    # too; this server cannot serve that prefix query, so the deletion is done here
    counters = wire.container("memories_counters")
    for item in counters.query_items(
        "SELECT * FROM c WHERE c.user_id = @u",
        parameters=[{"name": "@u", "value": wire.user}],
        enable_cross_partition_query=True,
    ):
        counters.delete_item(item["id"], partition_key=[item["user_id"], item["thread_id"]])
    assert wire.store.user_epoch(wire.user) == ""
    m = memory(wire, "Alice lives in Oslo.")
    summary = Summary(user_id=wire.user, kind="user", content="p", updated_at=wire.clock())
    for write in (
        lambda: wire.store.create_memory(m, None, epoch=epoch),
        lambda: wire.store.put_summary(summary, None, epoch=epoch),
        lambda: wire.store.record_usage(record, epoch=epoch),
        lambda: wire.store.advance_watermark(wire.user, "t1", "extract", 5, epoch=epoch),
        lambda: wire.store.supersede(wire.user, m.id, by="x", reason="duplicate", epoch=epoch),
        lambda: wire.store.increment_counter(wire.user, "turns", thread_id="t1", epoch=epoch),
        lambda: wire.store.increment_counter(
            wire.user, "turns", thread_id="t1", by=0, owner="durable", epoch=epoch
        ),
    ):
        with pytest.raises(ForgottenError):
            write()
    for name in ("memories", "memories_summaries", "memories_counters"):
        items = list(
            wire.container(name).query_items(
                "SELECT * FROM c WHERE c.user_id = @u",
                parameters=[{"name": "@u", "value": wire.user}],
                enable_cross_partition_query=True,
            )
        )
        assert items == [], name


def test_forget_one_thread_names_each_containers_partition(wire: Wire) -> None:
    mark = wire.log.mark()
    counts = wire.store.forget(wire.user, thread_id="quiet")
    assert counts == {
        "memories_turns": 0,
        "memories": 0,
        "memories_summaries": 0,
        "memories_counters": 0,
    }
    sent = {r.path.split("/colls/")[1].split("/")[0]: r for r in wire.log.queries(mark)}
    assert sent["memories_turns"].partition_key == [wire.user, "quiet"]
    assert sent["memories_summaries"].partition_key == [wire.user, "quiet"]
    assert sent["memories_counters"].partition_key == [wire.user, "quiet"]
    assert sent["memories"].partition_key == [wire.user, "#user"]
    assert {"name": "@thread_id", "value": "quiet"} in sent["memories"].body["parameters"]


def test_forget_deletes_in_one_transactional_batch_per_partition(
    wire: Wire, clock: FakeClock
) -> None:
    wire.store.append_turns(wire.user, "t1", turns(wire, "t1", ["a", "b"], "f"), None)
    mark = wire.log.mark()
    counts = wire.store.forget(wire.user, thread_id="t1")
    assert counts["memories_turns"] == 2  # the thread's head item goes too, uncounted
    (batch,) = batches_since(wire.log, mark)
    assert batch.partition_key == [wire.user, "t1"]
    assert sorted(op["id"] for op in batch.body) == sorted([docs.HEAD_ID, "f0", "f1"])
    assert {op["operationType"] for op in batch.body} == {"Delete"}
    assert wire.store.list_turns(wire.user, "t1") == []
    again = wire.store.append_turns(wire.user, "t1", turns(wire, "t1", ["c"], "g"), None)
    assert again.created == 1 and wire.store.list_turns(wire.user, "t1") == again.turns


def test_reads_of_another_users_partition_name_that_user(wire: Wire) -> None:
    mark = wire.log.mark()
    other = f"{wire.user}-other"
    assert wire.store.list_memories(other) == []
    assert wire.store.list_turns(other, "t1") == []
    assert wire.store.list_usage(other) == []
    sent = wire.log.queries(mark)
    assert len(sent) == 3
    for request in sent:
        assert request.partition_key[0] == other
        assert {"name": "@user_id", "value": other} in request.body["parameters"]


def test_throttling_is_retried_after_the_services_retry_after(cosmos_server: CosmosServer) -> None:
    store = CosmosStore(
        cosmos_server.endpoint,
        key=cosmos_server.key,
        database=unique_database(),
        throttle_retries=4,
        throttle_wait_seconds=12,
    )
    store.connect()
    assert store._client is not None
    options = store._client.client_connection.connection_policy.RetryOptions
    assert (options.MaxRetryAttemptCount, options.MaxWaitTimeInSeconds) == (4, 12)
    assert options.FixedRetryIntervalInMilliseconds is None  # so retry-after is honoured
    store.close()
