"""LoCoMo retrieval benchmark of the product's own search (offline, reproducible).

For each of the 10 LoCoMo conversations (Maharana et al., 2024; data under CC BY-NC 4.0, read
from ``--data`` and never copied into this repository):

1. every turn is written through the public sync ``MemoryClient.add_turns`` — one user per
   conversation, one thread per session, the dataset's ``dia_id`` (``D1:3``) as the turn id,
   the session's date as ``created_at``, the speaker as ``metadata["name"]`` and an image's
   caption appended to the text (``[image: ...]``);
2. each question of categories 1–4 that has evidence is asked with
   ``client.search(user_id, question, top=10, include_turns=True)`` in ``hybrid`` (the
   product default), ``text`` (full text only) and ``vector`` (the local embedder only) mode,
   and recall@5 / recall@10 of its evidence turn ids is scored;
3. in the ``memories`` mode, LoCoMo's ``observation`` entries are written as ``fact``
   memories with ``add_memory`` (their evidence ids as ``source_turn_ids``; no LLM) and the
   same questions search the memories: a hit recalls the turns named by its
   ``source_turn_ids``.

Categories are LoCoMo's own ids: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop
(category 5, adversarial, is skipped). mem0's paper names them differently. Conversations
0–4 are the dev split (tune on these only), 5–9 the test split.

Run ``python bench/locomo.py`` (``--write`` replaces the LoCoMo block of ``bench/README.md``;
``--conversations 0 --questions 20`` is a smoke run).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from agent_memory import MemoryClient
from agent_memory.core.models import SearchMode

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_DATA: Final = ROOT.parent / "shared" / "data" / "locomo10.json"
README: Final = Path(__file__).resolve().parent / "README.md"
BEGIN_MARKER: Final = "<!-- locomo:results:begin -->"
END_MARKER: Final = "<!-- locomo:results:end -->"

KS: Final = (5, 10)
TOP: Final = max(KS)
CATEGORIES: Final = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
DEV: Final = frozenset(range(5))
MODES: Final[tuple[SearchMode, ...]] = ("text", "vector", "hybrid")
MODE_LABELS: Final = {
    "text": 'full text only (`mode="text"`)',
    "vector": 'vector only, local embedder (`mode="vector"`)',
    "hybrid": "**product `search` (hybrid, default)**",
}
GOAL_R10: Final = 0.65

Kind = Literal["turns", "memories"]

_EVIDENCE: Final = re.compile(r"D:?(\d+):(\d+)")
_SESSION: Final = re.compile(r"session_(\d+)")


# -- data ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Question:
    """A question with the ids of the turns that answer it."""

    text: str
    category: int
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Observation:
    """One of LoCoMo's per-session observations about a speaker, with its evidence turns."""

    session: int
    text: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Session:
    """A session: its number, its date and its turns as ``add_turns`` dicts."""

    number: int
    when: datetime
    turns: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Conversation:
    """One LoCoMo sample, ready to ingest and query."""

    index: int
    sample_id: str
    sessions: tuple[Session, ...]
    questions: tuple[Question, ...]
    observations: tuple[Observation, ...]
    dropped_evidence: int

    @property
    def user_id(self) -> str:
        return f"locomo-{self.sample_id}"

    @property
    def turn_count(self) -> int:
        return sum(len(s.turns) for s in self.sessions)


def evidence_ids(raw: object) -> list[str]:
    """Turn ids in ``raw``, repairing LoCoMo's malformed ones (``D8:6; D9:17``, ``D:11:26``)."""
    if isinstance(raw, str):
        return [f"D{m.group(1)}:{m.group(2)}" for m in _EVIDENCE.finditer(raw)]
    if isinstance(raw, list):
        return [i for item in raw for i in evidence_ids(item)]
    return []


