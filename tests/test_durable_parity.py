"""The durable and in-process drivers run the same activities: the same memories come out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agent_memory import Memory, MemoryClient
from tests.durable.rig import DurableRig, documents
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import CONVERSATION, answer, env_for, transcript

pytestmark = pytest.mark.filterwarnings(
    "ignore:azure.functions df_loads was called without expected_type:DeprecationWarning"
)

#: 50 turns over two threads: the scripted conversation, with numbered notes from turn 10 on.
TURNS = [
    (
        f"turn-{i:02d}",
        "garden" if i % 3 == 0 else "kitchen",
        CONVERSATION[i % 10][0],
        CONVERSATION[i % 10][1] + (f" (note {i})" if i >= 10 else ""),
    )
    for i in range(50)
]


def answer_with_notes(body: dict[str, Any]) -> dict[str, Any]:
    """The scripted model of the pipeline tests, which also files each user note as a fact."""
    reply = answer(body)
    if body["messages"][0]["content"].startswith("You extract"):
        for turn in transcript(body):
            note = re.search(r"\(note (\d+)\)", turn["text"])
            if note and turn["role"] == "user":
                reply["items"].append(
                    {
                        "bucket": "fact",
                        "content": f"Dana filed note {note.group(1)}.",
                        "confidence": 0.9,
                        "tags": ["notes"],
                        "source_turn_ids": [turn["turn_id"]],
                        "situation": None,
                        "action": None,
                        "outcome": None,
                    }
                )
    return reply


def comparable(memories: list[Memory]) -> dict[str, dict[str, Any]]:
    stamps = {"created_at", "updated_at", "superseded_at"}
    return {m.id: m.model_dump(exclude=stamps) for m in memories}


async def test_durable_and_in_process_runs_produce_the_same_memories(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(answer_with_notes)
    with MemoryClient.from_env(env_for(openai_server, tmp_path / "inprocess.db")) as local:
        for turn_id, thread, role, text in TURNS:
            local.add("dana", thread, role, text, turn_id=turn_id)
            local.processor.drain()  # step by step, as the durable app runs them
        expected = comparable(local.get_memories("dana", include_superseded=True))
        summaries = {t: local.get_thread_summary("dana", t) for t in ("kitchen", "garden")}
        profile = local.get_user_summary("dana")
        calls = local.usage("dana").calls_by_step
        assert local.pipeline_status.failures == []

    rig = DurableRig(openai_server, tmp_path / "durable.db")
    try:
        for turn_id, thread, role, text in TURNS:
            turn = await rig.client.add("dana", thread, role, text, turn_id=turn_id)
            for run in await rig.deliver(documents([turn])):
                assert run.done and run.output["failed"] == []
        client = rig.client
        assert comparable(await client.get_memories("dana", include_superseded=True)) == expected
        for thread, summary in summaries.items():
            durable = await client.get_thread_summary("dana", thread)
            assert summary is not None and durable is not None
            assert (durable.content, durable.covers_up_to) == (
                summary.content,
                summary.covers_up_to,
            )
        durable_profile = await client.get_user_summary("dana")
        assert profile is not None and durable_profile is not None
        assert durable_profile.content == profile.content
        assert (await client.usage("dana")).calls_by_step == calls
    finally:
        await rig.close()
    assert len(expected) > 30 and any(m["superseded_by"] for m in expected.values())


async def test_batches_cut_differently_still_extract_the_same_memories(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(answer_with_notes)
    with MemoryClient.from_env(env_for(openai_server, tmp_path / "inprocess.db")) as local:
        for turn_id, thread, role, text in TURNS:
            local.add("dana", thread, role, text, turn_id=turn_id)
            local.processor.drain()  # step by step, as the durable app runs them
        expected = {m.id for m in local.get_memories("dana", include_superseded=True)}

    rig = DurableRig(openai_server, tmp_path / "durable.db")
    try:
        stored = [
            await rig.client.add("dana", thread, role, text, turn_id=turn_id)
            for turn_id, thread, role, text in TURNS
        ]
        feed = documents(stored)
        for start in range(0, len(feed), 7):
            await rig.deliver(feed[start : start + 7])
        await rig.deliver(feed[20:35])  # a redelivered, regrouped slice
        memories = await rig.client.get_memories("dana", include_superseded=True)
        assert {m.id for m in memories} == expected
        assert rig.counter()["user_turns"] == len(TURNS)
    finally:
        await rig.close()
