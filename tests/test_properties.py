"""Property-based: every public call stores exactly what it was given, or raises an
AgentMemoryError and leaves the store as it was."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_memory import AgentMemoryError, Memory, MemoryClient, Turn

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SAFE_ID = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\?#"),
    min_size=1,
    max_size=12,
)
IDS = st.one_of(
    st.sampled_from(["alice", "bob", "t1", "t2"]),
    SAFE_ID,
    st.text(max_size=8),
    st.sampled_from(["", " ", "\u200b", "a/b", "x\ud800", "#", "\x00"]),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
)
TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["\u200b", "\ufeff\u2060", "東京会議", "ok \ud800", "\u3164", "a\u200db"]),
    st.binary(max_size=5),
    st.integers(),
    st.none(),
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["x\udc00", b"raw"]),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
        st.tuples(inner),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=8,
)
METADATA = st.one_of(
    st.none(), st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), JSON_VALUE)
)
OFFSETS = st.builds(
    timezone, st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23))
)
TIMES = st.one_of(st.none(), st.datetimes(), st.datetimes(timezones=OFFSETS), st.text(max_size=5))
LIMITS = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=2**70),
    st.floats(allow_nan=True),
    st.sampled_from([True, "3", [1]]),
)
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.none())


def snapshot(path: Path) -> dict[str, list[Any]]:
    """Every row of every table but the full-text index's own."""
    db = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if "_fts" not in r[0] and not r[0].startswith("sqlite_")
        ]
        return {n: sorted(map(repr, db.execute(f"SELECT * FROM {n}").fetchall())) for n in names}
    finally:
        db.close()


def same(given: Any, stored: Any) -> bool:
    """Equal values of the same JSON types (``1`` is not ``1.0``, ``-0.0`` is not ``0.0``)."""
    if type(given) is not type(stored):
        return False
    if isinstance(given, dict):
        return given.keys() == stored.keys() and all(same(given[k], stored[k]) for k in given)
    if isinstance(given, list):
        return len(given) == len(stored) and all(map(same, given, stored))
    if isinstance(given, float):
        return given == stored and math.copysign(1, given) == math.copysign(1, stored)
    return bool(given == stored)


def instant(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties") / "m.db"


@pytest.fixture(scope="module")
def memory(store_path: Path) -> Iterator[MemoryClient]:
    with MemoryClient(path=store_path) as client:
        yield client


def attempt(memory: MemoryClient, path: Path, call: Callable[[], Any]) -> Any:
    """Run ``call``; on an AgentMemoryError check the store is unchanged and return None."""
    before = snapshot(path)
    try:
        return call()
    except AgentMemoryError:
        assert snapshot(path) == before
        return None


@SETTINGS
@given(
    user=IDS,
    thread=IDS,
    role=st.sampled_from(["user", "assistant", "robot", 3]),
    content=TEXT,
    metadata=METADATA,
    created_at=TIMES,
    turn_id=st.one_of(st.none(), IDS),
)
def test_add(
    memory: MemoryClient,
    store_path: Path,
    user: Any,
    thread: Any,
    role: Any,
    content: Any,
    metadata: Any,
    created_at: Any,
    turn_id: Any,
) -> None:
    turn = attempt(
        memory,
        store_path,
        lambda: memory.add(
            user, thread, role, content, metadata=metadata, created_at=created_at, turn_id=turn_id
        ),
    )
    if turn is None:
        return
    assert isinstance(turn, Turn)
    stored = {t.id: t for t in memory.get_turns(user, thread)}[turn.id]
    if turn_id is None or stored.content == content:  # a known id keeps the stored turn
        assert stored.content == content and same(metadata or {}, stored.metadata)
        if isinstance(created_at, datetime):
            assert stored.created_at == instant(created_at)


@SETTINGS
@given(
    user=IDS,
    thread=IDS,
    content=TEXT,
    memory_type=st.sampled_from(["fact", "procedural", "episodic", "opinion"]),
    confidence=NUMBERS,
    tags=st.one_of(st.none(), st.lists(TEXT, max_size=3), st.text(max_size=3)),
    sources=st.one_of(st.none(), st.lists(IDS, max_size=3), st.text(max_size=5)),
    situation=st.one_of(st.none(), TEXT),
    ttl=LIMITS,
)
def test_add_memory(
    memory: MemoryClient,
    store_path: Path,
    user: Any,
    thread: Any,
    content: Any,
    memory_type: Any,
    confidence: Any,
    tags: Any,
    sources: Any,
    situation: Any,
    ttl: Any,
) -> None:
    created = attempt(
        memory,
        store_path,
        lambda: memory.add_memory(
            user,
            thread,
            content,
            type=memory_type,
            confidence=confidence,
            tags=tags,
            source_turn_ids=sources,
            situation=situation,
            ttl=ttl,
        ),
    )
    if created is None:
        return
    assert isinstance(created, Memory)
    stored = memory.get_memory(user, created.id)
    assert stored == created
    if stored.thread_id == thread and stored.type == memory_type and stored.content == content:
        assert stored.tags == list(tags or []) and stored.source_turn_ids == list(sources or [])
        assert stored.confidence == confidence and stored.ttl == ttl


@SETTINGS
@given(
    user=IDS,
    query=TEXT,
    top=LIMITS,
    limit=LIMITS,
    memory_id=st.one_of(IDS, TEXT),
    mode=st.sampled_from(["hybrid", "text", "vector", "fuzzy"]),
    min_confidence=NUMBERS,
    n=LIMITS,
    timeout=NUMBERS,
)
def test_reads_and_requests(
    memory: MemoryClient,
    store_path: Path,
    user: Any,
    query: Any,
    top: Any,
    limit: Any,
    memory_id: Any,
    mode: Any,
    min_confidence: Any,
    n: Any,
    timeout: Any,
) -> None:
    memory.add_memory("alice", "t1", "Alice keeps bees on her roof in 東京.")
    hits = attempt(
        memory,
        store_path,
        lambda: memory.search(
            user, query, top=top, mode=mode, min_confidence=min_confidence, include_turns=True
        ),
    )
    assert hits is None or all(h.memory is None or h.memory.user_id == user for h in hits)
    attempt(memory, store_path, lambda: memory.get_memories(user, limit=limit))
    attempt(memory, store_path, lambda: memory.get_turns(user, "t1", limit=limit))
    attempt(memory, store_path, lambda: memory.get_memory(user, memory_id))
    attempt(memory, store_path, lambda: memory.reconcile(user, n=n))
    attempt(memory, store_path, lambda: memory.process_now_and_wait(user, "t1", timeout=timeout))
