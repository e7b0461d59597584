"""The scripted conversation behind ``agent-memory demo``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from agent_memory.client._sync.client import MemoryClient
from agent_memory.core.models import SearchHit

DEMO_USER: Final = "demo-user"

#: (thread, role, content) in the order they are added.
CONVERSATION: Final[list[tuple[str, str, str]]] = [
    ("trip-to-lisbon", "user", "I'm planning a trip to Lisbon in May with my partner Sam."),
    ("trip-to-lisbon", "assistant", "Lovely! How many days, and what do you both enjoy?"),
    ("trip-to-lisbon", "user", "Five days. We love food markets and long walks, no museums."),
    ("trip-to-lisbon", "assistant", "Then Time Out Market and the Alfama walk are a must."),
    ("trip-to-lisbon", "user", "Keep in mind I'm vegetarian, so I need veggie-friendly places."),
    ("trip-to-lisbon", "assistant", "Noted: I'll only suggest restaurants with vegetarian menus."),
    ("home-office", "user", "My standing desk wobbles at full height. Any fix?"),
    ("home-office", "assistant", "Tighten the crossbar bolts and add a second cross-brace."),
    ("home-office", "user", "The cross-brace worked, the wobble is gone."),
    ("home-office", "user", "Always answer me in short bullet points, please."),
]

#: Memories stated directly (the pipeline derives these from turns when it is configured).
MEMORIES: Final[list[tuple[str, str, str]]] = [
    ("trip-to-lisbon", "fact", "The user is vegetarian."),
    ("trip-to-lisbon", "fact", "The user is travelling to Lisbon in May with their partner Sam."),
    ("home-office", "procedural", "Answer the user in short bullet points."),
]

PIPELINE_HINT: Final = (
    "No model is configured, so the pipeline (fact extraction, reconcile, summaries) is off.\n"
    "To turn it on, set AI_FOUNDRY_ENDPOINT and AI_FOUNDRY_CHAT_DEPLOYMENT_NAME (Azure OpenAI /\n"
    "AI Foundry; AI_FOUNDRY_API_KEY, or Entra ID via az login / managed identity), or\n"
    "OPENAI_API_KEY (plus OPENAI_BASE_URL for another OpenAI-compatible server)."
)

QUERIES: Final = [
    ("What does the user eat?", False),
    ("Where is the user travelling?", True),
    ("How was the desk wobble fixed?", True),
]


def run_demo(
    client: MemoryClient, say: Callable[[str], None], *, user_id: str = DEMO_USER
) -> dict[str, object]:
    """Add the scripted turns and memories, then search; return what was shown."""
    removed = client.forget(user_id)
    if any(removed.values()):
        say(f"Cleared the previous demo data of {user_id!r}.")
    start = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    total = len(CONVERSATION)
    for index, (thread, role, content) in enumerate(CONVERSATION, start=1):
        client.add(user_id, thread, role, content, created_at=start + timedelta(minutes=index))
        say(f"[{index:>2}/{total}] {thread:<15} {role:<9} {content}")
    if client.ai is not None:
        say("\nRunning the pipeline (extraction, reconcile, summaries) on what is pending...")
        client.process_now(user_id)
        for memory in client.get_memories(user_id):
            say(f"  {memory.type:<10} {memory.confidence:.2f}  {memory.content}")
        for thread in sorted({t for t, _, _ in CONVERSATION}):
            summary = client.get_thread_summary(user_id, thread)
            if summary is not None:
                say(f"thread summary ({thread}): {summary.content}")
        profile = client.get_user_summary(user_id)
        if profile is not None:
            say(f"user profile: {profile.content}")
        usage = client.usage(user_id)
        say(
            f"model calls: {usage.calls}, tokens in/out: {usage.input_tokens}/{usage.output_tokens}"
        )
    else:
        say(f"\n{PIPELINE_HINT}\nStoring three memories directly instead:")
        for thread, kind, content in MEMORIES:
            client.add_memory(user_id, thread, content, type=kind, confidence=0.95)  # type: ignore[arg-type]
            say(f"  remembered ({kind}): {content}")
    results: dict[str, list[SearchHit]] = {}
    for query, with_turns in QUERIES:
        hits = client.search(user_id, query, top=3, include_turns=with_turns)
        results[query] = hits
        scope = "memories and turns" if with_turns else "memories"
        say(f"\nsearch ({scope}): {query}")
        for hit in hits:
            say(f"  {hit.score:.4f}  [{hit.kind}] {hit.content}")
    memories = len(client.get_memories(user_id))
    return {
        "user_id": user_id,
        "turns": total,
        "memories": memories,
        "pipeline": client.ai is not None,
        "searches": results,
    }
