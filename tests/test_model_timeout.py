"""Model calls are bounded: a documented timeout per request and a retry budget per call."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent_memory import ConfigurationError, MemoryClient, Settings
from tests.support.openai_server import FakeOpenAIServer, Fault
from tests.test_pipeline import env_for


def test_a_stalled_model_costs_at_most_the_budget_and_the_turn_is_kept(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.queue(*[Fault.timeout(30)] * 6)
    env = env_for(
        openai_server,
        tmp_path / "m.db",
        AGENT_MEMORY_MODEL_TIMEOUT_SECONDS="0.5",
        AGENT_MEMORY_MODEL_MAX_RETRIES="1",
    )
    with MemoryClient.from_env(env) as memory:
        turn = memory.add("u", "t", "user", "I'm Dana and I'm vegetarian.")
        assert memory.get_turns("u", "t") == [turn]
        started = time.monotonic()
        memory.processor.drain()  # the background extraction the turn started
        elapsed = time.monotonic() - started
        (failure,) = memory.pipeline_status.failures
        assert "timed out" in str(failure).lower()
    # two requests of 0.5 s (one retry) and one backoff of at most about a second
    assert openai_server.chat_calls == 2
    assert elapsed < 4.0


def test_timeout_and_retries_are_validated_settings() -> None:
    settings = Settings.from_env({})
    assert (settings.model_timeout, settings.model_max_retries) == (30.0, 2)
    assert settings.model_call_budget == 90.0
    for name, value in (
        ("AGENT_MEMORY_MODEL_TIMEOUT_SECONDS", "0"),
        ("AGENT_MEMORY_MODEL_TIMEOUT_SECONDS", "nan"),
        ("AGENT_MEMORY_MODEL_TIMEOUT_SECONDS", "inf"),
        ("AGENT_MEMORY_MODEL_MAX_RETRIES", "-1"),
        ("AGENT_MEMORY_MODEL_MAX_RETRIES", "11"),
    ):
        with pytest.raises(ConfigurationError, match=name):
            Settings.from_env({name: value})
