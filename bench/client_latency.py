"""What a caller waits for: ``add`` with a slow model behind the pipeline, and CLI start-up.

1. ``add`` p50 through the public sync client with no model configured, then with the
   in-process pipeline on and a model that takes ``--model-seconds`` (default 2 s) to answer
   every chat call (the local OpenAI-compatible test server, a real socket and the real
   ``openai`` client). The due steps run on the client's worker thread, so ``add`` should stay
   within 2x of the no-model figure; ``close()`` then waits for the queued steps.
2. ``agent-memory --help`` wall time against a bare ``python -c pass`` (both as subprocesses,
   best and median of ``--runs``).

    python bench/client_latency.py          # prints a markdown table
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from pipeline_cost import answer as pipeline_answer  # type: ignore[import-not-found]  # noqa: E402

from agent_memory import MemoryClient, Settings  # noqa: E402
from tests.support.openai_server import FakeOpenAIServer  # noqa: E402

TEXTS = [
    "I moved to Lisbon last spring and still look for a good bakery nearby.",
    "Please keep answers short and in bullet points.",
    "My sister visits in June; we want to hike in Sintra.",
    "The laptop battery dies after two hours, is that normal?",
]


def slow_answer(seconds: float) -> Any:
    """The stand-in model of ``pipeline_cost.py``, answering every chat call after ``seconds``."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        time.sleep(seconds)
        reply: dict[str, Any] = pipeline_answer(body)
        return reply

    return answer


def add_p50(plain: Settings, slow: Settings, turns: int) -> tuple[float, float, float]:
    """p50 of ``add`` in ms without and with a model, and close() of the latter in s.

    The two clients add turns alternately, so both see the same load on the machine.
    """
    times: dict[str, list[float]] = {"plain": [], "slow": []}
    clients = {"plain": MemoryClient(settings=plain), "slow": MemoryClient(settings=slow)}
    try:
        for client in clients.values():
            for i in range(5):
                client.add("warm-up", "t", "user", TEXTS[i % len(TEXTS)])
            client.processor.drain()
        for i in range(turns):
            for name, client in clients.items():
                start = time.perf_counter()
                client.add("bench-user", f"thread-{i % 2}", "user", TEXTS[i % len(TEXTS)])
                times[name].append(time.perf_counter() - start)
    finally:
        clients["plain"].close()
        start = time.perf_counter()
        clients["slow"].close()
    closed = time.perf_counter() - start
    return (
        statistics.median(times["plain"]) * 1000.0,
        statistics.median(times["slow"]) * 1000.0,
        closed,
    )


def startup(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) in ms of running ``argv``."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        wall.append((time.perf_counter() - start) * 1000.0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cpu.append(used * 1000.0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    """Print the table."""
    for noisy in ("httpx", "httpx2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--model-seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        server.script(slow_answer(args.model_seconds))
        plain = Settings(store_path=Path(tmp) / "plain.db", embeddings="local")
        slow = Settings(
            store_path=Path(tmp) / "slow.db",
            embeddings="local",
            openai_base_url=server.openai_base_url,
            openai_api_key="bench",
        )
        without, with_model, closed = add_p50(plain, slow, args.turns)
        calls = server.completed_chat_calls
    rows.append(("`add` p50, no model", f"{without:.2f} ms"))
    rows.append(
        (
            f"`add` p50, pipeline on, model answering in {args.model_seconds:g} s",
            f"{with_model:.2f} ms",
        )
    )
    rows.append(("ratio (goal ≤ 2×)", f"{with_model / without:.2f}×"))
    rows.append(("`close()` waiting for the queued steps", f"{closed:.1f} s ({calls} model calls)"))
    bare = startup([sys.executable, "-c", "pass"], args.runs)
    script = Path(sys.executable).parent / "agent-memory"
    cli = startup([str(script), "--help"], args.runs)
    rows.append(("`python -c pass`: wall / CPU (median)", f"{bare[0]:.0f} / {bare[1]:.0f} ms"))
    rows.append(("`agent-memory --help`: wall / CPU (median)", f"{cli[0]:.0f} / {cli[1]:.0f} ms"))
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
