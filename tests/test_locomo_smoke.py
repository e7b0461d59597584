"""A small LoCoMo run (one conversation, a few questions) through ``bench/locomo.py``.

The data set (CC BY-NC) is never part of this repository: it is read from
``../shared/data/locomo10.json`` relative to the repository root, and the end-to-end test is
skipped when it is absent. The parsing tests need no data.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "locomo10.json"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_locomo", ROOT / "bench" / "locomo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


locomo = _bench()


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        ("D1:3", ["D1:3"]),
        ("D8:6; D9:17", ["D8:6", "D9:17"]),
        ("D:11:26", ["D11:26"]),
        ("D9:1 D4:4 D4:6", ["D9:1", "D4:4", "D4:6"]),
        ("D26:14, D26:34", ["D26:14", "D26:34"]),
        ("D", []),
        (["D15:3", "D15:5"], ["D15:3", "D15:5"]),
        (None, []),
    ],
)
def test_malformed_evidence_ids_are_repaired(raw: object, ids: list[str]) -> None:
    assert locomo.evidence_ids(raw) == ids


def test_session_dates_and_turns_become_add_turns_dicts() -> None:
    when = locomo.session_date("1:56 pm on 8 May, 2023")
    assert when == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    raw = {"speaker": "Mel", "dia_id": "D1:5", "text": "Look!", "blip_caption": "a dog"}
    assert locomo.turn_input(raw, when) == {
        "id": "D1:5",
        "role": "user",
        "content": "Look! [image: a dog]",
        "metadata": {"name": "Mel"},
        "created_at": when,
    }


def test_recall_counts_the_share_of_evidence_found() -> None:
    score = locomo.Score()
    score.add(1, ["a", "b"], [{"x"}, {"a"}, {"y"}, {"z"}, {"w"}, {"b"}])
    score.add(4, ["c"], [{"c"}])
    assert score.recall(5) == pytest.approx((0.5 + 1.0) / 2)
    assert score.recall(10) == pytest.approx(1.0)
    assert score.recall(5, 1) == pytest.approx(0.5)


@pytest.mark.skipif(
    not DATA.exists(),
    reason=f"LoCoMo data not found at {DATA} (../shared/data/locomo10.json from the repo root)",
)
def test_locomo_smoke_run(tmp_path: Path) -> None:
    result = locomo.run(DATA, conversations=[0], questions=40, directory=tmp_path)
    scores = {mode: result.scores[("turns", "dev", mode)] for mode in locomo.MODES}
    assert all(s.questions == 40 for s in scores.values())
    # Floors, not the benchmark's verdict: 40 questions are too few to rank text against hybrid.
    assert scores["hybrid"].recall(10) >= 0.55
    assert scores["text"].recall(10) >= 0.5
    assert scores["hybrid"].recall(10) > scores["vector"].recall(10)
    memories = result.scores[("memories", "dev", "hybrid")]
    assert memories.questions == 40 and memories.recall(10) > 0.3
    assert result.ingested["turns"] == 419
    block = locomo.render(result)
    assert "product `search` (hybrid, default)" in block and "turns/s" in block
