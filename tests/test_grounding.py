"""Grounding: nothing is stored that the conversation did not say.

A stand-in model (the local OpenAI-compatible test server) answers every prompt with the
prompt's own examples and instructions, next to one true statement; only the true statement
may reach the store, and every drop is counted by reason.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent_memory import MemoryClient
from agent_memory.core import grounding
from agent_memory.core.prompts import extraction, summaries
from tests.support.openai_server import FakeOpenAIServer

CONVERSATION = [
    ("user", "Hi! I'm Dana. I've been vegetarian for ten years."),
    ("assistant", "Nice to meet you, Dana."),
    ("user", "Last Friday I baked rye bread with my neighbour Otto."),
    ("user", "Thanks, that's all."),
]
TRUE_FACT = "Dana has been vegetarian for ten years."
OLD_EXAMPLE = "The user's daughter Maya is allergic to peanuts."
ECHOES = [  # profile "preferences" written from instructions (an older prompt's, this one's)
    "Prefer recent and high-confidence information.",
    "Leave a list empty when nothing in the data fits it.",
]


def _transcript(body: dict[str, Any]) -> list[dict[str, Any]]:
    text = body["messages"][-1]["content"]
    inside = text.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0]
    return [json.loads(line) for line in inside.splitlines()]


def _prompt_examples(system: str) -> list[tuple[str, str]]:
    """(bucket, content) of every example answer the prompt shows."""
    return re.findall(r'\b(fact|procedural|episodic) "([^"]+)"', system)


def copying_model(body: dict[str, Any]) -> dict[str, Any]:
    """Answers with the prompt's examples (and an older prompt's), plus one true statement."""
    system = body["messages"][0]["content"]
    if system.startswith("You extract"):
        turns = _transcript(body)
        every = [t["turn_id"] for t in turns]
        items = [
            {
                "bucket": bucket,
                "content": content,
                "confidence": 0.95,
                "tags": ["example"],
                "source_turn_ids": every,
                "situation": None,
                "action": None,
                "outcome": None,
            }
            for bucket, content in [*_prompt_examples(system), ("fact", OLD_EXAMPLE)]
        ]
        veg = [t["turn_id"] for t in turns if "vegetarian" in t["text"]]
        if veg:
            items.append({**items[0], "content": TRUE_FACT, "source_turn_ids": veg})
        return {"items": items}
    if system.startswith("You keep a running summary"):
        return {
            "overview": "Dana talked about food and baking.",
            "key_points": [
                "Dana is vegetarian.",
                "Every line restates the turns or the previous summary.",
            ],
            "decisions": [],
            "open_questions": [],
            "action_items": [],
            "topics": ["food"],
        }
    if system.startswith("You write a concise profile"):
        return {
            "overview": "Dana, a vegetarian who bakes.",
            "preferences": ["Dana has been vegetarian for ten years.", *ECHOES],
            "standing_instructions": [],
            "ongoing_goals": [],
            "notable_experiences": [],
        }
    return {"duplicate_groups": [], "contradictions": []}


def _shingles(text: str, n: int = 6) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_copies_of_the_prompt_are_dropped_and_counted(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    openai_server.script(copying_model)
    env = {
        "AGENT_MEMORY_PATH": str(db_path),
        "OPENAI_BASE_URL": openai_server.openai_base_url,
        "OPENAI_API_KEY": "sk-test",
        "AGENT_MEMORY_EMBEDDINGS": "local",
        "FACT_EXTRACTION_EVERY_N": "1000",  # everything runs in process_now below
        "THREAD_SUMMARY_EVERY_N": "1000",
        "USER_SUMMARY_EVERY_N": "1000",
    }
    with MemoryClient.from_env(env) as memory:
        for role, content in CONVERSATION:
            memory.add("dana", "kitchen", role, content)
        report = memory.process_now("dana")
        stored = memory.get_memories("dana")
        thread = memory.get_thread_summary("dana", "kitchen")
        profile = memory.get_user_summary("dana")

    assert len(_prompt_examples(extraction.SYSTEM)) == len(extraction.EXAMPLES) == 3
    assert [m.content for m in stored] == [TRUE_FACT]
    extracted = report.extracted["kitchen"]
    assert extracted.created == 1
    assert extracted.ungrounded == {"prompt_copy": 3, "unsupported": 1}
    assert thread is not None and profile is not None
    assert thread.fields["key_points"] == ["Dana is vegetarian."]
    assert report.thread_summaries["kitchen"].ungrounded == {"prompt_copy": 1}
    assert profile.fields["preferences"] == [TRUE_FACT]
    assert report.user_summary is not None
    assert report.user_summary.ungrounded == {"unsupported": 1, "prompt_copy": 1}
    written = "\n".join(
        [*(m.content for m in stored), json.dumps(thread.fields), json.dumps(profile.fields)]
    )
    for system in (extraction.SYSTEM, summaries.THREAD_SYSTEM, summaries.USER_SYSTEM):
        assert not _shingles(written) & _shingles(system)


def _judge(claim: str, sources: list[str]) -> grounding.Verdict:
    """Judge one claim with a bag-of-words embedding (the check's own arithmetic, no model)."""
    check = grounding.Check([claim], [sources], extraction.GROUNDING)
    vocabulary = sorted({w for t in check.texts for w in re.findall(r"\w+", t.lower())})
    index = {w: i for i, w in enumerate(vocabulary)}
    vectors = np.zeros((len(check.texts), len(vocabulary)), dtype=np.float32)
    for row, text in enumerate(check.texts):
        for word in re.findall(r"\w+", text.lower()):
            vectors[row, index[word]] += 1
    return check.judge(vectors).verdicts[0]


TURN = "Last Friday I baked rye bread with my neighbour Otto."
FRIDAY = grounding.date_forms(datetime(2031, 3, 7, tzinfo=UTC))


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("The user baked rye bread with their neighbour Otto.", None),
        ("The user baked bread with Otto on 2031-03-07.", None),
        ("Otto is the user's neighbour.", None),
        (extraction.EXAMPLES[0], "prompt_copy"),
        ("The user's hedgehog Quillfeather dislikes the terrarium.", "prompt_copy"),
        ("The user plays the zither at Brackenmoor Hall.", "prompt_copy"),
        ("The user's daughter Maya is allergic to peanuts.", "unsupported"),
        ("The user works as a pilot in Lisbon.", "unsupported"),
        ("...", "unsupported"),
    ],
)
def test_verdicts(claim: str, reason: str | None) -> None:
    assert _judge(claim, [f"{TURN}\n{FRIDAY}"]).reason == reason


def test_lexical_support_counts_content_words_only() -> None:
    assert grounding.lexical_support("The user is allergic.", "an allergy") == 1.0
    assert grounding.lexical_support("The user likes tea and coffee.", "tea") == pytest.approx(
        1 / 3
    )
    assert grounding.lexical_support("the user", "anything") == 1.0


def test_a_check_needs_one_source_list_per_claim() -> None:
    with pytest.raises(ValueError, match="one list of sources per claim"):
        grounding.Check(["a", "b"], [["x"]], extraction.GROUNDING)
