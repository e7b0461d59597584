"""Inputs that used to pass validation and then fail or change: rejected, or stored exactly."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent_memory import InvalidInputError, MemoryClient, NotFoundError
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import answer, env_for

#: Text with nothing visible: format characters, separators, fillers, lone combining marks.
INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c\u200d",  # zero-width (non-)joiner
    "\ufeff",  # byte-order mark
    "\u2060\u2061\u2062\u2063\u2064",  # word joiner, invisible operators
    "\u00ad",  # soft hyphen
    "\u200e\u200f\u202a\u202c\u2066\u2069",  # bidi marks and isolates
    "\u180e",  # Mongolian vowel separator
    "\u3164",  # Hangul filler
    "\u115f\u1160\uffa0",  # Hangul choseong / jungseong / halfwidth fillers
    "\u2800",  # braille blank
    "\U000e0001\U000e0041",  # tag characters
    "\ufe0f\u034f",  # variation selector, combining grapheme joiner
    "\u3000\u00a0\u2028\u2029",  # ideographic / no-break space, line / paragraph separators
    " \t\u200b\n\u200b ",
]

VISIBLE = ["\u200bhello", "a\u200db", "🫨", "\u0915\u094d\u0937", "١٢٣", "\ue000"]


def snapshot(memory: MemoryClient, user: str = "u") -> tuple[Any, ...]:
    return (
        memory.get_turns(user, "t"),
        memory.get_memories(user, include_superseded=True),
        memory.usage(user).calls,
    )


@pytest.fixture
def modelled(openai_server: FakeOpenAIServer, tmp_path: Path) -> Any:
    openai_server.script(lambda body: {"items": []})
    with MemoryClient.from_env(env_for(openai_server, tmp_path / "m.db")) as memory:
        yield memory, openai_server


@pytest.mark.parametrize("text", INVISIBLE)
def test_invisible_content_and_queries_are_blank(modelled: Any, text: str) -> None:
    memory, server = modelled
    memory.add("u", "t", "user", "a visible turn")
    memory.processor.drain()  # the background steps of that turn are done
    before, calls = snapshot(memory), server.chat_calls
    for call in (
        lambda: memory.add("u", "t", "user", text),
        lambda: memory.add_turns(
            "u", "t", [{"role": "user", "content": "ok"}, {"role": "user", "content": text}]
        ),
        lambda: memory.add_memory("u", "t", text),
        lambda: memory.search("u", text),
        lambda: memory.add("u", text, "user", "hello"),
        lambda: memory.add(text, "t", "user", "hello"),
    ):
        with pytest.raises(InvalidInputError, match="empty"):
            call()
    assert snapshot(memory) == before and server.chat_calls == calls


@pytest.mark.parametrize("text", VISIBLE)
def test_text_with_something_visible_is_stored_exactly(client: MemoryClient, text: str) -> None:
    assert client.add("u", "t", "user", text).content == text
    assert client.add_memory("u", "t", text).content == text
    assert [t.content for t in client.get_turns("u", "t")] == [text]


SURROGATE = "ok \ud800 ok"


def test_lone_surrogates_are_rejected_everywhere(client: MemoryClient) -> None:
    client.add("u", "t", "user", "hello")
    before = snapshot(client)
    for call in (
        lambda: client.add("u", "t", "user", SURROGATE),
        lambda: client.add("u", "t", "user", "x", metadata={"k": SURROGATE}),
        lambda: client.add("u", "t", "user", "x", metadata={SURROGATE: 1}),
        lambda: client.add("u\udfff", "t", "user", "x"),
        lambda: client.add("u", "t", "user", "x", turn_id="id\ud800"),
        lambda: client.add_memory("u", "t", SURROGATE),
        lambda: client.add_memory("u", "t", "x", tags=[SURROGATE]),
        lambda: client.add_memory("u", "t", "x", source_turn_ids=["t\udc00"]),
        lambda: client.add_memory("u", "t", "x", type="episodic", situation=SURROGATE),
        lambda: client.search("u", SURROGATE),
        lambda: client.get_memory("u", "mem-\ud800"),
    ):
        with pytest.raises(InvalidInputError, match="surrogate"):
            call()
    assert snapshot(client) == before


class Opaque:
    pass


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


NESTED = nested(40)


@pytest.mark.parametrize(
    "metadata",
    [
        {"tags": {"a", "b"}},
        {"pair": (1, 2)},
        {"raw": b"bytes"},
        {"x": math.nan},
        {"x": math.inf},
        {"x": -math.inf},
        {"n": [1, 2, {"deep": float("nan")}]},
        {"obj": Opaque()},
        {"d": Decimal("1.5")},
        {"when": datetime(2026, 1, 1)},
        {1: "int key"},
        {"big": 2**53},
        {"big": -(2**63)},
        {"nested": NESTED},
        {"long": "x" * 70_000},
        "not a dict",
        ["list"],
    ],
)
def test_metadata_that_would_not_round_trip_is_rejected(
    client: MemoryClient, metadata: Any
) -> None:
    with pytest.raises(InvalidInputError):
        client.add("u", "t", "user", "hello", metadata=metadata)
    with pytest.raises(InvalidInputError):
        client.add_turns("u", "t", [{"role": "user", "content": "x", "metadata": metadata}])
    assert client.get_turns("u", "t") == []


def test_json_metadata_is_stored_exactly(client: MemoryClient, tmp_path: Path) -> None:
    metadata = {
        "name": "Dana",
        "n": 2**53 - 1,
        "neg": -(2**53 - 1),
        "f": 0.1,
        "z": -0.0,
        "tiny": 5e-324,
        "ok": True,
        "none": None,
        "list": [1, "two", [3.5, {"k": "v"}], []],
        "unicode": "日本語 \u200b é",
        "": "empty key",
    }
    stored = client.add("u", "t", "user", "hello", metadata=metadata)
    assert stored.metadata == metadata
    (read,) = client.get_turns("u", "t")
    assert read.metadata == metadata
    assert math.copysign(1.0, read.metadata["z"]) == -1.0
    with MemoryClient(path=client.store.path) as again:  # type: ignore[attr-defined]
        assert again.get_turns("u", "t")[0].metadata == metadata


@pytest.mark.parametrize("value", [2**31, 2**63, 2**64 + 1, 0, -1, 1.5, "3", True, [3]])
def test_limits_out_of_range_are_rejected(client: MemoryClient, value: Any) -> None:
    for call in (
        lambda: client.get_turns("u", "t", limit=value),
        lambda: client.get_memories("u", limit=value),
        lambda: client.search("u", "hello", top=value),
        lambda: client.add_memory("u", "t", "x", ttl=value),
    ):
        with pytest.raises(InvalidInputError):
            call()
    assert client.get_memories("u") == []


def test_the_largest_limit_and_ttl_work(client: MemoryClient) -> None:
    client.add("u", "t", "user", "hello")
    assert len(client.get_turns("u", "t", limit=2**31 - 1)) == 1
    stored = client.add_memory("u", "t", "lasting", ttl=2**31 - 1)
    assert stored.ttl == 2**31 - 1 and client.get_memories("u", limit=2**31 - 1) == [stored]


@pytest.mark.parametrize("memory_id", [["mem-1"], {"id": 1}, 42, None, "", " ", "x" * 256])
def test_a_memory_id_that_is_not_an_id_is_rejected(client: MemoryClient, memory_id: Any) -> None:
    for call in (
        lambda: client.get_memory("u", memory_id),
        lambda: client.get_memory_history("u", memory_id),
    ):
        with pytest.raises(InvalidInputError):
            call()
    with pytest.raises(NotFoundError):
        client.get_memory("u", "mem-unknown")


def test_source_turn_ids_are_a_list_of_ids_never_split(client: MemoryClient) -> None:
    for bad in ("turn-42", {"turn-42"}, b"turn-42", [42], ["a/b"], {"k": "v"}):
        with pytest.raises(InvalidInputError, match="source_turn_ids"):
            client.add_memory("u", "t", "x", source_turn_ids=bad)
    stored = client.add_memory("u", "t", "x", source_turn_ids=["turn-42", "turn-7"])
    assert stored.source_turn_ids == ["turn-42", "turn-7"]
    assert client.get_memory("u", stored.id).source_turn_ids == ["turn-42", "turn-7"]


@pytest.mark.parametrize("n", [1, 0, -3, 501, 2**63, 2.0, "50"])
def test_reconcile_pool_out_of_range_is_rejected(client: MemoryClient, n: Any) -> None:
    with pytest.raises(InvalidInputError, match="n must"):
        client.reconcile("u", n=n)


@pytest.mark.parametrize("timeout", [math.nan, math.inf, -math.inf, -1, "5", None, True])
def test_wait_timeouts_must_be_finite_seconds(client: MemoryClient, timeout: Any) -> None:
    with pytest.raises(InvalidInputError, match="timeout"):
        client.process_now_and_wait("u", "t", timeout=timeout)


def test_flags_must_be_booleans(client: MemoryClient) -> None:
    with pytest.raises(InvalidInputError, match="include_superseded"):
        client.get_memories("u", include_superseded="no")  # type: ignore[arg-type]


def test_a_time_that_overflows_in_utc_is_rejected(client: MemoryClient) -> None:
    east = timezone(timedelta(hours=5))
    with pytest.raises(InvalidInputError, match="created_at"):
        client.add("u", "t", "user", "x", created_at=datetime(1, 1, 1, tzinfo=east))
    west = timezone(-timedelta(hours=5))
    with pytest.raises(InvalidInputError, match="created_at"):
        client.add("u", "t", "user", "x", created_at=datetime(9999, 12, 31, 23, tzinfo=west))
    assert client.get_turns("u", "t") == []


def test_a_model_item_with_invisible_content_is_skipped(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    def blank_items(body: dict[str, Any]) -> dict[str, Any]:
        if not body["messages"][0]["content"].startswith("You extract"):
            return answer(body)
        item = {
            "bucket": "fact",
            "confidence": 0.9,
            "tags": [],
            "source_turn_ids": [],
            "situation": None,
            "action": None,
            "outcome": None,
        }
        return {"items": [{**item, "content": text} for text in INVISIBLE]}

    openai_server.script(blank_items)
    with MemoryClient.from_env(env_for(openai_server, tmp_path / "m.db")) as memory:
        memory.add("u", "t", "user", "I like tea.")
        report = memory.process_now("u", "t")
        assert memory.get_memories("u") == [] and report.extracted["t"].created == 0


@pytest.mark.parametrize("confidence", [None, math.nan, math.inf, -0.1, 1.5, "0.5", True])
def test_a_confidence_that_is_not_a_number_in_range_is_rejected(
    client: MemoryClient, confidence: Any
) -> None:
    with pytest.raises(InvalidInputError, match="confidence"):
        client.add_memory("u", "t", "x", confidence=confidence)
    assert client.get_memories("u") == []
