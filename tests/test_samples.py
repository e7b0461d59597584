"""The Samples run as a user runs them, against the local OpenAI-compatible test server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import transcript

SAMPLES = Path(__file__).resolve().parent.parent / "Samples"


def generic_model(body: dict[str, Any]) -> dict[str, Any]:
    """A stand-in model: every user turn becomes one memory, rules and episodes by keyword."""
    system = body["messages"][0]["content"]
    if system.startswith("You extract"):
        items = []
        for turn in transcript(body):
            if turn["role"] != "user":
                continue
            text = turn["text"].lower()
            bucket = (
                "procedural"
                if "always" in text or "never" in text
                else "episodic"
                if "worked" in text or "last time" in text
                else "fact"
            )
            items.append(
                {
                    "bucket": bucket,
                    "content": f"The user said: {turn['text']}",
                    "confidence": 0.9,
                    "tags": [],
                    "source_turn_ids": [turn["turn_id"]],
                    "situation": "a delivery" if bucket == "episodic" else None,
                    "action": "used the locker" if bucket == "episodic" else None,
                    "outcome": "it worked" if bucket == "episodic" else None,
                }
            )
        return {"items": items}
    if system.startswith("You maintain"):
        return {"duplicate_groups": [], "contradictions": []}
    if system.startswith("You keep a running summary"):
        return {
            "overview": "The user planned ahead.",
            "key_points": [],
            "decisions": [],
            "open_questions": [],
            "action_items": [],
            "topics": ["planning"],
        }
    return {
        "overview": "A returning user with standing preferences.",
        "preferences": [],
        "standing_instructions": [],
        "ongoing_goals": [],
        "notable_experiences": [],
    }


def run(sample: str, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(SAMPLES / sample)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def model_env(openai_server: FakeOpenAIServer) -> dict[str, str]:
    openai_server.script(generic_model)
    cleared = {"COSMOS_DB_ENDPOINT", "AI_FOUNDRY_ENDPOINT", "AGENT_MEMORY_PATH"}
    env = {k: v for k, v in os.environ.items() if k not in cleared}
    return {**env, "OPENAI_BASE_URL": openai_server.openai_base_url, "OPENAI_API_KEY": "sk"}


def test_chat_memory(model_env: dict[str, str], tmp_path: Path) -> None:
    out = run("chat_memory.py", model_env, tmp_path)
    assert "[procedural] The user said: Always keep your answers short, please." in out
    second = out.split("days later")[1]
    assert "recalled profile: A returning user" in second
    assert "recalled rule: The user said: Always keep your answers short" in second


def test_multi_agent(tmp_path: Path) -> None:
    out = run("multi_agent.py", dict(os.environ), tmp_path)
    assert "researcher sees 3 tasks from the planner" in out
    assert "planner reads 3 findings" in out
    assert "planner finds: Finding on energy efficiency" in out
    assert "another user's agents see: []" in out


def test_customer_support(model_env: dict[str, str], tmp_path: Path) -> None:
    out = run("customer_support.py", model_env, tmp_path)
    after = out.split("new ticket-3 opens")[1]
    assert "[procedural] The user said: Please always confirm with me" in after
    assert "(from ticket-1)" in after and "[episodic]" in after
    assert "battery drains" not in after  # ticket-1's facts stay with ticket-1
    assert "profile: A returning user" in after


def test_durable_processor(
    model_env: dict[str, str], tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    out = run("durable_processor.py", model_env, tmp_path)
    assert "after process_now_and_wait: pending {'trip-planning': 0}" in out
    assert "[procedural] The user said: I prefer aisle seats and never red-eye flights." in out
    assert "thread summary: The user planned ahead." in out
    assert openai_server.violations == []


def test_samples_without_a_model_say_what_to_set(tmp_path: Path) -> None:
    cleared = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "AI_FOUNDRY_ENDPOINT", "COSMOS_DB_ENDPOINT"}
    env = {k: v for k, v in os.environ.items() if k not in cleared}
    assert "OPENAI_API_KEY" in run("durable_processor.py", env, tmp_path)
    assert "(from ticket-1)" in run("customer_support.py", env, tmp_path)