def session_date(text: str) -> datetime:
    """``'1:56 pm on 8 May, 2023'`` as an aware UTC datetime."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def turn_input(raw: dict[str, Any], when: datetime) -> dict[str, Any]:
    """An ``add_turns`` dict: the text (with an image's caption), speaker and session date."""
    content = str(raw["text"]).strip()
    caption = raw.get("blip_caption")
    if caption:
        content = f"{content} [image: {caption}]".strip()
    return {
        "id": raw["dia_id"],
        "role": "user",
        "content": content,
        "metadata": {"name": raw["speaker"]},
        "created_at": when,
    }


def load(path: Path) -> list[Conversation]:
    """The LoCoMo conversations of ``path``."""
    samples = json.loads(path.read_text(encoding="utf-8"))
    return [_conversation(i, sample) for i, sample in enumerate(samples)]


def _conversation(index: int, sample: dict[str, Any]) -> Conversation:
    conv = sample["conversation"]
    sessions: list[Session] = []
    for key, value in conv.items():
        match = _SESSION.fullmatch(key)
        if match is None or not isinstance(value, list) or not value:
            continue
        when = session_date(conv[f"{key}_date_time"])
        turns = tuple(turn_input(raw, when) for raw in value)
        sessions.append(Session(int(match.group(1)), when, turns))
    sessions.sort(key=lambda s: s.number)
    known = {t["id"] for s in sessions for t in s.turns}
    questions: list[Question] = []
    dropped = 0
    for qa in sample["qa"]:
        if qa.get("category") not in CATEGORIES:
            continue
        ids = list(dict.fromkeys(evidence_ids(qa.get("evidence"))))
        kept = tuple(i for i in ids if i in known)
        dropped += len(ids) - len(kept)
        if kept:
            questions.append(Question(str(qa["question"]), int(qa["category"]), kept))
    observations: list[Observation] = []
    for key, by_speaker in sample.get("observation", {}).items():
        number = int(key.split("_")[1])
        for entries in by_speaker.values():
            for text, raw_ids in entries:
                found = tuple(i for i in dict.fromkeys(evidence_ids(raw_ids)) if i in known)
                if str(text).strip():
                    observations.append(Observation(number, str(text).strip(), found))
    return Conversation(
        index=index,
        sample_id=str(sample["sample_id"]),
        sessions=tuple(sessions),
        questions=tuple(questions),
        observations=tuple(observations),
        dropped_evidence=dropped,
    )


def thread_of(session: int) -> str:
    return f"session-{session}"


# -- scoring ------------------------------------------------------------------------------


@dataclass(slots=True)
class Score:
    """Recall sums per category, to average at the end."""

    hits: dict[tuple[int, int], float] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, category: int, evidence: Sequence[str], ranked: Sequence[set[str]]) -> None:
        """Score one question: ``ranked[i]`` is the set of turn ids the i-th hit recalls."""
        wanted = set(evidence)
        self.counts[category] = self.counts.get(category, 0) + 1
        for k in KS:
            got: set[str] = set().union(*ranked[:k]) if ranked else set()
            key = (category, k)
            self.hits[key] = self.hits.get(key, 0.0) + len(wanted & got) / len(wanted)

    def merge(self, other: Score) -> None:
        for key, value in other.hits.items():
            self.hits[key] = self.hits.get(key, 0.0) + value
        for cat, n in other.counts.items():
            self.counts[cat] = self.counts.get(cat, 0) + n

    def recall(self, k: int, category: int | None = None) -> float:
        cats = list(self.counts) if category is None else [category]
        n = sum(self.counts.get(c, 0) for c in cats)
        return sum(self.hits.get((c, k), 0.0) for c in cats) / n if n else float("nan")

    @property
    def questions(self) -> int:
        return sum(self.counts.values())


