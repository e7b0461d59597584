"""Embedders: the local default and OpenAI / Azure OpenAI over a real local socket."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from openai import AzureOpenAI, OpenAI

from agent_memory import (
    ConfigurationError,
    LocalEmbedder,
    MemoryClient,
    ModelError,
    OpenAIEmbedder,
    Settings,
)
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.aio import OpenAIEmbedder as AsyncOpenAIEmbedder
from tests.support.openai_server import FakeOpenAIServer, Fault

#: An AI Foundry endpoint needs its chat deployment named.
CHAT = {"AI_FOUNDRY_CHAT_DEPLOYMENT_NAME": "chat-mini"}


def test_local_embedder_is_deterministic_and_normalised(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed(["a dog in the park", "a dog in the park", "quarterly tax filing"])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[1])
    assert embedder.embed([]).shape == (0, 256)


def test_openai_style_embeddings(openai_server: FakeOpenAIServer, db_path: Path) -> None:
    client = OpenAI(base_url=openai_server.openai_base_url, api_key="sk-test")
    embedder = OpenAIEmbedder(client, model="text-embedding-3-small", dimensions=64, batch_size=2)
    with MemoryClient(path=db_path, embedder=embedder) as memory:
        memory.add_turns(
            "alice", "t1", [{"role": "user", "content": f"turn {i}"} for i in range(5)]
        )
        hits = memory.search("alice", "turn 3", include_turns=True, mode="vector", top=1)
        assert hits[0].content == "turn 3"
    requests = openai_server.embedding_requests
    assert [len(r.body["input"]) for r in requests] == [2, 2, 1, 1]
    assert {r.body["dimensions"] for r in requests} == {64}
    assert {r.style for r in requests} == {"openai"}


def test_azure_style_embeddings_through_from_env(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    env = {
        "AGENT_MEMORY_PATH": str(db_path),
        "AI_FOUNDRY_ENDPOINT": openai_server.azure_endpoint,
        "AI_FOUNDRY_API_KEY": "azure-key",
        "AI_FOUNDRY_CHAT_DEPLOYMENT_NAME": "chat-mini",
        "AI_FOUNDRY_EMBEDDING_DEPLOYMENT_NAME": "embed-large",
        "EMBEDDING_DIMENSIONS": "128",
    }
    with MemoryClient.from_env(env) as memory:
        assert memory.embedder.model == "embed-large" and memory.embedder.dimensions == 128
        memory.add("alice", "t1", "user", "hello from azure")
    request = openai_server.embedding_requests[0]
    assert request.style == "azure" and request.deployment == "embed-large"
    assert request.api_key == "azure-key" and request.api_version == "2024-10-21"


async def test_async_azure_embeddings(openai_server: FakeOpenAIServer, db_path: Path) -> None:
    from openai import AsyncAzureOpenAI

    azure = AsyncAzureOpenAI(
        azure_endpoint=openai_server.azure_endpoint, api_key="k", api_version="2024-10-21"
    )
    embedder = AsyncOpenAIEmbedder(azure, model="embed", dimensions=32)
    async with AsyncMemoryClient(path=db_path, embedder=embedder) as memory:
        await memory.add_memory("alice", "t1", "Alice flies to Rome.")
        hits = await memory.search("alice", "Alice flies to Rome.", mode="vector")
        assert hits[0].content == "Alice flies to Rome."
    assert openai_server.embedding_requests[0].style == "azure"


def test_switching_embedders_on_a_store_is_refused(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    with MemoryClient(path=db_path) as local:
        local.add("alice", "t1", "user", "written with the local model")
    client = AzureOpenAI(
        azure_endpoint=openai_server.azure_endpoint, api_key="k", api_version="2024-10-21"
    )
    remote = OpenAIEmbedder(client, model="text-embedding-3-large", dimensions=1536)
    with MemoryClient(path=db_path, embedder=remote) as other:
        with pytest.raises(ConfigurationError, match="wordllama"):
            other.add("alice", "t1", "user", "would mix vectors")
        with pytest.raises(ConfigurationError):
            other.search("alice", "anything")
    with MemoryClient(path=db_path) as local:
        assert len(local.get_turns("alice", "t1")) == 1


def test_embedding_failures_are_typed_and_write_nothing(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    openai_server.queue_embedding_faults(Fault.http_error(400, "bad input"))
    client = OpenAI(base_url=openai_server.openai_base_url, api_key="k", max_retries=0)
    with MemoryClient(path=db_path, embedder=OpenAIEmbedder(client, model="e", dimensions=16)) as m:
        with pytest.raises(ModelError, match="embedding request failed"):
            m.add("alice", "t1", "user", "lost?")
        assert m.get_turns("alice", "t1") == []
        m.add("alice", "t1", "user", "retried by the caller")
        assert len(m.get_turns("alice", "t1")) == 1


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "local"),
        ({"AI_FOUNDRY_ENDPOINT": "https://x.openai.azure.com", **CHAT}, "azure"),
        ({"AI_FOUNDRY_ENDPOINT": "https://x", "AGENT_MEMORY_EMBEDDINGS": "local", **CHAT}, "local"),
        ({"AGENT_MEMORY_EMBEDDINGS": "OpenAI", "OPENAI_API_KEY": "k"}, "openai"),
    ],
)
def test_settings_choose_the_embedder(env: dict[str, str], backend: str) -> None:
    assert Settings.from_env(env).embedding_backend == backend


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"AGENT_MEMORY_EMBEDDINGS": "bert"}, "AGENT_MEMORY_EMBEDDINGS"),
        ({"EMBEDDING_DIMENSIONS": "many"}, "EMBEDDING_DIMENSIONS"),
        ({"AGENT_MEMORY_MAX_CONTENT_CHARS": "0"}, "AGENT_MEMORY_MAX_CONTENT_CHARS"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env(env)


def test_openai_embeddings_need_a_key_or_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        MemoryClient.from_env({"AGENT_MEMORY_EMBEDDINGS": "openai"})
    assert list(tmp_path.iterdir()) == []  # nothing written before the error
