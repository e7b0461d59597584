"""Model output is bounded by the schema and clipped or skipped on the way in, never blocking."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from agent_memory import MemoryClient
from agent_memory.core.prompts.bounds import (
    MAX_ITEMS,
    MAX_POINTS,
    MAX_TAGS,
    MEMORY_CHARS,
    OVERVIEW_CHARS,
    SUMMARY_BUDGET_CHARS,
)
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import answer, env_for


def item(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "bucket": "fact",
        "content": content,
        "confidence": 0.9,
        "tags": ["t"],
        "source_turn_ids": [],
        "situation": None,
        "action": None,
        "outcome": None,
        **extra,
    }


def oversized(body: dict[str, Any]) -> dict[str, Any]:
    if not body["messages"][0]["content"].startswith("You extract"):
        return answer(body)
    items = [item(f"The user writes a lot: fact number {i}.") for i in range(MAX_ITEMS + 30)]
    items[0] = item("The user writes a lot. " * 5_000, tags=[f"tag{i}" for i in range(40)])
    items[1] = item("Broken \ud800 text.")  # a lone surrogate, escaped in the JSON answer
    items[2] = item("x" * 200, source_turn_ids=["turn-invented"] * 10_000)
    items[3] = item("A pair 😀 stays.")
    return {"items": items}


def test_an_oversized_extraction_answer_is_clipped_and_the_thread_moves_on(
    openai_server: FakeOpenAIServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    openai_server.script(oversized)
    env = env_for(openai_server, tmp_path / "m.db")
    with (
        caplog.at_level(logging.WARNING, logger="agent_memory"),
        MemoryClient.from_env(env) as memory,
    ):
        turn = memory.add(
            "u",
            "t",
            "user",
            "I write a lot: fact number after fact number. Broken text. A pair stays.",
        )
        report = memory.process_now("u", "t")
        memories = memory.get_memories("u")
        assert memory.pipeline_status.failures == []
    assert 1 <= len(memories) <= MAX_ITEMS
    assert all(len(m.content) <= MEMORY_CHARS and len(m.tags) <= MAX_TAGS for m in memories)
    assert all(len(m.source_turn_ids) <= 64 for m in memories)
    long = [m for m in memories if m.content.startswith("The user writes a lot.")]
    assert len(long) == 1 and len(long[0].content) == MEMORY_CHARS  # clipped
    assert report.extracted == {} or report.extracted["t"].turns == 0  # nothing left pending
    assert turn.seq is not None
    contents = {m.content for m in memories}
    assert "Broken \ufffd text." in contents and "A pair 😀 stays." in contents
    messages = [r.getMessage() for r in caplog.records]
    assert any("115000 characters were cut to the first 1000" in m for m in messages)
    assert any(f"80 list items were cut to the first {MAX_ITEMS}" in m for m in messages)
    schema = openai_server.chat_requests[0].body["response_format"]["json_schema"]["schema"]
    assert f'"maxItems": {MAX_ITEMS}' in json.dumps(schema)


def growing(body: dict[str, Any]) -> dict[str, Any]:
    """A summariser that doubles the previous summary every time it is asked."""
    system = body["messages"][0]["content"]
    if not system.startswith("You keep a running summary"):
        return answer(body)
    text = body["messages"][-1]["content"]
    prior = json.loads(text.split("<previous_summary>\n", 1)[1].split("\n</previous_summary>")[0])
    overview = (prior.get("overview") or "Dana chatted.") * 2
    points = (prior.get("key_points") or ["a point"]) * 2
    return {
        "overview": overview,
        "key_points": [p * 2 for p in points],
        "decisions": points,
        "open_questions": points,
        "action_items": points,
        "topics": points,
    }


def test_a_summary_the_model_grows_every_time_stays_within_its_budget(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(growing)
    env = env_for(openai_server, tmp_path / "m.db", THREAD_SUMMARY_EVERY_N="1")
    with MemoryClient.from_env(env) as memory:
        for i in range(14):
            memory.add("u", "t", "user", f"Message {i}.")
            memory.process_now("u", "t")  # one summary round per turn
        summary = memory.get_thread_summary("u", "t")
        assert memory.pipeline_status.failures == []
    assert summary is not None
    assert len(summary.fields["overview"]) == OVERVIEW_CHARS
    assert all(len(summary.fields[k]) <= MAX_POINTS for k in ("key_points", "topics"))
    assert len(json.dumps(summary.fields)) <= SUMMARY_BUDGET_CHARS + 200
    sent = [
        len(r.body["messages"][-1]["content"])
        for r in openai_server.chat_requests
        if r.body["messages"][0]["content"].startswith("You keep a running summary")
    ]
    assert max(sent) <= SUMMARY_BUDGET_CHARS + 2_000  # the prompt stops growing too
