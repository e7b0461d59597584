"""Every bad input is a typed error, raised before anything is written."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent_memory import InvalidInputError, MemoryClient, NotFoundError, Settings
from agent_memory.core.errors import AgentMemoryError

BAD_IDS: list[Any] = [
    "",
    "   ",
    "a/b",
    "a\\b",
    "a?b",
    "a#b",
    "tab\there",
    "new\nline",
    "nul\x00",
    "del\x7f",
    "x" * 256,
    123,
    None,
    ["alice"],
]
BAD_CONTENT: list[Any] = ["", "   \n\t", None, 42, b"bytes", "x" * 100_001]
BAD_ROLES: list[Any] = ["bot", "", None, 1, "USER"]


def table_counts(path: Path) -> dict[str, int]:
    """Row counts of every table: the whole observable state of the store."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


@pytest.fixture
def seeded(client: MemoryClient, db_path: Path) -> MemoryClient:
    client.add("alice", "t1", "user", "I like tea")
    client.add_memory("alice", "t1", "Alice likes tea.")
    return client


def assert_rejected(call: Callable[[], object], client: MemoryClient, db_path: Path) -> None:
    before = table_counts(db_path)
    with pytest.raises(InvalidInputError):
        call()
    assert table_counts(db_path) == before


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_user_ids(seeded: MemoryClient, db_path: Path, bad: Any) -> None:
    c = seeded
    for call in (
        lambda: c.add(bad, "t1", "user", "hi"),
        lambda: c.add_turns(bad, "t1", [{"role": "user", "content": "hi"}]),
        lambda: c.add_memory(bad, "t1", "fact"),
        lambda: c.get_turns(bad, "t1"),
        lambda: c.search(bad, "tea"),
        lambda: c.get_memories(bad),
        lambda: c.get_thread_summary(bad, "t1"),
        lambda: c.get_user_summary(bad),
        lambda: c.forget(bad),
    ):
        assert_rejected(call, c, db_path)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_thread_ids(seeded: MemoryClient, db_path: Path, bad: Any) -> None:
    c = seeded
    for call in (
        lambda: c.add("alice", bad, "user", "hi"),
        lambda: c.add_turns("alice", bad, [{"role": "user", "content": "hi"}]),
        lambda: c.add_memory("alice", bad, "fact"),
        lambda: c.get_turns("alice", bad),
        lambda: c.get_thread_summary("alice", bad),
    ):
        assert_rejected(call, c, db_path)
    if bad is not None:
        for call in (
            lambda: c.search("alice", "tea", thread_id=bad),
            lambda: c.get_memories("alice", thread_id=bad),
            lambda: c.forget("alice", thread_id=bad),
        ):
            assert_rejected(call, c, db_path)


@pytest.mark.parametrize("bad", BAD_CONTENT)
def test_bad_content(seeded: MemoryClient, db_path: Path, bad: Any) -> None:
    assert_rejected(lambda: seeded.add("alice", "t1", "user", bad), seeded, db_path)
    assert_rejected(lambda: seeded.add_memory("alice", "t1", bad), seeded, db_path)
    assert_rejected(lambda: seeded.search("alice", bad), seeded, db_path)


@pytest.mark.parametrize("bad", BAD_ROLES)
def test_bad_roles(seeded: MemoryClient, db_path: Path, bad: Any) -> None:
    assert_rejected(lambda: seeded.add("alice", "t1", bad, "hi"), seeded, db_path)


@pytest.mark.parametrize(
    "turns",
    [
        "not a list",
        {"role": "user", "content": "a dict, not a list"},
        [{"role": "user"}],
        [{"content": "no role"}],
        [{"role": "user", "content": "fine"}, {"role": "robot", "content": "bad role"}],
        [{"role": "user", "content": "fine"}, {"role": "user", "content": ""}],
        [{"role": "user", "content": "unknown field", "speaker": "x"}],
        [{"role": "user", "content": "bad time", "created_at": "yesterday"}],
        [{"role": "user", "content": "bad id", "id": "a/b"}],
        [
            {"role": "user", "content": "same id", "id": "x"},
            {"role": "user", "content": "b", "id": "x"},
        ],
        [{"role": "user", "content": "bad metadata", "metadata": ["list"]}],
        ["a string turn"],
        [{"role": "user", "content": "x"}] * 1001,
    ],
)
def test_a_bad_turn_rejects_the_whole_batch(
    seeded: MemoryClient, db_path: Path, turns: Any
) -> None:
    assert_rejected(lambda: seeded.add_turns("alice", "t1", turns), seeded, db_path)
    assert [t.content for t in seeded.get_turns("alice", "t1")] == ["I like tea"]


@pytest.mark.parametrize(
    "options",
    [
        {"top": 0},
        {"top": 1001},
        {"top": "5"},
        {"top": True},
        {"memory_types": ["bogus"]},
        {"memory_types": []},
        {"min_confidence": 1.5},
        {"min_confidence": -0.1},
        {"min_confidence": "high"},
        {"tags": "pets"},
        {"tags": [""]},
        {"tags": [1]},
        {"mode": "fuzzy"},
        {"include_turns": "yes"},
        {"include_superseded": 1},
    ],
)
def test_bad_search_options(seeded: MemoryClient, db_path: Path, options: dict[str, Any]) -> None:
    assert_rejected(lambda: seeded.search("alice", "tea", **options), seeded, db_path)


@pytest.mark.parametrize(
    "options",
    [
        {"type": "opinion"},
        {"confidence": 2},
        {"confidence": "sure"},
        {"tags": "one"},
        {"ttl": 0},
        {"ttl": -5},
    ],
)
def test_bad_memory_options(seeded: MemoryClient, db_path: Path, options: dict[str, Any]) -> None:
    assert_rejected(lambda: seeded.add_memory("alice", "t1", "fact", **options), seeded, db_path)


def test_metadata_must_be_a_mapping(seeded: MemoryClient, db_path: Path) -> None:
    assert_rejected(
        lambda: seeded.add("alice", "t1", "user", "hi", metadata=["x"]), seeded, db_path
    )  # type: ignore[arg-type]


def test_content_limit_is_configurable(db_path: Path) -> None:
    with MemoryClient(path=db_path, settings=Settings(max_content_chars=10)) as c:
        c.add("alice", "t1", "user", "x" * 10)
        assert_rejected(lambda: c.add("alice", "t1", "user", "x" * 11), c, db_path)
        with pytest.raises(InvalidInputError, match="limit is 10"):
            c.add("alice", "t1", "user", "y" * 11)


def test_errors_share_one_root(seeded: MemoryClient) -> None:
    with pytest.raises(AgentMemoryError):
        seeded.add("a/b", "t1", "user", "hi")
    with pytest.raises(ValueError):
        seeded.add("a/b", "t1", "user", "hi")
    with pytest.raises(NotFoundError):
        seeded.get_memory("alice", "mem-missing")
    with pytest.raises(LookupError):
        seeded.get_memory("alice", "mem-missing")


def test_error_messages_name_the_field(seeded: MemoryClient) -> None:
    with pytest.raises(InvalidInputError, match="user_id must not contain"):
        seeded.add("a/b", "t1", "user", "hi")
    with pytest.raises(InvalidInputError, match="role"):
        seeded.add("alice", "t1", "bot", "hi")
    with pytest.raises(InvalidInputError, match=r"turns\[1\]"):
        seeded.add_turns(
            "alice", "t1", [{"role": "user", "content": "a"}, {"role": "x", "content": "b"}]
        )
