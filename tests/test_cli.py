"""The agent-memory command line, run as a user runs it: the installed script, a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from agent_memory.demo import CONVERSATION, MEMORIES, QUERIES
from tests.support.openai_server import FakeOpenAIServer

SCRIPT = str(Path(sys.executable).parent / "agent-memory")
#: Variables of the developer's shell that would change what the command does.
CLEARED = ("COSMOS_DB_ENDPOINT", "AI_FOUNDRY_ENDPOINT", "OPENAI_API_KEY", "OPENAI_BASE_URL")


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED and k != "AGENT_MEMORY_PATH"}
    return {**env, **extra}


def cli(
    *argv: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or environment(),
        input=stdin,
        timeout=120,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    return result.stderr


def test_help_loads_nothing_heavy(tmp_path: Path) -> None:
    assert "import" in ok(cli("--help", cwd=tmp_path))
    probe = (
        "import sys\n"
        "from agent_memory.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('numpy', 'pydantic', 'openai', 'sqlite3', 'wordllama') "
        "if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_read_commands_never_create_a_store(tmp_path: Path) -> None:
    reads = [
        ("turns", "list", "alice", "t1"),
        ("memories", "list", "alice"),
        ("memories", "show", "alice", "mem-1"),
        ("search", "alice", "bees"),
        ("summary", "user", "alice"),
        ("usage", "alice"),
        ("status",),
        ("export", "alice"),
        ("forget", "alice", "--yes"),
    ]
    for argv in reads:
        err = one_line_error(cli("--path", "typo.db", *argv, cwd=tmp_path), 1)
        assert "no store at typo.db" in err
    for argv in reads[:2]:
        err = one_line_error(cli(*argv, cwd=tmp_path), 1)
        assert "no store at .agent_memory/memory.db" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_rejected_input_writes_nothing_and_creates_nothing(tmp_path: Path) -> None:
    for argv in [
        ("add", "a/b", "t1", "user", "hi"),
        ("add", "alice", "t1", "robot", "hi"),
        ("add", "alice", "t1", "user", "   "),
        ("add", "alice", "t1", "user", "hi", "--metadata", "[1]"),
        ("add", "alice", "t1", "user", "hi", "--created-at", "yesterday"),
        ("memories", "add", "alice", "t1", "x", "--type", "opinion"),
        ("memories", "add", "alice", "t1", "x", "--confidence", "3"),
        ("forget", "alice"),
        ("search", "alice"),
        ("nonsense",),
    ]:
        one_line_error(cli("--path", "new/memory.db", *argv, cwd=tmp_path), 2)
    assert list(tmp_path.iterdir()) == []
    err = one_line_error(cli("--path", str(tmp_path), "turns", "list", "a", "t", cwd=tmp_path), 1)
    assert "is a directory" in err


def test_turns_memories_search_forget(tmp_path: Path) -> None:
    p = ("--path", "m.db")
    out = ok(cli(*p, "add", "alice", "t1", "user", "I keep bees on my roof", cwd=tmp_path))
    assert "added turn-" in out
    add = ("turns", "add", "alice", "t1", "assistant", "Bees need water nearby.")
    first = json.loads(ok(cli(*p, "--json", *add, "--turn-id", "m-2", cwd=tmp_path)))
    again = json.loads(ok(cli(*p, *add, "--turn-id", "m-2", "--json", cwd=tmp_path)))
    assert first == again and first["id"] == "m-2"
    turns = json.loads(ok(cli(*p, "turns", "list", "alice", "t1", "--json", cwd=tmp_path)))
    assert [t["content"] for t in turns] == ["I keep bees on my roof", "Bees need water nearby."]

    rule = ("memories", "add", "alice", "t1", "Always confirm before deleting files.")
    stored = json.loads(ok(cli(*p, "--json", *rule, "--type", "procedural", cwd=tmp_path)))
    fact = ("memories", "add", "alice", "t2", "Alice keeps bees.", "--tag", "hobby")
    ok(cli(*p, *fact, "--confidence", "0.9", cwd=tmp_path))
    listed = ok(cli(*p, "memories", "list", "alice", "--thread", "t9", "--json", cwd=tmp_path))
    assert [m["id"] for m in json.loads(listed)] == [stored["id"]]
    shown = json.loads(
        ok(cli(*p, "memories", "show", "alice", stored["id"], "--json", cwd=tmp_path))
    )
    assert shown["memory"]["type"] == "procedural" and len(shown["history"]) == 1
    hits = json.loads(ok(cli(*p, "--json", "search", "alice", "bees", "--turns", cwd=tmp_path)))
    assert {h["kind"] for h in hits} == {"memory", "turn"}
    one_line_error(cli(*p, "memories", "show", "alice", "mem-x", cwd=tmp_path), 1)

    out = ok(cli(*p, "forget", "alice", "--thread", "t1", "--yes", "--json", cwd=tmp_path))
    assert json.loads(out)["memories_turns"] == 2
    assert "no turns" in ok(cli(*p, "turns", "list", "alice", "t1", cwd=tmp_path))


def test_the_pipeline_from_the_command_line(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    from tests.test_pipeline import CONVERSATION as TALK
    from tests.test_pipeline import answer

    openai_server.script(answer)
    env = environment(
        AGENT_MEMORY_PATH=str(tmp_path / "m.db"),
        OPENAI_BASE_URL=openai_server.openai_base_url,
        OPENAI_API_KEY="sk-test",
        FACT_EXTRACTION_EVERY_N="0",
        THREAD_SUMMARY_EVERY_N="0",
        USER_SUMMARY_EVERY_N="0",
    )
    lines = "\n".join(
        json.dumps({"id": f"k{i}", "role": role, "content": text})
        for i, (role, text) in enumerate(TALK)
    )
    out = ok(
        cli(
            "import",
            "-",
            "--user",
            "dana",
            "--thread",
            "kitchen",
            env=env,
            cwd=tmp_path,
            stdin=lines,
        )
    )
    assert f"imported {len(TALK)} new turns (0 already present) into 1 threads" in out
    status = json.loads(ok(cli("status", "dana", "--json", env=env, cwd=tmp_path)))
    assert status["model"] == "openai: gpt-4o-mini"
    assert status["user"]["threads"] == {"kitchen": len(TALK)}
    report = json.loads(ok(cli("process", "dana", "--json", env=env, cwd=tmp_path)))
    assert report["extracted"]["kitchen"]["turns"] == len(TALK)
    assert "0 turns pending" in ok(cli("status", "dana", env=env, cwd=tmp_path))
    every = json.loads(
        ok(cli("memories", "list", "dana", "--superseded", "--json", env=env, cwd=tmp_path))
    )
    veg = next(m for m in every if m["content"] == "Dana is vegetarian.")
    assert veg["superseded_by"] is not None
    shown = json.loads(
        ok(cli("memories", "show", "dana", veg["id"], "--json", env=env, cwd=tmp_path))
    )
    assert [m["id"] for m in shown["history"]] == [veg["id"], veg["superseded_by"]]
    assert "history (oldest first)" in ok(
        cli("memories", "show", "dana", veg["id"], env=env, cwd=tmp_path)
    )
    assert ok(cli("summary", "thread", "dana", "kitchen", env=env, cwd=tmp_path)).strip()
    assert "home baker" in ok(cli("summary", "user", "dana", env=env, cwd=tmp_path))
    usage = json.loads(ok(cli("usage", "dana", "--json", env=env, cwd=tmp_path)))
    assert usage["calls"] == openai_server.completed_chat_calls
    result = json.loads(ok(cli("reconcile", "dana", "-n", "10", "--json", env=env, cwd=tmp_path)))
    assert result["considered"] >= 2
    counts = json.loads(ok(cli("export", "dana", "-o", "d.jsonl", "--json", env=env, cwd=tmp_path)))
    kinds = [json.loads(line)["record"] for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert counts == {kind: kinds.count(kind) for kind in ("turn", "memory", "summary", "usage")}
    assert counts["summary"] == 2 and counts["usage"] == usage["calls"] + 1
    assert openai_server.violations == []


def test_export_then_import_moves_a_user(tmp_path: Path) -> None:
    src = ("--path", "a.db")
    for i, text in enumerate(["first", "second", "third"]):
        ok(cli(*src, "add", "alice", f"t{i % 2}", "user", text, "--turn-id", f"x{i}", cwd=tmp_path))
    ok(cli(*src, "memories", "add", "alice", "t0", "Alice counts.", cwd=tmp_path))
    (tmp_path / "alice.jsonl").write_text(ok(cli(*src, "export", "alice", cwd=tmp_path)))
    records = [json.loads(line) for line in (tmp_path / "alice.jsonl").read_text().splitlines()]
    assert [r["record"] for r in records].count("turn") == 3
    assert any(r["record"] == "memory" for r in records)

    dst = ("--path", "b.db")
    out = json.loads(ok(cli(*dst, "import", "alice.jsonl", "--json", cwd=tmp_path)))
    assert out == {
        "turns": 3,
        "turns_present": 0,
        "threads": 2,
        "memories": 1,
        "summaries": 0,
        "skipped_usage": 0,
    }
    again = ok(cli(*dst, "import", "-", cwd=tmp_path, stdin=(tmp_path / "alice.jsonl").read_text()))
    assert again.startswith("imported 0 new turns (3 already present)")  # known ids: kept
    moved = json.loads(ok(cli(*dst, "turns", "list", "alice", "t0", "--json", cwd=tmp_path)))
    original = [r for r in records if r["record"] == "turn" and r["thread_id"] == "t0"]
    assert [(t["id"], t["created_at"]) for t in moved] == [
        (r["id"], r["created_at"]) for r in original
    ]
    (tmp_path / "bad.jsonl").write_text('{"role": "user", "content": "ok"}\n{"role": "user"}\n')
    err = one_line_error(
        cli("--path", "c.db", "import", "bad.jsonl", "--user", "u", "--thread", "t", cwd=tmp_path),
        2,
    )
    assert "line 2" in err and not (tmp_path / "c.db").exists()


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    ok(cli("--path", "m.db", "add", "alice", "t1", "user", "hello", cwd=tmp_path))
    proc = subprocess.Popen(
        [SCRIPT, "--path", "m.db", "turns", "list", "alice", "t1", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environment(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` exiting before the output is written
    assert proc.wait(120) == 141
    assert proc.stderr.read() == b""


def test_ctrl_c_exits_130_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [SCRIPT, "--path", "m.db", "import", "-", "--user", "u", "--thread", "t"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environment(),
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "m.db").exists():  # the store is open: main() is reading stdin
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err == b""


def test_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import pty

    lines = "\n".join(json.dumps({"role": "user", "content": f"turn {i}"}) for i in range(250))
    (tmp_path / "talk.jsonl").write_text(lines)
    master, slave = pty.openpty()
    result = subprocess.run(
        [SCRIPT, "--path", "m.db", "import", "talk.jsonl", "--user", "u", "--thread", "t"],
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=tmp_path,
        env=environment(),
        timeout=120,
    )
    os.close(slave)
    shown = os.read(master, 65536).decode()
    os.close(master)
    assert result.returncode == 0
    assert "importing [" in shown and "250/250" in shown
    piped = cli(
        "--path", "n.db", "import", "talk.jsonl", "--user", "u", "--thread", "t", cwd=tmp_path
    )
    assert ok(piped).startswith("imported 250 new turns")


def test_demo_adds_searches_and_can_run_twice(tmp_path: Path) -> None:
    out = ok(cli("demo", cwd=tmp_path))
    assert f"[{len(CONVERSATION)}/{len(CONVERSATION)}]" in out
    for query, _ in QUERIES:
        assert query in out
    assert "[memory] The user is vegetarian." in out
    assert "AI_FOUNDRY_ENDPOINT" in out and "OPENAI_API_KEY" in out
    report: dict[str, Any] = json.loads(ok(cli("demo", "--json", cwd=tmp_path)))
    assert report["turns"] == len(CONVERSATION) and report["memories"] == len(MEMORIES)
    diet = report["searches"]["What does the user eat?"]
    assert diet[0]["memory"]["content"] == "The user is vegetarian."
    assert "embedding" not in json.dumps(report)


def test_demo_runs_the_pipeline_when_a_model_is_configured(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    from tests.test_pipeline import answer

    openai_server.script(answer)
    env = environment(OPENAI_BASE_URL=openai_server.openai_base_url, OPENAI_API_KEY="sk-test")
    out = ok(cli("demo", cwd=tmp_path, env=env))
    assert "Running the pipeline" in out and "thread summary (trip-to-lisbon)" in out
    assert "user profile:" in out and "model calls:" in out
    assert openai_server.violations == []


def test_configuration_errors_exit_1(tmp_path: Path) -> None:
    env = environment(AGENT_MEMORY_EMBEDDINGS="nonsense")
    err = one_line_error(cli("add", "alice", "t1", "user", "hi", cwd=tmp_path, env=env), 1)
    assert "ConfigurationError" in err and "AGENT_MEMORY_EMBEDDINGS" in err
    assert list(tmp_path.iterdir()) == []


def test_an_ai_foundry_endpoint_alone_names_the_missing_deployment(tmp_path: Path) -> None:
    ok(cli("--path", "m.db", "add", "alice", "t1", "user", "hi", cwd=tmp_path))
    before = (tmp_path / "m.db").read_bytes()
    env = environment(
        AI_FOUNDRY_ENDPOINT="https://example.openai.azure.com", AI_FOUNDRY_API_KEY="k"
    )
    for argv in (("add", "alice", "t1", "user", "again"), ("turns", "list", "alice", "t1")):
        err = one_line_error(cli("--path", "m.db", *argv, cwd=tmp_path, env=env), 1)
        assert err.startswith("error: ConfigurationError: AI_FOUNDRY_ENDPOINT is set but ")
        assert "AI_FOUNDRY_CHAT_DEPLOYMENT_NAME is not" in err
        assert "AI_FOUNDRY_EMBEDDING_DEPLOYMENT_NAME" in err and "256" not in err
    assert (tmp_path / "m.db").read_bytes() == before
