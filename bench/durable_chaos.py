"""The durable chaos scenario at full size: 5 users x 20 threads x 200 turns (20,000 turns).

The same scenario as ``tests/test_durable_chaos.py`` (which runs it at 5 x 20 x 20 in CI):
turns written interleaved; the change feed cut into random batches, some redelivered, some
regrouped across their neighbours, delivered out of order; orchestrations of a user
overlapping; 10 % of activity attempts failing and 5 % of activities running twice; some
instances terminated mid-way; one poison thread; the sweeper now and then. Then the same
conversation runs in-process. Prints the figures and the checks.

    python bench/durable_chaos.py                 # full size (several minutes on 2 cores)
    python bench/durable_chaos.py --turns 20      # the CI size
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.durable.chaos import comparable, run_chaos  # noqa: E402
from tests.support.openai_server import FakeOpenAIServer  # noqa: E402


async def run(users: int, threads: int, turns: int) -> int:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        report, durable, in_process = await run_chaos(
            server, Path(tmp), users=users, threads=threads, turns=turns
        )
    checks = {
        "every turn counted once": report.counted
        == {f"user-{u}": threads * turns for u in range(users)},
        "threads counted exactly": all(
            {t: c["turns"] for t, c in s["threads"].items()}
            == {f"thread-{t}": turns for t in range(threads)}
            for s in report.states.values()
        ),
        "memories equal the in-process run": all(
            comparable(durable[u]) == comparable(in_process[u]) for u in in_process
        ),
        "no duplicate memory": all(
            len({m.content_hash for m in ms if m.superseded_by is None})
            == len([m for m in ms if m.superseded_by is None])
            for ms in durable.values()
        ),
        "nothing pending or claimed": all(
            not s["pending"] and not s["in_flight"] for s in report.states.values()
        ),
        "only the poison thread left (quarantined)": report.backlog == ["user-0/thread-1"],
    }
    print(f"Durable chaos, {users} users x {threads} threads x {turns} turns.\n")
    print("| figure | value |\n|---|--:|")
    for key, value in report.figures().items():
        if key in ("counted", "backlog"):
            continue
        shown = f"{value:.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"| {key} | {shown} |")
    print("\n| check | result |\n|---|---|")
    for name, ok in checks.items():
        print(f"| {name} | {'pass' if ok else 'FAIL'} |")
    return 0 if all(checks.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    return asyncio.run(run(args.users, args.threads, args.turns))


if __name__ == "__main__":
    raise SystemExit(main())
