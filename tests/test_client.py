"""The public client, sync and async, end to end on the embedded store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_memory import MemoryClient, NotFoundError, TurnInput
from agent_memory.aio import MemoryClient as AsyncMemoryClient


def test_add_get_and_search_turns(client: MemoryClient) -> None:
    when = datetime(2025, 5, 1, 8, 30, tzinfo=UTC)
    first = client.add(
        "alice",
        "trip",
        "user",
        "Book me a window seat to Porto.",
        metadata={"channel": "web"},
        created_at=when,
    )
    assert (
        first.seq is not None and first.created_at == when and first.metadata == {"channel": "web"}
    )
    client.add_turns(
        "alice",
        "trip",
        [
            {"role": "assistant", "content": "Done: seat 14A on the 9:05 flight."},
            TurnInput(role="user", content="Thanks! Also a vegetarian meal."),
        ],
    )
    turns = client.get_turns("alice", "trip")
    assert [t.role for t in turns] == ["user", "assistant", "user"]
    assert [t.content for t in client.get_turns("alice", "trip", limit=1)] == [
        "Thanks! Also a vegetarian meal."
    ]
    hits = client.search("alice", "which seat did I get?", include_turns=True, top=2)
    assert {h.kind for h in hits} == {"turn"}
    assert any("14A" in h.content for h in hits)
    assert client.search("alice", "which seat did I get?") == []


def test_turn_ids_make_add_turns_idempotent(client: MemoryClient) -> None:
    batch = [
        {"id": "m-1", "role": "user", "content": "hello"},
        {"id": "m-2", "role": "assistant", "content": "hi there"},
    ]
    first = client.add_turns("alice", "t1", batch)
    again = client.add_turns("alice", "t1", batch)
    assert [t.seq for t in again] == [t.seq for t in first]
    assert len(client.get_turns("alice", "t1")) == 2
    assert client.add_turns("alice", "t1", []) == []


def test_memories_are_deduplicated_and_filtered(client: MemoryClient) -> None:
    fact = client.add_memory(
        "alice",
        "t1",
        "Alice is vegetarian.",
        confidence=0.95,
        tags=["diet"],
        source_turn_ids=["turn-1"],
    )
    same = client.add_memory("alice", "t2", "alice is vegetarian", confidence=0.5)
    assert same == fact
    rule = client.add_memory("alice", "t2", "Always answer in French.", type="procedural")
    episode = client.add_memory(
        "alice",
        "t3",
        "Alice's pasta burned.",
        type="episodic",
        confidence=0.7,
        situation="cooking",
        action="left the stove",
        outcome="burned pasta",
    )
    assert episode.ttl == 90 * 24 * 3600
    assert {m.id for m in client.get_memories("alice")} == {fact.id, rule.id, episode.id}
    assert [m.id for m in client.get_memories("alice", memory_types=["procedural"])] == [rule.id]
    assert [m.id for m in client.get_memories("alice", min_confidence=0.9)] == [rule.id, fact.id]
    assert client.get_memory("alice", fact.id).source_turn_ids == ["turn-1"]
    hits = client.search("alice", "what does alice eat", min_confidence=0.9, top=1)
    assert [h.id for h in hits] == [fact.id]
    assert client.search("alice", "vegetarian", tags=["diet"])[0].id == fact.id
    with pytest.raises(NotFoundError):
        client.get_memory("bob", fact.id)


def test_summaries_are_none_until_written(client: MemoryClient) -> None:
    assert client.get_thread_summary("alice", "t1") is None
    assert client.get_user_summary("alice") is None


def test_forget_reports_counts_per_container(client: MemoryClient) -> None:
    client.add("alice", "t1", "user", "one")
    client.add("alice", "t2", "user", "two")
    client.add_memory("alice", "t1", "Alice said one.")
    client.add("bob", "t1", "user", "bob's turn")
    assert client.forget("alice", thread_id="t1") == {
        "memories_turns": 1,
        "memories": 1,
        "memories_summaries": 0,
        "memories_counters": 0,
    }
    assert client.forget("alice")["memories_turns"] == 1
    assert client.get_turns("alice", "t2") == []
    assert len(client.get_turns("bob", "t1")) == 1


def test_from_env_uses_the_configured_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env" / "memory.db"
    monkeypatch.setenv("AGENT_MEMORY_PATH", str(path))
    with MemoryClient.from_env() as client:
        client.add("alice", "t1", "user", "hello")
    assert path.exists()
    with MemoryClient.from_env({"AGENT_MEMORY_PATH": str(path)}) as again:
        assert [t.content for t in again.get_turns("alice", "t1")] == ["hello"]


def test_default_path_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENT_MEMORY_PATH", raising=False)
    with MemoryClient() as client:
        client.add("alice", "t1", "user", "hello")
    assert (tmp_path / ".agent_memory" / "memory.db").exists()


def test_a_closed_client_refuses_work(db_path: Path) -> None:
    from agent_memory import StoreError

    client = MemoryClient(path=db_path)
    client.add("alice", "t1", "user", "hello")
    client.close()
    with pytest.raises(StoreError, match="closed"):
        client.get_turns("alice", "t1")


async def test_async_client_mirrors_the_sync_one(db_path: Path) -> None:
    async with AsyncMemoryClient(path=db_path) as client:
        turn = await client.add("alice", "t1", "user", "My cat Mochi sleeps all day.")
        assert turn.seq is not None
        memory = await client.add_memory("alice", "t1", "Alice has a cat named Mochi.")
        hits = await client.search("alice", "cat name", include_turns=True, top=2)
        assert {h.kind for h in hits} == {"memory", "turn"}
        assert (await client.get_memory("alice", memory.id)).content == memory.content
        assert [t.id for t in await client.get_turns("alice", "t1")] == [turn.id]
        assert await client.get_thread_summary("alice", "t1") is None
        assert (await client.forget("alice"))["memories"] == 1
    with MemoryClient(path=db_path) as sync_client:
        assert sync_client.get_turns("alice", "t1") == []
