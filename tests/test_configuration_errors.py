"""Bad configuration and arguments raise the SDK's typed errors, named as the caller named them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_memory import ConfigurationError, InvalidInputError, MemoryClient, Settings
from agent_memory.core.due import Thresholds
from tests.test_cli import cli, one_line_error


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Settings(max_content_chars=0), "max_content_chars"),
        (lambda: Settings(model_timeout=float("nan")), "model_timeout"),
        (lambda: Settings(not_a_setting=1), "not_a_setting"),
        (lambda: Thresholds(dedup_every_n=-1), "dedup_every_n"),
    ],
)
def test_settings_built_in_code_raise_configuration_errors(build: object, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        build()  # type: ignore[operator]


def test_a_path_and_a_cosmos_endpoint_together_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="path or cosmos_endpoint"):
        MemoryClient(path=tmp_path / "m.db", cosmos_endpoint="https://example.invalid:443/")
    assert not (tmp_path / "m.db").exists()


def test_a_bad_memory_type_is_named_as_the_argument_was(tmp_path: Path) -> None:
    with MemoryClient(path=tmp_path / "m.db") as memory:
        with pytest.raises(InvalidInputError, match=r"^type: 'rule'"):
            memory.add_memory("u", "t", "Likes tea.", type="rule")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match=r"^memory_types: 'rule'"):
            memory.get_memories("u", memory_types=["rule"])  # type: ignore[list-item]
        assert memory.get_memories("u") == []


def test_a_read_command_on_an_empty_file_does_not_turn_it_into_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    error = one_line_error(cli("--path", str(empty), "turns", "list", "u", "t", cwd=tmp_path), 1)
    assert "no store" in error
    assert empty.stat().st_size == 0


@pytest.mark.parametrize(
    "user_id",
    [" alice", "alice ", "ali\u200bce", "\u202eevil", "a\u2060b", "a\u0301", "ali\u00a0ce"],
)
def test_ids_that_would_print_like_another_are_refused(tmp_path: Path, user_id: str) -> None:
    with MemoryClient(path=tmp_path / "m.db") as memory:
        with pytest.raises(InvalidInputError, match="user_id"):
            memory.add(user_id, "t", "user", "hello")
        with pytest.raises(InvalidInputError, match="thread_id"):
            memory.add("alice", user_id, "user", "hello")
        assert memory.add("\u00e1lice", "a b", "user", "hello").user_id == "\u00e1lice"  # NFC


def test_an_ai_foundry_endpoint_without_a_chat_deployment_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = {
        "AI_FOUNDRY_ENDPOINT": "https://example.openai.azure.com",
        "AI_FOUNDRY_API_KEY": "k",
    }
    with pytest.raises(
        ConfigurationError, match="AI_FOUNDRY_CHAT_DEPLOYMENT_NAME is not"
    ) as raised:
        Settings.from_env(endpoint)
    assert "AI_FOUNDRY_EMBEDDING_DEPLOYMENT_NAME ('text-embedding-3-large', 1536" in str(
        raised.value
    )
    assert "\n" not in str(raised.value)
    with pytest.raises(ConfigurationError, match="AI_FOUNDRY_CHAT_DEPLOYMENT_NAME") as raised:
        Settings(ai_foundry_endpoint="https://example.openai.azure.com", embeddings="local")
    assert "EMBEDDING" not in str(raised.value)  # the endpoint switches no embeddings then
    with pytest.raises(ConfigurationError, match="AI_FOUNDRY_CHAT_DEPLOYMENT_NAME"):
        Settings().override(ai_foundry_endpoint="https://example.openai.azure.com")

    for name, value in endpoint.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AGENT_MEMORY_PATH", str(tmp_path / "env" / "m.db"))
    with pytest.raises(ConfigurationError, match="AI_FOUNDRY_CHAT_DEPLOYMENT_NAME"):
        MemoryClient()
    assert list(tmp_path.iterdir()) == []  # refused before any file was made
    # An argument completes what the environment leaves out: one validation of both.
    with MemoryClient(path=tmp_path / "m.db", chat_deployment="chat-mini") as memory:
        assert memory.settings.chat_deployment == "chat-mini"
        assert memory.settings.embedding_backend == "azure"