@dataclass(slots=True)
class Run:
    """Everything one benchmark run measured."""

    scores: dict[tuple[Kind, str, SearchMode], Score] = field(default_factory=dict)
    latencies: dict[tuple[Kind, SearchMode], list[float]] = field(default_factory=dict)
    ingest_seconds: dict[Kind, float] = field(default_factory=dict)
    ingested: dict[Kind, int] = field(default_factory=dict)
    conversations: list[int] = field(default_factory=list)
    loaded: list[Conversation] = field(default_factory=list)
    dropped_evidence: int = 0
    seconds: float = 0.0

    def score(self, kind: Kind, split: str, mode: SearchMode) -> Score:
        return self.scores.setdefault((kind, split, mode), Score())


def split_of(index: int) -> str:
    return "dev" if index in DEV else "test"


def ingest_turns(client: MemoryClient, conv: Conversation) -> None:
    """Write every session of ``conv`` as one ``add_turns`` batch."""
    for session in conv.sessions:
        client.add_turns(conv.user_id, thread_of(session.number), list(session.turns))


def ingest_memories(client: MemoryClient, conv: Conversation, user_id: str) -> int:
    """Write the observations of ``conv`` as fact memories; return how many calls."""
    for obs in conv.observations:
        client.add_memory(
            user_id,
            thread_of(obs.session),
            obs.text,
            type="fact",
            source_turn_ids=list(obs.evidence),
        )
    return len(conv.observations)


def ask(
    client: MemoryClient,
    user_id: str,
    kind: Kind,
    questions: Iterable[Question],
    mode: SearchMode,
    score: Score,
    latencies: list[float],
) -> None:
    """Search each question in ``mode`` and score the recalled turn ids."""
    clock = time.perf_counter
    for q in questions:
        start = clock()
        hits = client.search(user_id, q.text, top=TOP, include_turns=kind == "turns", mode=mode)
        latencies.append(clock() - start)
        ranked: list[set[str]] = []
        for hit in hits:
            if hit.turn is not None:
                ranked.append({hit.turn.id})
            elif hit.memory is not None:
                ranked.append(set(hit.memory.source_turn_ids))
        score.add(q.category, q.evidence, ranked)


def run(
    data: Path,
    *,
    conversations: Sequence[int] | None = None,
    questions: int | None = None,
    kinds: Sequence[Kind] = ("turns", "memories"),
    directory: Path | None = None,
    log: bool = False,
) -> Run:
    """Ingest and query the selected conversations; ``questions`` caps each conversation's."""
    convs = load(data)
    chosen = [convs[i] for i in conversations] if conversations is not None else convs
    result = Run(conversations=[c.index for c in chosen], loaded=chosen)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agent-memory-locomo-") as tmp:
        path = (directory or Path(tmp)) / "locomo.db"
        with MemoryClient(path=path) as client:
            client.search("warm-up", "warm up the embedder", top=1)
            for conv in chosen:
                asked = conv.questions[:questions] if questions is not None else conv.questions
                result.dropped_evidence += conv.dropped_evidence
                split = split_of(conv.index)
                for kind in kinds:
                    clock = time.perf_counter()
                    if kind == "turns":
                        user_id = conv.user_id
                        ingest_turns(client, conv)
                        count = conv.turn_count
                    else:
                        user_id = f"{conv.user_id}-observations"
                        count = ingest_memories(client, conv, user_id)
                    result.ingest_seconds[kind] = result.ingest_seconds.get(kind, 0.0) + (
                        time.perf_counter() - clock
                    )
                    result.ingested[kind] = result.ingested.get(kind, 0) + count
                    for mode in MODES:
                        ask(
                            client,
                            user_id,
                            kind,
                            asked,
                            mode,
                            result.score(kind, split, mode),
                            result.latencies.setdefault((kind, mode), []),
                        )
                if log:
                    hybrid = result.score("turns", split, "hybrid")
                    print(
                        f"conversation {conv.index} ({conv.sample_id}): {len(asked)} questions, "
                        f"{split} hybrid R@10 so far {hybrid.recall(10):.3f}, "
                        f"{time.perf_counter() - started:.1f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    result.seconds = time.perf_counter() - started
    return result


# -- output -------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line describing where the numbers come from."""
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("numpy", "wordllama")
    )
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {versions}"
    )


