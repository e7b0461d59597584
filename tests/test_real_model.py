"""The pipeline on a real language model (Qwen2.5-Coder-0.5B-Instruct behind llama-server).

Marked ``real_model``. It uses the servers ``scripts/local_model.py up`` started; with
``AGENT_MEMORY_REAL_MODEL=1`` it starts them itself (fetching the weights and building the
server when the cache lacks them: far beyond CI's budget, see bench/README.md). Otherwise it is
skipped with the reason. One command::

    AGENT_MEMORY_REAL_MODEL=1 python -m pytest -m real_model -q
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from agent_memory import MemoryClient

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.real_model

CONVERSATION = [
    ("user", "Hi, I'm Sam. My sister Ingrid lives in Trondheim and studies whales there."),
    ("assistant", "Nice! Trondheim is a lovely city. How can I help you today?"),
    ("user", "I'm allergic to shellfish, so please keep that in mind for recipes."),
    ("assistant", "Noted: no shellfish in any recipe I suggest."),
    ("user", "I want to cook a vegetable curry for Ingrid's visit next weekend."),
    ("assistant", "A chickpea and spinach curry would be a great choice."),
]


def _harness() -> ModuleType:
    path = ROOT / "scripts" / "local_model.py"
    spec = importlib.util.spec_from_file_location("local_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model_env() -> Iterator[dict[str, str]]:
    harness = _harness()
    running = harness.running()
    if running is not None:
        yield running.environment()
        return
    if os.environ.get("AGENT_MEMORY_REAL_MODEL") != "1":
        pytest.skip(
            "no local model server running (start one with `python scripts/local_model.py up`, "
            "or set AGENT_MEMORY_REAL_MODEL=1 to let this test start it)"
        )
    with harness.servers_for("0.5b") as servers:
        yield servers.environment()


def test_a_short_conversation_on_the_real_model(model_env: dict[str, str], tmp_path: Path) -> None:
    env = {
        **model_env,
        "AGENT_MEMORY_PATH": str(tmp_path / "memory.db"),
        "FACT_EXTRACTION_EVERY_N": "1000",  # everything runs in process_now
        "THREAD_SUMMARY_EVERY_N": "1000",
        "USER_SUMMARY_EVERY_N": "1000",
    }
    with MemoryClient.from_env(env) as memory:
        added = memory.add_turns(
            "sam", "dinner", [{"role": role, "content": text} for role, text in CONVERSATION]
        )
        turn_ids = {turn.id for turn in added}
        report = memory.process_now("sam")
        memories = memory.get_memories("sam")
        thread = memory.get_thread_summary("sam", "dinner")
        hits = memory.search("sam", "Where does Sam's sister live?", top=5)
        usage = memory.usage("sam")

    assert memories, f"nothing extracted: {report}"
    for m in memories:
        assert m.source_turn_ids and set(m.source_turn_ids) <= turn_ids
        assert m.prompt_version == "extract_memories@3"
    assert thread is not None and thread.content.strip()
    assert any("trondheim" in h.content.lower() for h in hits), [h.content for h in hits]
    assert usage.calls >= 2 and usage.input_tokens > 0 and usage.output_tokens > 0
