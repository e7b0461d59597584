"""Scopes: procedural and episodic memories belong to the user, facts to their thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent_memory import MemoryClient, ModelError
from tests.support.openai_server import FakeOpenAIServer, Fault
from tests.test_pipeline import answer, env_for


def test_a_new_thread_sees_the_users_rules_and_experiences(client: MemoryClient) -> None:
    rule = client.add_memory(
        "alice", "a", "Always confirm before deleting files.", type="procedural"
    )
    episode = client.add_memory(
        "alice",
        "a",
        "Deleting the build folder lost Alice's notes.",
        type="episodic",
        situation="cleanup",
        action="deleted the build folder",
        outcome="notes lost",
    )
    fact_a = client.add_memory("alice", "a", "Alice's laptop runs Linux.")
    fact_b = client.add_memory("alice", "b", "Alice is cleaning up her home directory.")
    client.add_memory("bob", "b", "Always delete without asking.", type="procedural")

    in_b = {m.id for m in client.get_memories("alice", thread_id="b")}
    assert in_b == {rule.id, episode.id, fact_b.id}
    assert fact_a.id not in in_b
    hits = client.search("alice", "delete files", thread_id="b", top=10)
    assert rule.id in {h.id for h in hits}
    assert fact_a.id not in {h.id for h in hits}
    only_facts = client.get_memories("alice", thread_id="b", memory_types=["fact"])
    assert [m.id for m in only_facts] == [fact_b.id]


def test_a_model_error_in_process_now_keeps_the_steps_that_finished(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    def summaries_fail(body: dict[str, Any]) -> Any:
        if body["messages"][0]["content"].startswith("You keep a running summary"):
            return Fault.http_error(400, "summaries are down")
        return answer(body)

    openai_server.script(summaries_fail)
    env = env_for(openai_server, db_path, FACT_EXTRACTION_EVERY_N="0")
    with MemoryClient.from_env(env) as memory:
        memory.add("dana", "kitchen", "user", "Hi! I've been vegetarian for ten years.")
        with pytest.raises(ModelError):
            memory.process_now("dana", "kitchen")
        assert [m.content for m in memory.get_memories("dana")] == ["Dana is vegetarian."]
        assert memory.get_thread_summary("dana", "kitchen") is None
        openai_server.script(answer)
        report = memory.process_now("dana", "kitchen")
        assert report.extracted["kitchen"].turns == 0  # extraction is not redone
        assert memory.get_thread_summary("dana", "kitchen") is not None