def _pct(seconds: Sequence[float]) -> tuple[float, float]:
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    p50, p95 = (float(v) for v in np.percentile(ms, [50.0, 95.0]))
    return p50, p95


def _table(result: Run, kind: Kind, labels: dict[str, str]) -> list[str]:
    head = "| split | ranker | questions | R@5 | R@10 | " + " | ".join(
        f"{c} {name}" for c, name in CATEGORIES.items()
    )
    lines = [head + " |", "|---|---|--:|--:|--:|" + "--:|" * len(CATEGORIES)]
    for split in ("dev", "test", "all"):
        for mode in MODES:
            score = Score()
            for s in ("dev", "test") if split == "all" else (split,):
                part = result.scores.get((kind, s, mode))
                if part is not None:
                    score.merge(part)
            if not score.questions:
                continue
            cats = " | ".join(
                f"{score.recall(5, c):.3f} / {score.recall(10, c):.3f}"
                if score.counts.get(c)
                else "–"
                for c in CATEGORIES
            )
            lines.append(
                f"| {split} | {labels[mode]} | {score.questions} | {score.recall(5):.3f} | "
                f"{score.recall(10):.3f} | {cats} |"
            )
    return lines


def _lead(result: Run, kind: Kind, split: str) -> tuple[float, float, str]:
    """Hybrid R@10 of ``kind`` on ``split``, and the best single ranker's R@10 and name."""
    hybrid = result.scores[(kind, split, "hybrid")].recall(10)
    singles = [
        (result.scores[(kind, split, m)].recall(10), m)
        for m in MODES
        if m != "hybrid" and (kind, split, m) in result.scores
    ]
    best, mode = max(singles) if singles else (float("nan"), "hybrid")
    return hybrid, best, f"`{mode}` mode"


def render(result: Run) -> str:
    """The results block as markdown."""
    convs = result.conversations
    scope = (
        "all 10 conversations"
        if convs == list(range(10))
        else f"conversations {', '.join(map(str, convs))}"
    )
    lines = [
        f"Measured {datetime.now(UTC).date().isoformat()} on {scope}, on {machine()}; "
        f"the whole run took {result.seconds:.1f} s.",
        "",
        "Raw turns (`search(..., include_turns=True)`), recall of the evidence turn ids; "
        "per-category cells are R@5 / R@10:",
        "",
        *_table(result, "turns", MODE_LABELS),
    ]
    if any(kind == "memories" for kind, _, _ in result.scores):
        lines += [
            "",
            "Derived memories (LoCoMo `observation` entries as `fact` memories, no LLM; a hit "
            "recalls its `source_turn_ids`):",
            "",
            *_table(result, "memories", MODE_LABELS),
        ]
    lines += ["", "| measure | value |", "|---|--:|"]
    calls: dict[Kind, str] = {
        "turns": "`add_turns`, one call per session",
        "memories": "`add_memory`, one by one",
    }
    for kind, how in calls.items():
        count = result.ingested.get(kind, 0)
        if count:
            rate = count / result.ingest_seconds[kind]
            lines.append(f"| ingestion ({how}) | {rate:,.0f} {kind}/s ({count:,} {kind}) |")
    for (kind, mode), seconds in sorted(result.latencies.items()):
        p50, p95 = _pct(seconds)
        lines.append(
            f"| `search` {mode} over {kind}, top={TOP}: p50 / p95 | {p50:.2f} / {p95:.2f} ms |"
        )
    lines.append("")
    goal = result.scores.get(("turns", "test", "hybrid"))
    if goal is not None and goal.questions:
        r10, best, name = _lead(result, "turns", "test")
        met = "met" if r10 >= GOAL_R10 and r10 > best else "**not met**"
        lines.append(
            f"- Goal (test split, raw turns: product hybrid R@10 ≥ {GOAL_R10} and ahead of every "
            f"single ranker): {met} — {r10:.3f} against {best:.3f} for {name}."
        )
    for split in ("dev", "test"):
        if ("memories", split, "hybrid") in result.scores:
            r10, best, name = _lead(result, "memories", split)
            ahead = "ahead of" if r10 > best else "**not ahead of**"
            lines.append(
                f"- Memories, {split} split: hybrid R@10 {r10:.3f}, {ahead} {name} ({best:.3f})."
            )
    sizes = [c.turn_count for c in result.loaded]
    if sizes:
        lines.append(
            f"- Each search runs over one conversation's items: {min(sizes):,}–{max(sizes):,} "
            "turns, or its observation memories; latency includes embedding the query."
        )
    if result.dropped_evidence:
        lines.append(
            f"- {result.dropped_evidence} evidence ids name no turn of their conversation and "
            "are left out of the recall denominators."
        )
    return "\n".join(lines) + "\n"


