"""Chat memory: an assistant that remembers a user across conversations.

Each user message is stored as a turn; before answering, the assistant looks up what it
knows (the user profile and the memories that match the message) and would put that into its
prompt. The pipeline turns the conversation into memories in the background; a second
conversation, days later, starts with that knowledge.

    python Samples/chat_memory.py                 # embedded store in a temporary directory
    python Samples/chat_memory.py --path mem.db   # or a store file of your choice

With a model configured (AI_FOUNDRY_ENDPOINT or OPENAI_API_KEY / OPENAI_BASE_URL) the
pipeline extracts memories; without one, turns are stored and searchable and the sample says
which variables turn the pipeline on.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from agent_memory import MemoryClient

USER = "maya"
FIRST_CHAT = [
    "Hi! I'm Maya, I'm vegetarian and I'm training for a half marathon in October.",
    "Always keep your answers short, please.",
    "Can you suggest a dinner for after a long run?",
]
SECOND_CHAT = ["What should I eat the evening before my race?"]


def context_for(memory: MemoryClient, message: str) -> list[str]:
    """What the assistant would add to its prompt before answering ``message``: the profile,
    the user's standing rules (whatever the message), and the memories that match it."""
    lines = []
    profile = memory.get_user_summary(USER)
    if profile is not None:
        lines.append(f"profile: {profile.content}")
    for rule in memory.get_memories(USER, memory_types=["procedural"]):
        lines.append(f"rule: {rule.content}")
    for hit in memory.search(USER, message, memory_types=["fact", "episodic"]):
        lines.append(f"{hit.kind}: {hit.content}")
    return lines


def chat(memory: MemoryClient, thread: str, messages: list[str]) -> None:
    for message in messages:
        memory.add(USER, thread, "user", message)
        print(f"user:      {message}")
        for line in context_for(memory, message):
            print(f"  recalled {line}")
        reply = "(the assistant's answer, written with the context above)"
        memory.add(USER, thread, "assistant", reply)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, help="store file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "memory.db"
        with MemoryClient(path=path) as memory:
            chat(memory, "monday", FIRST_CHAT)
            if memory.ai is None:
                print("no model configured: set AI_FOUNDRY_ENDPOINT or OPENAI_API_KEY")
            else:
                memory.process_now(USER)  # waits for the background steps, then the rest
                print("\nwhat the assistant now knows about Maya:")
                for m in memory.get_memories(USER):
                    print(f"  [{m.type}] {m.content}")
            print("\n-- a new conversation, days later --")
            chat(memory, "friday", SECOND_CHAT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
