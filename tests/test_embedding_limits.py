"""Every accepted content is stored whole; hosted-embedding inputs stay within the model limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent_memory import MemoryClient
from agent_memory.embeddings.limits import MAX_INPUT_TOKENS, chunk_text, combine
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import env_for

LONG_TEXTS = {
    "english": "The quarterly report covers revenue and churn. " * 1_100,  # ~51,700 chars
    "chinese": "季度报告涵盖收入和客户流失情况。" * 3_200,  # 3 bytes a character
    "emoji": "🚀🌍" * 12_000,  # 4 bytes a character
    "one word": "x" * 50_000,  # no whitespace to cut at
}


@pytest.mark.parametrize("name", list(LONG_TEXTS))
def test_long_text_is_cut_into_pieces_within_the_byte_bound(name: str) -> None:
    text = LONG_TEXTS[name]
    pieces = chunk_text(text)
    assert "".join(pieces) == text and len(pieces) > 1
    assert all(0 < len(p.encode()) <= MAX_INPUT_TOKENS for p in pieces)
    assert chunk_text("short") == ["short"]


def test_chunk_vectors_combine_into_a_unit_weighted_mean() -> None:
    vectors = np.array([[1, 0], [0, 1], [3, 4]], dtype=np.float32)
    out = combine(vectors, owners=[0, 0, 1], weights=[3, 1, 7], count=2)
    assert np.allclose(out[0], np.array([3, 1]) / np.sqrt(10))
    assert np.allclose(out[1], [0.6, 0.8])


def test_a_turn_longer_than_the_embedding_limit_is_stored_whole_and_searchable(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    env = env_for(
        openai_server,
        tmp_path / "m.db",
        AGENT_MEMORY_EMBEDDINGS="openai",
        EMBEDDING_DIMENSIONS="64",
    )
    text = LONG_TEXTS["english"] + " The launch date is the ninth of March."
    assert len(text) > 50_000
    with MemoryClient.from_env(env) as memory:
        turn = memory.add("u", "t", "user", text)
        memory.add("u", "t", "user", "A short unrelated note about gardening.")
        stored = memory.add_memory("u", "t", "季度报告" * 9_000)
        assert memory.get_turns("u", "t")[0].content == text == turn.content
        assert memory.get_memory("u", stored.id).content == "季度报告" * 9_000
        text_hits = memory.search("u", "launch date", mode="text", include_turns=True)
        assert text_hits[0].id == turn.id
        vector_hits = memory.search(
            "u", "quarterly revenue churn", mode="vector", include_turns=True
        )
        assert vector_hits[0].id == turn.id
    inputs = [i for r in openai_server.embedding_requests for i in r.body["input"]]
    assert len(inputs) > 4 and all(len(i.encode()) <= MAX_INPUT_TOKENS for i in inputs)
