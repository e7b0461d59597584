"""What the model is asked for is bounded, and an answer cut at the bound is counted."""

from __future__ import annotations

from pathlib import Path

from agent_memory import MemoryClient
from agent_memory.core.prompts import extraction
from agent_memory.model._sync.client import MAX_OUTPUT_TOKENS
from tests.support.openai_server import FakeOpenAIServer, Fault


def test_requests_carry_max_tokens_and_a_bounded_schema_and_cut_answers_are_counted(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    thread = {
        "overview": "A greeting.",
        "key_points": [],
        "decisions": [],
        "open_questions": [],
        "action_items": [],
        "topics": [],
    }
    profile = {
        "overview": "Dana said hello.",
        "preferences": [],
        "standing_instructions": [],
        "ongoing_goals": [],
        "notable_experiences": [],
    }
    openai_server.queue(Fault.truncated('{"items": [{"bucket": "fa'), {"items": []}, thread)
    openai_server.queue(profile)
    env = {
        "AGENT_MEMORY_PATH": str(db_path),
        "OPENAI_BASE_URL": openai_server.openai_base_url,
        "OPENAI_API_KEY": "sk-test",
        "AGENT_MEMORY_EMBEDDINGS": "local",
        "FACT_EXTRACTION_EVERY_N": "1000",
        "THREAD_SUMMARY_EVERY_N": "1000",
        "USER_SUMMARY_EVERY_N": "1000",
    }
    with MemoryClient.from_env(env) as memory:
        memory.add("dana", "kitchen", "user", "Hello there.")
        report = memory.process_now("dana", "kitchen")
        usage = memory.usage("dana")

    first = openai_server.chat_requests[0].body
    assert first["max_tokens"] == MAX_OUTPUT_TOKENS
    schema = first["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["items"]["maxItems"] == extraction.MAX_ITEMS
    item = schema["$defs"]["ExtractedItem"]["properties"]
    assert "maxLength" not in item["content"]  # strict schemas refuse it: clipped on the way in
    assert item["source_turn_ids"]["maxItems"] == extraction.MAX_IDS
    assert report.extracted["kitchen"].turns == 1
    cut, answered = usage.records[0], usage.records[1]
    assert (cut.step, cut.ok, answered.ok) == ("extract_memories", False, True)
    assert cut.output_tokens > 0 and cut.input_tokens > 0
