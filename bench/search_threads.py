"""Search latency on a busy machine: BLAS threads, and the first search of a user.

For 10,000 and 100,000 memories of one user (inserted with ``client.store.create_memory``,
local embeddings), a child process opens the store, loads the embedding model and times the
first hybrid ``search`` (it loads the user's vectors) and then ``--queries`` hybrid searches,
once with the default OpenBLAS threads and once with ``OPENBLAS_NUM_THREADS=1``. For
contrast it also times a bare ``matrix @ query`` (BLAS) over the same vectors.

The second table times the first search of a fresh process three ways, in this order: with
the store's vector files off (every embedding read from SQLite, as before vector files); with
them on and no file yet (read from SQLite, then the file is written); with them on and the file
present (mapped). Run it while the machine is busy, as production machines are.

    python bench/search_threads.py            # prints two markdown tables
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from sdk_latency import (  # type: ignore[import-not-found]  # noqa: E402
    USER,
    load_large,
    memory_texts,
    query_texts,
)

from agent_memory import MemoryClient, SqliteStore  # noqa: E402

CHILD = """
import json, statistics, sys, time
import numpy as np
from agent_memory import MemoryClient
from agent_memory import SqliteStore
path, queries, files = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "on"
with MemoryClient(store=SqliteStore(path, vector_files=files)) as client:
    client.embedder.embed(["load the embedding model first"])
    start = time.perf_counter()
    client.search({user!r}, queries[0], top=10)
    first = time.perf_counter() - start
    times = []
    for q in queries:
        start = time.perf_counter()
        client.search({user!r}, q, top=10)
        times.append(time.perf_counter() - start)
    rows = client.store._vector_rows({user!r}, "memories", client.embedder.dimensions)
    vector = client.embedder.embed([queries[0]])[0]
    bare = []
    for _ in range(len(queries)):
        start = time.perf_counter()
        rows.matrix @ vector
        bare.append(time.perf_counter() - start)
p50, bare50 = statistics.median(times), statistics.median(bare)
print(json.dumps({{"first": first, "p50": p50, "bare": bare50}}))
"""


def measure(
    path: Path, queries: list[str], threads: str | None, files: str = "on"
) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = threads
    code = CHILD.format(user=USER)
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), json.dumps(queries), files],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(20240601)
    print(
        "| memories | BLAS threads | first `search` | `search` hybrid p50 | bare `matrix @ q` p50 |"
    )
    print("|--:|---|--:|--:|--:|")
    first: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"m{n}.db"
            with MemoryClient(store=SqliteStore(path, vector_files=False)) as client:
                load_large(client, memory_texts(rng, n), rng)
            queries = query_texts(rng, args.queries)
            times = [measure(path, queries[:1], "1", "off")["first"]]
            times += [measure(path, queries[:1], "1", "on")["first"] for _ in range(2)]
            first.append(
                f"| {n:,} | {times[0] * 1000:.0f} ms | {times[1] * 1000:.0f} ms "
                f"| {times[2] * 1000:.0f} ms | {times[0] / times[2]:.1f}× |"
            )
            for label, threads in (("default", None), ("1", "1")):
                r = measure(path, queries, threads)
                print(
                    f"| {n:,} | {label} | {r['first'] * 1000:.0f} ms | {r['p50'] * 1000:.2f} ms "
                    f"| {r['bare'] * 1000:.2f} ms |"
                )
    print(
        "\n| memories | first `search`, vectors from SQLite (files off) "
        "| first `search`, no file yet (written) | first `search`, file mapped | speed-up |"
    )
    print("|--:|--:|--:|--:|--:|")
    print("\n".join(first))
    print(f"\n{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end.")
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"took {time.perf_counter() - start:.0f} s", file=sys.stderr)
    raise SystemExit(code)
