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


#: Values every argument accepts, to build calls that succeed.
GOOD_ID = st.one_of(st.sampled_from(["alice", "bob", "t1", "t2"]), SAFE_ID.filter(str.strip))
GOOD_TEXT = st.one_of(
    st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=60),
    st.sampled_from(["東京会議", "a\u200db", "Alice's café ☕"]),
)
GOOD_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10).filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
#: Values no JSON object holds as they are: they would come back changed, or not at all.
UNJSON = st.sampled_from(
    [math.nan, math.inf, -math.inf, 2**53, -(2**63), b"raw", "x\udc00", {1, 2}, (1, 2), frozenset()]
)
METADATA = st.one_of(
    st.dictionaries(st.text(max_size=5), st.one_of(GOOD_JSON, UNJSON), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=3), st.lists(UNJSON, min_size=1, max_size=2), min_size=1),
    st.dictionaries(st.integers(), st.none(), min_size=1, max_size=2),
    st.sampled_from(["not a dict", ["list"], 3]),
)
ADD = {  # argument: (accepted values, any values)
    "user": (GOOD_ID, IDS),
    "thread": (GOOD_ID, IDS),
    "role": (st.sampled_from(["user", "assistant", "system", "tool"]), st.one_of(TEXT, IDS)),
    "content": (GOOD_TEXT, TEXT),
    "metadata": (st.one_of(st.none(), st.dictionaries(st.text(max_size=5), GOOD_JSON)), METADATA),
    "created_at": (st.one_of(st.none(), st.datetimes(timezones=OFFSETS)), TIMES),
    "turn_id": (st.one_of(st.none(), GOOD_ID), IDS),
}
ADD_MEMORY = {
    "user": (GOOD_ID, IDS),
    "thread": (GOOD_ID, IDS),
    "content": (GOOD_TEXT, TEXT),
    "type": (st.sampled_from(["fact", "procedural", "episodic"]), st.one_of(TEXT, IDS)),
    "confidence": (st.floats(min_value=0, max_value=1), NUMBERS),
    "tags": (st.one_of(st.none(), st.lists(GOOD_TEXT, min_size=1, max_size=3)), TEXT),
    "source_turn_ids": (st.one_of(st.none(), st.lists(GOOD_ID, max_size=3)), st.one_of(TEXT, IDS)),
    "situation": (st.one_of(st.none(), GOOD_TEXT), TEXT),
    "ttl": (st.one_of(st.none(), st.integers(min_value=1, max_value=2**31 - 1)), LIMITS),
}


def draw_call(data: st.DataObject, fields: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """Accepted values for every argument, then (mostly) one argument drawn from anything."""
    args = {name: data.draw(good, label=name) for name, (good, _) in fields.items()}
    wild = data.draw(st.sampled_from([None, *fields]), label="wild argument")
    if wild is not None:
        args[wild] = data.draw(fields[wild][1], label=f"wild {wild}")
    return args


@SETTINGS
@given(data=st.data())
def test_add(memory: MemoryClient, store_path: Path, data: st.DataObject) -> None:
    a = draw_call(data, ADD)
    turn = attempt(
        memory,
        store_path,
        lambda: memory.add(
            a["user"],
            a["thread"],
            a["role"],
            a["content"],
            metadata=a["metadata"],
            created_at=a["created_at"],
            turn_id=a["turn_id"],
        ),
    )
    if turn is None:
        return
    assert isinstance(turn, Turn)
    stored = {t.id: t for t in memory.get_turns(a["user"], a["thread"])}[turn.id]
    assert stored == turn
    if a["turn_id"] is None:  # a known turn id returns the turn stored first, unchanged
        assert stored.content == a["content"] and stored.role == a["role"]
        assert same(a["metadata"] or {}, stored.metadata)
        if isinstance(a["created_at"], datetime):
            assert stored.created_at == instant(a["created_at"])


@SETTINGS
@given(data=st.data())
def test_add_memory(memory: MemoryClient, store_path: Path, data: st.DataObject) -> None:
    a = draw_call(data, ADD_MEMORY)
    started = datetime.now(UTC)
    created = attempt(
        memory,
        store_path,
        lambda: memory.add_memory(
            a["user"],
            a["thread"],
            a["content"],
            type=a["type"],
            confidence=a["confidence"],
            tags=a["tags"],
            source_turn_ids=a["source_turn_ids"],
            situation=a["situation"],
            ttl=a["ttl"],
        ),
    )
    if created is None:
        return
    assert isinstance(created, Memory)
    stored = memory.get_memory(a["user"], created.id)
    assert stored == created
    if stored.created_at >= started:  # written by this call, not an identical earlier one
        assert stored.type == a["type"] and stored.confidence == a["confidence"]
        assert stored.tags == ([] if a["tags"] is None else a["tags"])  # never split
        assert stored.source_turn_ids == (
            [] if a["source_turn_ids"] is None else a["source_turn_ids"]
        )
        assert stored.situation == a["situation"]
        if a["ttl"] is not None:
            assert stored.ttl == a["ttl"]


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
