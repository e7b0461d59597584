"""One configuration path: the environment as ``from_env`` reads it, then keyword overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_memory import ConfigurationError, MemoryClient, Settings
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.core.due import Thresholds
from agent_memory.stores.cosmos._sync.store import CosmosStore
from agent_memory.stores.sqlite import SqliteStore
from tests.support.openai_server import FakeOpenAIServer

CLEARED = (
    "COSMOS_DB_ENDPOINT",
    "COSMOS_DB_KEY",
    "AI_FOUNDRY_ENDPOINT",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_CHAT_MODEL",
    "AGENT_MEMORY_PATH",
    "FACT_EXTRACTION_EVERY_N",
    "USER_SUMMARY_EVERY_N",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)


def test_the_constructor_reads_the_environment_like_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSMOS_DB_ENDPOINT", "https://127.0.0.1:1/")
    monkeypatch.setenv("COSMOS_DB_KEY", "a2V5")
    monkeypatch.setenv("FACT_EXTRACTION_EVERY_N", "3")
    monkeypatch.chdir(tmp_path)
    plain = MemoryClient()
    configured = MemoryClient.from_env()
    try:
        assert plain.settings == configured.settings
        assert isinstance(plain.store, CosmosStore)  # not silently the local file
        assert plain.settings.thresholds.fact_extraction_every_n == 3
    finally:
        plain.close()
        configured.close()
    assert not (tmp_path / ".agent_memory").exists()


def test_a_model_in_the_environment_runs_the_pipeline(
    db_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_pipeline import answer

    openai_server.script(answer)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with MemoryClient(path=db_path, thresholds={"fact_extraction_every_n": 0}) as client:
        assert client.ai is not None
        client.add("dana", "t1", "user", "I've been vegetarian for ten years.")
        report = client.process_now("dana", "t1")
        assert report.extracted["t1"].created >= 1
        assert [m.content for m in client.get_memories("dana")] == ["Dana is vegetarian."]


def test_keyword_arguments_override_the_environment(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_CHAT_MODEL", "from-env")
    monkeypatch.setenv("USER_SUMMARY_EVERY_N", "7")
    with MemoryClient(
        path=db_path,
        openai_chat_model="from-argument",
        openai_base_url="http://127.0.0.1:9/v1",
        thresholds={"dedup_every_n": 2},
    ) as client:
        assert client.settings.openai_chat_model == "from-argument"
        assert client.settings.openai_api_key == "sk-env"
        assert client.settings.openai_base_url == "http://127.0.0.1:9/v1"
        assert client.settings.thresholds.dedup_every_n == 2
        assert client.settings.thresholds.user_summary_every_n == 7
        assert client.ai is not None and client.ai.model == "from-argument"
        assert isinstance(client.store, SqliteStore) and client.store.path == db_path


def test_explicit_settings_replace_the_environment(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    with MemoryClient(path=db_path, settings=Settings()) as client:
        assert client.ai is None
    with MemoryClient(
        path=db_path, settings=Settings(), thresholds=Thresholds(user_summary_every_n=0)
    ) as client:
        assert client.settings.thresholds.user_summary_every_n == 0


@pytest.mark.parametrize(
    "options",
    [
        {"thresholds": {"dedup_pool_size": 1}},
        {"thresholds": {"nonsense": 1}},
        {"embeddings": "nonsense"},
        {"cosmos_database": "a/b"},
    ],
)
def test_a_bad_argument_is_a_configuration_error_and_creates_nothing(
    tmp_path: Path, options: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError, match="invalid settings"):
        MemoryClient(path=tmp_path / "x.db", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "x.db").exists()


def test_path_and_cosmos_endpoint_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="path or cosmos_endpoint"):
        MemoryClient(path=tmp_path / "x.db", cosmos_endpoint="https://127.0.0.1:1/")


async def test_the_async_client_takes_the_same_arguments(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    async with AsyncMemoryClient(path=db_path, openai_chat_model="m") as client:
        assert client.ai is not None and client.ai.model == "m"
