"""The async client keeps the event loop free: CPU-bound embedding runs in a worker thread."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from agent_memory import LocalEmbedder
from agent_memory.aio import MemoryClient as AsyncMemoryClient

WORDS = "the a river garden meeting budget travel recipe sourdough mountain train city".split()


def turns(n: int, chars: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = ""
        while len(text) < chars:
            text += rng.choice(WORDS) + " "
        out.append({"role": "user", "content": text[:chars]})
    return out


async def longest_stall(work: asyncio.Future[object]) -> float:
    """The longest the loop went without running a 1 ms heartbeat while ``work`` ran."""
    worst, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        worst, last = max(worst, now - last), now
    await work
    return worst


async def test_add_turns_of_long_turns_does_not_hold_the_loop(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    batch = turns(50, 1_800, seed=1)
    inline = float("inf")  # what embedding on the loop would hold it for, in this run
    for _ in range(3):
        started = time.perf_counter()
        embedder.embed([t["content"] for t in batch])
        inline = min(inline, time.perf_counter() - started)
    async with AsyncMemoryClient(path=tmp_path / "m.db") as memory:
        await memory.add_turns("u", "warm-up", turns(2, 100, seed=3))
        stalls = []  # best of three: a busy machine can pause any thread now and then
        for thread in ("t", "t2", "t3"):
            work = asyncio.ensure_future(memory.add_turns("u", thread, batch))
            stalls.append(await longest_stall(work))
        stall = min(stalls)
        assert len(await memory.get_turns("u", "t")) == 50
        hits = await memory.search("u", "sourdough", include_turns=True)
        assert hits
    print(f"embedding inline {inline * 1000:.0f} ms; longest loop stall {stall * 1000:.0f} ms")
    assert stall < inline / 3
