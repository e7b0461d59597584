"""The SDK leaves the application's logging as it was and logs under its own logger."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import answer

PROGRAM = """
import json, logging, sys
setup = sys.argv[3]
if setup == "configured":
    logging.basicConfig(level=logging.ERROR, format="HOST %(message)s")
root = logging.getLogger()
before = (root.level, [type(h).__name__ for h in root.handlers])
from agent_memory import MemoryClient
env = {"AGENT_MEMORY_PATH": sys.argv[1], "OPENAI_BASE_URL": sys.argv[2],
       "OPENAI_API_KEY": "sk-test", "AGENT_MEMORY_EMBEDDINGS": "local"}
with MemoryClient.from_env(env) as memory:
    memory.add("dana", "kitchen", "user", "Hi! I'm Dana. I've been vegetarian for ten years.")
    memory.search("dana", "vegetarian")
after = (root.level, [type(h).__name__ for h in root.handlers])
sdk = [type(h).__name__ for h in logging.getLogger("agent_memory").handlers]
print(json.dumps({"before": before, "after": after, "sdk": sdk}))
"""


def run(server: FakeOpenAIServer, path: Path, setup: str) -> tuple[dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(path), server.openai_base_url, setup],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_a_fresh_application_keeps_its_root_logger_and_sees_no_http_lines(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(answer)
    state, stderr = run(openai_server, tmp_path / "m.db", "fresh")
    assert state["before"] == state["after"] == [30, []]
    assert state["sdk"] == ["NullHandler"]
    assert openai_server.completed_chat_calls >= 1  # the model was called ...
    assert "HTTP Request" not in stderr and "INFO" not in stderr  # ... and nothing was printed
    assert stderr == ""


def test_an_application_that_configured_logging_keeps_its_configuration(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(answer)
    state, stderr = run(openai_server, tmp_path / "m.db", "configured")
    assert state["before"] == state["after"] == [40, ["StreamHandler"]]
    assert "HTTP Request" not in stderr
