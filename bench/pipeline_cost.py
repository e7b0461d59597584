"""Model calls and tokens per 100 turns added one at a time, per threshold profile.

Runs the real pipeline through the public client against the local OpenAI-compatible server
used by the tests (it counts calls and estimates tokens at about four characters a token), so
the figures are about how often the pipeline calls the model, not about any model's quality.

    python bench/pipeline_cost.py            # prints a markdown table
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent_memory import MemoryClient, Settings  # noqa: E402
from agent_memory.core.due import HIGH_VOLUME, Thresholds  # noqa: E402
from tests.support.openai_server import FakeOpenAIServer  # noqa: E402

TOPICS = ["hiking", "sourdough", "tax forms", "a trip to Kyoto", "the new laptop", "running"]


def conversation(turns: int) -> list[tuple[str, str, str]]:
    """(thread, role, content) alternating user and assistant over three threads."""
    out = []
    for i in range(turns):
        topic = TOPICS[i % len(TOPICS)]
        role = "user" if i % 2 == 0 else "assistant"
        text = (
            f"I spent the weekend on {topic} again and want to plan the next step ({i})."
            if role == "user"
            else f"Here is a plan for {topic}: three short steps you can start today ({i})."
        )
        out.append((f"thread-{i % 3}", role, text))
    return out


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """A stand-in model: one memory per extraction, no reconcile changes, short summaries."""
    system = body["messages"][0]["content"]
    if system.startswith("You extract"):
        text = body["messages"][-1]["content"]
        first = json.loads(text.split("<transcript>\n", 1)[1].splitlines()[0])
        return {
            "items": [
                {
                    "bucket": "fact",
                    "content": f"The user said: {first['text'][:60]}",
                    "confidence": 0.9,
                    "tags": ["bench"],
                    "source_turn_ids": [first["turn_id"]],
                    "situation": None,
                    "action": None,
                    "outcome": None,
                }
            ]
        }
    if system.startswith("You maintain"):
        return {"duplicate_groups": [], "contradictions": []}
    if system.startswith("You keep a running summary"):
        return {
            "overview": "A summary.",
            "key_points": ["a point"],
            "decisions": [],
            "open_questions": [],
            "action_items": [],
            "topics": ["bench"],
        }
    return {
        "overview": "A profile.",
        "preferences": [],
        "standing_instructions": [],
        "ongoing_goals": [],
        "notable_experiences": [],
    }


def measure(name: str, thresholds: Thresholds, turns: int) -> dict[str, Any]:
    """Add ``turns`` one at a time, wait for the queued steps, then flush with ``process_now``.

    The sync client runs due steps on a worker thread, so while the model answers the next
    turns are stored and one extraction may cover several of them.
    """
    with FakeOpenAIServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.script(answer)
        settings = Settings(
            store_path=Path(tmp) / "bench.db",
            embeddings="local",
            openai_base_url=server.openai_base_url,
            openai_api_key="bench",
            thresholds=thresholds,
        )
        with MemoryClient(settings=settings) as client:
            for thread, role, content in conversation(turns):
                client.add("bench-user", thread, role, content)
            client.processor.drain()  # the steps the adds queued on the worker thread
            during = server.completed_chat_calls
            client.process_now("bench-user")
            pending = 0
            for thread in client.store.list_threads("bench-user"):
                mark = client.store.get_watermark("bench-user", thread, "extract_memories")
                pending += len(client.store.list_turns("bench-user", thread, after=mark))
            usage = client.usage("bench-user")
        return {
            "profile": name,
            "calls_during": during,
            "calls_total": usage.calls,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "by_step": usage.calls_by_step,
            "pending": pending,
        }


def main() -> int:
    """Print the table for the default and the high-volume profiles."""
    for noisy in ("httpx", "httpx2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args()
    rows = [
        measure("defaults (1/5/10/20)", Thresholds(), args.turns),
        measure("high volume (10/5/25/50)", HIGH_VOLUME, args.turns),
    ]
    print(
        f"| profile | calls while adding {args.turns} turns | calls incl. final process_now "
        "| input tokens | output tokens | calls by step | turns left unextracted |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        steps = ", ".join(f"{k} {v}" for k, v in sorted(r["by_step"].items()))
        print(
            f"| {r['profile']} | {r['calls_during']} | {r['calls_total']} | {r['input_tokens']:,} "
            f"| {r['output_tokens']:,} | {steps} | {r['pending']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
