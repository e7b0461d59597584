"""The agent-memory command line, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_memory.cli import main
from agent_memory.demo import CONVERSATION, MEMORIES, QUERIES
from tests.support.openai_server import FakeOpenAIServer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_adds_searches_and_can_run_twice(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    code, out, _ = run(capsys, "--path", str(db_path), "demo")
    assert code == 0
    assert f"[{len(CONVERSATION)}/{len(CONVERSATION)}]" in out
    for query, _ in QUERIES:
        assert query in out
    assert "[memory] The user is vegetarian." in out
    assert "AI_FOUNDRY_ENDPOINT" in out and "OPENAI_API_KEY" in out
    code, out, _ = run(capsys, "demo", "--path", str(db_path), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["turns"] == len(CONVERSATION) and report["memories"] == len(MEMORIES)
    diet = report["searches"]["What does the user eat?"]
    assert diet[0]["memory"]["content"] == "The user is vegetarian."
    assert "embedding" not in json.dumps(report)
    code, out, _ = run(
        capsys, "turns", "demo-user", "home-office", "--path", str(db_path), "--json"
    )
    assert len(json.loads(out)) == sum(1 for t, _, _ in CONVERSATION if t == "home-office")


def test_add_search_turns_forget(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    p = ("--path", str(db_path))
    code, out, _ = run(
        capsys,
        *p,
        "add",
        "alice",
        "t1",
        "user",
        "I keep bees on my roof",
        "--metadata",
        '{"source": "cli"}',
    )
    assert code == 0 and "added turn-" in out
    code, out, _ = run(capsys, *p, "--json", "search", "alice", "bees", "--turns")
    hits = json.loads(out)
    assert hits[0]["kind"] == "turn" and hits[0]["turn"]["metadata"] == {"source": "cli"}
    code, out, _ = run(capsys, *p, "search", "alice", "bees")
    assert out.strip() == "no results"
    code, out, _ = run(capsys, *p, "turns", "alice", "t1")
    assert "I keep bees on my roof" in out
    code, _, err = run(capsys, *p, "forget", "alice")
    assert code == 2 and "--yes" in err
    code, out, _ = run(capsys, *p, "--json", "forget", "alice", "--yes")
    assert json.loads(out)["memories_turns"] == 1
    code, out, _ = run(capsys, *p, "--json", "turns", "alice", "t1")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    "argv",
    [
        ("add", "a/b", "t1", "user", "hi"),
        ("add", "alice", "t1", "user", "   "),
        ("add", "alice", "t1", "user", "hi", "--metadata", "[1]"),
        ("add", "alice", "t1", "user", "hi", "--metadata", "{oops"),
        ("search", "alice", "tea", "--top", "0"),
        ("search", "alice", "tea", "--min-confidence", "3"),
        ("turns", "alice", "t#1"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], db_path: Path, argv: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, "--path", str(db_path), *argv)
    assert code == 2 and err.startswith("error: ")
    code, out, _ = run(capsys, "--path", str(db_path), "--json", "turns", "alice", "t1")
    assert json.loads(out) == []


def test_configuration_errors_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_MEMORY_EMBEDDINGS", "nonsense")
    code, _, err = run(capsys, "--path", str(tmp_path / "x.db"), "turns", "alice", "t1")
    assert code == 1 and "ConfigurationError" in err and "AGENT_MEMORY_EMBEDDINGS" in err


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "agent-memory"
    env = {**os.environ, "AGENT_MEMORY_PATH": str(tmp_path / "cli.db")}
    result = subprocess.run(
        [str(script), "--json", "add", "bob", "t1", "user", "hello"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["content"] == "hello"


def test_demo_runs_the_pipeline_when_a_model_is_configured(
    capsys: pytest.CaptureFixture[str],
    db_path: Path,
    openai_server: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.test_pipeline import answer

    openai_server.script(answer)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    code, out, _ = run(capsys, "--path", str(db_path), "demo")
    assert code == 0, out
    assert "Running the pipeline" in out and "thread summary (trip-to-lisbon)" in out
    assert "user profile:" in out and "model calls:" in out
    assert openai_server.violations == []
