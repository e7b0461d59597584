"""Counter entity state size and time per operation at 100, 1,000 and 10,000 threads of a user.

Drives the entity function ``function_app.py`` registers (the handler the Durable host calls:
JSON state and operation batch in, JSON state and results out, through the
``azure-functions-durable`` entity code) as the host would, one operation per invocation.
Threads are filled with change-feed-like ``record`` operations of 50 threads each, each
followed by the ``complete`` its orchestration would send; at each size, 50 single-thread
``record`` + ``complete`` pairs are timed. Run twice: with the defaults (threads quiet and
without work are evicted beyond ``MAX_THREADS``) and with eviction off, to show what the
bound buys.

    python bench/durable_entity.py            # prints a markdown table (several minutes)
    python bench/durable_entity.py --quick    # 100 and 1,000 threads only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import function_app  # noqa: E402
from agent_memory.core.due import Thresholds  # noqa: E402
from agent_memory.durable import entity  # noqa: E402
from agent_memory.durable.names import COMPLETE, COUNTER_ENTITY, RECORD  # noqa: E402

SIZES = (100, 1_000, 10_000)
TIMED = 50
FILL_BATCH = 50
THRESHOLDS = Thresholds().model_dump(mode="json")  # the SDK defaults: extraction every turn


class Entity:
    """One user's counter entity, invoked through the registered entity function."""

    def __init__(self, handler: Callable[[str], str]) -> None:
        self.handler = handler
        self.exists = False
        self.state: str | None = None
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.seq = 0

    def call(self, operation: str, payload: dict[str, Any]) -> Any:
        message = {
            "self": {"name": COUNTER_ENTITY, "key": "dana"},
            "exists": self.exists,
            "state": self.state,
            "batch": [{"name": operation, "input": json.dumps(json.dumps(payload))}],
        }
        output = json.loads(self.handler(json.dumps(message)))
        self.exists, self.state = output["entityExists"], output["entityState"]
        (result,) = output["results"]
        if result["isError"]:
            raise RuntimeError(result["result"])
        return json.loads(result["result"])

    def batch(self, threads: range) -> None:
        """A change-feed batch with one new turn in each of ``threads``, run to completion."""
        self.now += timedelta(seconds=1)
        turns = []
        for t in threads:
            self.seq += 1
            turns.append({"thread_id": f"thread-{t}", "turn_id": f"t{self.seq}", "lsn": self.seq})
        instance = f"memory-{self.seq}"
        stamp = self.now.isoformat()
        work = self.call(
            RECORD,
            {"instance_id": instance, "now": stamp, "turns": turns, "thresholds": THRESHOLDS},
        )
        self.call(COMPLETE, {"instance_id": instance, "now": stamp, "done": work["steps"]})

    def size(self) -> int:
        return len((self.state or "").encode())


def handler() -> Callable[[str], str]:
    for function in function_app.app.get_functions():
        if function.get_function_name() == COUNTER_ENTITY:
            found: Callable[[str], str] = function.get_user_function()
            return found
    raise LookupError(COUNTER_ENTITY)


def measure(sizes: tuple[int, ...], evict: bool, run: Callable[[str], str]) -> list[dict[str, Any]]:
    saved = entity.MAX_THREADS
    entity.MAX_THREADS = saved if evict else 10**9  # type: ignore[misc]
    try:
        counter = Entity(run)
        rows = []
        filled = 0
        for size in sizes:
            while filled < size - TIMED:
                upto = min(filled + FILL_BATCH, size - TIMED)
                counter.batch(range(filled, upto))
                filled = upto
            times = []
            for t in range(filled, size):
                began = time.perf_counter()
                counter.batch(range(t, t + 1))
                times.append((time.perf_counter() - began) * 1000 / 2)  # record + complete
            filled = size
            tracked = len(json.loads(counter.state or "{}").get("threads", {}))
            rows.append(
                {
                    "threads": size,
                    "evict": evict,
                    "tracked": tracked,
                    "bytes": counter.size(),
                    "p50": statistics.median(times),
                    "mean": statistics.fmean(times),
                }
            )
        return rows
    finally:
        entity.MAX_THREADS = saved  # type: ignore[misc]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 threads only")
    args = parser.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    run = handler()
    rows = measure(sizes, True, run) + measure(sizes, False, run)
    print(f"Counter entity, one user, sizes {', '.join(f'{s:,}' for s in sizes)} threads.\n")
    print(
        "| threads written | eviction | threads in state | state (bytes) | ms/op p50 | ms/op mean |"
    )
    print("|--:|---|--:|--:|--:|--:|")
    for r in rows:
        print(
            f"| {r['threads']:,} | {'on (default)' if r['evict'] else 'off'} | "
            f"{r['tracked']:,} | {r['bytes']:,} | {r['p50']:.2f} | {r['mean']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