def write_readme(path: Path, block: str) -> None:
    """Replace the text between the LoCoMo markers of ``path`` with ``block``."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    head, sep, rest = text.partition(BEGIN_MARKER)
    _, sep2, tail = rest.partition(END_MARKER)
    if not sep or not sep2:
        raise SystemExit(f"{path}: markers {BEGIN_MARKER} / {END_MARKER} not found")
    path.write_text(f"{head}{BEGIN_MARKER}\n{block}{END_MARKER}{tail}", encoding="utf-8")


def _indexes(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.extend(range(int(lo), int(hi) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo10.json")
    parser.add_argument(
        "--conversations", type=_indexes, default=None, help="e.g. 0-4 (dev) or 5-9 (test)"
    )
    parser.add_argument("--questions", type=int, default=None, help="cap per conversation")
    parser.add_argument(
        "--kinds",
        default="turns,memories",
        help="what to search: turns, memories or both (comma-separated)",
    )
    parser.add_argument("--write", action="store_true", help=f"replace the block in {README.name}")
    parser.add_argument("--readme", type=Path, default=README, help="README to update")
    parser.add_argument("--json", type=Path, default=None, help="also write raw figures here")
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"{args.data} not found (LoCoMo's locomo10.json; see bench/README.md)")
    kinds: list[Kind] = []
    for item in args.kinds.split(","):
        if item not in ("turns", "memories"):
            parser.error(f"--kinds: {item!r} is not turns or memories")
        kinds.append("turns" if item == "turns" else "memories")
    if args.write and (args.conversations is not None or args.questions is not None):
        parser.error("--write records full runs only")

    result = run(
        args.data,
        conversations=args.conversations,
        questions=args.questions,
        kinds=kinds,
        log=True,
    )
    block = render(result)
    print(block)
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    if args.write:
        write_readme(args.readme, block)
        print(f"updated {args.readme}", file=sys.stderr)
    return 0


def to_json(result: Run) -> dict[str, Any]:
    """The figures of ``result`` as plain JSON data."""
    scores = {
        f"{kind}/{split}/{mode}": {
            "questions": s.questions,
            **{f"R@{k}": s.recall(k) for k in KS},
            **{
                f"{CATEGORIES[c]}/R@{k}": s.recall(k, c)
                for c in CATEGORIES
                if s.counts.get(c)
                for k in KS
            },
        }
        for (kind, split, mode), s in result.scores.items()
    }
    latency = {
        f"{kind}/{mode}": dict(zip(("p50_ms", "p95_ms"), _pct(v), strict=True))
        for (kind, mode), v in result.latencies.items()
    }
    rates = {k: result.ingested[k] / result.ingest_seconds[k] for k in result.ingested}
    return {"scores": scores, "latency": latency, "ingest_per_s": rates, "seconds": result.seconds}


if __name__ == "__main__":
    sys.exit(main())
