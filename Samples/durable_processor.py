"""The Durable (remote) processor: the agent only writes; another process runs the pipeline.

With ``processor_owner="durable"`` (``MEMORY_PROCESSOR_OWNER=durable``) a client stores turns
and never calls the model. In production the Durable Functions app (``function_app.py``)
reacts to the Cosmos DB change feed and runs the pipeline's activities; the agent calls
``process_now_and_wait`` when it needs the memories of a thread to be up to date.

This sample runs that flow on the embedded store, on one machine: a stand-in for the app runs
the very activity functions the app registers (``agent_memory.durable.host.activities``) against
the same store file, as the app's orchestrator would call them for a new turn.

    python Samples/durable_processor.py [--path FILE]

Needs a model for the processor (AI_FOUNDRY_ENDPOINT or OPENAI_API_KEY / OPENAI_BASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from agent_memory import Settings
from agent_memory.aio import MemoryClient
from agent_memory.durable.host import activities
from agent_memory.durable.host.worker import Worker, use_worker

USER, THREAD = "sam", "trip-planning"


async def remote_processor(settings: Settings, turns: asyncio.Queue[str]) -> None:
    """What the Function app does per change-feed batch: the activities, on the same store."""
    worker = await Worker.open(settings)
    use_worker(worker)
    try:
        while (thread := await turns.get()) != "":
            request = {"user_id": USER, "thread_id": thread}
            extracted = await activities.extract_memories(request)
            await activities.summarize_thread(request)
            print(f"  [processor] extracted {extracted['turns']} turn(s) of {thread}")
    finally:
        use_worker(None)
        await worker.close()


async def run(path: Path) -> int:
    settings = Settings.from_env().override(store_path=path, processor_owner="durable")
    if settings.chat_backend is None:
        print("no model configured: set AI_FOUNDRY_ENDPOINT or OPENAI_API_KEY for the processor")
        return 0
    feed: asyncio.Queue[str] = asyncio.Queue()
    processor = asyncio.create_task(remote_processor(settings, feed))
    async with MemoryClient(settings=settings) as agent:
        for text in [
            "I'm flying to Tokyo in April.",
            "I prefer aisle seats and never red-eye flights.",
        ]:
            await agent.add(USER, THREAD, "user", text)  # returns at once: no model call here
            feed.put_nowait(THREAD)  # in Azure, the change feed delivers the new turn
        print(f"agent wrote 2 turns; pending: {await agent.pending_turns(USER)}")
        await agent.process_now_and_wait(USER, THREAD, timeout=60)
        print(f"after process_now_and_wait: pending {await agent.pending_turns(USER)}")
        for m in await agent.get_memories(USER):
            print(f"  [{m.type}] {m.content}")
        summary = await agent.get_thread_summary(USER, THREAD)
        print(f"  thread summary: {summary.content if summary else None}")
    feed.put_nowait("")
    await processor
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, help="store file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(run(args.path or Path(tmp) / "memory.db"))


if __name__ == "__main__":
    raise SystemExit(main())
