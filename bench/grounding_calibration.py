"""Calibration of the grounding bars on LoCoMo's human-written observations (no model needed).

LoCoMo annotates each session with observations about its speakers ("Caroline attended an
LGBTQ support group") and the turns that support them: true, paraphrased memories with
provenance. The grounding check (``agent_memory.core.grounding``) is run on:

- **supported**: each observation against its own evidence turns (should be kept);
- **unsupported**: each observation against the evidence turns of an observation of another
  conversation (same number of turns; should be dropped as ``unsupported``);
- **copies**: the extraction prompt's example answers against each observation's evidence
  turns (should be dropped as ``prompt_copy``).

Embeddings come from the SDK's local embedder (wordllama), so the run is offline and takes
seconds; ``python bench/grounding_calibration.py [--data PATH] [--limit N]`` prints the keep
rates at the shipped bars and at neighbouring lexical bars.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from agent_memory.core import grounding
from agent_memory.core.prompts import extraction
from agent_memory.embeddings.local import LocalEmbedder

ROOT: Final = Path(__file__).resolve().parent.parent


def _locomo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_locomo", ROOT / "bench" / "locomo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _turn_text(turn: dict[str, Any]) -> str:
    name, when = turn["metadata"]["name"], turn["created_at"]
    return f"{name}: {turn['content']}\n{grounding.date_forms(when)}"


def main(argv: Sequence[str] | None = None) -> int:
    locomo = _locomo()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=locomo.DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=60, help="observations per conversation")
    args = parser.parse_args(argv)
    conversations = locomo.load(args.data)
    rng = random.Random(13)
    cases: list[tuple[str, str, list[str]]] = []  # (kind, claim, sources)
    texts = {
        (c.index, t["id"]): _turn_text(t)
        for c in conversations
        for s in c.sessions
        for t in s.turns
    }
    for conv in conversations:
        others = [
            (c.index, o) for c in conversations if c.index != conv.index for o in c.observations
        ]
        others = [(i, o) for i, o in others if o.evidence]
        for obs in [o for o in conv.observations if o.evidence][: args.limit]:
            own = [texts[(conv.index, i)] for i in obs.evidence]
            cases.append(("supported", obs.text, own))
            index, other = rng.choice(others)
            cases.append(("unsupported", obs.text, [texts[(index, i)] for i in other.evidence]))
            example = extraction.EXAMPLES[len(cases) % len(extraction.EXAMPLES)]
            cases.append(("copies", example, own))
    cases = [c for c in cases if c[2]]
    check = grounding.Check([c[1] for c in cases], [c[2] for c in cases], extraction.GROUNDING)
    verdicts = check.judge(LocalEmbedder().embed(check.texts)).verdicts
    print(f"{len(cases)} cases from {len(conversations)} conversations\n")
    print("| case | n | kept | dropped as unsupported | dropped as prompt_copy |")
    print("|---|--:|--:|--:|--:|")
    for kind in ("supported", "unsupported", "copies"):
        got = Counter(v.reason for c, v in zip(cases, verdicts, strict=True) if c[0] == kind)
        n = sum(got.values())
        print(
            f"| {kind} | {n} | {got[None] / n:.1%} | {got['unsupported'] / n:.1%} "
            f"| {got['prompt_copy'] / n:.1%} |"
        )
    print("\nlexical support alone (keep when >= bar): kept share by case")
    print("| bar | supported | unsupported | copies |\n|--:|--:|--:|--:|")
    for bar in (0.25, 0.34, 0.4, 0.5, 0.6):
        row = []
        for kind in ("supported", "unsupported", "copies"):
            values = [v.lexical for c, v in zip(cases, verdicts, strict=True) if c[0] == kind]
            row.append(f"{sum(x >= bar for x in values) / len(values):.1%}")
        print(f"| {bar} | " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
